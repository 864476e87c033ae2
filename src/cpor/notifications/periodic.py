"""The periodic jobs, by name: Celery beat runs them in production, ``manage.py
run_periodic`` (cron, or by hand) in the embedded mode. Each is idempotent and safe on
two workers at once: the services behind them use conditional writes or re-check state
under a row lock, and the outbox leases each message to one worker."""

from collections.abc import Callable

from cpor.api.services import idempotency_records_purge, webhook_deliveries_purge
from cpor.claims import integrity
from cpor.claims import services as claims
from cpor.claims.poe_storage import poe_orphans_sweep
from cpor.consent.services import decline_links_purge
from cpor.notifications import consumers, delivery
from cpor.notifications.services import outbox_sent_purge
from cpor.upload_temp import upload_temp_sweep


def _outbox_retry() -> int:
    return delivery.outbox_deliver_due()


JOBS: dict[str, Callable[[], int]] = {
    "activate_associations": lambda: claims.associations_activate_due(),
    "expire_subscriptions": lambda: claims.associations_expire_ended_subscriptions(),
    "warn_stale_drafts": lambda: claims.claims_warn_stale_drafts(),
    "expire_stale_drafts": lambda: claims.claims_expire_stale_drafts(),
    "reject_unanswered": lambda: claims.claims_reject_unanswered(),
    "sweep_upload_temp": lambda: upload_temp_sweep(),
    "sweep_poe_orphans": lambda: poe_orphans_sweep(),
    # Retention (settings RETENTION_*, API_IDEMPOTENCY_TTL_HOURS): set-based deletes.
    "purge_sent_messages": lambda: outbox_sent_purge() + webhook_deliveries_purge(),
    "purge_decline_links": lambda: decline_links_purge(),
    "purge_idempotency_records": lambda: idempotency_records_purge(),
    # Last, so the events the other jobs just wrote become messages and go out in the
    # same run; the sweep also covers any wake-up that was lost.
    "consume_events": lambda: len(consumers.consume_all()),
    "outbox_retry": _outbox_retry,
    "history_checkpoint": lambda: integrity.history_checkpoint(),
}


def run_job(name: str) -> int:
    return JOBS[name]()


def run_all() -> dict[str, int]:
    return {name: job() for name, job in JOBS.items()}
