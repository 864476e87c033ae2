"""/api/v1/usage/: the dashboard's data, under the same scope."""

import pytest
from rest_framework.test import APIClient

from cpor.claims import services

pytestmark = [pytest.mark.django_db, pytest.mark.urls("cpor.usage.tests.urls")]

UNITS = "/api/v1/usage/units/"
TOTALS = "/api/v1/usage/totals/"


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "list_status", "detail_status"),
    [
        ("anonymous", (401, 403), (401, 403)),
        ("partner_admin", (200,), (200,)),
        ("incentives_admin", (200,), (200,)),
        ("incentives_user", (200,), (200,)),
        ("other_partner", (200,), (404,)),
        ("reviewer", (403,), (403,)),
        ("program_admin", (403,), (403,)),
        ("customer", (403,), (403,)),
    ],
)
def test_permission_matrix(holdings, who, list_status, detail_status):
    client = api(holdings.people[who])
    assert client.get(UNITS).status_code in list_status
    assert client.get(TOTALS).status_code in list_status
    assert client.get(f"{UNITS}{holdings.teams.pk}/").status_code in detail_status


def test_units_list_has_the_active_units_with_monthly_series(holdings):
    body = api(holdings.partner).get(UNITS, {"months": 6}).json()
    units = {unit["association"]: unit for unit in body["results"]}
    assert set(units) == {holdings.teams.pk, holdings.sales.pk}
    teams = units[holdings.teams.pk]
    assert teams["kind"] == "workload" and teams["product"] == "teams"
    assert teams["customer"] == "Contoso Usage"
    assert len(teams["months"]) == 6
    assert teams["months"][-1] == {
        "month": holdings.this_month.isoformat(),
        "active_users": 230,
        "licensed_units": 500,
        "usage_percent": 46.0,
        "revenue": None,
        "currency": "",
    }
    assert teams["baseline"] is not None and teams["growth"] == 230 - teams["baseline"]
    sales = units[holdings.sales.pk]
    assert sales["kind"] == "subscription"
    assert sales["months"][-1]["revenue"] == "1400.00"


def test_other_partner_list_holds_only_its_unit(holdings):
    body = api(holdings.people["other_partner"]).get(UNITS).json()
    assert [unit["association"] for unit in body["results"]] == [holdings.other.pk]


def test_pending_association_is_not_a_unit(holdings):
    client = api(holdings.partner)
    assert client.get(f"{UNITS}{holdings.pending.pk}/").status_code == 404
    assert client.get(f"{UNITS}999999/").status_code == 404


def test_totals(holdings):
    body = api(holdings.partner).get(TOTALS, {"months": 12}).json()
    assert len(body) == 12
    assert body[-1]["active_users"] == 230 and body[-1]["paid_units"] == 500
    assert body[-1]["licensed_units"] == 33 and body[-1]["revenue"] == {"EUR": "1400.00"}


def test_ending_an_association_empties_the_api_on_the_very_next_request(holdings):
    client = api(holdings.partner)
    detail = f"{UNITS}{holdings.teams.pk}/"
    assert client.get(detail).status_code == 200
    services.association_decline(association=holdings.teams, actor_label="cio@customer.example")
    assert client.get(detail).status_code == 404
    units = [unit["association"] for unit in client.get(UNITS).json()["results"]]
    assert units == [holdings.sales.pk]
    assert client.get(TOTALS).json()[-1]["active_users"] == 0


def test_out_of_range_ids_are_404(holdings, client):
    assert api(holdings.partner).get(f"{UNITS}{10**30}/").status_code == 404
    client.force_login(holdings.partner)
    assert client.get(f"/usage/units/{10**30}/").status_code == 404
