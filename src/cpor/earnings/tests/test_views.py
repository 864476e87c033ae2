"""The pages: who sees what, the reasons shown, the CSV, the rate card forms, and the
Portuguese rendering (decimal comma in text, plain numbers in CSV and SVG)."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from cpor.customers.models import Tenant
from cpor.earnings.models import RateCard
from cpor.earnings.tests.conftest import MWS, official, workload_usage
from cpor.testing.factories import active_associations, customer_tenant

pytestmark = pytest.mark.django_db
FOUR = {"months": 6}


@pytest.fixture(autouse=True)
def _in_2026(monkeypatch):
    """The window ends in April 2026, the book's last month."""
    from cpor.usage import selectors as usage_selectors

    real = usage_selectors.month_window
    monkeypatch.setattr(
        usage_selectors, "month_window", lambda n, today=None: real(n, datetime.date(2026, 4, 20))
    )
    from cpor.earnings import selectors

    monkeypatch.setattr(selectors, "month_window", usage_selectors.month_window)


def get(client, user, url, **params):
    if user is not None:
        client.force_login(user)
    return client.get(url, params)


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    ("who", "partner_pages", "detail", "program_pages"),
    [
        ("anonymous", 302, 302, 302),
        ("partner_admin", 200, 200, 403),
        ("incentives_admin", 200, 200, 403),
        ("incentives_user", 200, 200, 403),
        ("other_partner", 200, 404, 403),
        ("reviewer", 403, 403, 403),
        ("program_admin", 403, 403, 200),
        ("customer", 403, 403, 403),
    ],
)
def test_permission_matrix(client, people, book, who, partner_pages, detail, program_pages):
    user = people.get(who)
    for name in ("earnings:dashboard", "earnings:export"):
        assert get(client, user, reverse(name)).status_code == partner_pages, name
    url = reverse("earnings:association", args=[book.teams.pk])
    assert get(client, user, url).status_code == detail
    first = RateCard.objects.first()
    for url in (
        reverse("earnings:liability"),
        reverse("earnings_admin:rate_cards"),
        reverse("earnings_admin:rate_card_new"),
        reverse("earnings_admin:rate_card_edit", args=[first.pk]),
        reverse("earnings_admin:rate_card_delete", args=[first.pk]),
    ):
        assert get(client, user, url).status_code == program_pages, url


def test_dashboard_shows_totals_by_engagement_partner_id_and_month(client, people, book):
    body = get(client, people.partner, reverse("earnings:dashboard"), **FOUR).content.decode()
    assert "1,249.68 EUR" in body  # 709.68 + 540.00
    partner_id = people.partner.partner_membership.organisation.locations.get().partner_id
    assert partner_id in body and "MCI BizApps Presales Advisor" in body
    assert "Northwind" not in body


def test_detail_shows_the_figures_and_rate_card_behind_each_month(client, people, book):
    url = reverse("earnings:association", args=[book.teams.pk])
    body = get(client, people.partner, url, **FOUR).content.decode()
    assert "17/31" in body and "109.68 EUR" in body  # official on 15 January
    assert "2025-01-01" in body  # the rate card version


def test_earns_nothing_says_why(client, people, book):
    tenant = customer_tenant()
    (opted,) = active_associations(people.partner, tenant, incentive_opt_out=True)
    official(opted, book.teams.activated_at)
    workload_usage(opted, {m: (80, 100) for m in book.months})
    body = get(client, people.partner, reverse("earnings:dashboard"), **FOUR).content.decode()
    assert "The claim opted out of incentive payments." in body
    detail = get(client, people.partner, reverse("earnings:association", args=[opted.pk]))
    assert 'id="earns-nothing"' in detail.content.decode()
    people.partner.language = "pt-pt"
    people.partner.save(update_fields=["language"])
    body = get(client, people.partner, reverse("earnings:dashboard")).content.decode()
    assert "A reclamação optou por não receber pagamentos de incentivos." in body


def test_csv_escapes_a_formula_like_customer_name_and_keeps_plain_numbers(client, people, book):
    Tenant.objects.filter(pk=book.teams.tenant_id).update(name='=HYPERLINK("http://x.example")')
    people.partner.language = "pt-pt"
    people.partner.save(update_fields=["language"])
    response = get(client, people.partner, reverse("earnings:export"), **FOUR)
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    teams = [r for r in rows if r["association"] == str(book.teams.pk)]
    assert {r["customer"] for r in teams} == {'\'=HYPERLINK("http://x.example")'}
    january = next(r for r in teams if r["month"] == "2026-01-01")
    assert january["amount"] == "109.68" and january["currency"] == "EUR"
    assert (january["days"], january["paid_units"], january["rate"]) == ("17", "100", "2.0000")
    assert not any(r["association"] == str(book.other.pk) for r in rows)


