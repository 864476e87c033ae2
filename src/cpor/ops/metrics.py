"""Prometheus metrics at ``/metrics``.

Two kinds of series:

- process metrics (request latency by view from django-prometheus's middleware, periodic
  job durations): kept by prometheus-client in each process, or, with
  ``PROMETHEUS_MULTIPROC_DIR`` set (several gunicorn workers), in files there that one
  scrape merges, so every worker of a host reports as one;
- state read from the database at scrape time (outbox backlog, webhook failures, claims by
  status, periodic jobs' last success): the same on every node, computed by a few grouped
  queries that the shared cache keeps for ``METRICS_DB_CACHE_SECONDS``.

Access: with ``METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``; without it,
production answers 404 and the embedded mode answers loopback clients only.
"""

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from cpor.claims.models import Claim
from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.ops.models import PeriodicJobRun

CACHE_KEY = "cpor:ops:metrics:database"


def _database_state() -> dict:
    """One scrape's worth of state, from three grouped queries (see docs/scaling.md)."""
    now = timezone.now()
    outbox = (
        OutboxMessage.objects.filter(status__in=[MessageStatus.PENDING, MessageStatus.FAILED])
        .values("kind", "status")
        .annotate(
            count=Count("id"),
            retrying=Count("id", filter=Q(attempts__gt=0)),
            oldest=Min("created_at"),
        )
        .order_by()
    )
    claims = Claim.objects.values("status").annotate(count=Count("id")).order_by()
    jobs = PeriodicJobRun.objects.all()
    return {
        "at": time.time(),
        "outbox": [
            {
                "kind": row["kind"],
                "status": row["status"],
                "count": row["count"],
                "retrying": row["retrying"],
                "oldest_age": (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0,
            }
            for row in outbox
        ],
        "claims": {row["status"]: row["count"] for row in claims},
        "jobs": [
            {
                "job": job.job,
                "runs": job.runs,
                "failures": job.failures,
                "last_success": job.last_success_at.timestamp() if job.last_success_at else None,
                "last_duration": job.last_duration_seconds,
            }
            for job in jobs
        ],
    }


def database_state() -> dict:
    seconds = settings.METRICS_DB_CACHE_SECONDS
    if seconds <= 0:
        return _database_state()
    state = cache.get(CACHE_KEY)
    if state is None:
        state = _database_state()
        cache.set(CACHE_KEY, state, seconds)
    return state


class DatabaseCollector(Collector):
    """State read at scrape time: every web node reports the same figures."""

    def collect(self) -> Iterator:
        from cpor.claims.models import ClaimStatus
        from cpor.notifications.models import MessageKind

        state = database_state()
        pending = GaugeMetricFamily(
            "cpor_outbox_pending_messages",
            "Outbox messages waiting to be delivered",
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            "cpor_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox message (0 when none waits)",
            labels=["kind"],
        )
        retrying = GaugeMetricFamily(
            "cpor_outbox_retrying_messages",
            "Undelivered messages whose last attempt failed (they back off and retry)",
            labels=["kind"],
        )
        failed = GaugeMetricFamily(
            "cpor_outbox_failed_messages",
            "Messages given up after OUTBOX_MAX_ATTEMPTS attempts",
            labels=["kind"],
        )
        webhook_failures = GaugeMetricFamily(
            "cpor_webhook_failures",
            "Webhook calls failing now: retrying after a failed attempt, or given up",
            labels=["state"],
        )
        by_kind = {
            kind: {"pending": 0, "oldest": 0.0, "retrying": 0, "failed": 0}
            for kind in MessageKind.values
        }
        for row in state["outbox"]:
            figures = by_kind.setdefault(
                row["kind"], {"pending": 0, "oldest": 0.0, "retrying": 0, "failed": 0}
            )
            if row["status"] == MessageStatus.PENDING:
                figures["pending"] = row["count"]
                figures["retrying"] = row["retrying"]
                # Cached state is up to METRICS_DB_CACHE_SECONDS old: age it to now.
                figures["oldest"] = (
                    row["oldest_age"] + (time.time() - state["at"]) if row["count"] else 0.0
                )
            else:
                figures["failed"] = row["count"]
        for kind, figures in sorted(by_kind.items()):
            pending.add_metric([kind], figures["pending"])
            oldest.add_metric([kind], figures["oldest"])
            retrying.add_metric([kind], figures["retrying"])
            failed.add_metric([kind], figures["failed"])
        webhook = by_kind.get("webhook", {"retrying": 0, "failed": 0})
        webhook_failures.add_metric(["retrying"], webhook["retrying"])
        webhook_failures.add_metric(["gave_up"], webhook["failed"])
        yield from (pending, oldest, retrying, failed, webhook_failures)

        claims = GaugeMetricFamily("cpor_claims", "Claims by status", labels=["status"])
        for status in ClaimStatus.values:
            claims.add_metric([status], state["claims"].get(status, 0))
        yield claims

        last_success = GaugeMetricFamily(
            "cpor_periodic_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time), on any host",
            labels=["job"],
        )
        last_duration = GaugeMetricFamily(
            "cpor_periodic_job_last_duration_seconds",
            "Wall time of each periodic job's latest run, on any host",
            labels=["job"],
        )
        runs = CounterMetricFamily("cpor_periodic_job_runs", "Periodic job runs", labels=["job"])
        failures = CounterMetricFamily(
            "cpor_periodic_job_failed_runs", "Periodic job runs that raised", labels=["job"]
        )
        for job in state["jobs"]:
            if job["last_success"] is not None:
                last_success.add_metric([job["job"]], job["last_success"])
            if job["last_duration"] is not None:
                last_duration.add_metric([job["job"]], job["last_duration"])
            runs.add_metric([job["job"]], job["runs"])
            failures.add_metric([job["job"]], job["failures"])
        yield from (last_success, last_duration, runs, failures)


class _ProcessCollector(Collector):
    """This process's own registry (used when not in multiprocess mode)."""

    def collect(self) -> Iterator:
        yield from REGISTRY.collect()


def scrape() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def _loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return not settings.PRODUCTION and _loopback(request)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    # 404, not 401/403: the endpoint does not exist for whoever may not scrape it.
    if not scrape_allowed(request):
        raise Http404
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
