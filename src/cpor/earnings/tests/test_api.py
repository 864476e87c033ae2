"""/api/v1/earnings/: the same estimates under the same scope; amounts as decimal
strings with their currency, never floats nor localised; rate cards for program admins
with errors that name the field and the rule."""

import datetime

import pytest
from rest_framework.test import APIClient

from cpor.earnings.models import RateCard
from cpor.earnings.tests.conftest import MWS

pytestmark = pytest.mark.django_db

LIST = "/api/v1/earnings/associations/"
TOTALS = "/api/v1/earnings/totals/"
LIABILITY = "/api/v1/earnings/liability/"
CARDS = "/api/v1/earnings/rate-cards/"


@pytest.fixture(autouse=True)
def _fresh_throttle_cache(monkeypatch):
    from django.core.cache import cache

    from cpor.earnings import selectors
    from cpor.usage import selectors as usage_selectors

    cache.clear()
    real = usage_selectors.month_window
    monkeypatch.setattr(
        selectors, "month_window", lambda n, today=None: real(n, datetime.date(2026, 4, 20))
    )


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "partner", "detail", "program"),
    [
        ("anonymous", (401, 403), (401, 403), (401, 403)),
        ("partner_admin", (200,), (200,), (403,)),
        ("incentives_admin", (200,), (200,), (403,)),
        ("incentives_user", (200,), (200,), (403,)),
        ("other_partner", (200,), (404,), (403,)),
        ("reviewer", (403,), (403,), (403,)),
        ("program_admin", (403,), (403,), (200,)),
        ("customer", (403,), (403,), (403,)),
    ],
)
def test_permission_matrix(people, book, who, partner, detail, program):
    client = api(people.get(who))
    assert client.get(LIST).status_code in partner
    assert client.get(TOTALS).status_code in partner
    assert client.get(f"{LIST}{book.teams.pk}/").status_code in detail
    assert client.get(LIABILITY).status_code in program
    assert client.get(CARDS).status_code in program


def test_list_is_scoped_and_explains_each_amount(people, book):
    body = api(people.partner).get(LIST, {"months": 6}, HTTP_ACCEPT_LANGUAGE="pt-pt").json()
    items = {item["association"]: item for item in body["results"]}
    assert set(items) == {book.teams.pk, book.sales.pk}
    teams = items[book.teams.pk]
    assert teams["totals"] == {"EUR": "709.68"}
    january = teams["months"][0]
    assert january["month"] == "2026-01-01"
    assert (january["amount"], january["currency"]) == ("109.68", "EUR")
    assert (january["days"], january["days_in_month"], january["paid_units"]) == (17, 31, 100)
    assert january["rate_card"]["version"] == "2025-01-01"
    assert january["rate_card"]["rate"] == "2.0000"


def test_another_partners_association_is_a_404_with_the_error_body(people, book):
    response = api(people.partner).get(f"{LIST}{book.other.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs = api(people.other_partner).get(LIST).json()["results"]
    assert [item["association"] for item in theirs] == [book.other.pk]


def test_csv_export_through_the_api_is_scoped_and_escaped(people, book):
    from cpor.customers.models import Tenant

    Tenant.objects.filter(pk=book.teams.tenant_id).update(name="@SUM(1+1)")
    response = api(people.partner).get("/api/v1/earnings/export/", {"months": 6})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "'@SUM(1+1)" in body and "Northwind" not in body
    assert ",109.68,EUR," in body
    assert api(people.reviewer).get("/api/v1/earnings/export/").status_code == 403


def test_totals_per_engagement_and_partner_id(people, book):
    body = api(people.partner).get(TOTALS, {"months": 6}).json()
    assert body["total"] == {"EUR": "1249.68"}
    assert body["by_engagement"]["MCI BizApps Presales Advisor"] == {"EUR": "540.00"}
    partner_id = people.partner.partner_membership.organisation.locations.get().partner_id
    assert body["by_partner_id"] == {partner_id: {"EUR": "1249.68"}}
    assert body["by_month"]["2026-02-01"] == {"EUR": "380.00"}


def test_liability_for_program_admins(people, book):
    body = api(people.program_admin).get(LIABILITY, {"months": 6}).json()
    assert body["total"] == {"EUR": "9249.68"}
    assert body["engagements"]["Modern Work and Security Usage"]["2026-01-01"] == {"EUR": "2109.68"}


def test_rate_card_errors_name_the_field_and_rule(people, book):
    client = api(people.program_admin)
    card = {
        "engagement": MWS,
        "effective_from": "2024-06-01",
        "base": "pau",
        "rate": "2.00",
        "currency": "EUR",
    }
    body = client.post(CARDS, card, format="json").json()
    assert (body["code"], body["field"]) == ("overlapping_dates", "effective_from")
    body = client.post(CARDS, {**card, "currency": "XYZ", "rate": "-2"}, format="json").json()
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("rate", "negative_rate"),
        ("currency", "unknown_currency"),
    }
    body = client.post(CARDS, {**card, "engagement": "bizapps_revenue"}, format="json").json()
    assert (body["code"], body["field"]) == ("engagement_not_incentivized", "engagement")
    assert RateCard.objects.count() == 2
    response = client.post(CARDS, {**card, "effective_from": "2026-05-01"}, format="json")
    assert response.status_code == 201
    created = response.json()
    assert created["rate"] == "2.0000" and created["effective_until"] is None
    previous = RateCard.objects.get(engagement__code=MWS, effective_from="2025-01-01")
    assert previous.effective_until == datetime.date(2026, 4, 30)
    response = client.patch(f"{CARDS}{created['id']}/", {"cap": "1.99"}, format="json")
    assert (response.status_code, response.json()["field"]) == (400, "cap")
    assert response.json()["code"] == "cap_below_threshold"  # one unit earns 2.00
    response = client.patch(f"{CARDS}{created['id']}/", {"cap": "50"}, format="json")
    assert (response.status_code, response.json()["cap"]) == (200, "50.00")
    assert client.delete(f"{CARDS}{created['id']}/").status_code == 204


def test_partners_cannot_write_rate_cards(people, book):
    response = api(people.partner).post(CARDS, {"engagement": MWS}, format="json")
    assert response.status_code == 403
    assert RateCard.objects.count() == 2


def test_the_schema_documents_the_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in (
        LIST,
        f"{LIST}{{id}}/",
        TOTALS,
        LIABILITY,
        CARDS,
        f"{CARDS}{{id}}/",
        "/api/v1/earnings/export/",
    ):
        assert path in schema["paths"], path
