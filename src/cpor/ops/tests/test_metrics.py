"""/metrics after real requests: latency by view, the outbox, webhook failures, periodic
jobs, claims by status; who may scrape it."""

import datetime
import math

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cpor.notifications.models import MessageKind, MessageStatus, OutboxMessage
from cpor.testing.factories import customer_tenant, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(autouse=True)
def fresh_figures(settings):
    settings.METRICS_DB_CACHE_SECONDS = 0
    settings.METRICS_TOKEN = ""


LATENCY = "django_http_requests_latency_seconds_by_view_method_count"


def test_request_latency_is_counted_by_view(client):
    user = partner_user()
    client.force_login(user)
    before = scrape(client)
    for _ in range(3):
        assert client.get(reverse("claims:list")).status_code == 200
    assert client.get(reverse("api:claim-list")).status_code == 200
    after = scrape(client)
    assert (
        value(after, LATENCY, view="claims:list", method="GET")
        - value(before, LATENCY, view="claims:list", method="GET")
        == 3
    )
    assert (
        value(after, LATENCY, view="api:claim-list", method="GET")
        - value(before, LATENCY, view="api:claim-list", method="GET")
        == 1
    )


def test_claims_are_counted_by_status(client):
    actor = partner_user()
    for _ in range(2):
        submitted_claim(actor, customer_tenant())
    samples = scrape(client)
    assert value(samples, "cpor_claims", status="submitted") == 2
    assert value(samples, "cpor_claims", status="approved") == 0  # every status is listed
    assert ("cpor_claims", frozenset({("status", "draft")})) in samples


def test_the_outbox_backlog_and_the_age_of_its_oldest_message(client):
    now = timezone.now()
    for minutes, key in ((10, "old"), (1, "new")):
        OutboxMessage.objects.create(
            kind=MessageKind.EMAIL,
            dedupe_key=key,
            recipient="ana@contoso.example",
            created_at=now - datetime.timedelta(minutes=minutes),
        )
    OutboxMessage.objects.create(
        kind=MessageKind.EMAIL,
        dedupe_key="done",
        recipient="x@y.example",
        status=MessageStatus.SENT,
        created_at=now - datetime.timedelta(hours=5),
    )
    samples = scrape(client)
    assert value(samples, "cpor_outbox_pending_messages", kind="email") == 2
    age = value(samples, "cpor_outbox_oldest_pending_age_seconds", kind="email")
    assert 600 <= age < 660  # the oldest pending one, not the sent one
    assert value(samples, "cpor_outbox_pending_messages", kind="webhook") == 0
    assert value(samples, "cpor_outbox_oldest_pending_age_seconds", kind="webhook") == 0


def test_webhook_failures_retrying_and_given_up(client):
    for key, status, attempts in (
        ("w1", MessageStatus.PENDING, 3),  # failing, backing off
        ("w2", MessageStatus.PENDING, 0),  # not tried yet
        ("w3", MessageStatus.FAILED, 12),  # gave up
        ("w4", MessageStatus.SENT, 2),
    ):
        OutboxMessage.objects.create(
            kind=MessageKind.WEBHOOK,
            dedupe_key=key,
            recipient="https://hooks.example/cpor",
            status=status,
            attempts=attempts,
        )
    samples = scrape(client)
    assert value(samples, "cpor_webhook_failures", state="retrying") == 1
    assert value(samples, "cpor_webhook_failures", state="gave_up") == 1
    assert value(samples, "cpor_outbox_retrying_messages", kind="webhook") == 1
    assert value(samples, "cpor_outbox_failed_messages", kind="webhook") == 1
    assert value(samples, "cpor_outbox_pending_messages", kind="webhook") == 2


def test_periodic_jobs_report_duration_and_last_success(client):
    before = scrape(client)
    started = timezone.now().timestamp()
    call_command("run_periodic", job=["sweep_upload_temp", "expire_stale_drafts"])
    samples = scrape(client)
    for job in ("sweep_upload_temp", "expire_stale_drafts"):
        last = value(samples, "cpor_periodic_job_last_success_timestamp_seconds", job=job)
        assert started - 1 <= last <= timezone.now().timestamp()
        assert value(samples, "cpor_periodic_job_runs_total", job=job) == 1
        assert value(samples, "cpor_periodic_job_last_duration_seconds", job=job) >= 0
        count = "cpor_periodic_job_duration_seconds_count"
        assert value(samples, count, job=job) - value(before, count, job=job) == 1
    assert value(samples, "cpor_periodic_job_runs_total", job="consume_events") == 0


def test_a_failing_job_counts_as_failed_and_keeps_its_last_success(client, monkeypatch):
    from cpor.notifications import periodic

    call_command("run_periodic", job=["sweep_upload_temp"])
    first = value(
        scrape(client), "cpor_periodic_job_last_success_timestamp_seconds", job="sweep_upload_temp"
    )

    def broken() -> int:
        raise RuntimeError("disk gone")

    from cpor.ops.jobs import timed

    monkeypatch.setitem(periodic.JOBS, "sweep_upload_temp", timed("sweep_upload_temp", broken))
    with pytest.raises(Exception, match="sweep_upload_temp"):
        call_command("run_periodic", job=["sweep_upload_temp"])
    samples = scrape(client)
    assert value(samples, "cpor_periodic_job_failed_runs_total", job="sweep_upload_temp") == 1
    assert value(samples, "cpor_periodic_job_runs_total", job="sweep_upload_temp") == 2
    assert (
        value(samples, "cpor_periodic_job_last_success_timestamp_seconds", job="sweep_upload_temp")
        == first
    )


def test_every_periodic_job_is_timed():
    from cpor.notifications import periodic

    assert all(getattr(run, "cpor_timed", False) for run in periodic.JOBS.values())


# --- Who may scrape ------------------------------------------------------------------


def test_production_without_a_token_has_no_metrics(client, settings):
    settings.PRODUCTION = True
    assert client.get("/metrics").status_code == 404


def test_a_bearer_token_opens_metrics_and_nothing_else_does(client, settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = "s3cret-scraper-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="s3cret-scraper-token").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scraper-token")
    assert response.status_code == 200
    assert b"cpor_claims" in response.content


def test_the_embedded_mode_serves_loopback_clients_only(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404


def test_database_figures_are_shared_for_the_cache_period(client, settings):
    settings.METRICS_DB_CACHE_SECONDS = 60
    from django.core.cache import cache

    from cpor.ops.metrics import CACHE_KEY

    cache.delete(CACHE_KEY)
    submitted_claim()
    assert value(scrape(client), "cpor_claims", status="submitted") == 1
    submitted_claim()
    assert value(scrape(client), "cpor_claims", status="submitted") == 1  # cached
    cache.delete(CACHE_KEY)
    assert value(scrape(client), "cpor_claims", status="submitted") == 2
    assert not math.isnan(value(scrape(client), "cpor_claims", status="draft"))
