"""The dashboard, a unit's page, the CSV export and the upload page: what each role sees."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cpor.claims import services
from cpor.claims.models import Association, AssociationStatus, EndReason
from cpor.testing.factories import active_associations, customer_tenant
from cpor.usage.models import WorkloadUsage
from cpor.usage.selectors import add_months
from cpor.usage.tests.conftest import add_workload_usage

pytestmark = pytest.mark.django_db

PARTNER_ROLES = ("partner_admin", "incentives_admin", "incentives_user")


def get(client, user, url):
    if user is not None:
        client.force_login(user)
    return client.get(url)


# --- permission matrix --------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("partner_admin", 200),
        ("incentives_admin", 200),
        ("incentives_user", 200),
        ("other_partner", 200),
        ("reviewer", 403),
        ("program_admin", 403),
        ("customer", 403),
    ],
)
@pytest.mark.parametrize("name", ["usage:dashboard", "usage:export"])
def test_dashboard_and_export_are_for_partner_users(client, holdings, who, expected, name):
    response = get(client, holdings.people[who], reverse(name))
    assert response.status_code == expected
    if expected == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("partner_admin", 200),
        ("incentives_admin", 200),
        ("incentives_user", 200),
        ("other_partner", 404),
        ("reviewer", 403),
        ("program_admin", 403),
        ("customer", 403),
    ],
)
def test_unit_page_only_for_the_organisation_holding_it(client, holdings, who, expected):
    response = get(client, holdings.people[who], reverse("usage:unit", args=[holdings.teams.pk]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("partner_admin", 403),
        ("incentives_admin", 403),
        ("incentives_user", 403),
        ("other_partner", 403),
        ("reviewer", 403),
        ("program_admin", 200),
        ("customer", 403),
    ],
)
def test_upload_page_is_for_program_admins(client, holdings, who, expected):
    assert get(client, holdings.people[who], reverse("usage:import")).status_code == expected


# --- what the dashboard shows -------------------------------------------------------


def test_dashboard_shows_only_the_organisations_active_units(client, holdings):
    response = get(client, holdings.partner, reverse("usage:dashboard"))
    body = response.content.decode()
    assert "Contoso Usage" in body
    assert "Fabrikam Pending" not in body  # approved, not yet official
    assert "Northwind Elsewhere" not in body  # held by another partner
    assert [u.association for u in response.context["units"]] == sorted(
        [holdings.teams, holdings.sales], key=lambda a: a.product.name
    )
    latest = response.context["totals"][-1]
    # Only Contoso's Teams counts: 14th month of 100, 110, …
    assert (latest.active_users, latest.paid_units) == (230, 500)
    assert latest.licensed_units == 33
    assert "<svg" in body and "<title" in body and "<desc" in body


def test_other_partner_sees_only_its_own_unit(client, holdings):
    response = get(client, holdings.people["other_partner"], reverse("usage:dashboard"))
    body = response.content.decode()
    assert "Northwind Elsewhere" in body and "Contoso Usage" not in body


def test_unit_page_shows_baseline_and_growth(client, holdings):
    response = get(client, holdings.partner, reverse("usage:unit", args=[holdings.teams.pk]))
    unit = response.context["unit"]
    before = [
        m.active_users
        for m in WorkloadUsage.objects.filter(tenant=holdings.teams.tenant, product__code="teams")
        if m.month < unit.started
    ]
    assert unit.baseline == max(before)
    assert unit.growth == 230 - max(before)
    assert unit.months[-1].usage_percent == 46.0
    assert f"{unit.baseline}" in response.content.decode()


def test_ending_an_association_hides_its_unit_on_the_very_next_request(client, holdings):
    client.force_login(holdings.partner)
    unit_url = reverse("usage:unit", args=[holdings.teams.pk])
    assert client.get(unit_url).status_code == 200
    services.association_decline(association=holdings.teams, actor_label="cio@customer.example")

    assert client.get(unit_url).status_code == 410
    dashboard = client.get(reverse("usage:dashboard"))
    assert holdings.teams not in [u.association for u in dashboard.context["units"]]
    assert dashboard.context["totals"][-1].active_users == 0
    export = client.get(reverse("usage:export"))
    assert "Teams" not in b"".join(export.streaming_content).decode()


@pytest.mark.parametrize(
    ("language", "how", "day"),
    [
        ("en", "Declined by the customer on", "N j, Y"),
        ("pt-pt", "Recusada pelo cliente em", r"j \d\e F \d\e Y"),
    ],
)
def test_an_ended_units_page_says_how_and_when_it_ended(client, holdings, language, how, day):
    from django.utils import translation
    from django.utils.dateformat import format as date_format

    services.association_decline(association=holdings.teams, actor_label="cio@customer.example")
    holdings.teams.refresh_from_db()
    client.force_login(holdings.partner)
    client.cookies["django_language"] = language

    response = client.get(reverse("usage:unit", args=[holdings.teams.pk]))

    assert response.status_code == 410
    page = response.content.decode()
    with translation.override(language):
        ended_on = date_format(timezone.localtime(holdings.teams.ended_at), day)
    assert f"{how} {ended_on}." in page
    assert 'id="nav-' in page or "<nav" in page  # inside the shell, not a bare error
    assert reverse("usage:dashboard") in page
    assert "Not found" not in page


def test_an_ended_unit_never_names_the_partner_that_took_it_over(client, holdings):
    # As a conflicting approval leaves it (claims/services/review.py), without the claim.
    Association.objects.filter(pk=holdings.teams.pk).update(
        status=AssociationStatus.ENDED,
        end_reason=EndReason.SUPERSEDED,
        end_message="Superseded by a claim with more recent PoE.",
        superseded_by=holdings.other,
        ended_at=timezone.now(),
    )
    response = get(client, holdings.partner, reverse("usage:unit", args=[holdings.teams.pk]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "Superseded by another partner on" in page
    assert holdings.other.organisation.name not in page
    assert str(holdings.other.claim_id) not in page.split('id="association-ended"')[1][:400]


def test_another_partners_ended_unit_stays_a_plain_404(client, holdings):
    services.association_decline(association=holdings.other, actor_label="cio@customer.example")
    response = get(client, holdings.partner, reverse("usage:unit", args=[holdings.other.pk]))
    assert response.status_code == 404
    assert "Declined by the customer" not in response.content.decode()


def test_withdrawing_hides_the_unit_too(client, holdings):
    client.force_login(holdings.partner)
    services.association_withdraw(
        actor=holdings.partner, association=holdings.sales, reason="Customer moved on"
    )
    response = client.get(reverse("usage:dashboard"))
    assert [u.association for u in response.context["units"]] == [holdings.teams]
    assert response.context["totals"][-1].licensed_units == 0


def test_csv_export_has_every_month_of_every_active_unit(client, holdings):
    response = get(client, holdings.partner, reverse("usage:export") + "?months=6")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["tenant_id", "customer", "product"]
    assert len(rows) == 1 + 6 + 6
    assert {row[1] for row in rows[1:]} == {"Contoso Usage"}


def test_dashboard_with_no_active_association_says_so(client, holdings):
    from cpor.testing.factories import partner_user

    response = get(client, partner_user(), reverse("usage:dashboard"))
    assert "no active association" in response.content.decode()


def test_period_choice_changes_the_window(client, holdings):
    response = get(client, holdings.partner, reverse("usage:dashboard") + "?months=24")
    assert len(response.context["totals"]) == 24
    response = get(client, holdings.partner, reverse("usage:dashboard") + "?months=7")
    assert len(response.context["totals"]) == 12  # not a choice: the default


def test_dashboard_queries_do_not_grow_with_the_number_of_units(
    client, holdings, django_assert_max_num_queries
):
    client.force_login(holdings.partner)
    url = reverse("usage:dashboard")
    client.get(url)  # warm the session and the sign-in
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for _ in range(4):
        tenant = customer_tenant()
        (association,) = active_associations(holdings.partner, tenant, products=["intune"])
        add_workload_usage(
            association, [add_months(holdings.this_month, -i) for i in range(12)], start=5
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["units"]) == 6


# --- the upload page ----------------------------------------------------------------


def test_program_admin_uploads_a_file_and_sees_the_report(client, holdings):
    tenant = holdings.teams.tenant
    month = f"{add_months(holdings.this_month, -20):%Y-%m}"
    content = (
        "tenant_id,workload,month,active_users,paid_units\n"
        f"{tenant.tenant_id},intune,{month},7,9\n"
        f"{tenant.tenant_id},intune,{month},-1,9\n"
    ).encode()
    client.force_login(holdings.people["program_admin"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("usage:import"), {"file": SimpleUploadedFile("usage.csv", content)}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.rows_read, report.rows_written, report.rejected_count) == (2, 1, 1)
    body = response.content.decode()
    assert "the same key appears more than once in the file" not in body  # -1 row is bad
    assert "negative" in body


def test_upload_with_a_wrong_header_shows_the_error(client, holdings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(holdings.people["program_admin"])
    response = client.post(
        reverse("usage:import"), {"file": SimpleUploadedFile("usage.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 400
    assert "The header must name the columns" in response.content.decode()


def test_nav_links_partner_to_dashboard_and_program_admin_to_upload(client, holdings):
    body = get(client, holdings.partner, "/").content.decode()
    assert reverse("usage:dashboard") in body
    client.logout()
    body = get(client, holdings.people["program_admin"], "/").content.decode()
    assert reverse("usage:import") in body


@pytest.mark.parametrize("language", ["en", "pt-pt"])
def test_months_read_in_the_languages_format(client, holdings, language):
    import re

    from django.utils import translation
    from django.utils.formats import date_format

    client.force_login(holdings.partner)
    client.cookies["django_language"] = language
    pages = [
        client.get(reverse("usage:dashboard")).content.decode(),
        client.get(reverse("usage:unit", args=[holdings.teams.pk])).content.decode(),
    ]
    with translation.override(language):
        month = date_format(holdings.this_month, "YEAR_MONTH_FORMAT")
    for page in pages:
        text = re.sub(r"<[^>]+>", " ", page)
        assert month in text
        assert not re.search(r"\b20\d\d-\d\d\b", text)
