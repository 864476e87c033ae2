"""Bad input: the right 4xx, a body naming the field and the rule, nothing written."""

import json

import pytest
from django.test import override_settings

from cpor.api.tests.conftest import claim_body
from cpor.claims.models import Claim, ClaimEvent, ProofOfExecution
from cpor.testing.factories import submitted_claim

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


@pytest.fixture
def client(clients):
    return clients["incentives_admin"]


def nothing_written():
    return not Claim.objects.exists() and not ClaimEvent.objects.exists()


def test_wrong_content_type_is_415(client, customer):
    body = claim_body(client.user, customer)
    response = client.post(CLAIMS, json.dumps(body), content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    response = client.post(CLAIMS, "<claim/>", content_type="application/xml")
    assert response.status_code == 415
    assert nothing_written()


def test_form_encoded_claim_is_415(client, customer):
    response = client.post(CLAIMS, claim_body(client.user, customer), format="multipart")
    assert response.status_code == 415
    assert nothing_written()


def test_malformed_json_is_400(client):
    response = client.post(CLAIMS, '{"role": "use_or_consume",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert nothing_written()


def test_json_that_is_not_an_object_is_400(client):
    response = client.post(CLAIMS, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert nothing_written()


def test_unknown_fields_are_refused_naming_the_field(client, customer):
    body = claim_body(client.user, customer, colour="blue")
    response = client.post(CLAIMS, body, format="json")
    assert response.status_code == 400
    assert response.json() | {"errors": None} == {
        "code": "unknown_field",
        "message": "Unknown field.",
        "field": "colour",
        "errors": None,
    }
    assert nothing_written()


def test_wrong_types_are_refused_naming_the_field(client, customer):
    for field, value in [
        ("products", "teams"),
        ("incentive_opt_out", "perhaps"),
        ("name", {"a": 1}),
        ("products", [{"code": "teams"}]),
    ]:
        body = claim_body(client.user, customer, **{field: value})
        response = client.post(CLAIMS, body, format="json")
        assert response.status_code == 400, (field, value)
        assert response.json()["field"].split(".")[0] == field
    assert nothing_written()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_huge_json_is_413_before_it_is_read(client, customer):
    body = claim_body(client.user, customer, name="x" * 20_000)
    response = client.post(CLAIMS, body, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert nothing_written()


def test_truncated_multipart_is_400_and_stores_nothing(client, customer):
    claim = submitted_claim(client.user, customer)
    claim_id = claim.pk
    boundary = "BoUnDaRy"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="poe_type"\r\n\r\nstatement_of_work\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="poe.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7 trunc"
    ).encode()
    before = ProofOfExecution.objects.count()
    response = client.generic(
        "POST",
        f"{CLAIMS}{claim_id}/proofs/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert response.json()["field"]
    assert ProofOfExecution.objects.count() == before


def test_multipart_without_boundary_is_400(client, customer):
    claim = submitted_claim(client.user, customer)
    response = client.generic(
        "POST", f"{CLAIMS}{claim.pk}/proofs/", b"garbage", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_poe_json_instead_of_multipart_is_415(client, customer):
    claim = submitted_claim(client.user, customer)
    response = client.post(f"{CLAIMS}{claim.pk}/proofs/", {"poe_type": "other"}, format="json")
    assert response.status_code == 415


def test_another_organisations_ids_are_404_and_untouched(clients, customer):
    theirs = submitted_claim(clients["other_partner"].user, customer)
    events = ClaimEvent.objects.count()
    client = clients["incentives_admin"]
    for method, path, body in [
        ("get", f"{CLAIMS}{theirs.pk}/", None),
        ("patch", f"{CLAIMS}{theirs.pk}/", {"name": "Mine now"}),
        ("delete", f"{CLAIMS}{theirs.pk}/", None),
        ("post", f"{CLAIMS}{theirs.pk}/withdraw/", {}),
        ("get", f"{CLAIMS}{theirs.pk}/history/", None),
        ("get", f"{CLAIMS}{theirs.pk}/proofs/", None),
    ]:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    assert ClaimEvent.objects.count() == events
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


def test_partner_id_of_another_organisation_is_refused(clients, customer):
    foreign = clients["other_partner"].user.partner_membership.organisation.locations.first()
    client = clients["incentives_admin"]
    response = client.post(
        CLAIMS, claim_body(client.user, customer, partner_id=foreign.partner_id), format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "partner_id"
    assert nothing_written()


def test_approving_lines_of_another_claim_is_refused(clients, customer):
    mine = submitted_claim(clients["incentives_admin"].user, customer)
    theirs = submitted_claim(clients["other_partner"].user, customer, products=["intune"])
    response = clients["reviewer"].post(
        f"{CLAIMS}{mine.pk}/approve/",
        {"line_ids": [theirs.lines.get().pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "line_ids"
    mine.refresh_from_db()
    assert mine.status == "submitted"


def test_unknown_method_is_405(client):
    response = client.put("/api/v1/reasons/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unknown_api_paths_are_json_404(clients):
    for client in (clients["anonymous"], clients["incentives_admin"]):
        response = client.get("/api/v1/nothing-here/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert clients["incentives_admin"].post("/api/v1/claims/1/explode/", {}).status_code == 404
