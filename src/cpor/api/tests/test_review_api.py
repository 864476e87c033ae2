import pytest

from cpor.claims import services
from cpor.claims.models import Association, AssociationStatus
from cpor.testing.factories import customer_tenant, submitted_claim

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


def test_queue_lists_claims_awaiting_a_decision_oldest_first(clients, people, customer):
    first = submitted_claim(people["incentives_admin"], customer)
    second = submitted_claim(people["other_partner"], customer, products=["intune"])
    response = clients["reviewer"].get("/api/v1/review/queue/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [first.pk, second.pk]
    assert clients["program_admin"].get("/api/v1/review/queue/").status_code == 200
    for role in ("partner_admin", "incentives_admin", "incentives_user", "other_partner"):
        assert clients[role].get("/api/v1/review/queue/").status_code == 403


def test_reviewer_starts_review_requests_info_and_rejects(clients, people, customer):
    claim = submitted_claim(people["incentives_admin"], customer)
    reviewer = clients["reviewer"]
    started = reviewer.post(f"{CLAIMS}{claim.pk}/start-review/", {}, format="json")
    assert started.status_code == 200
    assert started.json()["status"] == "in_review"
    asked = reviewer.post(
        f"{CLAIMS}{claim.pk}/request-info/",
        {"reason_code": "poe_missing", "message": "Please sign it"},
        format="json",
    )
    assert asked.json()["status"] == "action_required"
    assert asked.json()["info_requested_until"]
    rejected = reviewer.post(
        f"{CLAIMS}{claim.pk}/reject/", {"reason_code": "insufficient_poe"}, format="json"
    )
    assert rejected.json()["status"] == "rejected"
    again = reviewer.post(f"{CLAIMS}{claim.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


def test_unknown_reason_is_refused_naming_the_field(clients, people, customer):
    claim = submitted_claim(people["incentives_admin"], customer)
    response = clients["reviewer"].post(
        f"{CLAIMS}{claim.pk}/reject/", {"reason_code": "because"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "reason_code"


def test_partial_approval_of_chosen_lines(clients, people, customer):
    claim = submitted_claim(people["incentives_admin"], customer, products=["teams", "intune"])
    teams = claim.lines.get(product__code="teams")
    response = clients["reviewer"].post(
        f"{CLAIMS}{claim.pk}/approve/", {"line_ids": [teams.pk]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "partially_approved"
    assert Association.objects.get().line == teams


def test_approving_a_unit_held_with_newer_poe_is_a_conflict(clients, people, customer):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    holder = submitted_claim(
        people["other_partner"], customer, signed_on=today - datetime.timedelta(days=1)
    )
    services.claim_approve(actor=people["reviewer"], claim=holder)
    newcomer = submitted_claim(
        people["incentives_admin"], customer, signed_on=today - datetime.timedelta(days=30)
    )
    response = clients["reviewer"].post(f"{CLAIMS}{newcomer.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "unit_held_with_newer_poe"


def test_associations_list_detail_withdraw_and_revoke(clients, people, customer):
    claim = submitted_claim(people["incentives_admin"], customer, products=["teams", "intune"])
    services.claim_approve(actor=people["reviewer"], claim=claim)
    listed = clients["incentives_user"].get("/api/v1/associations/").json()["results"]
    assert {a["product"] for a in listed} == {"teams", "intune"}
    assert clients["other_partner"].get("/api/v1/associations/").json()["results"] == []
    teams, intune = (Association.objects.get(product__code=code) for code in ("teams", "intune"))
    detail = clients["incentives_user"].get(f"/api/v1/associations/{teams.pk}/")
    assert detail.json()["status"] == AssociationStatus.PENDING_CUSTOMER
    assert clients["other_partner"].get(f"/api/v1/associations/{teams.pk}/").status_code == 404

    no_reason = clients["incentives_admin"].post(
        f"/api/v1/associations/{teams.pk}/withdraw/", {}, format="json"
    )
    assert no_reason.status_code == 400
    assert no_reason.json()["field"] == "reason"
    assert (
        clients["incentives_user"]
        .post(f"/api/v1/associations/{teams.pk}/withdraw/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    withdrawn = clients["incentives_admin"].post(
        f"/api/v1/associations/{teams.pk}/withdraw/", {"reason": "Contract over"}, format="json"
    )
    assert withdrawn.json()["end_reason"] == "withdrawn"

    assert (
        clients["reviewer"]
        .post(f"/api/v1/associations/{intune.pk}/revoke/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    revoked = clients["program_admin"].post(
        f"/api/v1/associations/{intune.pk}/revoke/", {"reason": "Fraud"}, format="json"
    )
    assert revoked.json()["end_reason"] == "revoked"

    ended = clients["incentives_user"].get("/api/v1/associations/", {"status": "ended"}).json()
    assert {a["id"] for a in ended["results"]} == {teams.pk, intune.pk}
    held = clients["incentives_user"].get("/api/v1/associations/", {"status": "active"}).json()
    assert held["results"] == []
    assert (
        clients["incentives_user"].get("/api/v1/associations/", {"status": "x"}).status_code == 400
    )

    export = clients["incentives_user"].get("/api/v1/associations/export/")
    rows = b"".join(export.streaming_content).decode().strip().splitlines()
    assert len(rows) == 3


def test_catalog_reasons_and_locations(clients, people):
    catalog = clients["incentives_user"].get("/api/v1/catalog/").json()
    assert {area["code"] for area in catalog} == {"modern_work_security", "business_applications"}
    reasons = clients["reviewer"].get("/api/v1/reasons/").json()
    assert "poe_missing" in {r["code"] for r in reasons["info_request"]}
    locations = clients["incentives_user"].get("/api/v1/locations/").json()
    organisation = people["incentives_user"].partner_membership.organisation
    assert [loc["partner_id"] for loc in locations] == list(
        organisation.locations.values_list("partner_id", flat=True)
    )
    assert clients["reviewer"].get("/api/v1/locations/").json() == []


def test_queue_flags_conflicts_and_filters(clients, people, customer):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    holder = submitted_claim(
        people["other_partner"], customer, signed_on=today - datetime.timedelta(days=30)
    )
    services.claim_approve(actor=people["reviewer"], claim=holder)
    newcomer = submitted_claim(people["incentives_admin"], customer)
    plain = submitted_claim(people["incentives_admin"], customer_tenant(), products=["intune"])
    services.claim_start_review(actor=people["reviewer"], claim=plain)
    queue = clients["reviewer"].get("/api/v1/review/queue/").json()["results"]
    flags = {item["id"]: item["has_conflict"] for item in queue}
    assert flags == {newcomer.pk: True, plain.pk: False}
    conflicts = clients["reviewer"].get("/api/v1/review/queue/", {"conflict": "true"}).json()
    assert [item["id"] for item in conflicts["results"]] == [newcomer.pk]
    mine = clients["reviewer"].get("/api/v1/review/queue/", {"mine": "true"}).json()
    assert [item["id"] for item in mine["results"]] == [plain.pk]
    bad = clients["reviewer"].get("/api/v1/review/queue/", {"status": "draft"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "status"
