"""The periodic jobs: `manage.py run_periodic` runs each once; running them again, or on
two workers at once, acts once."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cpor.claims import services
from cpor.claims.models import AssociationStatus, Claim, ClaimStatus, EventAction
from cpor.notifications import periodic
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.testing.factories import (
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)


def build_due_work(partner):
    """Something for every job: a due activation, a stale draft, an unanswered request."""
    reviewer = operator_user()
    approved = submitted_claim(partner, customer_tenant())
    services.claim_approve(actor=reviewer, claim=approved)
    approved.associations.update(notice_ends_at=timezone.now() - datetime.timedelta(minutes=1))
    draft = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    Claim.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=85)
    )
    asked = submitted_claim(partner, customer_tenant())
    services.claim_request_info(actor=reviewer, claim=asked, reason_code="poe_missing", message="?")
    Claim.objects.filter(pk=asked.pk).update(
        info_requested_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    return approved, draft, asked


@pytest.mark.django_db
def test_run_periodic_runs_every_job_once_and_again_does_nothing(smtp_server, partner, capsys):
    approved, draft, asked = build_due_work(partner)
    call_command("run_periodic")
    out = capsys.readouterr().out
    assert "activate_associations: 1" in out
    assert "warn_stale_drafts: 1" in out
    assert "reject_unanswered: 1" in out
    assert approved.associations.get().status == AssociationStatus.ACTIVE
    draft.refresh_from_db()
    asked.refresh_from_db()
    assert draft.draft_warned_at is not None and asked.status == ClaimStatus.REJECTED
    # The outbox job delivered everything queued so far, including what the jobs queued.
    assert not OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists()
    delivered = len(smtp_server.messages)
    assert delivered == OutboxMessage.objects.count()

    call_command("run_periodic")
    again = capsys.readouterr().out
    assert all(line.endswith(": 0") for line in again.strip().splitlines()), again
    assert len(smtp_server.messages) == delivered


@pytest.mark.django_db
def test_run_periodic_can_run_a_single_job(partner, capsys):
    build_due_work(partner)
    call_command("run_periodic", job=["activate_associations"])
    assert capsys.readouterr().out.strip() == "activate_associations: 1"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.usefixtures("seeded_catalog")
def test_every_job_on_two_workers_at_once_acts_once(smtp_server):
    partner = partner_user()
    for _ in range(3):
        build_due_work(partner)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = periodic.run_all()
        except Exception as error:  # reported below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(r, dict) for r in results), results
    for job in ("activate_associations", "warn_stale_drafts", "reject_unanswered"):
        assert results[0][job] + results[1][job] == 3, (job, results)
    assert Claim.objects.filter(events__action=EventAction.REJECT).count() == 3
    assert OutboxMessage.objects.filter(template="draft_warning").count() == 3
    # Whatever either worker delivered, each message arrived exactly once.
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == len(set(ids))
