"""Program analytics: each table's figures from claims made through the services, the
filters, bad input, who may see it, the CSV and the API, in both languages."""

import csv
import datetime
import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.analytics import selectors
from cpor.analytics.selectors import Filters, quantile
from cpor.catalog.models import Engagement
from cpor.claims import services
from cpor.claims.models import Association, AssociationStatus, Claim
from cpor.claims.reasons import RejectionReason
from cpor.testing.factories import (
    active_associations,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def _filters(**kwargs) -> Filters:
    today = timezone.localdate()
    return Filters(start=today - datetime.timedelta(days=30), end=today, **kwargs)


def _rows(table) -> dict:
    return {row[0]: row[1:] for row in table.rows}


def _decided(days: float, *, reviewer=None, reason=None, submitted_at=None) -> Claim:
    """A claim decided ``days`` after its submission (times set where the test wants)."""
    claim = submitted_claim()
    reviewer_user = reviewer or operator_user()
    if reason:
        services.claim_reject(actor=reviewer_user, claim=claim, reason_code=reason)
    else:
        services.claim_approve(actor=reviewer_user, claim=claim)
    submitted = submitted_at or timezone.now() - datetime.timedelta(days=20)
    Claim.objects.filter(pk=claim.pk).update(
        submitted_at=submitted,
        decided_at=submitted + datetime.timedelta(days=days),
        assigned_reviewer=reviewer_user,
    )
    return claim


def test_funnel_counts_each_stage_and_where_claims_left():
    partner = partner_user()
    services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    submitted_claim()
    rejected = submitted_claim()
    services.claim_reject(
        actor=operator_user(), claim=rejected, reason_code=RejectionReason.INSUFFICIENT_POE
    )
    active_associations()

    funnel = _rows(selectors.funnel(_filters()))
    assert funnel["Drafted"] == [4, 100.0]
    assert funnel["Submitted"] == [3, 75.0]
    assert funnel["Approved"] == [1, 25.0]
    assert funnel["Active"] == [1, 25.0]

    exits = {row[1]: row[2] for row in selectors.funnel_exits(_filters()).rows}
    assert exits["Still a draft"] == 1
    assert exits["Rejected: The PoE is insufficient."] == 1
    assert "Awaiting a reviewer" in exits or "In review" in exits


def test_funnel_leaves_out_claims_created_outside_the_period():
    submitted_claim()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    before = Filters(start=yesterday - datetime.timedelta(days=30), end=yesterday)
    assert _rows(selectors.funnel(before))["Drafted"] == [0, None]
    assert _rows(selectors.funnel(_filters()))["Drafted"] == [1, 100.0]


def test_quantile_interpolates_like_percentile_cont():
    assert quantile([1, 2, 3, 4, 10], 0.5) == 3
    assert quantile([1, 2, 3, 4, 10], 0.9) == pytest.approx(7.6)
    assert quantile([], 0.5) is None


def test_time_to_decision_median_and_p90_by_engagement_and_week():
    for days in (1, 2, 3, 4, 10):
        _decided(days)
    (row,) = selectors.decision_time_by_engagement(_filters()).rows
    assert row[1:] == [5, 3.0, 7.6]
    weeks = selectors.decision_time_by_week(_filters()).rows
    assert sum(week[1] for week in weeks) == 5
    assert all(week[0].weekday() == 0 for week in weeks)  # weeks start on Monday


def test_sla_counts_decisions_within_the_business_day_target_per_reviewer():
    # Default targets: 5 + 5 business days; from a Monday that is 14 calendar days.
    reviewer = operator_user()
    reviewer.email = "rita@operator.example"
    reviewer.save()
    monday = timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 0))
    _decided(13.9, reviewer=reviewer, submitted_at=monday)
    _decided(14.5, reviewer=reviewer, submitted_at=monday)
    filters = Filters(start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 30))
    rows = _rows(selectors.sla_by_reviewer(filters))
    assert rows["rita@operator.example"] == [2, 1, 50.0]


def test_declines_split_the_notice_period_from_later():
    in_notice = submitted_claim()
    services.claim_approve(actor=operator_user(), claim=in_notice)
    (pending,) = in_notice.associations.all()
    services.association_decline(association=pending, actor_label="customer")
    (later,) = active_associations()
    # Its notice period ended yesterday: this decline comes later.
    yesterday = timezone.now() - datetime.timedelta(days=1)
    Association.objects.filter(pk=later.pk).update(notice_ends_at=yesterday, activated_at=yesterday)
    later.refresh_from_db()
    services.association_decline(association=later, actor_label="customer")
    active_associations()

    (row,) = selectors.declines(_filters()).rows
    assert row[1:] == [3, 1, 1, pytest.approx(66.7)]


