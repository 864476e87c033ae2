"""The OpenAPI document, and schemathesis driving every operation it describes with
every check it has: no 5xx, valid requests accepted and invalid ones refused, every
response, status, header and content type as documented."""

import datetime
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation import GenerationMode

from cpor.api.services import api_token_create
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import customer_tenant, partner_user, pdf_file, submitted_claim


def test_schema_is_openapi_3_and_documents_every_resource(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for path in (
        "/api/v1/claims/",
        "/api/v1/claims/{id}/submit/",
        "/api/v1/claims/{id}/withdraw/",
        "/api/v1/claims/{id}/approve/",
        "/api/v1/claims/{id}/reject/",
        "/api/v1/claims/{id}/request-info/",
        "/api/v1/claims/{id}/proofs/",
        "/api/v1/claims/bulk/",
        "/api/v1/associations/",
        "/api/v1/review/queue/",
        "/api/v1/webhooks/",
    ):
        assert path in paths
    assert "apiToken" in document["components"]["securitySchemes"]
    assert "Error" in document["components"]["schemas"]


def test_docs_are_served_from_installed_packages(db):
    client = APIClient()
    swagger = client.get("/api/docs/")
    assert swagger.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in swagger.content
    assert b"cdn" not in swagger.content.lower()
    redoc = client.get("/api/docs/redoc/")
    assert redoc.status_code == 200
    assert b"/static/drf_spectacular_sidecar/redoc/" in redoc.content


def test_schema_declares_what_the_api_enforces(db):
    """The disagreements schemathesis found (issue 11, defect 9), one by one."""
    document = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = document.json()
    posts = [op for item in document["paths"].values() for m, op in item.items() if m == "post"]
    assert posts and all(
        any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
        for op in posts
    )
    schemas = document["components"]["schemas"]
    assert schemas["ClaimInputRequest"]["additionalProperties"] is False
    assert "customer_contact_email" in schemas["ClaimInputRequest"]["required"]
    download = document["paths"]["/api/v1/claims/{id}/proofs/{proof_pk}/download/"]["get"]
    assert set(download["responses"]["200"]["content"]) == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
        "image/jpeg",
    }


def test_query_parameters_out_of_their_schema_are_400_naming_them(api_token):
    token, _fixture = api_token
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    for path, name in (
        ("/api/v1/claims/?page_size=0", "page_size"),
        ("/api/v1/claims/?page_size=abc", "page_size"),
        ("/api/v1/associations/export/?format=", "format"),
        ("/api/v1/claims/?status=nonsense", "status"),
    ):
        response = client.get(path)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["field"] == name
    assert client.get("/api/v1/claims/?page_size=200").status_code == 200


def test_an_encoded_newline_in_an_api_path_is_a_json_404(api_token):
    token, _fixture = api_token
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/claims/%0A/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.fixture
def api_token(db):
    """A partner admin's token, and the values of the caller's own world that generated
    bodies borrow (a schema cannot say which PartnerID is the caller's)."""
    user = partner_user(PartnerRoleName.PARTNER_ADMIN)
    tenant = customer_tenant()
    submitted_claim(user, tenant)
    _row, token = api_token_create(actor=user, name="schemathesis")
    fixture = {
        "partner_id": user.partner_membership.organisation.locations.first().partner_id,
        "tenant_id": str(tenant.tenant_id),
        "role": "use_or_consume",
        "products": ["teams"],
    }
    return token, fixture


@pytest.fixture
def api_schema(db):
    """The schema, loaded from the WSGI application itself (no server)."""
    from cpor.wsgi import application

    # Called directly (not through Django's test client), the application would close the
    # test's database connection at the end of each request, as Django's test client
    # prevents: do the same.
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


def _provision(case, fixture: dict):
    """Values a schema cannot promise valid: which PartnerID and tenant belong to the
    caller (a tenant of its own for each filed claim, whose unit nobody holds yet), a PoE
    that is really a PDF signed lately, a CSV with its header row, and an Idempotency-Key
    not used before. Positive cases only (negative ones must stay wrong)."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if case.meta is not None and case.meta.generation.mode.is_negative:
        # A positive strategy may still yield a case with a negative part: it must reach
        # the server as generated, or a valid body would be judged as invalid data.
        return case
    path = case.operation.path
    query = case.query or {}
    if query.get("since") and query.get("until") and query["since"] > query["until"]:
        # A period that ends before it starts (the history exports refuse it).
        query["since"], query["until"] = query["until"], query["since"]
    if path == "/api/v1/claims/bulk/":
        row = ["use_or_consume", fixture["partner_id"], str(customer_tenant().tenant_id), "Bulk"]
        csv = "role,partner_id,tenant_id,name\n" + ",".join(row) + "\n"
        if isinstance(case.body, dict):
            case.body = {"file": csv.encode()}
        else:
            case.body = csv
        return case
    if not isinstance(case.body, dict):
        return case
    if path == "/api/v1/tenants/{tenant_id}/subscriptions/check/":
        case.body["role"] = fixture["role"]  # a role of the catalog, which the schema can't list
    if path in ("/api/v1/claims/", "/api/v1/claims/file/"):
        case.body |= fixture  # at least one unit, of a role the partner may claim
        for name in ("subscription_ids", "solution_area"):  # read from the role's catalog
            case.body.pop(name, None)
    if path == "/api/v1/claims/file/":
        case.body |= {
            "tenant_id": str(customer_tenant().tenant_id),
            # Text, as the schema types a binary part (the PDF is ASCII).
            "file": pdf_file().read().decode("ascii"),
            "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
            "signatory": "Ana Silva",
            "confirmed": True,
        }
    return case


def test_api_conforms_to_its_schema(api_schema, api_token):
    """Every operation, a few generated requests each, valid and invalid, authenticated as
    a partner admin, with every schemathesis check."""
    token, fixture = api_token
    headers = {"Authorization": f"Bearer {token}"}
    load_all_checks()
    checks = CHECKS.get_all()
    assert len(checks) >= 14
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    failures = []
    for operation in operations:
        for mode in GenerationMode:
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE:
                strategy = strategy.map(lambda case: _provision(case, fixture))

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=3,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # all reported at once, below
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
