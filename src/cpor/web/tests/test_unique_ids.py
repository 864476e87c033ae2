"""Pages that hold several forms give every element its own id, so each label focuses
its own field (issue 13, bug 3)."""

import re
from collections import Counter

import pytest

from cpor.claims import services
from cpor.testing.factories import customer_tenant, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def duplicate_ids(html: str) -> dict[str, int]:
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    return {name: count for name, count in ids.items() if count > 1}


def test_the_reviewers_claim_page_has_no_duplicate_ids(client):
    reviewer = operator_user()
    claim = submitted_claim(partner_user(), customer_tenant())
    services.claim_start_review(actor=reviewer, claim=claim)
    client.force_login(reviewer)
    response = client.get(f"/review/claims/{claim.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert duplicate_ids(html) == {}
    # Each label still points at a field of its own form.
    for target in re.findall(r'<label[^>]*\bfor="([^"]+)"', html):
        assert f'id="{target}"' in html, target


def test_the_partners_action_required_page_has_no_duplicate_ids(client):
    partner = partner_user()
    claim = submitted_claim(partner, customer_tenant())
    services.claim_request_info(
        actor=operator_user(), claim=claim, reason_code="poe_missing", message="Add the SoW."
    )
    client.force_login(partner)
    response = client.get(f"/claims/{claim.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert duplicate_ids(html) == {}
    for target in re.findall(r'<label[^>]*\bfor="([^"]+)"', html):
        assert f'id="{target}"' in html, target
