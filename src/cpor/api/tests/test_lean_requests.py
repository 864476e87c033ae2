"""Each claim action costs a fixed, small number of statements, whatever the claim holds.

The counts are a budget: one query for the token with its user, membership and
organisation; one load-and-lock of the claim (and one for its lines); the checks as one
query of flags; the writes; the answer built from memory. The test's own transaction turns
the request's BEGIN/COMMIT into SAVEPOINT/RELEASE, counted here as two statements.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cpor.api.tests.conftest import claim_body
from cpor.claims import services
from cpor.claims.models import ClaimStatus
from cpor.testing.factories import add_poe, customer_tenant, pdf_file, submitted_claim
from cpor.testing.organisation import tenants_asked

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"


def statements(client, method: str, path: str, data=None, fmt="json") -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data, format=fmt)
    assert response.status_code < 300, response.json()
    return len(captured), [query["sql"] for query in captured.captured_queries]


def poe_form() -> dict:
    return {
        "file": pdf_file(),
        "poe_type": "statement_of_work",
        "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "signatory": "Ana Silva",
    }


@pytest.fixture
def manager(clients):
    client = clients["incentives_admin"]
    client.get("/api/v1/reasons/")  # the token's last use is refreshed once a minute
    return client


@pytest.fixture
def reviewer(clients):
    client = clients["reviewer"]
    client.get("/api/v1/reasons/")
    return client


def lines_in(count: int) -> list[str]:
    return ["teams", "intune", "teams_phone", "onedrive"][:count]


@pytest.mark.parametrize("products", [1, 3])
def test_create_poe_and_submit_cost_the_same_for_one_line_or_three(manager, products):
    tenant = customer_tenant()
    body = claim_body(manager.user, tenant, products=lines_in(products))
    count, _sql = statements(manager, "post", CLAIMS, body)
    # token, role, location, tenant, products, claim, lines (one statement), event
    assert count == 2 + 8
    claim_id = _last_claim_id(manager)
    proofs = f"{CLAIMS}{claim_id}/proofs/"
    count, _sql = statements(manager, "post", proofs, poe_form(), "multipart")
    # token, size limit (parser; the service's check reuses it), claim, lines, PoE,
    # claim, event
    assert count == 2 + 7
    count, sql = statements(manager, "post", f"{CLAIMS}{claim_id}/submit/", {"confirmed": True})
    # token, claim, lines, check flags (with the inputs the claim stores for the queue),
    # claim, event, reviewers on duty (automatic assignment), program targets (the
    # expected dates in the answer)
    assert count == 2 + 8, sql


def test_filing_in_one_request_reads_the_claim_it_creates_never(manager):
    tenant = customer_tenant()
    body = claim_body(manager.user, tenant, products=lines_in(3)) | poe_form()
    body["confirmed"] = "true"
    count, sql = statements(manager, "post", f"{CLAIMS}file/", body, "multipart")
    # token, size limit; create: role, location, tenant, products, claim, lines, event;
    # PoE: PoE, claim, event; submit: check flags (with the inputs the claim stores),
    # claim, event, reviewers on duty (automatic assignment); and two savepoints (the
    # filing's, the creation's).
    # The claim created in the request's transaction is neither locked nor read again;
    # the program targets of the answer are the settings the size limit read.
    assert count == 2 + 7 + 3 + 4 + 2 * 2, sql


def test_review_actions_cost_a_fixed_number_of_statements(reviewer, people):
    claim = submitted_claim(people["incentives_admin"], customer_tenant())
    path = f"{CLAIMS}{claim.pk}"
    count, sql = statements(reviewer, "post", f"{path}/start-review/", {})
    # token, claim, lines, claim, event, program targets (the expected dates)
    assert count == 2 + 6, sql
    count, sql = statements(
        reviewer,
        "post",
        f"{path}/request-info/",
        {"reason_code": "poe_missing", "message": "Which customer signed it?"},
    )
    # token, claim, lines, program settings, assigned reviewer, claim, event
    assert count == 2 + 7, sql


def test_decisions_and_notes_cost_a_fixed_number_of_statements(reviewer, people):
    tenant = customer_tenant()
    approved = submitted_claim(people["incentives_admin"], tenant)
    count, sql = statements(reviewer, "post", f"{CLAIMS}{approved.pk}/approve/", {})
    # token, claim, lines, holders of the units, association, lines, claim, event
    assert count == 2 + 8, sql
    rejected = submitted_claim(people["incentives_admin"], tenant, products=["intune"])
    body = {"reason_code": "insufficient_poe"}
    count, sql = statements(reviewer, "post", f"{CLAIMS}{rejected.pk}/reject/", body)
    # token, claim, lines, lines, claim, event
    assert count == 2 + 6, sql
    count, sql = statements(reviewer, "post", f"{CLAIMS}{rejected.pk}/notes/", {"message": "x"})
    # token, claim, lines, event
    assert count == 2 + 4, sql


def test_partner_actions_cost_a_fixed_number_of_statements(manager, people):
    claim = submitted_claim(manager.user, customer_tenant())
    count, sql = statements(manager, "post", f"{CLAIMS}{claim.pk}/withdraw/", {})
    # token, claim, lines, claim, event
    assert count == 2 + 5, sql


def test_reading_a_claim_and_a_page_of_claims_is_two_queries_and_the_token(manager):
    tenants = []
    for _ in range(3):
        claim = services.claim_create(
            actor=manager.user, data=_input(manager.user, products=lines_in(2))
        )
        add_poe(manager.user, claim)
        tenants.append(claim.tenant_id)
    count, _sql = statements(manager, "get", f"{CLAIMS}{claim.pk}/")
    assert count == 1 + 2  # token; claim with its relations; lines
    count, sql = statements(manager, "get", CLAIMS)
    # token; the page with its relations; its lines; which of the page's customers the
    # partner may name, asked of those customers only (not a test on every claim)
    assert count == 1 + 3, sql
    assert not any("COUNT(" in query.upper() for query in sql)
    assert "EXISTS" not in sql[1].upper(), sql[1]
    assert tenants_asked(sql[2]) == [sorted(tenants)] * 2, sql[2]


def _input(user, tenant=None, **overrides):
    from cpor.testing.factories import claim_input

    return claim_input(user, tenant or customer_tenant(), **overrides)


def _last_claim_id(client) -> int:
    from cpor.claims.models import Claim

    return Claim.objects.filter(created_by=client.user).latest("pk").pk


def test_a_submitted_claim_is_answered_as_stored(manager):
    tenant = customer_tenant()
    created = manager.post(CLAIMS, claim_body(manager.user, tenant), format="json").json()
    manager.post(f"{CLAIMS}{created['id']}/proofs/", poe_form(), format="multipart")
    submitted = manager.post(
        f"{CLAIMS}{created['id']}/submit/", {"confirmed": True}, format="json"
    ).json()
    assert submitted["status"] == ClaimStatus.SUBMITTED
    assert manager.get(f"{CLAIMS}{created['id']}/").json() == submitted


def test_the_answer_built_from_memory_is_what_the_serializer_describes(manager, people):
    """``claim_data`` replaces ``ClaimSerializer`` for speed; the schema still shows the
    serializer, so both must give the same keys in the same order and the same values."""
    from cpor.api.serializers import ClaimSerializer, claim_data
    from cpor.claims.models import Claim
    from cpor.testing.factories import SubscriptionFactory

    tenant = customer_tenant()
    business = services.claim_create(
        actor=manager.user,
        data=_input(
            manager.user,
            tenant,
            role="build_intent_advisor",
            products=(),
            subscriptions=[SubscriptionFactory(tenant=tenant)],
        ),
    )
    workload = services.claim_create(actor=manager.user, data=_input(manager.user, tenant))
    add_poe(manager.user, workload)
    services.claim_submit(actor=manager.user, claim=workload, confirmed=True, comments="May")
    services.claim_request_info(
        actor=people["reviewer"], claim=workload, reason_code="poe_missing", message="Which?"
    )
    request = SimpleNamespace(user=manager.user)
    for claim in Claim.objects.filter(pk__in=[business.pk, workload.pk]):
        expected = ClaimSerializer(claim, context={"request": request}).data
        assert list(claim_data(claim, actor=manager.user)) == list(expected)
        assert claim_data(claim, actor=manager.user) == expected


def test_the_list_answers_each_claim_as_its_detail_does(manager, people):
    from cpor.testing.factories import SubscriptionFactory

    tenant = customer_tenant()
    services.claim_create(
        actor=manager.user,
        data=_input(
            manager.user,
            tenant,
            role="build_intent_advisor",
            products=(),
            subscriptions=[SubscriptionFactory(tenant=tenant)],
        ),
    )
    submitted_claim(manager.user, tenant, products=["teams", "intune"])
    page = manager.get(CLAIMS).json()["results"]
    assert len(page) == 2
    for listed in page:
        assert manager.get(listed["url"]).json() == listed
