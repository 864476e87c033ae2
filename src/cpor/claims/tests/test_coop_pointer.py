"""Programs claimed through co-op claims are pointed out where a partner looks for them."""

import pytest
from django.urls import reverse
from django.utils import translation

from cpor.catalog.models import OutOfScopeProgram

pytestmark = pytest.mark.django_db

POINTER = "through the co-op claims process"


@pytest.fixture
def signed_in(client, partner):
    client.force_login(partner)
    return client


def test_the_role_step_points_csp_surface_hosting_and_resellers_to_co_op_claims(signed_in):
    response = signed_in.get(reverse("claims:new") + "?area=modern_work_security", follow=True)
    body = response.content.decode()
    assert 'name="role"' in body  # the role step
    for program in OutOfScopeProgram.objects.all():
        assert program.name in body
    assert POINTER in body


def test_the_partner_start_page_points_to_co_op_claims(signed_in):
    body = signed_in.get(reverse("web:home")).content.decode()
    assert "Surface" in body and "Cloud Solution Provider (CSP)" in body and POINTER in body


def test_the_co_op_pointer_reads_in_portuguese(signed_in, partner):
    partner.language = "pt-pt"
    partner.save()
    with translation.override("pt-pt"):
        body = signed_in.get(reverse("web:home"), HTTP_ACCEPT_LANGUAGE="pt-PT").content.decode()
    assert "reclamações co-op" in body
    assert POINTER not in body
