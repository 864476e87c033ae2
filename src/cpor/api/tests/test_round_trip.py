"""A claim's whole life over real HTTP (the live server), as an integration would do it."""

import datetime
import json
import urllib.error
import urllib.request
import uuid

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.api.services import api_token_create
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import customer_tenant, operator_user, partner_user


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = ""):
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310 (the live server)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if content_type:
            request.add_header("Content-Type", content_type)
        request.add_header("Idempotency-Key", str(uuid.uuid4()))
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, method: str, path: str, payload: dict | None = None):
        body = json.dumps(payload).encode() if payload is not None else None
        status, content = self.call(method, path, body, "application/json" if body else "")
        return status, json.loads(content) if content else None


def multipart(fields: dict[str, str], file_field: str, filename: str, content: bytes):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        header = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{header}\r\n\r\n{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.django_db(transaction=True)
def test_create_upload_submit_approve_and_read_history_over_http(live_server, seeded_catalog):
    partner = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    reviewer = operator_user(OperatorRole.REVIEWER)
    tenant = customer_tenant()
    as_partner = Api(live_server.url, api_token_create(actor=partner, name="CRM")[1])
    as_reviewer = Api(live_server.url, api_token_create(actor=reviewer, name="Ops")[1])

    status, locations = as_partner.json("GET", "/api/v1/locations/")
    assert status == 200
    status, claim = as_partner.json(
        "POST",
        "/api/v1/claims/",
        {
            "role": "use_or_consume",
            "partner_id": locations[0]["partner_id"],
            "tenant_id": str(tenant.tenant_id),
            "name": "Teams adoption",
            "customer_contact_name": "Ana Silva",
            "customer_contact_title": "CIO",
            "customer_contact_email": f"ana@{tenant.domains.first().domain}",
            "partner_contact_name": "Rui Costa",
            "partner_contact_email": "rui@partner.example",
            "products": ["teams"],
        },
    )
    assert status == 201, claim
    claim_path = f"/api/v1/claims/{claim['id']}/"

    signed_on = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    body, content_type = multipart(
        {"poe_type": "statement_of_work", "signed_on": signed_on, "signatory": "Ana Silva"},
        "file",
        "sow.pdf",
        b"%PDF-1.7\nStatement of work\n%%EOF\n",
    )
    status, proof = as_partner.call("POST", claim_path + "proofs/", body, content_type)
    assert status == 201, proof
    proof = json.loads(proof)

    status, checks = as_partner.json("GET", claim_path + "checks/")
    assert checks["can_submit"], checks
    status, submitted = as_partner.json("POST", claim_path + "submit/", {"confirmed": True})
    assert (status, submitted["status"]) == (200, "submitted")

    status, queue = as_reviewer.json("GET", "/api/v1/review/queue/")
    assert [c["id"] for c in queue["results"]] == [claim["id"]]
    status, downloaded = as_reviewer.call("GET", proof["download_url"])
    assert status == 200 and downloaded.startswith(b"%PDF")
    status, approved = as_reviewer.json("POST", claim_path + "approve/", {"message": "Good PoE"})
    assert (status, approved["status"]) == (200, "approved")

    status, history = as_partner.json("GET", claim_path + "history/")
    assert [event["action"] for event in history] == [
        "create",
        "add_poe",
        "submit",
        "approve",
    ]
    status, associations = as_partner.json("GET", "/api/v1/associations/")
    assert [a["product"] for a in associations["results"]] == ["teams"]
    assert associations["results"][0]["status"] == "pending_customer"