def test_conflicts_count_the_winner_and_the_rejected():
    tenant = customer_tenant()
    (held,) = active_associations(tenant=tenant)
    challenger = submitted_claim(tenant=tenant)
    services.claim_reject(
        actor=operator_user(), claim=challenger, reason_code=RejectionReason.UNIT_HELD_NEWER_POE
    )
    rows = {row[0]: row[1] for row in selectors.conflicts(_filters()).rows}
    assert rows["Rejected: another partner holds the unit with newer PoE"] == 1
    assert held.status == AssociationStatus.ACTIVE


def test_backlog_buckets_by_days_waiting():
    now = timezone.now()
    for days in (1, 5, 40):
        claim = submitted_claim()
        Claim.objects.filter(pk=claim.pk).update(submitted_at=now - datetime.timedelta(days=days))
    rows = _rows(selectors.backlog(_filters(), now=now))
    assert rows["0 to 2 days"][-1] == 1
    assert rows["3 to 7 days"][-1] == 1
    assert rows["More than 30 days"][-1] == 1
    assert sum(row[-1] for row in rows.values()) == 3


def test_engagement_filter_keeps_only_that_engagement():
    active_associations()
    own = Claim.objects.get().role.engagement
    other = Engagement.objects.exclude(pk=own.pk).first()
    assert _rows(selectors.funnel(_filters(engagement=other)))["Drafted"][0] == 0
    assert _rows(selectors.funnel(_filters(engagement=own)))["Drafted"][0] == 1
    # Associations are filtered through their claim.
    assert selectors.declines(_filters(engagement=other)).rows == []
    assert [row[1] for row in selectors.declines(_filters(engagement=own)).rows] == [1]


# --- through the web and the API ---------------------------------------------------------


def test_dashboard_draws_every_table_for_a_reviewer(client):
    active_associations()
    client.force_login(operator_user())
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    for key in selectors.REPORTS:
        assert f'id="report-{key}"' in body
        assert reverse("analytics:csv", args=[key]) in body
    assert "<svg" in body


def test_dashboard_in_portuguese_keeps_svg_numbers_plain(client):
    for days in (1.25, 2.5):
        _decided(days)
    user = operator_user()
    client.force_login(user)
    response = client.get(reverse("analytics:dashboard"), HTTP_ACCEPT_LANGUAGE="pt-pt")
    body = response.content.decode()
    assert "Análise do programa" in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    import re

    for attribute in re.findall(r'(?:x|y|width)="([^"]*)"', svg):
        assert "," not in attribute


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-11-01"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"engagement": "999999"}, "engagement"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(client, query, field):
    client.force_login(operator_user())
    response = client.get(reverse("analytics:dashboard"), query)
    assert response.status_code == 400
    assert f'id="id_{field}-error"' in response.content.decode()
    api = client.get("/api/v1/analytics/funnel/", query)
    assert api.status_code == 400
    assert api.json()["field"] == field


