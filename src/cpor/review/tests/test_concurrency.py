"""Two reviewers deciding the same claim at the same moment, through the pages."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from cpor.claims.models import ClaimStatus, EventAction
from cpor.testing.factories import operator_user, submitted_claim

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs real concurrent connections"
    ),
]


def _post_at_once(requests: list[tuple[Client, str, dict]]) -> list[int]:
    barrier = threading.Barrier(len(requests))
    statuses: list = [None] * len(requests)

    def run(index: int, client: Client, url: str, data: dict) -> None:
        close_old_connections()
        try:
            barrier.wait()
            statuses[index] = client.post(url, data).status_code
        except Exception as error:  # reported by the assertion below
            statuses[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("rounds", range(3))
def test_two_reviewers_posting_decisions_at_once_give_exactly_one_decision(rounds):
    claim = submitted_claim()
    first, second = Client(), Client()
    first.force_login(operator_user())
    second.force_login(operator_user())
    statuses = _post_at_once(
        [
            (
                first,
                reverse("review:approve", args=[claim.pk]),
                {"line_ids": [claim.lines.get().pk]},
            ),
            (
                second,
                reverse("review:reject", args=[claim.pk]),
                {"reason_code": "insufficient_poe", "message": "Unsigned."},
            ),
        ]
    )
    assert sorted(statuses) == [302, 409] or sorted(statuses) == [302, 400], statuses
    claim.refresh_from_db()
    decisions = claim.events.filter(action__in=[EventAction.APPROVE, EventAction.REJECT])
    assert decisions.count() == 1
    assert claim.status in (ClaimStatus.APPROVED, ClaimStatus.REJECTED)
    assert claim.associations.count() == (1 if claim.status == ClaimStatus.APPROVED else 0)
