"""The import's checks in SQL, case by case: what is refused (with its row number, column
and reason), what is accepted and how it is stored. Each test runs on SQLite and on
PostgreSQL, where a clean file is written directly and a file with any bad row goes
through the one statement that classifies every row."""

import datetime
import io
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection

from cpor.testing.factories import SubscriptionFactory, TenantFactory
from cpor.usage import services
from cpor.usage.models import SubscriptionUsage, WorkloadUsage
from cpor.usage.staging import UsageStaging

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
HEADER = "tenant_id,workload,month,active_users,paid_units\n"
SUBSCRIPTION_HEADER = "subscription_id,month,licensed_units,revenue,currency\n"


def run(text: str | bytes, **kwargs) -> services.ImportReport:
    data = text.encode() if isinstance(text, str) else text
    return services.usage_import(file=io.BytesIO(data), today=TODAY, **kwargs)


def rejected(report: services.ImportReport) -> dict[int, tuple[str, str]]:
    return {r.row: (r.column, r.reason) for r in report.rejections}


def stored(tenant, code="teams") -> dict[str, tuple[int, int]]:
    rows = WorkloadUsage.objects.filter(tenant=tenant, product__code=code).order_by("month")
    return {f"{r.month:%Y-%m}": (r.active_users, r.paid_units) for r in rows}


def test_malformed_guids_are_rejected_by_row():
    tenant = TenantFactory()
    guid = str(tenant.tenant_id)
    report = run(
        HEADER
        + f"{guid[:-1]},teams,2026-05,1,2\n"  # 1 one digit short
        + f"{{{guid},teams,2026-05,1,2\n"  # 2 an opening brace only
        + f"{guid[:-1]}g,teams,2026-05,1,2\n"  # 3 not hex
        + f"{guid}-00,teams,2026-05,1,2\n"  # 4 too long
        + f"{guid.replace('-', '_')},teams,2026-05,1,2\n"  # 5 wrong separator
        + f"{guid},teams,2026-05,1,2\n"  # 6 good
    )
    assert rejected(report) == {row: ("tenant_id", "not a GUID") for row in range(1, 6)}
    assert stored(tenant) == {"2026-05": (1, 2)}


def test_guids_in_other_spellings_land_on_their_tenant():
    tenants = [TenantFactory() for _ in range(4)]
    spellings = [
        str(tenants[0].tenant_id).upper(),
        tenants[1].tenant_id.hex,
        f"{{{tenants[2].tenant_id}}}",
        f"  {tenants[3].tenant_id} ",
    ]
    report = run(HEADER + "".join(f"{g},teams,2026-05,3,4\n" for g in spellings))
    assert report.rejected_count == 0 and report.rows_written == 4
    assert all(stored(tenant) == {"2026-05": (3, 4)} for tenant in tenants)


def test_unknown_tenant_and_unknown_workload():
    tenant = TenantFactory()
    report = run(
        HEADER
        + f"{uuid.uuid4()},teams,2026-05,1,2\n"
        + f"{tenant.tenant_id},minecraft,2026-05,1,2\n"
        + f"{tenant.tenant_id},,2026-05,1,2\n"
        + f"{tenant.tenant_id}, teams ,2026-05,1,2\n"  # spaces around a known workload
    )
    assert rejected(report) == {
        1: ("tenant_id", "unknown tenant"),
        2: ("workload", "unknown workload"),
        3: ("workload", "unknown workload"),
    }
    assert stored(tenant) == {"2026-05": (1, 2)}


def test_months_must_be_past_or_current_firsts_of_a_month():
    tenant = TenantFactory()
    t = tenant.tenant_id
    report = run(
        HEADER
        + f"{t},teams,2026-07,1,2\n"  # 1 next month
        + f"{t},teams,2031-01-01,1,2\n"  # 2 years ahead
        + f"{t},teams,2026-13,1,2\n"  # 3 no such month
        + f"{t},teams,0000-01,1,2\n"  # 4 no year 0
        + f"{t},teams,2026-5,1,2\n"  # 5 one-digit month
        + f"{t},teams,05/2026,1,2\n"  # 6 another format
        + f"{t},teams,2026-05-02,1,2\n"  # 7 not the first
        + f"{t},teams,,1,2\n"  # 8 missing
        + f"{t},teams,2026-06-01,5,6\n"  # 9 the current month: good
        + f"{t},teams, 2026-04 ,7,8\n"  # 10 spaces around: good
    )
    assert rejected(report) == {
        1: ("month", "a future month"),
        2: ("month", "a future month"),
        3: ("month", "not a month (YYYY-MM or YYYY-MM-01)"),
        4: ("month", "not a month (YYYY-MM or YYYY-MM-01)"),
        5: ("month", "not a month (YYYY-MM or YYYY-MM-01)"),
        6: ("month", "not a month (YYYY-MM or YYYY-MM-01)"),
        7: ("month", "not the first day of a month"),
        8: ("month", "missing value"),
    }
    assert stored(tenant) == {"2026-04": (7, 8), "2026-06": (5, 6)}
    assert report.months == {datetime.date(2026, 4, 1): 1, datetime.date(2026, 6, 1): 1}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "negative"),
        ("-0.0", None),
        ("1.5", "not a whole number"),
        ("-1.5", "not a whole number"),
        ("1e3", "not a whole number"),
        ("12,5", None),  # quoted below: a CSV value with a comma
        ("abc", "not a whole number"),
        ("NaN", "not a whole number"),
        ("2147483648", "too large"),
        ("9" * 30, "too large"),
        ("", "missing value"),
        ("   ", "missing value"),
    ],
)
def test_numbers_must_be_whole_not_negative_and_fit(value, reason):
    tenant = TenantFactory()
    if value == "12,5":
        value, reason = '"12,5"', "not a whole number"
    report = run(HEADER + f"{tenant.tenant_id},teams,2026-05,{value},10\n")
    if reason is None:
        assert report.rejected_count == 0
    else:
        assert rejected(report) == {1: ("active_users", reason)}
        assert not WorkloadUsage.objects.exists()


