import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.claims import services
from cpor.claims.models import Association, Claim, ClaimEvent
from cpor.testing.factories import (
    UserFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program_admin():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


@pytest.fixture
def staff_reviewer():
    return UserFactory(operator_role=OperatorRole.REVIEWER, is_staff=True)


@pytest.fixture
def approved_claim(staff_reviewer) -> Claim:
    claim = submitted_claim()
    services.claim_start_review(actor=staff_reviewer, claim=claim)
    return services.claim_approve(actor=staff_reviewer, claim=claim)


def claim_form_data(claim: Claim, **changes) -> dict:
    data = {
        "name": claim.name,
        "status": claim.status,
        "organisation": claim.organisation_id,
        "location": claim.location_id,
        "role": claim.role_id,
        "tenant": claim.tenant_id,
        "customer_contact_name": claim.customer_contact_name,
        "customer_contact_title": claim.customer_contact_title,
        "customer_contact_email": claim.customer_contact_email,
        "partner_contact_name": claim.partner_contact_name,
        "partner_contact_email": claim.partner_contact_email,
        "created_by": claim.created_by_id,
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_claim_change_page_is_read_only(client, program_admin):
    claim = submitted_claim()
    client.force_login(program_admin)

    response = client.get(reverse("admin:claims_claim_change", args=[claim.pk]))

    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert b'name="_continue"' not in response.content
    assert b'name="name"' not in response.content  # shown, not an input
    assert claim.name.encode() in response.content
    # The PoE is described; its file is only served through the PoE view.
    assert b"poe.pdf" in response.content
    assert b"/poe/" not in response.content


def test_posting_to_the_claim_change_page_changes_nothing(client, program_admin):
    claim = submitted_claim()
    client.force_login(program_admin)

    response = client.post(
        reverse("admin:claims_claim_change", args=[claim.pk]),
        claim_form_data(claim, name="Rewritten", status="approved"),
    )

    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.name != "Rewritten"
    assert claim.status == "submitted"


def test_a_claim_cannot_be_added_or_deleted_through_admin(client, program_admin):
    claim = submitted_claim()
    client.force_login(program_admin)
    delete_url = reverse("admin:claims_claim_delete", args=[claim.pk])

    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:claims_claim_add")).status_code == 403
    changelist = reverse("admin:claims_claim_changelist")
    bulk_delete = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [claim.pk], "post": "yes"}
    )
    assert bulk_delete.status_code in (200, 302)
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_associations_and_history_are_read_only(client, program_admin, approved_claim):
    association = Association.objects.get(claim=approved_claim)
    client.force_login(program_admin)

    change_url = reverse("admin:claims_association_change", args=[association.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(change_url, {"status": "ended"}).status_code == 403
    delete_url = reverse("admin:claims_association_delete", args=[association.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    association.refresh_from_db()
    assert association.status == "pending_customer"
    assert ClaimEvent.objects.filter(claim=approved_claim).count() >= 4


@pytest.mark.parametrize("search", ["name", "tenant_name", "tenant_id", "partner_id"])
def test_claims_are_found_by_name_tenant_and_partner_id(client, program_admin, search):
    tenant = customer_tenant()
    tenant.name = "Fabrikam Retail"
    tenant.save()
    claim = submitted_claim(tenant=tenant, name="Copilot rollout")
    other = submitted_claim()
    term = {
        "name": "copilot ROLLOUT",
        "tenant_name": '"Fabrikam Retail"',
        "tenant_id": str(claim.tenant.tenant_id),
        "partner_id": claim.location.partner_id,
    }[search]
    client.force_login(program_admin)

    response = client.get(reverse("admin:claims_claim_changelist"), {"q": term})

    assert response.status_code == 200
    found = list(response.context["cl"].result_list)
    assert claim in found
    assert other not in found


def test_claims_changelist_filters_by_status_and_role(client, program_admin):
    claim = submitted_claim()
    client.force_login(program_admin)
    url = reverse("admin:claims_claim_changelist")

    submitted = client.get(url, {"status__exact": "submitted", "role__id__exact": claim.role_id})
    drafts = client.get(url, {"status__exact": "draft"})

    assert list(submitted.context["cl"].result_list) == [claim]
    assert list(drafts.context["cl"].result_list) == []


def test_claims_changelist_runs_a_fixed_number_of_queries(
    client, program_admin, django_assert_max_num_queries
):
    submitted_claim()
    client.force_login(program_admin)
    url = reverse("admin:claims_claim_changelist")
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one_claim:
        assert client.get(url).status_code == 200

    for _ in range(5):
        submitted_claim()
    with django_assert_max_num_queries(len(one_claim.captured_queries)):
        response = client.get(url)
    assert response.context["cl"].result_count == 6
    assert len(one_claim.captured_queries) <= 12


def test_associations_changelist_runs_a_fixed_number_of_queries(
    client, program_admin, staff_reviewer, approved_claim, django_assert_max_num_queries
):
    client.force_login(program_admin)
    url = reverse("admin:claims_association_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200

    for _ in range(3):
        claim = submitted_claim()
        services.claim_start_review(actor=staff_reviewer, claim=claim)
        services.claim_approve(actor=staff_reviewer, claim=claim)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_staff_reviewer_reads_claims_but_not_the_catalog(client, staff_reviewer):
    claim = submitted_claim()
    client.force_login(staff_reviewer)

    assert client.get(reverse("admin:claims_claim_changelist")).status_code == 200
    change = client.get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.get(reverse("admin:catalog_engagement_changelist")).status_code == 403
    assert client.get(reverse("admin:partners_partnerorganisation_changelist")).status_code == 403


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda: None, id="anonymous"),
        pytest.param(partner_user, id="partner"),
        pytest.param(operator_user, id="reviewer-not-staff"),
    ],
)
def test_claims_admin_sends_others_to_sign_in(client, make_user):
    claim = submitted_claim()
    user = make_user()
    if user is not None:
        client.force_login(user)

    for url in (
        reverse("admin:claims_claim_changelist"),
        reverse("admin:claims_claim_change", args=[claim.pk]),
        reverse("admin:claims_association_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_staff_partner_user_gets_403_on_claims(client):
    user = partner_user()
    user.is_staff = True
    user.save()
    claim = submitted_claim(actor=user)
    client.force_login(user)

    assert client.get(reverse("admin:claims_claim_changelist")).status_code == 403
    assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code == 403
