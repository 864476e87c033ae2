import datetime

import pytest
from django.utils import timezone

from cpor.api.tests.conftest import claim_body
from cpor.claims import services
from cpor.claims.models import Claim, ClaimEvent, ClaimStatus, EventAction
from cpor.errors import DomainError
from cpor.testing.factories import SubscriptionFactory, pdf_file, submitted_claim

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


def create(client, tenant, **overrides):
    return client.post(CLAIMS, claim_body(client.user, tenant, **overrides), format="json")


def upload(client, claim_id, *, file=None, **overrides):
    data = {
        "file": file or pdf_file(),
        "poe_type": "statement_of_work",
        "signed_on": (timezone.localdate() - datetime.timedelta(days=5)).isoformat(),
        "signatory": "Ana Silva, CIO",
    }
    data.update(overrides)
    return client.post(f"{CLAIMS}{claim_id}/proofs/", data, format="multipart")


def test_create_makes_a_draft_and_answers_it(clients, customer):
    response = create(clients["incentives_admin"], customer, products=["teams", "intune"])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["tenant_id"] == str(customer.tenant_id)
    assert sorted(line["product"] for line in body["lines"]) == ["intune", "teams"]
    assert body["url"] == f"{CLAIMS}{body['id']}/"
    assert Claim.objects.get(pk=body["id"]).created_by == clients["incentives_admin"].user


def test_create_reports_every_problem_with_its_field(clients, customer):
    response = create(
        clients["incentives_admin"],
        customer,
        customer_contact_email="not-an-email",
        partner_contact_name="",
        products=["nope"],
    )
    assert response.status_code == 400
    body = response.json()
    fields = {error["field"] for error in body["errors"]}
    assert {"customer_contact_email", "partner_contact_name", "products"} <= fields
    assert body["code"] and body["message"] and body["field"]
    assert not Claim.objects.exists()


