"""The queue's reads: scope, counts, SLA clocks and pagination."""

import datetime

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.catalog.models import ProgramSettings
from cpor.claims import checks, services
from cpor.claims.check_flags import conflict_condition, stored_check_flags
from cpor.claims.models import Claim, ClaimLine, ClaimStatus
from cpor.errors import PermissionDenied
from cpor.keyset import InvalidCursor
from cpor.review import selectors
from cpor.testing.factories import (
    SubscriptionFactory,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def test_partners_cannot_read_the_queue():
    user = partner_user()
    submitted_claim(user)
    with pytest.raises(PermissionDenied):
        selectors.review_queue(actor=user)
    with pytest.raises(PermissionDenied):
        selectors.queue_counts(actor=user)


def test_counts_per_state_stop_at_the_limit(reviewer, monkeypatch):
    submitted_claim()
    submitted_claim()
    taken = submitted_claim()
    services.claim_start_review(actor=reviewer, claim=taken)
    counts = selectors.queue_counts(actor=reviewer)
    assert {name: (c.count, c.more) for name, c in counts.items()} == {
        "submitted": (2, False),
        "in_review": (1, False),
        "disputed": (0, False),
        "action_required": (0, False),
        "mine": (1, False),
        "queue": (3, False),
    }
    monkeypatch.setattr(selectors, "QUEUE_COUNT_LIMIT", 1)
    counts = selectors.queue_counts(actor=reviewer)
    assert (counts["submitted"].count, counts["submitted"].more) == (1, True)
    assert (counts["queue"].count, counts["queue"].more) == (2, True)


def _walk(reviewer, **options):
    seen, cursor, pages = [], None, []
    while True:
        result = selectors.review_queue_page(actor=reviewer, cursor=cursor, **options)
        pages.append(result)
        seen += [claim.pk for claim, _sla in result.rows]
        if not result.page.has_next:
            return seen, pages
        cursor = result.page.next_cursor


def test_pages_keep_the_oldest_first_order_without_gaps_or_repeats(reviewer, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    claims = [submitted_claim() for _ in range(5)]
    # Three submitted at the same instant: the id breaks the tie.
    same = claims[1].submitted_at
    Claim.objects.filter(pk__in=[c.pk for c in claims[1:4]]).update(submitted_at=same)
    seen, pages = _walk(reviewer)
    assert seen == [claim.pk for claim in claims]
    assert [(p.total.count, p.total.more) for p in pages] == [(5, False)] * 3
    back = selectors.review_queue_page(actor=reviewer, cursor=pages[2].page.previous_cursor)
    assert [c.pk for c, _sla in back.rows] == [claim.pk for claim in claims[2:4]]

    filtered = selectors.review_queue_page(
        actor=reviewer, filters=selectors.QueueFilters(text=str(claims[3].pk))
    )
    assert [c.pk for c, _sla in filtered.rows] == [claims[3].pk]


def test_a_tampered_queue_cursor_is_refused(reviewer):
    submitted_claim()
    with pytest.raises(InvalidCursor):
        selectors.review_queue_page(actor=reviewer, cursor="WyJhIixbIm5vdCBhIGRhdGUiLDFdXQ")


def test_the_total_stops_at_the_limit_unless_the_exact_one_is_asked(reviewer, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    monkeypatch.setattr(selectors, "QUEUE_COUNT_LIMIT", 2)
    for _ in range(3):
        submitted_claim()
    mine = selectors.QueueFilters(text="Adoption")  # a filter: counted on its own
    result = selectors.review_queue_page(actor=reviewer, filters=mine)
    assert (result.total.count, result.total.more) == (2, True)
    result = selectors.review_queue_page(actor=reviewer, filters=mine, exact=True)
    assert (result.total.count, result.total.more) == (3, False)


def test_failed_checks_filter_reads_the_stored_flags(reviewer):
    fine = submitted_claim()
    tenant = customer_tenant()
    ending = SubscriptionFactory(
        tenant=tenant, ends_on=timezone.localdate() + datetime.timedelta(days=3)
    )
    bizapps = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[ending]
    )
    failed = selectors.QueueFilters(failed_checks=True)

    def listed(**options):
        result = selectors.review_queue_page(actor=reviewer, filters=failed, **options)
        return {claim.pk for claim, _sla in result.rows}

    assert listed() == set()
    # Time passes: the subscription has ended, the PoE is past its age limit.
    assert listed(today=timezone.localdate() + datetime.timedelta(days=4)) == {bizapps.pk}
    assert listed(today=timezone.localdate() + datetime.timedelta(days=400)) == {
        fine.pk,
        bizapps.pk,
    }
    # What decides is the stored flag, not a check re-run per claim.
    Claim.objects.filter(pk=fine.pk).update(poe_signed_on=None)
    assert listed() == {fine.pk}


def test_submission_stores_the_time_bound_inputs_its_checks_read():
    today = timezone.localdate()
    tenant = customer_tenant()
    first, later = (
        SubscriptionFactory(tenant=tenant, ends_on=today + datetime.timedelta(days=days))
        for days in (3, 30)
    )
    claim = submitted_claim(
        partner_user(),
        tenant,
        role="build_intent_advisor",
        subscriptions=[later, first],
        signed_on=today - datetime.timedelta(days=20),
    )
    claim.refresh_from_db()
    assert (claim.poe_signed_on, claim.units_end_on) == (
        today - datetime.timedelta(days=20),
        first.ends_on,
    )
    # Without check results (a dispute stores the flags so) the same flags come out.
    assert stored_check_flags(claim, checks.run_checks(claim)) == stored_check_flags(claim)


def test_row_flags_follow_each_cheap_check_on_the_day_asked(reviewer):
    """Each row flag says what the check it stands for says, on the day the queue is
    read: PoE dated after that day or older than the engagement's limit, a subscription
    not yet started, ended, or bought through a channel the engagement refuses."""
    today = timezone.localdate()
    tenant = customer_tenant()
    subscription, other = SubscriptionFactory(tenant=tenant), SubscriptionFactory(tenant=tenant)
    by_subscription = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[subscription]
    )
    workload = submitted_claim()  # its PoE signed ten days ago
    rechanneled = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[other]
    )
    other.purchase_channel = "csp"  # an import changed it after submission
    other.save()

    def flags(day):
        page = selectors.review_queue_page(actor=reviewer, today=day)
        return {
            claim.pk: (claim.poe_flag, claim.unit_flag, claim.conflict_flag)
            for claim, _sla in page.rows
        }

    assert flags(today) == {
        by_subscription.pk: (False, False, False),
        workload.pk: (False, False, False),
        rechanneled.pk: (False, True, False),
    }
    # Read as of before the PoE was signed and the subscription started.
    before = min(subscription.starts_on, today - datetime.timedelta(days=10))
    before -= datetime.timedelta(days=1)
    assert flags(before) == {
        by_subscription.pk: (True, True, False),
        workload.pk: (True, False, False),
        rechanneled.pk: (True, True, False),
    }
    # The subscriptions have ended; the PoEs (signed ten days ago) are not a year old.
    assert flags(today + datetime.timedelta(days=300))[by_subscription.pk] == (False, True, False)
    # A year and a day after they were signed.
    assert flags(today + datetime.timedelta(days=356))[workload.pk] == (True, False, False)


