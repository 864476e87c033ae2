"""The queue's reads: scope, counts, SLA clocks and pagination."""

import datetime

import pytest
from django.utils import timezone

from cpor.catalog.models import ProgramSettings
from cpor.claims import services
from cpor.claims.models import ClaimStatus
from cpor.errors import PermissionDenied
from cpor.review import selectors
from cpor.testing.factories import partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def test_partners_cannot_read_the_queue():
    user = partner_user()
    submitted_claim(user)
    with pytest.raises(PermissionDenied):
        selectors.review_queue(actor=user)
    with pytest.raises(PermissionDenied):
        selectors.queue_counts(actor=user)


def test_counts_per_state_in_one_query(reviewer, django_assert_num_queries):
    submitted_claim()
    taken = submitted_claim()
    services.claim_start_review(actor=reviewer, claim=taken)
    with django_assert_num_queries(1):
        counts = selectors.queue_counts(actor=reviewer)
    assert counts == {
        "submitted": 1,
        "in_review": 1,
        "disputed": 0,
        "action_required": 0,
        "mine": 1,
        "queue": 2,
    }


def test_pages_keep_the_oldest_first_order(reviewer, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    claims = [submitted_claim() for _ in range(5)]
    counts = selectors.queue_counts(actor=reviewer)
    seen = []
    for number in (1, 2, 3):
        result = selectors.review_queue_page(actor=reviewer, page_number=number, counts=counts)
        assert result.page.paginator.count == 5
        seen += [claim.pk for claim, _sla in result.rows]
    assert seen == [claim.pk for claim in claims]
    filtered = selectors.review_queue_page(
        actor=reviewer, filters=selectors.QueueFilters(text=str(claims[3].pk))
    )
    assert filtered.page.paginator.count == 1


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
