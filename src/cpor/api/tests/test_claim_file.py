"""POST /api/v1/claims/file/: create, PoE and submit in one request and one transaction."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cpor.api.tests.conftest import claim_body
from cpor.claims import events
from cpor.claims.models import Claim, ClaimEvent, ClaimStatus, EventAction, ProofOfExecution
from cpor.testing.factories import pdf_file, submitted_claim

pytestmark = pytest.mark.django_db

FILE = "/api/v1/claims/file/"


def filing(user, tenant, **overrides) -> dict:
    """A valid multipart body: the claim, its PoE and the confirmation."""
    data = claim_body(user, tenant) | {
        "file": pdf_file(),
        "poe_type": "statement_of_work",
        "signed_on": (timezone.localdate() - datetime.timedelta(days=5)).isoformat(),
        "signatory": "Ana Silva, CIO",
        "confirmed": "true",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def file_claim(client, tenant, headers=None, **overrides):
    return client.post(
        FILE, filing(client.user, tenant, **overrides), format="multipart", headers=headers
    )


def assert_nothing_written():
    assert not Claim.objects.exists()
    assert not ProofOfExecution.objects.exists()
    assert not ClaimEvent.objects.exists()
    assert stored_files() == []


def test_files_a_submitted_claim_with_its_poe(clients, customer):
    client = clients["incentives_admin"]
    response = file_claim(client, customer, products=["teams", "intune"], comments="Q3 work")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == ClaimStatus.SUBMITTED
    assert body["comments"] == "Q3 work"
    assert sorted(line["product"] for line in body["lines"]) == ["intune", "teams"]
    claim = Claim.objects.get(pk=body["id"])
    assert claim.status == ClaimStatus.SUBMITTED and claim.created_by == client.user
    proof = claim.proofs.get()
    assert (proof.signatory, proof.content_type) == ("Ana Silva, CIO", "application/pdf")
    assert [path.name for path in stored_files()] == [Path(proof.file.name).name]
    actions = list(claim.events.values_list("action", flat=True))
    assert actions == [EventAction.CREATE, EventAction.ADD_POE, EventAction.SUBMIT]
    # The answer is the claim as it is stored.
    assert client.get(body["url"]).json() == body


def test_filing_wakes_the_event_consumers_once(
    clients, customer, monkeypatch, django_capture_on_commit_callbacks
):
    wakes: list[int] = []
    monkeypatch.setattr(events, "_subscribers", [lambda: wakes.append(ClaimEvent.objects.count())])
    with django_capture_on_commit_callbacks(execute=True):
        response = file_claim(clients["incentives_admin"], customer)
    assert response.status_code == 201, response.json()
    # Three events in one transaction: one wake-up after they are all written.
    assert wakes == [3]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("role", "no_such_role", "unknown_role"),
        ("partner_id", "00000000", "partner_id_not_yours"),
        ("tenant_id", "not-a-guid", "malformed_guid"),
        ("tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47", "unknown_tenant"),
        ("name", "", "blank"),
        ("customer_contact_email", "not-an-email", "invalid_email"),
        ("partner_contact_name", "", "required"),
        ("products", "nope", "unknown_product"),
        ("incentive_opt_out", "maybe", "invalid"),
        ("file", None, "required"),
        ("file", "a text file", "poe_type_not_accepted"),
        ("poe_type", "napkin", "invalid_choice"),
        ("signed_on", "yesterday", "invalid"),
        ("signed_on", "2999-01-01", "poe_dated_in_future"),
        ("signatory", "", "blank"),
        ("confirmed", "false", "confirmation_required"),
        ("comments", "x" * 5001, "max_length"),
        ("colour", "blue", "unknown_field"),
    ],
)
def test_bad_input_names_the_field_and_rule_and_writes_nothing(
    clients, customer, field, value, code
):
    if field == "file" and value is not None:
        value = SimpleUploadedFile("poe.txt", b"plain text, not a document", "text/plain")
    response = file_claim(clients["incentives_admin"], customer, **{field: value})
    assert response.status_code == 400, response.json()
    body = response.json()
    problems = {(error["field"], error["code"]) for error in body.get("errors", [body])}
    assert (field, code) in problems, body
    assert_nothing_written()


def test_a_failing_check_writes_nothing_and_leaves_no_file(clients, customer):
    client = clients["incentives_admin"]
    # The PoE is older than the engagement allows: the "poe" check fails at submission,
    # after the claim, the PoE row and the file were written in the transaction.
    old = timezone.localdate() - datetime.timedelta(days=800)
    response = file_claim(client, customer, signed_on=old.isoformat())
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "check_poe"
    assert response.json()["field"] == "poe"
    assert_nothing_written()


def test_an_open_claim_for_the_same_unit_fails_its_check_and_writes_nothing(clients, customer):
    client = clients["incentives_admin"]
    submitted_claim(client.user, customer)
    before = (Claim.objects.count(), ClaimEvent.objects.count(), len(stored_files()))
    response = file_claim(client, customer)
    assert response.status_code == 400
    assert response.json()["code"] == "check_open_claim"
    assert (Claim.objects.count(), ClaimEvent.objects.count(), len(stored_files())) == before


def test_a_repeat_with_the_same_idempotency_key_returns_the_same_claim(clients, customer):
    client = clients["incentives_admin"]
    body = filing(client.user, customer)
    first = client.post(FILE, body, format="multipart", headers={"Idempotency-Key": "file-1"})
    body["file"] = pdf_file()  # the same content, sent again
    again = client.post(FILE, body, format="multipart", headers={"Idempotency-Key": "file-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1 and ProofOfExecution.objects.count() == 1
    assert len(stored_files()) == 1


def test_the_same_key_with_another_body_is_refused(clients, customer):
    client = clients["incentives_admin"]
    headers = {"Idempotency-Key": "file-2"}
    assert file_claim(client, customer, headers=headers).status_code == 201
    response = file_claim(client, customer, headers=headers, name="Another claim")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Claim.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("incentives_user", 403, "permission_denied"),
        ("reviewer", 403, "permission_denied"),
        ("customer_admin", 403, "permission_denied"),
        # Another partner cannot file for a PartnerID of this organisation.
        ("other_partner", 400, "partner_id_not_yours"),
    ],
)
def test_only_claim_managers_file_claims(clients, people, customer, role, status, code):
    body = filing(people["partner_admin"], customer)
    response = clients[role].post(FILE, body, format="multipart")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert_nothing_written()


def test_the_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][FILE]["post"]
    assert operation["operationId"] == "claims_file"
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    component = schema["components"]["schemas"][form.rsplit("/", 1)[1]]
    assert {"file", "poe_type", "signed_on", "confirmed", "products", "tenant_id"} <= set(
        component["properties"]
    )
    assert "201" in operation["responses"]
