"""Health probes for load balancers and orchestrators.

``/health/live`` says the process answers (no I/O: a stuck database must not get every
web node restarted). ``/health/ready`` says this node can serve: database, cache, broker
(when one is configured), storage, and every migration of this code applied. Each check
is a django-health-check ``HealthCheck``; the answer is 200 or 503 with a JSON body that
names each check.
"""

import asyncio
import dataclasses
import datetime
import time

import kombu
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Cache, Database, Storage
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis or RabbitMQ, through kombu).

    Workers may be busy or restarting: readiness of a web node needs only that it can
    publish, so this does not ping workers.
    """

    url: str = dataclasses.field(default="", repr=False)
    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=2), repr=False
    )

    def run(self) -> None:
        seconds = self.timeout.total_seconds()
        connection = kombu.Connection(
            self.url,
            connect_timeout=seconds,
            transport_options={"socket_connect_timeout": seconds, "max_retries": 0},
        )
        try:
            connection.ensure_connection(max_retries=0, timeout=seconds)  # one try
        except Exception as error:  # kombu raises transport-specific errors
            raise ServiceUnavailable(f"broker unreachable ({type(error).__name__})") from error
        finally:
            connection.release()


# A process whose migrations were all applied stays so (a new release is a new process);
# only a failure is re-checked on every probe.
_migrations_seen_applied: dict[str, float] = {}
MIGRATIONS_RECHECK_SECONDS = 60.0


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration this code knows is applied: a node started before the release step
    ran `migrate` is not ready."""

    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        seen = _migrations_seen_applied.get(self.alias)
        if seen and time.monotonic() - seen < MIGRATIONS_RECHECK_SECONDS:
            return
        connection = connections[self.alias]
        with connection.temporary_connection():
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
            raise ServiceUnavailable(f"{len(plan)} unapplied: {names}{more}")
        _migrations_seen_applied[self.alias] = time.monotonic()


def ready_checks() -> dict[str, HealthCheck]:
    """The readiness checks by the name the JSON answer gives them."""
    checks: dict[str, HealthCheck] = {
        "database": Database(),
        "migrations": Migrations(),
        "cache": Cache(),
        "storage": Storage(),
    }
    if settings.CELERY_BROKER_URL:
        checks["broker"] = Broker(url=settings.CELERY_BROKER_URL)
    return checks


class ReadyView(HealthCheckView):
    """django-health-check's view, answering JSON only, 503 when any check fails."""

    async def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        checks = ready_checks()
        with self.get_executor() as executor:
            results = await asyncio.gather(*(c.get_result(executor) for c in checks.values()))
        report = {
            name: "OK" if result.error is None else str(result.error)
            for name, result in zip(checks, results, strict=True)
        }
        healthy = all(result.error is None for result in results)
        return JsonResponse(
            {"status": "ok" if healthy else "unavailable", "checks": report},
            status=200 if healthy else 503,
        )


@never_cache
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


ready = ReadyView.as_view()