def test_business_applications_claim_names_subscriptions(clients, customer):
    subscription = SubscriptionFactory(tenant=customer)
    response = create(
        clients["incentives_admin"],
        customer,
        role="usage_recognition",
        products=[],
        subscription_ids=[str(subscription.subscription_id)],
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["subscription_id"] == str(subscription.subscription_id)


def test_list_is_scoped_filtered_and_paginated_by_cursor(clients, customer, people):
    mine = [create(clients["incentives_admin"], customer, name=f"Claim {i}") for i in range(3)]
    assert all(r.status_code == 201 for r in mine)
    create(clients["other_partner"], customer, name="Theirs")
    response = clients["incentives_user"].get(CLAIMS, {"page_size": 2})
    assert response.status_code == 200
    page = response.json()
    assert [c["name"] for c in page["results"]] == ["Claim 2", "Claim 1"]
    assert page["next"]
    rest = clients["incentives_user"].get(page["next"]).json()
    assert [c["name"] for c in rest["results"]] == ["Claim 0"]
    filtered = clients["incentives_user"].get(CLAIMS, {"text": "Claim 1"}).json()
    assert [c["name"] for c in filtered["results"]] == ["Claim 1"]
    assert clients["incentives_user"].get(CLAIMS, {"status": "submitted"}).json()["results"] == []


def test_list_refuses_an_unknown_status_filter(clients):
    response = clients["incentives_user"].get(CLAIMS, {"status": "bogus"})
    assert response.status_code == 400
    assert response.json()["field"] == "status"


def test_retrieve_update_patch_and_delete_a_draft(clients, customer):
    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    assert client.get(f"{CLAIMS}{claim_id}/").json()["name"].startswith("Adoption")
    put = client.put(
        f"{CLAIMS}{claim_id}/",
        claim_body(client.user, customer, name="Renamed", products=["intune"]),
        format="json",
    )
    assert put.status_code == 200, put.json()
    assert [line["product"] for line in put.json()["lines"]] == ["intune"]
    patch = client.patch(f"{CLAIMS}{claim_id}/", {"name": "Patched"}, format="json")
    assert patch.status_code == 200, patch.json()
    assert patch.json()["name"] == "Patched"
    assert [line["product"] for line in patch.json()["lines"]] == ["intune"]
    assert client.delete(f"{CLAIMS}{claim_id}/").status_code == 204
    assert not Claim.objects.filter(pk=claim_id).exists()


def test_submitted_claim_cannot_be_edited_or_deleted(clients, customer):
    client = clients["incentives_admin"]
    claim = submitted_claim(client.user, customer)
    response = client.patch(f"{CLAIMS}{claim.pk}/", {"name": "Changed"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert client.delete(f"{CLAIMS}{claim.pk}/").status_code == 409
    claim.refresh_from_db()
    assert claim.name != "Changed"


def test_checks_then_poe_upload_then_submit(clients, customer):
    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    checks = client.get(f"{CLAIMS}{claim_id}/checks/").json()
    assert checks["can_submit"] is False
    assert any(r["outcome"] == "fail" for r in checks["results"])
    refused = client.post(f"{CLAIMS}{claim_id}/submit/", {"confirmed": True}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"].startswith("check_")
    uploaded = upload(client, claim_id)
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["content_type"] == "application/pdf"
    assert client.get(f"{CLAIMS}{claim_id}/checks/").json()["can_submit"] is True
    unconfirmed = client.post(f"{CLAIMS}{claim_id}/submit/", {"confirmed": False}, format="json")
    assert unconfirmed.json()["code"] == "confirmation_required"
    submitted = client.post(
        f"{CLAIMS}{claim_id}/submit/", {"confirmed": True, "comments": "Done"}, format="json"
    )
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    again = client.post(f"{CLAIMS}{claim_id}/submit/", {"confirmed": True}, format="json")
    assert again.status_code == 409


def test_proofs_are_listed_and_downloaded_by_viewers_only(clients, customer):
    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    proof = upload(client, claim_id).json()
    listed = clients["incentives_user"].get(f"{CLAIMS}{claim_id}/proofs/").json()
    assert [p["id"] for p in listed] == [proof["id"]]
    download = clients["incentives_user"].get(proof["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert clients["other_partner"].get(proof["download_url"]).status_code == 404
    # A draft is the partner's own business, not yet the reviewer's.
    assert clients["reviewer"].get(proof["download_url"]).status_code == 404


def test_upload_refuses_a_file_that_is_not_a_pdf_whatever_its_name(clients, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    fake = SimpleUploadedFile("poe.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = upload(client, claim_id, file=fake)
    assert response.status_code == 400
    assert response.json()["field"] == "file"
    assert not Claim.objects.get(pk=claim_id).proofs.exists()


def test_upload_over_the_size_limit_is_413(clients, customer):
    from cpor.catalog.models import ProgramSettings

    settings_row = ProgramSettings.load()
    settings_row.poe_max_bytes = 1024
    settings_row.save()
    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    response = upload(client, claim_id, file=pdf_file(body=b"x" * 4000))
    assert response.status_code == 413
    assert response.json()["code"] == "poe_too_large"


def test_withdraw_reply_and_dispute(clients, customer, people):
    client = clients["incentives_admin"]
    claim = submitted_claim(client.user, customer)
    services.claim_request_info(
        actor=people["reviewer"], claim=claim, reason_code="poe_missing", message="Signed SoW?"
    )
    empty = client.post(f"{CLAIMS}{claim.pk}/reply/", {"message": ""}, format="json")
    assert empty.status_code == 400
    assert empty.json()["field"] == "message"
    replied = client.post(f"{CLAIMS}{claim.pk}/reply/", {"message": "Attached"}, format="json")
    assert replied.json()["status"] == "submitted"
    withdrawn = client.post(f"{CLAIMS}{claim.pk}/withdraw/", {"message": "Oops"}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"

    other = submitted_claim(client.user, customer, products=["intune"])
    services.claim_reject(actor=people["reviewer"], claim=other, reason_code="insufficient_poe")
    disputed = client.post(
        f"{CLAIMS}{other.pk}/dispute/", {"justification": "The SoW names Intune"}, format="json"
    )
    assert disputed.status_code == 200, disputed.json()
    assert disputed.json()["status"] == "disputed"


def test_history_hides_internal_notes_from_partners(clients, customer, people):
    claim = submitted_claim(people["incentives_admin"], customer)
    note = clients["reviewer"].post(
        f"{CLAIMS}{claim.pk}/notes/", {"message": "Looks fine"}, format="json"
    )
    assert note.status_code == 201
    partner_history = clients["incentives_user"].get(f"{CLAIMS}{claim.pk}/history/").json()
    staff_history = clients["program_admin"].get(f"{CLAIMS}{claim.pk}/history/").json()
    assert [e["action"] for e in partner_history] == ["create", "add_poe", "submit"]
    assert [e["action"] for e in staff_history][-1] == "note"
    assert (
        clients["incentives_admin"]
        .post(f"{CLAIMS}{claim.pk}/notes/", {"message": "Mine"}, format="json")
        .status_code
        == 403
    )


def test_export_streams_the_callers_claims_as_csv(clients, customer):
    create(clients["incentives_admin"], customer, name="=HYPERLINK(evil)")
    create(clients["other_partner"], customer, name="Theirs")
    response = clients["incentives_user"].get("/api/v1/claims/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,name,status")
    assert len(lines) == 2
    assert "'=HYPERLINK(evil)" in lines[1]
    assert "Theirs" not in text


def test_every_write_is_in_the_history(clients, customer):
    client = clients["incentives_admin"]
    claim_id = create(client, customer).json()["id"]
    upload(client, claim_id)
    client.post(f"{CLAIMS}{claim_id}/submit/", {"confirmed": True}, format="json")
    assert list(ClaimEvent.objects.filter(claim_id=claim_id).values_list("action", flat=True)) == [
        EventAction.CREATE,
        EventAction.ADD_POE,
        EventAction.SUBMIT,
    ]
    assert Claim.objects.get(pk=claim_id).status == ClaimStatus.SUBMITTED


def test_add_poe_to_approved_claim_protects_the_association(clients, customer, people):
    today = timezone.localdate()
    holder = people["incentives_admin"]
    claim = submitted_claim(holder, customer, signed_on=today - datetime.timedelta(days=60))
    services.claim_approve(actor=people["reviewer"], claim=claim)
    competitor = submitted_claim(
        people["other_partner"], customer, signed_on=today - datetime.timedelta(days=20)
    )
    response = upload(clients["incentives_admin"], claim.pk)  # signed 5 days ago
    assert response.status_code == 201, response.json()
    # The holder's newer PoE now outweighs the competitor's: the unit stays with the holder.
    with pytest.raises(DomainError) as refused:
        services.claim_approve(actor=people["reviewer"], claim=competitor)
    assert refused.value.code == "unit_held_with_newer_poe"
    association = claim.associations.get()
    assert association.is_held
    competitor.refresh_from_db()
    assert competitor.status == ClaimStatus.SUBMITTED
