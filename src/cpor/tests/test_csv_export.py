"""Every CSV export writes through the one writer, so no cell runs as a formula."""

import csv
import datetime
import decimal
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cpor.api.tests.conftest import token_client
from cpor.csv_export import csv_lines, formula_safe
from cpor.testing.factories import active_associations, customer_tenant, partner_user
from cpor.usage.selectors import first_of_month
from cpor.usage.services import ImportReport, RejectionLog
from cpor.usage.tests.conftest import add_workload_usage

EVIL = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_would_start_a_formula_is_quoted(start):
    assert formula_safe(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize(
    "value",
    ["Contoso", "a=b", "", None, -3, 2.5, decimal.Decimal("-1.50"), datetime.date(2026, 1, 1)],
)
def test_plain_values_are_written_as_they_are(value):
    assert formula_safe(value) == value


def test_lines_quote_every_cell_and_keep_csv_quoting():
    lines = list(csv_lines(["name", "units"], [[EVIL, -3], ["-2+3", uuid.UUID(int=1)]]))
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows == [
        ["name", "units"],
        ["'" + EVIL, "-3"],
        ["'-2+3", "00000000-0000-0000-0000-000000000001"],
    ]


# --- each export, with a customer and a claim named like a formula ------------------


@pytest.fixture
def evil_holding(db):
    """A partner whose claim and customer are both named ``=HYPERLINK(...)``, with one
    active association that has this month's usage."""
    partner = partner_user()
    tenant = customer_tenant()
    tenant.name = EVIL
    tenant.save()
    organisation = partner.partner_membership.organisation
    organisation.name = "@SUM(1+1)*cmd|' /C calc'!A0"
    organisation.save()
    [association] = active_associations(partner, tenant, name=EVIL)
    add_workload_usage(association, [first_of_month(timezone.localdate())])
    return partner


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _assert_no_formula(rows: list[list[str]], expected_quoted: set[str]) -> None:
    cells = {cell for row in rows[1:] for cell in row}
    assert {"'" + value for value in expected_quoted} <= cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


def test_claims_web_export(client, evil_holding):
    client.force_login(evil_holding)
    _assert_no_formula(_rows(client.get(reverse("claims:export"))), {EVIL})


def test_usage_export(client, evil_holding):
    client.force_login(evil_holding)
    _assert_no_formula(_rows(client.get(reverse("usage:export"))), {EVIL})


def test_api_claims_export(evil_holding):
    rows = _rows(token_client(evil_holding).get("/api/v1/claims/export/"))
    _assert_no_formula(rows, {EVIL})


def test_api_associations_export(evil_holding):
    rows = _rows(token_client(evil_holding).get("/api/v1/associations/export/"))
    _assert_no_formula(rows, {EVIL, "@SUM(1+1)*cmd|' /C calc'!A0"})


def test_usage_import_rejections_file():
    out = io.StringIO()
    log = RejectionLog(ImportReport(), keep=1, out=out)
    log.add(7, "=cmd|' /C calc'!A0", "unknown column")
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1] == ["7", "'=cmd|' /C calc'!A0", "unknown column"]
