"""The history is the core's only output: what follows from an event happens elsewhere.

A transition writes its state and its ``ClaimEvent`` and nothing else. The apps that
deliver (e-mail, webhooks, decline links) read the history after commit with a durable
cursor of their own (``cpor.notifications.consumers``), so the core imports none of
them. ``announce`` is only a wake-up: it asks, once per transaction and after commit,
the subscribed consumers to look at the history now. A lost wake-up loses nothing; the
periodic sweep reads the same cursor.
"""

import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

_subscribers: list[Callable[[], None]] = []


def subscribe(callback: Callable[[], None]) -> None:
    """Call ``callback()`` after each commit that wrote history (set up in an app's ready)."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def _wake() -> None:
    for callback in list(_subscribers):
        try:
            callback()
        except Exception:  # the sweep catches up; the committed transition stands
            logger.exception("event consumer wake-up %r failed", callback)


def announce(using: str = DEFAULT_DB_ALIAS) -> None:
    """Wake the consumers after this transaction commits, once however many events it wrote."""
    connection = connections[using]
    # Already asked within the savepoints still open (or the transaction itself): once
    # is enough. A wake-up registered in a savepoint since released does not count, so
    # each nested block (a test's, a bulk decision's per claim) asks for its own.
    active = set(connection.savepoint_ids)
    if connection.in_atomic_block and any(
        callback is _wake and sids <= active for sids, callback, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_wake, using=using)