def test_the_conflict_condition_reads_its_own_claim_also_inside_another_query(reviewer):
    """The hand-written condition names the row of the query it is in, also when that
    query is nested in another one (Django renames its tables then)."""
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, products=["teams"])
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(partner_user(), tenant, products=["teams"])
    free = submitted_claim(partner_user(), tenant, products=["purview"])
    conflicting = Claim.objects.filter(conflict_condition()).values("pk")
    assert list(conflicting) == [{"pk": rival.pk}]
    lines = ClaimLine.objects.filter(claim__in=conflicting).values_list("claim_id", flat=True)
    assert list(lines) == [rival.pk]
    others = Claim.objects.exclude(pk__in=conflicting).filter(tenant=tenant)
    assert set(others.values_list("pk", flat=True)) == {holder.pk, free.pk}


@pytest.mark.parametrize("ends", ["withdrawn", "revoked"])
def test_conflict_flag_follows_the_unit_holder(reviewer, django_capture_on_commit_callbacks, ends):
    tenant = customer_tenant()
    waiting = submitted_claim(partner_user(), tenant, products=["teams"])
    rival = submitted_claim(partner_user(), tenant, products=["teams", "intune"])
    conflicts = selectors.QueueFilters(conflict=True)

    def listed():
        result = selectors.review_queue_page(actor=reviewer, filters=conflicts)
        return [claim.pk for claim, _sla in result.rows]

    assert listed() == []
    # Another partner gains the unit: both claims still asking for it now conflict.
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_approve(actor=reviewer, claim=rival)
    assert listed() == [waiting.pk]
    association = rival.associations.get(product__code="teams")
    with django_capture_on_commit_callbacks(execute=True):
        if ends == "withdrawn":
            services.association_withdraw(
                actor=rival.created_by, association=association, reason="Customer left."
            )
        else:
            services.association_revoke(
                actor=operator_user(OperatorRole.PROGRAM_ADMIN),
                association=association,
                reason="Fraud.",
            )
    assert listed() == []


def test_a_claim_submitted_against_a_holder_is_flagged_at_submission(reviewer):
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, products=["teams"])
    services.claim_approve(actor=reviewer, claim=holder)
    late = submitted_claim(partner_user(), tenant, products=["teams"])
    late.refresh_from_db()
    assert late.has_conflict is True


@pytest.mark.parametrize(
    ("status", "days_ago", "kind", "state"),
    [
        (ClaimStatus.SUBMITTED, 0, "pickup", "on_track"),
        (ClaimStatus.SUBMITTED, 7, "pickup", "due_soon"),  # 5 business days: due today
        (ClaimStatus.SUBMITTED, 14, "pickup", "overdue"),
        (ClaimStatus.IN_REVIEW, 14, "decision", "overdue"),
    ],
)
def test_sla_clock_counts_business_days_in_the_current_state(status, days_ago, kind, state):
    now = timezone.make_aware(datetime.datetime(2026, 11, 27, 12, 0))  # a Friday
    claim = submitted_claim()
    claim.status = status
    claim.updated_at = claim.submitted_at = now - datetime.timedelta(days=days_ago)
    clock = selectors.sla_clock(claim, settings=ProgramSettings.load(), now=now)
    assert (clock.kind, clock.state) == (kind, state)
    assert clock.target == 5


def test_the_approval_form_offers_the_pending_lines_of_a_claim_the_reviewer_sees(
    reviewer, django_assert_num_queries
):
    claim = submitted_claim(products=["teams", "intune"])
    with django_assert_num_queries(1):
        lines = selectors.lines_awaiting_decision(actor=reviewer, pk=claim.pk)
        assert [line.product.code for line in lines] == ["teams", "intune"]
    # A draft is nobody's to decide; a decided claim has nothing pending.
    draft = services.claim_create(
        actor=claim.created_by, data=claim_input(claim.created_by, claim.tenant)
    )
    assert selectors.lines_awaiting_decision(actor=reviewer, pk=draft.pk) == []
    services.claim_approve(actor=reviewer, claim=claim)
    assert selectors.lines_awaiting_decision(actor=reviewer, pk=claim.pk) == []
