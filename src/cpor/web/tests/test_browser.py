import pytest

from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import partner_user

pytestmark = pytest.mark.browser


def test_partner_signs_in_and_sees_the_role_guide(page, live_server):
    user = partner_user()
    sign_in(page, live_server, user)
    assert page.get_by_text(user.email).is_visible()
    assert page.get_by_role("rowheader", name="Use or consume").is_visible()
    screenshot(page, "home")
