"""Crafted files and bodies are refused with a 400 naming the rule, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cpor.api.tests.test_claims_api import upload
from cpor.claims import services
from cpor.claims.models import Claim, ProofOfExecution
from cpor.claims.tests.test_filetypes import crafted_docx
from cpor.testing.factories import claim_input

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


@pytest.fixture
def client(clients):
    return clients["incentives_admin"]


def test_docx_with_a_non_utf8_name_flagged_utf8_is_400(client, customer):
    claim = services.claim_create(actor=client.user, data=claim_input(client.user, customer))
    before = ProofOfExecution.objects.count()
    response = upload(client, claim.pk, file=SimpleUploadedFile("poe.docx", crafted_docx()))
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("poe_type_not_accepted", "file")
    assert ProofOfExecution.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000,
        '{"name": ' + "[" * 50_000,
        '{"products": ' + "[" * 5_000 + "]" * 5_000 + "}",
        # Parsed fine, but deep enough to exhaust the stack of code that walks it.
        '{"products": ' + "[" * 500 + "]" * 500 + "}",
        "[" * 33 + "]" * 33,
    ],
    ids=["open-brackets", "inside-a-field", "balanced", "parsed-but-deep", "one-past-limit"],
)
def test_deeply_nested_json_is_400(client, body):
    response = client.post(
        CLAIMS, body, content_type="application/json", headers={"Idempotency-Key": "deep-1"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert "nested more than 32 levels" in response.json()["message"]
    assert not Claim.objects.exists()


def test_json_at_the_depth_limit_reaches_the_serializer(client):
    body = '{"products": ' + "[" * 31 + "]" * 31 + "}"
    response = client.post(CLAIMS, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] != "json_too_deep"


def test_the_depth_refusal_is_translated(client):
    response = client.post(
        CLAIMS,
        "[" * 100 + "]" * 100,
        content_type="application/json",
        headers={"accept-language": "pt-PT"},
    )
    assert response.json()["message"] == "O corpo JSON tem mais de 32 níveis de aninhamento."