def test_whole_numbers_written_in_other_ways_are_accepted():
    values = ["12.0", " 12 ", "+12", "0012"]
    tenants = [TenantFactory() for _ in values]
    lines = [f"{t.tenant_id},teams,2026-05,{values[i]},2147483647\n" for i, t in enumerate(tenants)]
    report = run(HEADER + "".join(lines))
    assert report.rejected_count == 0
    assert all(stored(t) == {"2026-05": (12, 2147483647)} for t in tenants)


def test_a_key_twice_in_the_file_rejects_every_copy():
    tenant, other = TenantFactory(), TenantFactory()
    report = run(
        HEADER
        + f"{tenant.tenant_id},teams,2026-05,1,2\n"
        + f"{other.tenant_id},teams,2026-05,9,9\n"
        + f"{tenant.tenant_id},teams,2026-05-01,3,4\n"  # the same month, written otherwise
        + f"{str(tenant.tenant_id).upper()},teams,2026-05,5,6\n"  # the same tenant
        + f"{tenant.tenant_id},teams,2026-04,7,8\n"
    )
    duplicate = ("tenant_id", "the same key appears more than once in the file")
    assert rejected(report) == {1: duplicate, 3: duplicate, 4: duplicate}
    assert stored(tenant) == {"2026-04": (7, 8)}
    assert stored(other) == {"2026-05": (9, 9)}


def test_a_key_twice_in_a_month_already_stored_rejects_every_copy():
    tenant = TenantFactory()
    run(HEADER + f"{tenant.tenant_id},teams,2026-05,1,2\n")
    again = f"{tenant.tenant_id},teams,2026-05,3,4\n{tenant.tenant_id},teams,2026-05,5,6\n"
    report = run(HEADER + again)
    assert set(rejected(report)) == {1, 2}
    assert stored(tenant) == {"2026-05": (1, 2)}


def test_reimport_updates_stored_months_and_inserts_new_ones():
    tenant, bystander = TenantFactory(), TenantFactory()
    run(
        HEADER
        + f"{tenant.tenant_id},teams,2026-04,10,20\n"
        + f"{bystander.tenant_id},teams,2026-04,1,1\n"
    )
    report = run(
        HEADER
        + f"{tenant.tenant_id},teams,2026-04,11,21\n"  # stored month: updated
        + f"{tenant.tenant_id},intune,2026-04,5,5\n"  # stored month, new unit: inserted
        + f"{tenant.tenant_id},teams,2026-05,12,22\n"  # new month: inserted
    )
    assert report.months == {datetime.date(2026, 4, 1): 2, datetime.date(2026, 5, 1): 1}
    assert report.rows_written == 3
    assert stored(tenant) == {"2026-04": (11, 21), "2026-05": (12, 22)}
    assert stored(tenant, "intune") == {"2026-04": (5, 5)}
    assert stored(bystander) == {"2026-04": (1, 1)}


def test_a_mixed_file_reports_bad_rows_by_number_and_writes_the_good_ones():
    tenants = [TenantFactory() for _ in range(6)]
    lines = [f"{t.tenant_id},teams,2026-05,{i},100\n" for i, t in enumerate(tenants)]
    lines.insert(2, f"{uuid.uuid4()},teams,2026-05,1,1\n")  # row 3
    lines.insert(5, f"{tenants[0].tenant_id},exchange_online,2026-05,-3,1\n")  # row 6
    lines.append("\n")  # a blank line is not a row
    lines.append(f"{tenants[1].tenant_id},intune,2026-05,1,x\n")  # row 9
    report = run(HEADER + "".join(lines))
    assert report.rows_read == 9
    assert rejected(report) == {
        3: ("tenant_id", "unknown tenant"),
        6: ("active_users", "negative"),
        9: ("paid_units", "not a whole number"),
    }
    assert report.rows_written == 6
    assert [stored(t) for t in tenants] == [{"2026-05": (i, 100)} for i in range(6)]


