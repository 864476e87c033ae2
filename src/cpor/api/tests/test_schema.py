"""The OpenAPI document, and schemathesis driving every operation it describes: no 5xx,
and every response matches the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error, response_schema_conformance

from cpor.api.services import api_token_create
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import customer_tenant, partner_user, submitted_claim


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


@pytest.fixture
def api_token(db):
    user = partner_user(PartnerRoleName.PARTNER_ADMIN)
    submitted_claim(user, customer_tenant())
    _row, token = api_token_create(actor=user, name="schemathesis")
    return token


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


def test_api_conforms_to_its_schema(api_schema, api_token):
    """Every operation, a few generated requests each, authenticated as a partner admin."""
    headers = {"Authorization": f"Bearer {api_token}"}
    checks = [not_a_server_error, response_schema_conformance]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=headers, checks=checks)

        run()
