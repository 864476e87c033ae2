import datetime
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from cpor.api.models import ApiToken, IdempotencyRecord
from cpor.api.services import api_token_create, idempotency_records_purge
from cpor.api.tests.conftest import claim_body
from cpor.claims.models import Claim, ClaimEvent
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import customer_tenant, partner_user, pdf_file

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


def test_a_repeat_returns_the_first_response_and_writes_once(clients, customer):
    client = clients["incentives_admin"]
    body = claim_body(client.user, customer)
    first = client.post(CLAIMS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(CLAIMS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1
    assert ClaimEvent.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_writes_nothing(clients, customer):
    client = clients["incentives_admin"]
    client.post(CLAIMS, claim_body(client.user, customer), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client.post(
        CLAIMS,
        claim_body(client.user, customer, name="Other"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["field"] == "Idempotency-Key"
    assert Claim.objects.count() == 1


def test_the_same_key_on_another_path_is_422(clients, customer):
    client = clients["incentives_admin"]
    claim_id = client.post(
        CLAIMS, claim_body(client.user, customer), format="json", HTTP_IDEMPOTENCY_KEY="k"
    ).json()["id"]
    response = client.post(
        f"{CLAIMS}{claim_id}/submit/", {"confirmed": True}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422


def test_keys_belong_to_their_user(clients, customer):
    one, other = clients["incentives_admin"], clients["partner_admin"]
    one.post(CLAIMS, claim_body(one.user, customer), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = other.post(
        CLAIMS, claim_body(other.user, customer), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert Claim.objects.count() == 2


def test_refusals_are_not_remembered(clients, customer):
    client = clients["incentives_admin"]
    bad = claim_body(client.user, customer, customer_contact_email="nope")
    assert client.post(CLAIMS, bad, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = claim_body(client.user, customer)
    assert client.post(CLAIMS, good, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_multipart_uploads_are_idempotent_by_file_content(clients, customer):
    client = clients["incentives_admin"]
    claim_id = client.post(CLAIMS, claim_body(client.user, customer), format="json").json()["id"]
    data = {
        "poe_type": "statement_of_work",
        "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "signatory": "Ana",
    }
    url = f"{CLAIMS}{claim_id}/proofs/"
    first = client.post(
        url, {**data, "file": pdf_file()}, format="multipart", HTTP_IDEMPOTENCY_KEY="u"
    )
    again = client.post(
        url, {**data, "file": pdf_file()}, format="multipart", HTTP_IDEMPOTENCY_KEY="u"
    )
    other = client.post(
        url, {**data, "file": pdf_file(body=b"other")}, format="multipart", HTTP_IDEMPOTENCY_KEY="u"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert other.status_code == 422
    assert Claim.objects.get(pk=claim_id).proofs.count() == 1


def test_an_overlong_key_is_400(clients, customer):
    client = clients["incentives_admin"]
    response = client.post(
        CLAIMS, claim_body(client.user, customer), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Claim.objects.exists()


def test_old_records_expire(clients, customer, settings):
    client = clients["incentives_admin"]
    body = claim_body(client.user, customer)
    client.post(CLAIMS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS + 1)
    )
    # An expired key is a new key.
    assert client.post(CLAIMS, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Claim.objects.count() == 2
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS + 1)
    )
    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent connections"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_catalog")
def test_eight_concurrent_repeats_of_one_key_create_one_claim():
    user = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    tenant = customer_tenant()
    row, token = api_token_create(actor=user, name="race")
    # A token used just now is not written again, so nothing serialises the requests
    # before the idempotency record itself.
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    body = claim_body(user, tenant)
    barrier = threading.Barrier(8)
    responses: list = [None] * 8

    def post(index: int) -> None:
        close_old_connections()
        try:
            client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait()
            responses[index] = client.post(CLAIMS, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["id"] for r in responses}) == 1
    assert Claim.objects.count() == 1
    assert ClaimEvent.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
