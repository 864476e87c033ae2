"""Bulk import: CSV and Parquet, upserts, and every kind of bad input."""

import datetime
import io
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cpor.accounts.models import OperatorRole
from cpor.errors import DomainError
from cpor.testing.factories import SubscriptionFactory, TenantFactory, operator_user, partner_user
from cpor.usage import services, sources
from cpor.usage.models import SubscriptionUsage, WorkloadUsage
from cpor.usage.sources import open_source
from cpor.usage.staging import UsageStaging

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
HEADER = "tenant_id,workload,month,active_users,paid_units\n"


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def run(file, **kwargs) -> services.ImportReport:
    return services.usage_import(file=file, today=TODAY, **kwargs)


def usage(tenant, code="teams") -> dict[str, tuple[int, int]]:
    rows = WorkloadUsage.objects.filter(tenant=tenant, product__code=code).order_by("month")
    return {f"{r.month:%Y-%m}": (r.active_users, r.paid_units) for r in rows}


def parquet_file(columns: dict[str, pa.Array], *, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def test_csv_workload_usage_is_imported_month_by_month():
    tenant = TenantFactory()
    report = run(
        csv_file(
            HEADER
            + f"{tenant.tenant_id},teams,2026-04,80,100\n"
            + f"{tenant.tenant_id},teams,2026-05-01,90,100\n"
            + f"{tenant.tenant_id},intune,2026-05,10,20\n"
        )
    )
    assert report.ok and report.kind == "workload" and report.file_format == "csv"
    assert (report.rows_read, report.rows_written, report.rejected_count) == (3, 3, 0)
    assert report.months == {datetime.date(2026, 4, 1): 1, datetime.date(2026, 5, 1): 2}
    assert usage(tenant) == {"2026-04": (80, 100), "2026-05": (90, 100)}
    assert usage(tenant, "intune") == {"2026-05": (10, 20)}


def test_header_columns_may_come_in_any_order_and_case_with_extra_columns():
    tenant = TenantFactory()
    report = run(
        csv_file(
            "Month,Paid_Units,comment,Active_Users,Workload,Tenant_ID\n"
            f"2026-05,100,hello,70,teams,{tenant.tenant_id}\n"
        )
    )
    assert report.rows_written == 1
    assert usage(tenant) == {"2026-05": (70, 100)}


def test_parquet_workload_usage_with_typed_columns():
    tenant = TenantFactory()
    data = parquet_file(
        {
            "tenant_id": pa.array([str(tenant.tenant_id)] * 2),
            "workload": pa.array(["teams", "exchange_online"]),
            "month": pa.array([datetime.date(2026, 5, 1)] * 2, pa.date32()),
            "active_users": pa.array([40, 55], pa.int64()),
            "paid_units": pa.array([50, 60], pa.int32()),
        }
    )
    report = run(io.BytesIO(data))
    assert report.ok and report.file_format == "parquet"
    assert report.rows_written == 2
    assert usage(tenant) == {"2026-05": (40, 50)}
    assert usage(tenant, "exchange_online") == {"2026-05": (55, 60)}


def test_subscription_usage_from_csv_keeps_revenue_exact():
    subscription = SubscriptionFactory()
    report = run(
        csv_file(
            "subscription_id,month,licensed_units,revenue,currency\n"
            f"{subscription.subscription_id},2026-05,50,1234.50,eur\n"
        )
    )
    assert report.ok and report.kind == "subscription" and report.rows_written == 1
    row = SubscriptionUsage.objects.get(subscription=subscription)
    assert (row.licensed_units, row.revenue, row.currency) == (50, Decimal("1234.50"), "EUR")


def test_subscription_usage_from_parquet():
    subscription = SubscriptionFactory()
    data = parquet_file(
        {
            "subscription_id": pa.array([str(subscription.subscription_id)]),
            "month": pa.array(["2026-05"]),
            "licensed_units": pa.array([25]),
            "revenue": pa.array([Decimal("99.90")], pa.decimal128(10, 2)),
            "currency": pa.array(["USD"]),
        }
    )
    assert run(io.BytesIO(data)).rows_written == 1
    assert SubscriptionUsage.objects.get().revenue == Decimal("99.90")


def test_importing_the_same_month_again_updates_the_same_rows():
    tenant = TenantFactory()
    first = HEADER + f"{tenant.tenant_id},teams,2026-05,50,100\n"
    run(csv_file(first))
    run(csv_file(first))
    assert WorkloadUsage.objects.count() == 1
    report = run(csv_file(HEADER + f"{tenant.tenant_id},teams,2026-05,65,110\n"))
    assert report.rows_written == 1
    assert WorkloadUsage.objects.count() == 1
    assert usage(tenant) == {"2026-05": (65, 110)}


def test_bad_rows_are_reported_with_row_column_and_reason_and_good_rows_kept():
    tenant = TenantFactory()
    other = TenantFactory()
    t = tenant.tenant_id
    report = run(
        csv_file(
            HEADER
            + f"{t},teams,2026-05,50,100\n"  # 1 good
            + f"{uuid.uuid4()},teams,2026-05,50,100\n"  # 2 unknown tenant
            + f"{t},minecraft,2026-05,50,100\n"  # 3 unknown workload
            + f"{t},intune,2026-05,-5,100\n"  # 4 negative
            + f"{t},intune,2026-05,many,100\n"  # 5 not numeric
            + f"{t},intune,2026-07,5,100\n"  # 6 future month
            + f"{t},intune,2026-05-15,5,100\n"  # 7 not the first of a month
            + f"{other.tenant_id},teams,2026-05,1,2\n"  # 8 duplicate of 9
            + f"{other.tenant_id},teams,2026-05,3,4\n"  # 9 duplicate of 8
            + f"{t},intune,2026-05\n"  # 10 short line (truncated)
            + "not-a-guid,teams,2026-05,1,1\n"  # 11
            + f"{t},exchange_online,2026-04,7,\n"  # 12 missing value
            + f"{t},purview,2026-05,1.5,3\n"  # 13 not whole
            + f"{t},teams,2026-04,1,9999999999\n"  # 14 too large
            + f"{t},intune,2026-06,10,20\n"  # 15 good (current month)
        )
    )
    assert report.ok
    assert report.rows_read == 15
    assert report.rows_written == 2
    assert report.rejected_count == 13
    got = {(r.row, r.column, r.reason) for r in report.rejections}
    assert got == {
        (2, "tenant_id", "unknown tenant"),
        (3, "workload", "unknown workload"),
        (4, "active_users", "negative"),
        (5, "active_users", "not a whole number"),
        (6, "month", "a future month"),
        (7, "month", "not the first day of a month"),
        (8, "tenant_id", "the same key appears more than once in the file"),
        (9, "tenant_id", "the same key appears more than once in the file"),
        (10, "", "3 values where the header has 5"),
        (11, "tenant_id", "not a GUID"),
        (12, "paid_units", "missing value"),
        (13, "active_users", "not a whole number"),
        (14, "paid_units", "too large"),
    }
    assert usage(tenant) == {"2026-05": (50, 100)}
    assert usage(tenant, "intune") == {"2026-06": (10, 20)}
    assert not WorkloadUsage.objects.filter(tenant=other).exists()


def test_bad_subscription_rows_are_reported():
    subscription = SubscriptionFactory()
    s = subscription.subscription_id
    report = run(
        csv_file(
            "subscription_id,month,licensed_units,revenue,currency\n"
            f"{s},2026-05,10,-1,EUR\n"
            f"{s},2026-05,10,abc,EUR\n"
            f"{s},2026-05,10,1.234,EUR\n"
            f"{s},2026-05,10,5,EURO\n"
            f"{uuid.uuid4()},2026-05,10,5,EUR\n"
            f"{s},2026-04,10,5,EUR\n"
        )
    )
    assert [(r.row, r.column) for r in report.rejections] == [
        (1, "revenue"),
        (2, "revenue"),
        (3, "revenue"),
        (4, "currency"),
        (5, "subscription_id"),
    ]
    assert report.rows_written == 1


def test_a_wrong_header_refuses_the_file_and_writes_nothing():
    tenant = TenantFactory()
    report = run(csv_file(f"tenant,product,month,mau,pau\n{tenant.tenant_id},teams,2026-05,1,2\n"))
    assert not report.ok
    assert report.error.code == "usage_wrong_header"
    assert "tenant_id, workload, month, active_users, paid_units" in report.error.message
    assert report.rows_written == 0 and not WorkloadUsage.objects.exists()


def test_an_empty_file_is_a_wrong_header():
    report = run(csv_file(""))
    assert report.error.code == "usage_wrong_header"


def test_a_truncated_parquet_file_writes_nothing():
    tenant = TenantFactory()
    data = parquet_file(
        {
            "tenant_id": pa.array([str(tenant.tenant_id)]),
            "workload": pa.array(["teams"]),
            "month": pa.array(["2026-05"]),
            "active_users": pa.array([1]),
            "paid_units": pa.array([2]),
        }
    )
    report = run(io.BytesIO(data[: len(data) // 2]))
    assert not report.ok
    assert report.error.code == "usage_file_unreadable"
    assert not WorkloadUsage.objects.exists()


def test_a_file_breaking_off_midway_writes_no_month(monkeypatch):
    """Months are written only once the whole file was read: a read error after some
    rows leaves every month untouched."""
    tenant = TenantFactory()
    real_open = open_source

    def breaking(file, *, batch_rows):
        source = real_open(file, batch_rows=batch_rows)
        original = source.read

        def read():
            chunks = original()
            first = next(chunks)
            yield first[: first.index(b"\n") + 1]
            raise DomainError("usage_file_unreadable", "broken", field="file")

        source.read = read
        return source

    monkeypatch.setattr(services, "open_source", breaking)
    lines = "".join(f"{tenant.tenant_id},teams,2026-0{m},1,2\n" for m in (3, 4, 5))
    report = run(csv_file(HEADER + lines))
    assert report.error.code == "usage_file_unreadable"
    assert not WorkloadUsage.objects.exists()


def test_a_failure_while_writing_leaves_no_month_half_written(monkeypatch):
    """New months and re-imported months are written in one transaction: a failure after
    some of them were written leaves every month as it was."""
    tenant = TenantFactory()
    run(csv_file(HEADER + f"{tenant.tenant_id},teams,2026-04,1,2\n"))
    real_load = UsageStaging._load

    def failing(self, cursor):
        real_load(self, cursor)  # the new month inserted, the stored month updated…
        raise RuntimeError("database went away")  # …and then the import dies

    monkeypatch.setattr(UsageStaging, "_load", failing)
    lines = "".join(
        f"{tenant.tenant_id},{code},2026-0{m},5,6\n" for m in (4, 5) for code in ("teams", "intune")
    )
    with pytest.raises(RuntimeError):
        run(csv_file(HEADER + lines))
    assert usage(tenant) == {"2026-04": (1, 2)}
    assert usage(tenant, "intune") == {}


def test_the_importer_streams_the_file_in_bounded_chunks(monkeypatch):
    """The file is never read whole: every read asks for at most one chunk, however
    large the file, and rows split across chunks still land."""
    monkeypatch.setattr(sources, "CHUNK_BYTES", 64)
    tenant = TenantFactory()
    lines = "".join(
        f"{tenant.tenant_id},teams,20{y}-0{m},1,2\n" for y in (24, 25) for m in range(1, 8)
    )

    class RecordingFile(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.sizes: list[int] = []

        def read(self, size=-1):
            self.sizes.append(size)
            return super().read(size)

    file = RecordingFile((HEADER + lines).encode())
    report = run(file)
    assert report.rows_written == 14 and report.rows_read == 14
    data_reads = file.sizes[1:]  # after the 4 bytes that tell CSV from Parquet
    assert len(data_reads) > 10
    assert all(0 < size <= 64 for size in data_reads)


def test_parquet_is_read_in_record_batches():
    tenant = TenantFactory()
    months = [datetime.date(2025, m, 1) for m in range(1, 13)]
    data = parquet_file(
        {
            "tenant_id": pa.array([str(tenant.tenant_id)] * 12),
            "workload": pa.array(["teams"] * 12),
            "month": pa.array(months, pa.date32()),
            "active_users": pa.array(range(12)),
            "paid_units": pa.array([20] * 12),
        },
        row_group_size=4,
    )
    source = open_source(io.BytesIO(data), batch_rows=5)
    rows_per_chunk = [chunk.count(b"\n") for chunk in source.read()]
    assert max(rows_per_chunk) <= 5 and sum(rows_per_chunk) == 12
    assert run(io.BytesIO(data), batch_rows=5).rows_written == 12


def test_only_program_admins_import_from_the_upload_page():
    with pytest.raises(DomainError):
        run(csv_file(HEADER), actor=partner_user())
    with pytest.raises(DomainError):
        run(csv_file(HEADER), actor=operator_user(OperatorRole.REVIEWER))
    assert run(csv_file(HEADER), actor=operator_user(OperatorRole.PROGRAM_ADMIN)).ok


def test_rejections_kept_in_memory_are_capped_but_all_are_counted_and_written(tmp_path):
    tenant = TenantFactory()
    lines = "".join(f"{tenant.tenant_id},teams,2026-05,-{i},1\n" for i in range(1, 8))
    out = io.StringIO()
    report = run(csv_file(HEADER + lines), keep_rejections=3, rejects=out)
    assert report.rejected_count == 7 and len(report.rejections) == 3
    assert out.getvalue().splitlines()[0] == "row,column,reason"
    assert len(out.getvalue().splitlines()) == 8


# --- the management command ----------------------------------------------------------


def test_import_usage_command_reports_progress_and_writes_rejects(tmp_path):
    tenant = TenantFactory()
    path = tmp_path / "usage.csv"
    path.write_text(
        HEADER + f"{tenant.tenant_id},teams,2024-05,3,4\n{tenant.tenant_id},teams,2024-06,x,4\n"
    )
    rejects = tmp_path / "rejects.csv"
    out = io.StringIO()
    call_command("import_usage", str(path), rejects=str(rejects), stdout=out)
    text = out.getvalue()
    assert "2 rows read" in text
    assert "1 written in 1 month(s), 1 rejected" in text
    assert "row 2: active_users: not a whole number" in text
    assert rejects.read_text().splitlines()[1] == "2,active_users,not a whole number"
    assert usage(tenant) == {"2024-05": (3, 4)}


def test_import_usage_command_fails_on_a_wrong_header(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="header"):
        call_command("import_usage", str(path), stdout=io.StringIO())
