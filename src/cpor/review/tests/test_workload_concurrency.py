"""Reviewer workload under real concurrent connections (PostgreSQL): submissions racing
for the balancer, and a bulk decision racing another reviewer's decision."""

import datetime
import threading

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import Count
from django.utils import timezone

from cpor.claims import services
from cpor.claims.models import Claim, ClaimStatus, EventAction, ReviewerDuty
from cpor.testing.factories import (
    add_poe,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs real concurrent connections"
    ),
    pytest.mark.usefixtures("seeded_catalog"),
]


def _run_at_once(jobs) -> list:
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        close_old_connections()
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # reported by the assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("rounds", range(2))
def test_concurrent_submissions_are_balanced_exactly_across_reviewers_on_duty(rounds):
    reviewers = [operator_user() for _ in range(3)]
    for reviewer in reviewers:
        ReviewerDuty.objects.create(reviewer=reviewer, on_duty=True)
    drafts = []
    for _ in range(12):
        partner = partner_user()
        draft = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
        add_poe(partner, draft)
        drafts.append((partner, draft))

    results = _run_at_once(
        [
            lambda p=partner, d=draft: services.claim_submit(actor=p, claim=d, confirmed=True)
            for partner, draft in drafts
        ]
    )
    assert all(isinstance(r, Claim) for r in results), results
    loads = dict(
        Claim.objects.filter(pk__in=[d.pk for _, d in drafts])
        .values_list("assigned_reviewer")
        .annotate(n=Count("id"))
    )
    # Without the lock on the on-duty rows, racing submissions read the same loads and
    # pile onto one reviewer; with it each choice sees the previous one.
    assert loads == {r.pk: 4 for r in reviewers}
    assert (
        Claim.objects.filter(
            pk__in=[d.pk for _, d in drafts], events__action=EventAction.ASSIGN
        ).count()
        == 12
    )


def test_bulk_approve_while_another_reviewer_decides_one_of_the_claims():
    reviewer, colleague = operator_user(), operator_user()
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, signed_on=timezone.localdate())
    services.claim_approve(actor=colleague, claim=holder)
    conflicting = submitted_claim(
        partner_user(), tenant, signed_on=timezone.localdate() - datetime.timedelta(days=40)
    )
    fine, contested = submitted_claim(), submitted_claim()
    locked, release = threading.Event(), threading.Event()

    def colleague_rejects():
        close_old_connections()
        try:
            with transaction.atomic():
                services.claim_reject(
                    actor=colleague, claim=contested, reason_code="insufficient_poe"
                )
                locked.set()  # the claim row is locked until this commits
                release.wait(timeout=30)
        finally:
            connection.close()

    other = threading.Thread(target=colleague_rejects)
    other.start()
    assert locked.wait(timeout=30)
    result: dict = {}

    def bulk():
        close_old_connections()
        try:
            result["outcomes"] = services.claims_bulk_decide(
                actor=reviewer,
                action="approve",
                claim_ids=[fine.pk, contested.pk, conflicting.pk],
            )
        finally:
            connection.close()

    bulk_thread = threading.Thread(target=bulk)
    bulk_thread.start()
    bulk_thread.join(timeout=1)
    assert bulk_thread.is_alive()  # waiting for the colleague's lock on the contested claim
    release.set()
    other.join(timeout=30)
    bulk_thread.join(timeout=60)

    outcomes = {o.claim_id: o for o in result["outcomes"]}
    assert outcomes[fine.pk].ok and outcomes[fine.pk].status == ClaimStatus.APPROVED
    assert outcomes[contested.pk].code == "illegal_transition"
    assert outcomes[conflicting.pk].code == "unit_held_with_newer_poe"
    statuses = dict(Claim.objects.filter(pk__in=outcomes).values_list("pk", "status"))
    assert statuses == {
        fine.pk: ClaimStatus.APPROVED,
        contested.pk: ClaimStatus.REJECTED,
        conflicting.pk: ClaimStatus.SUBMITTED,
    }
    decisions = Claim.objects.get(pk=contested.pk).events.filter(
        action__in=[EventAction.APPROVE, EventAction.REJECT]
    )
    assert decisions.count() == 1
