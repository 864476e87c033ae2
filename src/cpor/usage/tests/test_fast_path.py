"""The fast path of the import (PostgreSQL, workload files, ``usage/fast.py``): a clean
file is checked in Arrow and COPYed without staging; anything it does not take as it is
rolls back whole and goes through the checked route, which reports it by row number."""

import datetime
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection

from cpor.testing.factories import SubscriptionFactory, TenantFactory
from cpor.usage import fast, services
from cpor.usage.models import WorkloadUsage
from cpor.usage.staging import UsageStaging

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"
)

TODAY = datetime.date(2026, 6, 15)
HEADER = "tenant_id,workload,month,active_users,paid_units\n"
DUPLICATE = "the same key appears more than once in the file"


@pytest.fixture
def loads(monkeypatch) -> list[fast.WorkloadLoad]:
    """Every fast load the import starts, to look at what it wrote batch by batch."""
    started: list[fast.WorkloadLoad] = []
    real_run = fast.WorkloadLoad.run

    def run(self, progress=None):
        started.append(self)
        return real_run(self, progress)

    monkeypatch.setattr(fast.WorkloadLoad, "run", run)
    return started


def run(data: str | bytes, **kwargs) -> services.ImportReport:
    raw = data.encode() if isinstance(data, str) else data
    return services.usage_import(file=io.BytesIO(raw), today=TODAY, **kwargs)


def stored() -> dict[tuple, tuple[int, int]]:
    return {
        (str(r.tenant.tenant_id), r.product.code, f"{r.month:%Y-%m}"): (
            r.active_users,
            r.paid_units,
        )
        for r in WorkloadUsage.objects.select_related("tenant", "product")
    }


def lines(tenants, months=("2026-03", "2026-04", "2026-05")) -> list[str]:
    return [
        f"{t.tenant_id},teams,{month},{i},{100 + i}\n"
        for i, t in enumerate(tenants)
        for month in months
    ]


@postgres_only
def test_a_clean_file_is_loaded_without_staging(monkeypatch, loads):
    def staged(self):
        raise AssertionError("a clean file was staged")

    monkeypatch.setattr(UsageStaging, "__enter__", staged)
    tenants = [TenantFactory() for _ in range(3)]
    spelt = f"  {{{str(tenants[0].tenant_id).upper()}}} ,intune, 2026-05-01 , 007 ,8\n"
    report = run(HEADER + "".join(lines(tenants)) + spelt)
    assert report.route == "fast"
    assert (report.rows_read, report.rows_written, report.rejected_count) == (10, 10, 0)
    assert report.months == {datetime.date(2026, m, 1): 3 + (m == 5) for m in (3, 4, 5)}
    rows = stored()
    assert len(rows) == 10
    assert rows[(str(tenants[2].tenant_id), "teams", "2026-04")] == (2, 102)
    assert rows[(str(tenants[0].tenant_id), "intune", "2026-05")] == (7, 8)
    assert sum(loads[0].batch_sizes) == 10


@postgres_only
def test_a_clean_parquet_file_is_loaded_from_its_typed_columns(loads):
    tenant = TenantFactory()
    data = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "tenant_id": [str(tenant.tenant_id)] * 2,
                "workload": ["teams", "intune"],
                "month": pa.array([datetime.datetime(2026, 5, 1)] * 2, pa.timestamp("us")),
                "active_users": pa.array([4, 5], pa.int32()),
                "paid_units": pa.array([6, 2_147_483_647], pa.int64()),
            }
        ),
        data,
    )
    report = run(data.getvalue())
    assert report.route == "fast" and report.rows_written == 2
    assert stored()[(str(tenant.tenant_id), "intune", "2026-05")] == (5, 2_147_483_647)


@postgres_only
def test_one_bad_row_in_a_later_batch_is_reported_and_nothing_is_half_written(loads):
    """The fast path has COPYed the first batches when it meets row 8: they are rolled
    back, the checked route reports row 8 and writes every other row exactly once."""
    tenants = [TenantFactory() for _ in range(4)]
    rows = lines(tenants)  # 12 rows
    rows[7] = rows[7].replace(",teams,", ",minecraft,")
    report = run(HEADER + "".join(rows), batch_rows=3)
    assert loads[0].batch_sizes == [3, 3]  # two batches were written before row 8
    assert report.route == "checked"
    assert [(r.row, r.column, r.reason) for r in report.rejections] == [
        (8, "workload", "unknown workload")
    ]
    assert report.rows_written == 11
    written = stored()
    assert len(written) == 11 and WorkloadUsage.objects.count() == 11
    assert (str(tenants[2].tenant_id), "teams", "2026-04") not in written  # row 8