def test_lines_of_the_wrong_width_and_bytes_that_are_not_utf8():
    tenant = TenantFactory()
    data = (
        HEADER
        + f"{tenant.tenant_id},teams,2026-05,1,2,extra\n"  # 1 six values
        + f"{tenant.tenant_id},teams\n"  # 2 two values
    ).encode() + f"{tenant.tenant_id},t\xe9ams,2026-05,1,2\n".encode("latin-1")  # 3
    data += f"{tenant.tenant_id},teams,2026-04,3,4\n".encode()  # 4 good
    report = run(data)
    assert rejected(report) == {
        1: ("", "6 values where the header has 5"),
        2: ("", "2 values where the header has 5"),
        3: ("workload", "unknown workload"),
    }
    assert stored(tenant) == {"2026-04": (3, 4)}


def test_a_nul_character_rejects_its_row_only():
    tenant = TenantFactory()
    report = run(
        HEADER + f"{tenant.tenant_id},te\x00ams,2026-05,1,2\n{tenant.tenant_id},teams,2026-04,3,4\n"
    )
    assert rejected(report) == {1: ("workload", "unknown workload")}
    assert stored(tenant) == {"2026-04": (3, 4)}


def test_quoted_values_and_extra_columns():
    tenant = TenantFactory()
    report = run(
        "note,tenant_id,workload,month,active_users,paid_units\n"
        f'"a note, with a comma\nand a line break",{tenant.tenant_id},"teams",2026-05,"4",5\n'
    )
    assert report.rejected_count == 0
    assert stored(tenant) == {"2026-05": (4, 5)}


def test_parquet_nulls_are_missing_values_and_timestamps_are_months():
    tenant = TenantFactory()
    data = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "tenant_id": pa.array([str(tenant.tenant_id), None, str(tenant.tenant_id)]),
                "workload": pa.array(["teams", "teams", "intune"]),
                "month": pa.array([datetime.datetime(2026, 5, 1)] * 3, pa.timestamp("us")),
                "active_users": pa.array([1, 2, None]),
                "paid_units": pa.array([3, 4, 5]),
            }
        ),
        data,
    )
    report = run(data.getvalue())
    assert rejected(report) == {
        2: ("tenant_id", "missing value"),
        3: ("active_users", "missing value"),
    }
    assert stored(tenant) == {"2026-05": (1, 3)}


def test_subscription_checks():
    subscription = SubscriptionFactory()
    s = subscription.subscription_id
    report = run(
        SUBSCRIPTION_HEADER
        + f"{s},2026-05,10,NaN,EUR\n"  # 1
        + f"{s},2026-05,10,1e3,EUR\n"  # 2
        + f"{s},2026-05,10,1234567890123,EUR\n"  # 3 thirteen digits
        + f"{s},2026-05,10,5,E1R\n"  # 4
        + f"{s},2026-05,10,5,\n"  # 5
        + f"{s},2026-05,-1,5,EUR\n"  # 6
        + f"{s},2026-04,10,1.230, usd \n"  # 7 good: trailing zero, currency spelt loosely
    )
    assert rejected(report) == {
        1: ("revenue", "not a number"),
        2: ("revenue", "not a number"),
        3: ("revenue", "more than 12 digits or 2 decimals"),
        4: ("currency", "not a three-letter currency code"),
        5: ("currency", "not a three-letter currency code"),
        6: ("licensed_units", "negative"),
    }
    row = SubscriptionUsage.objects.get()
    assert (row.month, row.revenue, row.currency) == (
        datetime.date(2026, 4, 1),
        Decimal("1.23"),
        "USD",
    )


def test_a_subscription_twice_in_the_file_rejects_every_copy():
    subscription = SubscriptionFactory()
    s = subscription.subscription_id
    report = run(SUBSCRIPTION_HEADER + f"{s},2026-05,10,5,EUR\n{s},2026-05-01,11,5,EUR\n")
    assert set(rejected(report)) == {1, 2}
    assert not SubscriptionUsage.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite always classifies every row")
def test_a_clean_workload_file_is_written_without_classifying_rows(monkeypatch):
    """On PostgreSQL the types, constraints and joins check a clean file as it is
    written: the classifying statement (a full pass with pattern matching) is not run."""
    tenant = TenantFactory()

    def classify(self, cursor):
        raise AssertionError("a clean file was classified row by row")

    monkeypatch.setattr(UsageStaging, "_classify", classify)
    report = run(HEADER + f"{tenant.tenant_id},teams,2026-05,1,2\n")
    assert report.rows_written == 1