def test_portuguese_pages_use_the_decimal_comma_but_the_chart_stays_svg(client, people, book):
    people.partner.language = "pt-pt"
    people.partner.save(update_fields=["language"])
    body = get(client, people.partner, reverse("earnings:dashboard"), **FOUR).content.decode()
    assert "1.249,68 EUR" in body and "1,249.68" not in body
    assert "Estimativas de ganhos" in body and "Por compromisso" in body
    (svg,) = [s for s in re.findall(r"<svg\b.*?</svg>", body, re.DOTALL) if "earnings-chart" in s]
    values = re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"%]*)"', svg)
    assert any("." in value for value in values)  # fractional coordinates, written with "."
    for value in values:
        assert re.fullmatch(r"-?\d+(\.\d+)?", value), value
    detail = get(client, people.partner, reverse("earnings:association", args=[book.teams.pk]))
    assert "109,68 EUR" in detail.content.decode()


def test_liability_page_and_csv(client, people, book):
    body = get(client, people.program_admin, reverse("earnings:liability"), **FOUR)
    assert "9,249.68 EUR" in body.content.decode()
    response = get(client, people.program_admin, reverse("earnings:liability"), format="csv")
    rows = csv_rows(response)
    assert {
        "engagement": "Modern Work and Security Usage",
        "month": "2026-01-01",
        "currency": "EUR",
        "estimated_liability": "2109.68",
    } in rows


def test_rate_card_form_names_the_field_and_rule(client, people, book):
    client.force_login(people.program_admin)
    mws = RateCard.objects.get(engagement__code=MWS)
    data = {
        "engagement": mws.engagement_id,
        "effective_from": "2026-05-01",
        "base": "pau",
        "rate": "-1",
        "currency": "EURO",
        "min_paid_units": "50",
        "min_growth": "0",
        "cap": "",
    }
    response = client.post(reverse("earnings_admin:rate_card_new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_rate_error"' in body and "The rate cannot be negative." in body
    assert 'id="id_currency_error"' in body and "Unknown currency" in body
    data.update(rate="2", currency="eur", cap="99")
    body = client.post(reverse("earnings_admin:rate_card_new"), data).content.decode()
    assert 'id="id_cap_error"' in body and "below what the threshold itself earns" in body
    data.update(cap="100", effective_from="2024-06-01")
    body = client.post(reverse("earnings_admin:rate_card_new"), data).content.decode()
    assert 'id="id_effective_from_error"' in body and "overlap" in body
    assert RateCard.objects.count() == 2
    data.update(effective_from="2026-05-01", eligible_channels=["volume_licensing"])
    response = client.post(reverse("earnings_admin:rate_card_new"), data)
    assert response.status_code == 302
    mws.refresh_from_db()
    assert mws.effective_until == datetime.date(2026, 4, 30)
    new = RateCard.objects.get(effective_from=datetime.date(2026, 5, 1))
    assert (new.rate, new.currency, new.eligible_channels) == (
        Decimal("2.0000"),
        "EUR",
        ["volume_licensing"],
    )


def test_rate_card_delete(client, people, book):
    client.force_login(people.program_admin)
    mws = RateCard.objects.get(engagement__code=MWS)
    response = client.post(reverse("earnings_admin:rate_card_delete", args=[mws.pk]))
    assert response.status_code == 302
    assert not RateCard.objects.filter(pk=mws.pk).exists()


def test_rate_cards_in_the_django_admin_follow_the_same_rules(client, people, book):
    client.force_login(people.program_admin)
    people.program_admin.is_staff = True
    people.program_admin.save(update_fields=["is_staff"])
    mws = RateCard.objects.get(engagement__code=MWS)
    url = reverse("admin:earnings_ratecard_add")
    data = {
        "engagement": mws.engagement_id,
        "effective_from": "2024-06-01",
        "base": "pau",
        "rate": "2",
        "currency": "EUR",
        "min_paid_units": "0",
        "min_growth": "0",
    }
    body = client.post(url, data).content.decode()
    assert "overlap" in body and RateCard.objects.count() == 2
    data["effective_from"] = "2026-06-01"
    assert client.post(url, data).status_code == 302
    mws.refresh_from_db()
    assert mws.effective_until == datetime.date(2026, 5, 31)
