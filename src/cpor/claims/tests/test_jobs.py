"""The periodic jobs: who they act on, at the exact deadline, what history they write,
in a constant number of statements per batch, and once per row on two workers."""

import datetime
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cpor.catalog.models import ProgramSettings
from cpor.claims import services
from cpor.claims.models import (
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.claims.tests.test_invariant import _race, postgres_only
from cpor.customers.models import Subscription, Tenant
from cpor.testing.factories import (
    SubscriptionFactory,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

DAY = datetime.timedelta(days=1)
TICK = datetime.timedelta(microseconds=1)


def approved_association(partner, reviewer, tenant, **kwargs) -> Association:
    claim = submitted_claim(partner, tenant, **kwargs)
    services.claim_approve(actor=reviewer, claim=claim)
    return claim.associations.get()


def subscription_association(partner, reviewer, tenant, *, renewed=False):
    """A held association on a subscription that ended yesterday (and its renewal)."""
    today = timezone.localdate()
    subscription = SubscriptionFactory(tenant=tenant)
    association = approved_association(
        partner, reviewer, tenant, role="build_intent_advisor", subscriptions=[subscription]
    )
    Subscription.objects.filter(pk=subscription.pk).update(ends_on=today - DAY)
    subscription.refresh_from_db()
    renewal = None
    if renewed:
        renewal = SubscriptionFactory(
            tenant=tenant, predecessor=subscription, starts_on=today, ends_on=today + 365 * DAY
        )
    return association, subscription, renewal


def draft(partner, tenant, *, untouched_for: datetime.timedelta, now: datetime.datetime) -> Claim:
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    Claim.objects.filter(pk=claim.pk).update(updated_at=now - untouched_for)
    claim.refresh_from_db()
    return claim


def awaiting_answer(partner, reviewer, tenant, **kwargs) -> Claim:
    claim = submitted_claim(partner, tenant, **kwargs)
    return services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="Where is the PoE?"
    )


def last_event(owner, action: str) -> tuple:
    event = owner.events.filter(action=action).get()
    return (
        event.from_status,
        event.to_status,
        event.reason_code,
        event.message,
        event.association_id,
        event.actor_id,
        event.actor_label,
        event.internal,
        event.at,
    )


def more_like(
    association: Association,
    count: int,
    *,
    ends_on: datetime.date | None = None,
    renewed: bool = False,
) -> list[Association]:
    """``count`` more associations like ``association``, each for a new tenant (and, for a
    subscription unit, its own subscription ending ``ends_on``, ``renewed`` or not), in a
    few bulk inserts."""
    claim = association.claim
    tenants = Tenant.objects.bulk_create(
        Tenant(tenant_id=uuid.uuid4(), name=f"Copy {i}") for i in range(count)
    )
    subscriptions: list[Subscription | None] = [None] * count
    if association.subscription_id:
        template = association.subscription
        subscriptions = Subscription.objects.bulk_create(
            Subscription(
                subscription_id=uuid.uuid4(),
                tenant=tenant,
                product_id=template.product_id,
                purchase_channel=template.purchase_channel,
                starts_on=template.starts_on,
                ends_on=ends_on or template.ends_on,
            )
            for tenant in tenants
        )
        if renewed:
            Subscription.objects.bulk_create(
                Subscription(
                    subscription_id=uuid.uuid4(),
                    tenant=s.tenant,
                    product_id=s.product_id,
                    purchase_channel=s.purchase_channel,
                    starts_on=s.ends_on + DAY,
                    ends_on=s.ends_on + 366 * DAY,
                    predecessor=s,
                )
                for s in subscriptions
            )
    claims = Claim.objects.bulk_create(
        Claim(**{**copied_fields(claim), "tenant_id": tenant.pk, "status": ClaimStatus.DRAFT})
        for tenant in tenants
    )
    lines = ClaimLine.objects.bulk_create(
        ClaimLine(claim=c, product_id=association.product_id, subscription=s)
        for c, s in zip(claims, subscriptions, strict=True)
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(status=claim.status)
    return Association.objects.bulk_create(
        Association(
            claim=c,
            line=line,
            organisation_id=association.organisation_id,
            tenant=tenant,
            product_id=association.product_id,
            subscription=s,
            status=association.status,
            approved_at=association.approved_at,
            notice_ends_at=association.notice_ends_at,
            activated_at=association.activated_at,
        )
        for c, line, tenant, s in zip(claims, lines, tenants, subscriptions, strict=True)
    )


def copied_fields(claim: Claim) -> dict:
    return {f.attname: getattr(claim, f.attname) for f in Claim._meta.concrete_fields[1:]}


def more_claims_like(claim: Claim, count: int) -> list[Claim]:
    """``count`` more claims like ``claim`` (same state and dates), each with a pending line."""
    claims = Claim.objects.bulk_create(
        Claim(**{**copied_fields(claim), "status": ClaimStatus.DRAFT}) for _ in range(count)
    )
    product = claim.lines.first().product_id
    ClaimLine.objects.bulk_create(ClaimLine(claim=c, product_id=product) for c in claims)
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(status=claim.status)
    return claims


# --- activation -------------------------------------------------------------


@pytest.mark.django_db
def test_activation_happens_exactly_when_the_notice_period_ends(partner, reviewer, tenant):
    association = approved_association(partner, reviewer, tenant)
    ends = association.notice_ends_at
    assert services.associations_activate_due(now=ends - TICK) == 0
    assert services.associations_activate_due(now=ends) == 1
    assert services.associations_activate_due(now=ends) == 0
    association.refresh_from_db()
    assert (association.status, association.activated_at) == (AssociationStatus.ACTIVE, ends)
    assert last_event(association, EventAction.ACTIVATE) == (
        AssociationStatus.PENDING_CUSTOMER,
        AssociationStatus.ACTIVE,
        "",
        "",
        association.pk,
        None,
        "system",
        False,
        ends,
    )
    assert association.claim.events.filter(action=EventAction.ACTIVATE).count() == 1


@pytest.mark.django_db
def test_activation_leaves_ended_and_not_yet_due_associations_alone(partner, reviewer, tenant):
    due = approved_association(partner, reviewer, tenant)
    declined = approved_association(partner, reviewer, customer_tenant())
    services.association_decline(association=declined, actor_label="cio@customer.example")
    later = approved_association(partner, reviewer, customer_tenant())
    Association.objects.filter(pk=later.pk).update(notice_ends_at=due.notice_ends_at + DAY)

    assert services.associations_activate_due(now=due.notice_ends_at + DAY - TICK) == 1

    statuses = dict(Association.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: AssociationStatus.ACTIVE,
        declined.pk: AssociationStatus.ENDED,
        later.pk: AssociationStatus.PENDING_CUSTOMER,
    }
    assert ClaimEvent.objects.filter(action=EventAction.ACTIVATE).count() == 1


@pytest.mark.django_db
def test_activation_works_through_every_batch(partner, reviewer, tenant):
    first = approved_association(partner, reviewer, tenant)
    others = more_like(first, 6)
    assert services.associations_activate_due(now=first.notice_ends_at, batch_size=2) == 7
    activated = Association.objects.filter(status=AssociationStatus.ACTIVE)
    assert activated.count() == 7
    for association in [first, *others]:
        assert association.events.filter(action=EventAction.ACTIVATE).count() == 1


@pytest.mark.django_db
def test_jobs_refuse_a_batch_size_out_of_range():
    with pytest.raises(ValueError, match="batch_size must be between 1 and 5000"):
        services.associations_activate_due(batch_size=0)


# --- subscriptions: expiry or renewal ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("active", [False, True])
def test_association_expires_the_day_after_its_subscription_ends(partner, reviewer, tenant, active):
    association, subscription, _renewal = subscription_association(partner, reviewer, tenant)
    if active:
        services.associations_activate_due(now=association.notice_ends_at)
    held = AssociationStatus.ACTIVE if active else AssociationStatus.PENDING_CUSTOMER
    ends_on = subscription.ends_on

    assert services.associations_expire_ended_subscriptions(today=ends_on) == 0
    before = timezone.now()
    assert services.associations_expire_ended_subscriptions(today=ends_on + DAY) == 1
    assert services.associations_expire_ended_subscriptions(today=ends_on + DAY) == 0

    association.refresh_from_db()
    message = f"Subscription {subscription.subscription_id} ended on {ends_on.isoformat()}."
    assert (association.status, association.end_reason, association.end_message) == (
        AssociationStatus.ENDED,
        EndReason.EXPIRED,
        message,
    )
    assert association.ended_at >= before
    assert last_event(association, EventAction.END) == (
        held,
        AssociationStatus.ENDED,
        EndReason.EXPIRED,
        message,
        association.pk,
        None,
        "system",
        False,
        association.ended_at,
    )


@pytest.mark.django_db
def test_renewal_carries_the_association_over(partner, reviewer, tenant):
    association, subscription, renewal = subscription_association(
        partner, reviewer, tenant, renewed=True
    )
    assert services.associations_expire_ended_subscriptions() == 1
    association.refresh_from_db()
    assert (association.status, association.subscription) == (
        AssociationStatus.PENDING_CUSTOMER,
        renewal,
    )
    event = association.events.get(action=EventAction.CARRY_OVER)
    assert last_event(association, EventAction.CARRY_OVER) == (
        AssociationStatus.PENDING_CUSTOMER,
        AssociationStatus.PENDING_CUSTOMER,
        "",
        f"Carried over from {subscription.subscription_id} to renewal {renewal.subscription_id}.",
        association.pk,
        None,
        "system",
        False,
        event.at,
    )
    assert not association.events.filter(action=EventAction.END).exists()
    # The renewal has not ended: nothing more to do.
    assert services.associations_expire_ended_subscriptions() == 0


@pytest.mark.django_db
def test_renewal_held_by_another_partner_lets_the_association_expire(partner, reviewer, tenant):
    association, _subscription, renewal = subscription_association(
        partner, reviewer, tenant, renewed=True
    )
    rival = approved_association(
        partner_user(), reviewer, tenant, role="build_intent_advisor", subscriptions=[renewal]
    )
    assert services.associations_expire_ended_subscriptions() == 1
    association.refresh_from_db()
    rival.refresh_from_db()
    assert (association.status, association.end_reason) == (
        AssociationStatus.ENDED,
        EndReason.EXPIRED,
    )
    assert (rival.status, rival.subscription) == (AssociationStatus.PENDING_CUSTOMER, renewal)
    assert not ClaimEvent.objects.filter(action=EventAction.CARRY_OVER).exists()


@pytest.mark.django_db
def test_a_renewal_that_already_ended_does_not_carry_the_association(partner, reviewer, tenant):
    association, _subscription, renewal = subscription_association(
        partner, reviewer, tenant, renewed=True
    )
    yesterday = timezone.localdate() - DAY
    Subscription.objects.filter(pk=renewal.pk).update(starts_on=yesterday, ends_on=yesterday)
    assert services.associations_expire_ended_subscriptions() == 1
    association.refresh_from_db()
    assert association.end_reason == EndReason.EXPIRED


@pytest.mark.django_db
def test_subscription_job_leaves_workloads_current_and_ended_associations_alone(
    partner, reviewer, tenant
):
    workload = approved_association(partner, reviewer, tenant)
    elsewhere = customer_tenant()
    current = approved_association(
        partner,
        reviewer,
        elsewhere,
        role="build_intent_advisor",
        subscriptions=[SubscriptionFactory(tenant=elsewhere)],
    )
    declined, _subscription, _renewal = subscription_association(
        partner, reviewer, customer_tenant()
    )
    services.association_decline(association=declined)

    assert services.associations_expire_ended_subscriptions() == 0
    assert dict(Association.objects.values_list("pk", "end_reason")) == {
        workload.pk: "",
        current.pk: "",
        declined.pk: EndReason.DECLINED_BY_CUSTOMER,
    }


@pytest.mark.django_db
def test_subscription_job_carries_over_and_expires_through_every_batch(partner, reviewer, tenant):
    first, subscription, _renewal = subscription_association(partner, reviewer, tenant)
    more_like(first, 4, ends_on=subscription.ends_on, renewed=True)
    more_like(first, 3, ends_on=subscription.ends_on)
    assert services.associations_expire_ended_subscriptions(batch_size=2) == 8
    assert Association.objects.filter(end_reason=EndReason.EXPIRED).count() == 4
    carried = Association.objects.filter(
        status=AssociationStatus.PENDING_CUSTOMER, subscription__predecessor__isnull=False
    )
    assert carried.count() == 4
    assert ClaimEvent.objects.filter(action=EventAction.CARRY_OVER).count() == 4
    assert ClaimEvent.objects.filter(action=EventAction.END).count() == 4


# --- stale drafts -------------------------------------------------------------


@pytest.mark.django_db
def test_stale_draft_is_warned_once_per_period_of_inactivity(partner, tenant, settings):
    settings.CPOR_DRAFT_WARNING_DAYS = 7
    now = timezone.now()
    warn_after = (ProgramSettings.load().draft_expiry_days - 7) * DAY  # 83 days
    claim = draft(partner, tenant, untouched_for=warn_after, now=now)

    assert services.claims_warn_stale_drafts(now=now) == 0  # exactly at the cutoff
    assert services.claims_warn_stale_drafts(now=now + TICK) == 1
    assert services.claims_warn_stale_drafts(now=now + DAY) == 0

    claim.refresh_from_db()
    assert claim.draft_warned_at == now + TICK
    assert claim.status == ClaimStatus.DRAFT
    expires_on = (claim.updated_at + 90 * DAY).date().isoformat()
    assert last_event(claim, EventAction.WARN_EXPIRY) == (
        "",
        "",
        "",
        f"Expires on {expires_on} unless edited.",
        None,
        None,
        "system",
        False,
        now + TICK,
    )
    # An edit starts a new period of inactivity, warned again when it runs out.
    Claim.objects.filter(pk=claim.pk).update(updated_at=now + 2 * DAY)
    assert services.claims_warn_stale_drafts(now=now + 2 * DAY + warn_after + TICK) == 1
    assert claim.events.filter(action=EventAction.WARN_EXPIRY).count() == 2


@pytest.mark.django_db
def test_only_stale_drafts_are_warned(partner, reviewer, tenant):
    now = timezone.now()
    stale = draft(partner, tenant, untouched_for=85 * DAY, now=now)
    draft(partner, customer_tenant(), untouched_for=80 * DAY, now=now)
    submitted = submitted_claim(partner, customer_tenant())
    Claim.objects.filter(pk=submitted.pk).update(updated_at=now - 85 * DAY)
    assert services.claims_warn_stale_drafts(now=now) == 1
    warned = ClaimEvent.objects.filter(action=EventAction.WARN_EXPIRY)
    assert list(warned.values_list("claim_id", flat=True)) == [stale.pk]


@pytest.mark.django_db
def test_stale_draft_expires_after_the_expiry_period_not_at_it(partner, tenant):
    now = timezone.now()
    claim = draft(partner, tenant, untouched_for=90 * DAY, now=now)
    untouched_since = claim.updated_at.date().isoformat()

    assert services.claims_expire_stale_drafts(now=now) == 0
    assert services.claims_expire_stale_drafts(now=now + TICK) == 1
    assert services.claims_expire_stale_drafts(now=now + DAY) == 0

    claim.refresh_from_db()
    assert (claim.status, claim.updated_at) == (ClaimStatus.EXPIRED, now + TICK)
    assert last_event(claim, EventAction.EXPIRE) == (
        ClaimStatus.DRAFT,
        ClaimStatus.EXPIRED,
        "",
        f"Untouched since {untouched_since}.",
        None,
        None,
        "system",
        False,
        now + TICK,
    )


@pytest.mark.django_db
def test_only_stale_drafts_expire(partner, tenant):
    now = timezone.now()
    stale = draft(partner, tenant, untouched_for=91 * DAY, now=now)
    fresh = draft(partner, customer_tenant(), untouched_for=89 * DAY, now=now)
    submitted = submitted_claim(partner, customer_tenant())
    Claim.objects.filter(pk=submitted.pk).update(updated_at=now - 200 * DAY)
    assert services.claims_expire_stale_drafts(now=now) == 1
    assert dict(Claim.objects.values_list("pk", "status")) == {
        stale.pk: ClaimStatus.EXPIRED,
        fresh.pk: ClaimStatus.DRAFT,
        submitted.pk: ClaimStatus.SUBMITTED,
    }


# --- unanswered requests --------------------------------------------------------


@pytest.mark.django_db
def test_unanswered_request_is_rejected_after_its_deadline_not_at_it(partner, reviewer, tenant):
    claim = awaiting_answer(partner, reviewer, tenant, products=["teams", "intune"])
    teams = claim.lines.get(product__code="teams")
    services.claim_decline_lines(claim=claim, line_ids=[teams.pk], actor_label="cio")
    deadline = claim.info_requested_until

    assert services.claims_reject_unanswered(now=deadline) == 0
    assert services.claims_reject_unanswered(now=deadline + TICK) == 1
    assert services.claims_reject_unanswered(now=deadline + DAY) == 0

    claim.refresh_from_db()
    assert (claim.status, claim.decided_at, claim.updated_at, claim.info_requested_until) == (
        ClaimStatus.REJECTED,
        deadline + TICK,
        deadline + TICK,
        None,
    )
    assert dict(claim.lines.values_list("product__code", "status")) == {
        "teams": LineStatus.DECLINED,
        "intune": LineStatus.REJECTED,
    }
    assert last_event(claim, EventAction.REJECT) == (
        ClaimStatus.ACTION_REQUIRED,
        ClaimStatus.REJECTED,
        "no_partner_response",
        "No answer by the deadline.",
        None,
        None,
        "system",
        False,
        deadline + TICK,
    )


@pytest.mark.django_db
def test_answered_and_other_claims_are_not_rejected(partner, reviewer, tenant):
    waiting = awaiting_answer(partner, reviewer, tenant)
    answered = awaiting_answer(partner, reviewer, customer_tenant())
    services.claim_reply(actor=partner, claim=answered, message="Attached.")
    submitted = submitted_claim(partner, customer_tenant())
    later = waiting.info_requested_until + DAY
    assert services.claims_reject_unanswered(now=later) == 1
    assert dict(Claim.objects.values_list("pk", "status")) == {
        waiting.pk: ClaimStatus.REJECTED,
        answered.pk: ClaimStatus.SUBMITTED,
        submitted.pk: ClaimStatus.SUBMITTED,
    }
    assert list(submitted.lines.values_list("status", flat=True)) == [LineStatus.PENDING]


# --- a constant number of statements per batch ----------------------------------------


def due_activation(partner, reviewer, count):
    first = approved_association(partner, reviewer, customer_tenant())
    more_like(first, count - 1)
    return lambda **options: services.associations_activate_due(now=first.notice_ends_at, **options)


def due_carry_over(partner, reviewer, count):
    first, subscription, _renewal = subscription_association(
        partner, reviewer, customer_tenant(), renewed=True
    )
    more_like(first, count - 1, ends_on=subscription.ends_on, renewed=True)
    return services.associations_expire_ended_subscriptions


def due_subscription_expiry(partner, reviewer, count):
    first, subscription, _renewal = subscription_association(partner, reviewer, customer_tenant())
    more_like(first, count - 1, ends_on=subscription.ends_on)
    return services.associations_expire_ended_subscriptions


def due_warning(partner, reviewer, count):
    now = timezone.now()
    first = draft(partner, customer_tenant(), untouched_for=85 * DAY, now=now)
    more_claims_like(first, count - 1)
    return lambda **options: services.claims_warn_stale_drafts(now=now, **options)


def due_draft_expiry(partner, reviewer, count):
    now = timezone.now()
    first = draft(partner, customer_tenant(), untouched_for=91 * DAY, now=now)
    more_claims_like(first, count - 1)
    return lambda **options: services.claims_expire_stale_drafts(now=now, **options)


def due_rejection(partner, reviewer, count):
    first = awaiting_answer(partner, reviewer, customer_tenant())
    more_claims_like(first, count - 1)
    later = first.info_requested_until + DAY
    return lambda **options: services.claims_reject_unanswered(now=later, **options)


JOBS = [
    due_activation,
    due_carry_over,
    due_subscription_expiry,
    due_warning,
    due_draft_expiry,
    due_rejection,
]


@pytest.mark.django_db
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__name__)
def test_a_batch_takes_the_same_statements_for_3_rows_as_for_300(partner, reviewer, job):
    counts = {}
    for rows in (3, 300):
        run = job(partner, reviewer, rows)
        with CaptureQueriesContext(connection) as queries:
            assert run() == rows
        counts[rows] = len(queries)
        with CaptureQueriesContext(connection) as again:
            assert run() == 0  # nothing left: the next run finds nothing to do
        assert len(again) <= counts[rows]
    assert counts[3] == counts[300]
    # The subscription job runs three transitions (legacy re-association notice, carry-over,
    # expiry), the others one.
    assert counts[3] <= (11 if job in (due_carry_over, due_subscription_expiry) else 8)


# --- two workers ---------------------------------------------------------------------


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__name__)
def test_two_workers_act_once_on_each_row(job):
    run = job(partner_user(), operator_user(), 60)
    # Small batches, so the two workers take turns on the rows.
    outcomes = _race([lambda: run(batch_size=7)] * 2)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 60
    # Only the job writes events as "system" here: one per row, never two.
    subjects = ClaimEvent.objects.filter(actor_label="system").values_list(
        "association_id", "claim_id"
    )
    rows = [association or claim for association, claim in subjects]
    assert len(rows) == len(set(rows)) == 60


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__name__)
def test_a_worker_skips_the_rows_another_holds_without_waiting(job):
    run = job(partner_user(), operator_user(), 5)
    held = Claim.objects.order_by("pk").last()
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(Claim.objects.select_for_update().filter(pk=held.pk))
                list(Association.objects.select_for_update().filter(claim=held))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert run() == 4
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join()
    assert run() == 1


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_a_renewal_approved_for_another_partner_meanwhile_lets_the_association_expire():
    reviewer = operator_user()
    tenant = customer_tenant()
    association, _subscription, renewal = subscription_association(
        partner_user(), reviewer, tenant, renewed=True
    )
    rival = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[renewal]
    )
    approved = threading.Event()

    def approve_and_commit_a_moment_later():
        try:
            with transaction.atomic():
                services.claim_approve(actor=reviewer, claim=rival)
                approved.set()
                time.sleep(1)  # the job's carry-over waits on the renewal meanwhile
        finally:
            connection.close()

    thread = threading.Thread(target=approve_and_commit_a_moment_later)
    thread.start()
    try:
        assert approved.wait(10)
        assert services.associations_expire_ended_subscriptions() == 1
    finally:
        thread.join()
    association.refresh_from_db()
    assert (association.status, association.end_reason) == (
        AssociationStatus.ENDED,
        EndReason.EXPIRED,
    )
    assert Association.objects.get(claim=rival).subscription == renewal
    assert not ClaimEvent.objects.filter(action=EventAction.CARRY_OVER).exists()