@postgres_only
def test_a_failure_after_the_fast_path_gave_up_writes_nothing(monkeypatch, loads):
    """One transaction per route: when the checked route fails too, neither what the
    fast path wrote nor anything of the checked route remains."""
    tenants = [TenantFactory() for _ in range(3)]
    rows = lines(tenants)
    rows[-1] = rows[-1].replace(",2026-05,", ",2026-07,")  # a future month, last batch

    def failing(self, *, latest):
        raise RuntimeError("database went away")

    monkeypatch.setattr(UsageStaging, "write", failing)
    with pytest.raises(RuntimeError):
        run(HEADER + "".join(rows), batch_rows=2)
    assert sum(loads[0].batch_sizes) == 8
    assert not WorkloadUsage.objects.exists()


@postgres_only
def test_a_key_repeated_in_another_batch_is_caught(loads):
    """Row 2 and row 9 are the same key, in different batches: the table's primary key
    refuses the second one as it arrives, and both copies are reported."""
    tenants = [TenantFactory() for _ in range(4)]
    rows = lines(tenants)
    rows[8] = rows[1].replace(",1,101", ",9,9").replace(",0,100", ",9,9")
    report = run(HEADER + "".join(rows), batch_rows=4)
    assert loads[0].batch_sizes[:2] == [4, 4]  # the second copy came later
    assert report.route == "checked"
    assert {(r.row, r.column, r.reason) for r in report.rejections} == {
        (2, "tenant_id", DUPLICATE),
        (9, "tenant_id", DUPLICATE),
    }
    assert WorkloadUsage.objects.count() == 10


@postgres_only
def test_a_stored_month_goes_through_the_upsert(loads):
    tenant = TenantFactory()
    assert run(HEADER + f"{tenant.tenant_id},teams,2026-04,1,2\n").route == "fast"
    report = run(
        HEADER + f"{tenant.tenant_id},teams,2026-05,3,4\n{tenant.tenant_id},teams,2026-04,5,6\n"
    )
    assert report.route == "checked" and report.rejected_count == 0
    assert stored() == {
        (str(tenant.tenant_id), "teams", "2026-04"): (5, 6),
        (str(tenant.tenant_id), "teams", "2026-05"): (3, 4),
    }


@postgres_only
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_batches_stay_within_the_batch_size(file_format, loads):
    """What the fast path holds at once is one batch of at most ``batch_rows`` rows,
    whatever the file's size (the CSV file itself is read in bounded chunks)."""
    tenants = [TenantFactory() for _ in range(9)]
    rows = lines(tenants)  # 27 rows
    if file_format == "csv":
        data: str | bytes = HEADER + "".join(rows)
    else:
        buffer = io.BytesIO()
        values = [row.strip().split(",") for row in rows]
        names = HEADER.strip().split(",")
        pq.write_table(
            pa.table({name: [v[i] for v in values] for i, name in enumerate(names)}),
            buffer,
            row_group_size=10,
        )
        data = buffer.getvalue()
    report = run(data, batch_rows=4)
    assert report.route == "fast" and report.rows_written == 27
    sizes = loads[0].batch_sizes
    assert max(sizes) <= 4 and sum(sizes) == 27 and len(sizes) >= 7


def test_subscription_files_and_sqlite_take_the_checked_route():
    subscription = SubscriptionFactory()
    report = run(
        "subscription_id,month,licensed_units,revenue,currency\n"
        f"{subscription.subscription_id},2026-05,10,5,EUR\n"
    )
    assert report.route == "checked" and report.rows_written == 1
    tenant = TenantFactory()
    workload = run(HEADER + f"{tenant.tenant_id},teams,2026-05,1,2\n")
    assert workload.route == ("fast" if connection.vendor == "postgresql" else "checked")
