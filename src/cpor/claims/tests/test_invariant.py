"""The heart of the product: at most one partner holds each unit at any moment.

Enforced by the database (partial unique indexes), proven here directly, under real
concurrent connections on PostgreSQL, and by random sequences of operations."""

import datetime
import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from cpor.claims import services
from cpor.claims.models import (
    AWAITING_DECISION,
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimStatus,
    EventAction,
)
from cpor.errors import DomainError
from cpor.testing.factories import (
    SubscriptionFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent connections"
)


def held_per_unit(tenant) -> dict:
    rows = (
        Association.objects.filter(tenant=tenant, status__in=HELD_STATUSES)
        .values("product_id", "subscription_id")
        .annotate(holders=Count("id"))
    )
    return {(r["product_id"], r["subscription_id"]): r["holders"] for r in rows}


@pytest.mark.django_db
def test_database_refuses_a_second_holder_whatever_the_code_does(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=reviewer, claim=claim)
    held = claim.associations.get()
    rival_claim = submitted_claim(partner_user(), tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Association.objects.create(
            claim=rival_claim,
            line=rival_claim.lines.get(),
            organisation=rival_claim.organisation,
            tenant=tenant,
            product=held.product,
            status=AssociationStatus.ACTIVE,
            approved_at=timezone.now(),
            notice_ends_at=timezone.now(),
        )
    assert held_per_unit(tenant) == {(held.product_id, None): 1}


@pytest.mark.django_db
def test_database_refuses_a_second_holder_of_a_subscription(reviewer, tenant):
    sub = SubscriptionFactory(tenant=tenant)
    first = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[sub]
    )
    services.claim_approve(actor=reviewer, claim=first)
    rival = submitted_claim(partner_user(), tenant, role="usage_recognition", subscriptions=[sub])
    with pytest.raises(IntegrityError), transaction.atomic():
        Association.objects.create(
            claim=rival,
            line=rival.lines.get(),
            organisation=rival.organisation,
            tenant=tenant,
            product=sub.product,
            subscription=sub,
            status=AssociationStatus.PENDING_CUSTOMER,
            approved_at=timezone.now(),
            notice_ends_at=timezone.now(),
        )