def test_partner_users_and_customers_cannot_see_analytics(client):
    client.force_login(partner_user())
    assert client.get(reverse("analytics:dashboard")).status_code == 403
    assert client.get(reverse("analytics:csv", args=["funnel"])).status_code == 403
    assert client.get("/api/v1/analytics/funnel/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get("/api/v1/analytics/funnel/").status_code == 401


def test_csv_export_writes_raw_numbers_and_neutralises_formulas(client):
    engagement = Engagement.objects.first()
    claim = submitted_claim()
    Engagement.objects.filter(pk=claim.role.engagement_id).update(name="=HYPERLINK(evil)")
    services.claim_approve(actor=operator_user(), claim=claim)
    client.force_login(operator_user(OperatorRole.PROGRAM_ADMIN))
    response = client.get(reverse("analytics:csv", args=["declines"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "engagement",
        "associations",
        "declined_in_notice",
        "declined_later",
        "decline_rate",
    ]
    assert rows[1][0] == "'=HYPERLINK(evil)"
    assert rows[1][1:4] == ["1", "0", "0"]
    assert engagement is not None


def test_unknown_report_is_not_found(client):
    client.force_login(operator_user())
    assert client.get("/review/analytics/nothing.csv").status_code == 404
    assert client.get("/api/v1/analytics/nothing/").status_code == 404


def test_api_returns_the_same_rows_as_the_table(client):
    for days in (1, 3):
        _decided(days)
    client.force_login(operator_user())
    body = client.get("/api/v1/analytics/decision-time-engagement/").json()
    assert body["report"] == "decision-time-engagement"
    assert [c["key"] for c in body["columns"]] == [
        "engagement",
        "decisions",
        "median_days",
        "p90_days",
    ]
    assert body["rows"][0]["decisions"] == 2
    assert body["rows"][0]["median_days"] == 2.0


def test_an_association_ended_by_supersession_counts_as_a_conflict_won():
    tenant = customer_tenant()
    (held,) = active_associations(tenant=tenant)
    # Newer PoE than the holder's (signed 10 days ago): approving supersedes the holder.
    newer = timezone.localdate() - datetime.timedelta(days=1)
    challenger = submitted_claim(tenant=tenant, signed_on=newer)
    services.claim_approve(actor=operator_user(), claim=challenger)
    held.refresh_from_db()
    assert held.status == AssociationStatus.ENDED
    rows = {row[0]: row[1] for row in selectors.conflicts(_filters()).rows}
    assert rows["Approved, superseding the previous holder"] == 1
    assert Association.objects.filter(superseded_by__claim=challenger).count() == 1


def test_dashboard_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    """One aggregate per table (the funnel's cohort read once for both its tables),
    whatever the number of claims."""
    for _ in range(3):
        active_associations()
    client.force_login(operator_user())
    # Session, user, second factor; funnel cohort, rejection reasons, engagement names,
    # two decision-time aggregates, program settings, SLA, conflicts, declines, backlog;
    # the shell's membership and customer-admin reads; the two filter choice lists.
    with django_assert_max_num_queries(17):
        assert client.get(reverse("analytics:dashboard")).status_code == 200


def _decisions_on_page(client, **extra) -> str:
    body = client.get(reverse("analytics:dashboard"), **extra).content.decode()
    section = body[body.index('id="report-decision-time-engagement"') :]
    return section[: section.index("</section>")]


def _csv_decisions(client) -> str:
    response = client.get(reverse("analytics:csv", args=["decision-time-engagement"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return rows[1][1]


def test_computed_tables_are_kept_and_say_when_they_were_computed(
    client, django_assert_max_num_queries
):
    """The page computes each table once per ANALYTICS_CACHE_SECONDS: its CSV and the API
    give the numbers the page showed, a reload costs no aggregate, and the page says
    when the figures were computed. Once the copy is gone, the new decision counts."""
    _decided(1)
    client.force_login(operator_user())
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert "Figures computed at" in page and "kept for 5 minutes" in page

    _decided(2)  # after the page was computed
    assert _csv_decisions(client) == "1"
    api = client.get("/api/v1/analytics/decision-time-engagement/").json()
    assert api["rows"][0]["decisions"] == 1
    computed_at = datetime.datetime.fromisoformat(api["computed_at"])
    assert timezone.now() - computed_at < datetime.timedelta(minutes=1)
    # Session, user, second factor, the shell's reads, the filter choices: no aggregate.
    with django_assert_max_num_queries(6):
        client.get(reverse("analytics:dashboard"))

    cache.clear()  # as when the copy expires
    assert _csv_decisions(client) == "2"


def test_each_language_keeps_its_own_tables(client):
    _decided(1)
    client.force_login(operator_user())
    english = _decisions_on_page(client)
    portuguese = _decisions_on_page(client, HTTP_ACCEPT_LANGUAGE="pt-pt")
    assert "Time to decision" in english
    assert "Time to decision" not in portuguese
    assert (
        "Números calculados em"
        in client.get(reverse("analytics:dashboard"), HTTP_ACCEPT_LANGUAGE="pt-pt").content.decode()
    )


def test_nothing_is_kept_when_the_setting_is_zero(client, settings):
    settings.ANALYTICS_CACHE_SECONDS = 0
    _decided(1)
    client.force_login(operator_user())
    assert _csv_decisions(client) == "1"
    _decided(2)
    assert _csv_decisions(client) == "2"
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert "Figures computed at" in page and "kept for" not in page