def _race(calls):
    """Run the calls at the same instant, each on its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        close_old_connections()
        try:
            barrier.wait()
            outcomes[index] = call()
        except DomainError as error:
            outcomes[index] = error
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_sixteen_concurrent_approvals_leave_exactly_one_holder():
    tenant = customer_tenant()
    reviewer = operator_user()
    today = timezone.localdate()
    claims = [
        submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=i))
        for i in range(16)
    ]
    outcomes = _race([lambda c=c: services.claim_approve(actor=reviewer, claim=c) for c in claims])

    unexpected = [o for o in outcomes if not isinstance(o, (Claim, DomainError))]
    assert not unexpected, unexpected
    winners = [o for o in outcomes if isinstance(o, Claim)]
    losers = [o for o in outcomes if isinstance(o, DomainError)]
    assert winners, "at least one approval must succeed"
    assert {e.code for e in losers} <= {"unit_held", "unit_held_with_newer_poe"}
    assert held_per_unit(tenant) == {(claims[0].lines.get().product_id, None): 1}
    # Every winner got its association; every loser is untouched and still awaits a decision.
    for claim in claims:
        claim.refresh_from_db()
        if claim.status == ClaimStatus.APPROVED:
            assert claim.associations.count() == 1
        else:
            assert claim.status == ClaimStatus.SUBMITTED
            assert not claim.associations.exists()
    # Each superseded holder ended exactly once, with its history event.
    ended = Association.objects.filter(tenant=tenant, status=AssociationStatus.ENDED)
    assert ended.count() == len(winners) - 1
    for association in ended:
        assert association.end_reason == "superseded"
        assert association.events.filter(action=EventAction.END).count() == 1


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_two_reviewers_deciding_at_once_give_exactly_one_decision():
    tenant = customer_tenant()
    claim = submitted_claim(partner_user(), tenant)
    first, second = operator_user(), operator_user()
    outcomes = _race(
        [
            lambda: services.claim_approve(actor=first, claim=claim),
            lambda: services.claim_reject(
                actor=second, claim=claim, reason_code="insufficient_poe"
            ),
        ]
    )
    assert sum(isinstance(o, Claim) for o in outcomes) == 1
    assert [o.code for o in outcomes if isinstance(o, DomainError)] == ["illegal_transition"]
    claim.refresh_from_db()
    decisions = claim.events.filter(action__in=[EventAction.APPROVE, EventAction.REJECT])
    assert decisions.count() == 1
    assert claim.associations.count() == (1 if claim.status == ClaimStatus.APPROVED else 0)


@postgres_only
@pytest.mark.usefixtures("seeded_catalog")
def test_activation_job_on_two_workers_activates_each_association_once():
    tenant = customer_tenant()
    reviewer = operator_user()
    for product in ("teams", "intune", "purview"):
        services.claim_approve(
            actor=reviewer, claim=submitted_claim(partner_user(), tenant, products=[product])
        )
    later = timezone.now() + datetime.timedelta(days=8)
    outcomes = _race([lambda: services.associations_activate_due(now=later)] * 2)
    assert sum(outcomes) == 3
    assert Association.objects.filter(status=AssociationStatus.ACTIVE).count() == 3
    assert Association.objects.filter(events__action=EventAction.ACTIVATE).count() == 3


# --- random sequences -------------------------------------------------------

WORKLOADS = ("teams", "intune", "purview")


class LifecycleMachine(RuleBasedStateMachine):
    """Drives submits, decisions, declines, supersessions and expiries at random and
    checks the invariant and the history after every step."""

    def __init__(self):
        super().__init__()
        self.tenant = customer_tenant()
        self.subscription = SubscriptionFactory(tenant=self.tenant)
        self.partners = [partner_user() for _ in range(3)]
        self.reviewer = operator_user()
        self.day = 0

    def _claims(self, statuses):
        return list(Claim.objects.filter(tenant=self.tenant, status__in=statuses).order_by("pk"))

    def _attempt(self, call):
        try:
            call()
        except DomainError:
            pass  # refused moves are legal outcomes; the invariants below judge the state

    @rule(
        partner=st.integers(0, 2),
        workload=st.sampled_from((*WORKLOADS, "subscription")),
        poe_age=st.integers(0, 300),
    )
    def submit(self, partner, workload, poe_age):
        actor = self.partners[partner]
        signed_on = timezone.localdate() - datetime.timedelta(days=poe_age)
        if workload == "subscription":
            kwargs = {"role": "build_intent_advisor", "subscriptions": [self.subscription]}
        else:
            kwargs = {"products": [workload]}
        self._attempt(lambda: submitted_claim(actor, self.tenant, signed_on=signed_on, **kwargs))

    @rule(index=st.integers(0, 20))
    def approve(self, index):
        claims = self._claims(AWAITING_DECISION)
        if claims:
            claim = claims[index % len(claims)]
            self._attempt(lambda: services.claim_approve(actor=self.reviewer, claim=claim))

    @rule(index=st.integers(0, 20))
    def reject(self, index):
        claims = self._claims(AWAITING_DECISION)
        if claims:
            claim = claims[index % len(claims)]
            self._attempt(
                lambda: services.claim_reject(
                    actor=self.reviewer, claim=claim, reason_code="insufficient_poe"
                )
            )

    @rule(index=st.integers(0, 20))
    def withdraw(self, index):
        claims = self._claims(OPEN_STATUSES)
        if claims:
            claim = claims[index % len(claims)]
            actor = claim.created_by
            self._attempt(lambda: services.claim_withdraw(actor=actor, claim=claim))

    @rule(index=st.integers(0, 20))
    def customer_declines_claim(self, index):
        claims = self._claims(OPEN_STATUSES)
        if claims:
            claim = claims[index % len(claims)]
            self._attempt(lambda: services.claim_decline_lines(claim=claim, actor_label="cio"))

    @rule(index=st.integers(0, 20))
    def customer_declines_association(self, index):
        held = list(Association.objects.filter(tenant=self.tenant, status__in=HELD_STATUSES))
        if held:
            association = held[index % len(held)]
            self._attempt(lambda: services.association_decline(association=association))

    @rule()
    def time_passes(self):
        self.day += 8
        services.associations_activate_due(now=timezone.now() + datetime.timedelta(days=self.day))

    @rule()
    def subscription_ends(self):
        services.associations_expire_ended_subscriptions(
            today=self.subscription.ends_on + datetime.timedelta(days=1)
        )

    @invariant()
    def one_holder_per_unit(self):
        assert all(count == 1 for count in held_per_unit(self.tenant).values())

    @invariant()
    def history_matches_state(self):
        for claim in Claim.objects.filter(tenant=self.tenant):
            moves = claim.events.filter(association__isnull=True).exclude(to_status="")
            assert moves.last().to_status == claim.status
        for association in Association.objects.filter(tenant=self.tenant).select_related("claim"):
            assert association.claim.status in (
                ClaimStatus.APPROVED,
                ClaimStatus.PARTIALLY_APPROVED,
            )
            ends = association.events.filter(action=EventAction.END).count()
            assert ends == (1 if association.status == AssociationStatus.ENDED else 0)


@pytest.mark.django_db
def test_random_lifecycles_keep_the_invariant_and_the_history():
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
