"""The history exports: the program admin's full audit trail and a partner's claim
histories, in the UI and the API; who may export, the period, the formats, the seals."""

import csv
import datetime
import io
import json

import pytest
from django.urls import reverse

from cpor.audit import exports
from cpor.audit.models import AuditAction, AuditEntry
from cpor.claims import integrity, selectors, services
from cpor.claims.models import ClaimEvent, ClaimEventSeal, EventAction
from cpor.notifications import consumers
from cpor.testing.factories import PASSWORD, partner_user, submitted_claim

pytestmark = pytest.mark.django_db

FULL_PAGE = reverse("organisation:audit-full-export")
PARTNER_PAGE = reverse("organisation:claim-histories")
FULL_API = "/api/v1/program/audit-trail/"
PARTNER_API = "/api/v1/organisation/claim-histories/"


def noon(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def json_lines(response) -> list[dict]:
    assert response["Content-Type"] == "application/x-ndjson"
    text = body(response)
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def seal_all() -> None:
    while consumers.consume("history_seal")[0]:
        pass


@pytest.fixture
def histories(org):
    """A submitted claim of organisation A with an internal note and a shared message,
    and a claim of organisation B."""
    ours = submitted_claim(org["partner_admin"], org["tenant"])
    services.claim_add_note(actor=org["reviewer"], claim=ours, message="Looks thin, check PoE")
    theirs = submitted_claim(org["other_admin"])
    return {**org, "ours": ours, "theirs": theirs}


# --- who may export ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "full", "partner"),
    [
        ("partner_admin", 403, 200),
        ("incentives_admin", 403, 200),
        ("incentives_user", 403, 403),
        ("other_admin", 403, 200),
        ("customer_admin", 403, 403),
        ("reviewer", 403, 403),
        ("program_admin", 200, 403),
    ],
)
def test_who_may_export_in_the_ui_and_the_api(org, client, who, full, partner):
    client.force_login(org[who])
    for url, expected in ((FULL_PAGE, full), (FULL_API, full)):
        assert client.get(url, {"output": "csv"}).status_code == expected, url
    for url, expected in ((PARTNER_PAGE, partner), (PARTNER_API, partner)):
        assert client.get(url, {"output": "csv"}).status_code == expected, url


def test_anonymous_is_sent_to_sign_in_or_refused(client):
    page = client.get(FULL_PAGE)
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert client.get(PARTNER_PAGE).status_code == 302
    assert client.get(FULL_API).status_code in (401, 403)
    assert client.get(PARTNER_API).status_code in (401, 403)


def test_navigation_links_each_export_to_who_may_use_it(org, client):
    client.force_login(org["program_admin"])
    assert f'href="{FULL_PAGE}"' in client.get(reverse("review:admin_home")).content.decode()
    client.force_login(org["incentives_admin"])
    home = client.get(reverse("claims:list")).content.decode()
    assert f'href="{PARTNER_PAGE}"' in home and f'href="{FULL_PAGE}"' not in home
    client.force_login(org["incentives_user"])
    assert f'href="{PARTNER_PAGE}"' not in client.get(reverse("claims:list")).content.decode()


# --- the period and bad input ---------------------------------------------------------


@pytest.fixture
def dated(histories):
    claim = histories["ours"]
    for day in ("2026-03-01", "2026-03-15", "2026-03-31", "2026-04-01"):
        ClaimEvent.objects.create(
            claim=claim, action=EventAction.REPLY, message=f"on {day}", at=noon(day)
        )
        AuditEntry.objects.create(action=AuditAction.TOKEN_CREATED, target_label=day, at=noon(day))
    return histories


def test_period_keeps_whole_days_from_and_until(dated, client):
    client.force_login(dated["program_admin"])
    response = client.get(
        FULL_API, {"since": "2026-03-15", "until": "2026-03-31", "output": "jsonl"}
    )
    records = json_lines(response)
    days = sorted({r["at"][:10] for r in records})
    assert days == ["2026-03-15", "2026-03-31"]
    assert {r["source"] for r in records} == {"claim_history", "audit"}

    client.force_login(dated["partner_admin"])
    mine = json_lines(client.get(PARTNER_PAGE, {"since": "2026-03-31", "output": "jsonl"}))
    assert "2026-03-15" not in {r["at"][:10] for r in mine}
    assert {"on 2026-03-31", "on 2026-04-01"} <= {r["message"] for r in mine}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-04-02", "until": "2026-04-01"}, "until"),
        ({"output": "xml"}, "output"),
    ],
)
def test_bad_input_is_refused_naming_the_field(org, client, query, field):
    client.force_login(org["program_admin"])
    api = client.get(FULL_API, query)
    assert api.status_code == 400
    assert api.json()["field"] == field
    page = client.get(FULL_PAGE, {"output": "csv", **query})
    assert page.status_code == 400
    assert page.context["form"].errors.keys() == {field}
    assert f'id="id_{field}-error"' in page.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


# --- the formats ----------------------------------------------------------------------


def test_csv_quotes_formula_like_text(histories, client):
    ClaimEvent.objects.create(
        claim=histories["ours"], action=EventAction.REPLY, message='=HYPERLINK("http://x")'
    )
    AuditEntry.objects.create(action=AuditAction.TOKEN_CREATED, target_label="+cmd|' /C calc'!A0")
    client.force_login(histories["program_admin"])
    rows = list(csv.DictReader(io.StringIO(body(client.get(FULL_API, {"output": "csv"})))))
    assert '\'=HYPERLINK("http://x")' in {row["message"] for row in rows}
    assert "'+cmd|' /C calc'!A0" in {row["target_label"] for row in rows}

    client.force_login(histories["partner_admin"])
    response = client.get(PARTNER_PAGE, {"output": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    messages = {row["message"] for row in csv.DictReader(io.StringIO(body(response)))}
    assert '\'=HYPERLINK("http://x")' in messages


def test_json_lines_parse_one_object_per_line_in_time_order(dated, client):
    client.force_login(dated["program_admin"])
    response = client.get(FULL_API, HTTP_ACCEPT="application/x-ndjson")
    records = json_lines(response)
    # Every event and entry, this export's own record last.
    assert len(records) == ClaimEvent.objects.count() + AuditEntry.objects.count()
    assert records[-1]["action"] == AuditAction.AUDIT_EXPORTED
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)


def test_keyset_chunks_lose_and_repeat_nothing_on_equal_times(histories):
    at = noon("2026-05-05")
    for n in range(7):
        ClaimEvent.objects.create(claim=histories["ours"], action=EventAction.REPLY, at=at)
        AuditEntry.objects.create(action=AuditAction.TOKEN_CREATED, target_label=str(n), at=at)
    period = exports.Period(since=at.date(), until=at.date())
    records = list(exports.full_trail_records(period=period, chunk_size=2))
    assert len(records) == 14
    assert len({(r["source"], r["id"]) for r in records}) == 14


# --- what a partner sees --------------------------------------------------------------


def test_partner_exports_only_its_own_claims_as_the_claim_page_shows_them(histories, client):
    client.force_login(histories["incentives_admin"])
    records = json_lines(client.get(PARTNER_API, {"output": "jsonl"}))

    ours = histories["ours"]
    shown = selectors.claim_history(actor=histories["incentives_admin"], claim=ours)
    assert [r["id"] for r in records] == list(
        shown.order_by("at", "id").values_list("id", flat=True)
    )
    assert {r["claim_id"] for r in records} == {ours.pk}
    assert "Looks thin, check PoE" not in json.dumps(records)
    assert not any(r["internal"] for r in records)
    assert histories["reviewer"].email not in json.dumps(records)
    assert set(records[0]) == set(exports.PARTNER_COLUMNS)


# --- what the full trail holds --------------------------------------------------------


def test_full_trail_holds_sign_ins_sign_outs_failures_and_admin_changes(org, client):
    user = partner_user()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": user.email, "password": "not-it"})
    admin = org["program_admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    client.post(
        reverse("admin:catalog_outofscopeprogram_add"),
        {"code": "old-fund", "name": "Old fund", "message": "Ask the fund."},
    )

    records = json_lines(client.get(FULL_PAGE, {"output": "jsonl"}))
    actions = [(r["action"], r["actor"]) for r in records if r["source"] == "audit"]
    assert actions[:5] == [
        (AuditAction.SIGNED_IN, user.email),
        (AuditAction.SIGNED_OUT, user.email),
        (AuditAction.SIGN_IN_FAILED, user.email),
        (AuditAction.SIGNED_IN, admin.email),
        (AuditAction.ADMIN_ADDED, admin.email),
    ]
    added = next(r for r in records if r["action"] == AuditAction.ADMIN_ADDED)
    assert added["target_label"] == "Old fund"


def test_exported_hashes_match_the_seals_and_recompute(histories, client):
    seal_all()
    pending = ClaimEvent.objects.create(claim=histories["ours"], action=EventAction.REPLY)
    client.force_login(histories["program_admin"])
    records = [
        r
        for r in json_lines(client.get(FULL_API, {"output": "jsonl"}))
        if r["source"] == "claim_history"
    ]

    sealed = [r for r in records if r["id"] != pending.pk]
    assert len(sealed) == ClaimEventSeal.objects.count() - 0
    for record in sealed:
        seal = ClaimEventSeal.objects.get(event_id=record["id"])
        content = {column: record[column] for column in integrity.CONTENT_COLUMNS}
        assert record["content_hash"] == seal.content_hash == integrity.content_hash(content)
        assert (record["claim_hash"], record["global_hash"]) == (seal.claim_hash, seal.global_hash)
        assert record["seal_seq"] == seal.seq
    # Not sealed yet: no hashes, not made-up ones.
    assert next(r for r in records if r["id"] == pending.pk)["content_hash"] == ""
    assert integrity.history_verify().broken is None


def test_partner_hashes_chain_its_claims(histories, client):
    seal_all()
    client.force_login(histories["partner_admin"])
    records = json_lines(client.get(PARTNER_API, {"output": "jsonl"}))
    assert records
    for record in records:
        seal = ClaimEventSeal.objects.get(event_id=record["id"])
        content = {column: record[column] for column in integrity.CONTENT_COLUMNS}
        assert record["content_hash"] == seal.content_hash == integrity.content_hash(content)
        assert record["claim_hash"] == seal.claim_hash


# --- the export is audited ------------------------------------------------------------


def test_each_export_is_recorded_in_the_audit_trail(histories, client):
    client.force_login(histories["program_admin"])
    body(client.get(FULL_PAGE, {"since": "2026-01-01", "output": "jsonl"}))
    client.force_login(histories["partner_admin"])
    body(client.get(PARTNER_API, {"output": "csv"}))

    full = AuditEntry.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert full.actor_id == histories["program_admin"].pk
    assert full.after == {"since": "2026-01-01", "until": None, "output": "jsonl"}
    partner = AuditEntry.objects.get(action=AuditAction.HISTORY_EXPORTED)
    assert partner.actor_id == histories["partner_admin"].pk
    assert partner.organisation_id == histories["organisation"].pk


def test_the_export_is_documented_in_the_openapi_schema(org, client):
    client.force_login(org["program_admin"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (FULL_API, PARTNER_API):
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"since", "until", "output"} <= names
        assert {"text/csv", "application/x-ndjson"} <= set(operation["responses"]["200"]["content"])


def test_pages_speak_portuguese(org, client):
    admin = org["program_admin"]
    admin.language = "pt-pt"
    admin.save()
    client.force_login(admin)
    page = client.get(FULL_PAGE).content.decode()
    assert "Exportar o registo de auditoria" in page and "JSON lines (um evento por linha)" in page
    refused = client.get(FULL_API, {"since": "2026-04-02", "until": "2026-04-01"})
    assert refused.json()["message"] == "“Até” não pode ser anterior a “De”."


def test_the_export_reads_in_bounded_chunks_never_everything(histories):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(9):
        ClaimEvent.objects.create(claim=histories["ours"], action=EventAction.REPLY)
        AuditEntry.objects.create(action=AuditAction.TOKEN_CREATED, target_label=str(n))
    with CaptureQueriesContext(connection) as queries:
        records = list(exports.full_trail_records(period=exports.Period(), chunk_size=4))

    assert len(records) == ClaimEvent.objects.count() + AuditEntry.objects.count()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) >= len(records) // 4
    assert all("LIMIT 4" in sql for sql in reads)


def test_api_errors_are_json_whatever_the_file_asked_for(org, client):
    client.force_login(org["reviewer"])
    for accept in ("text/csv", "application/x-ndjson"):
        refused = client.get(FULL_API, HTTP_ACCEPT=accept)
        assert refused.status_code == 403
        assert refused.json()["code"] == "permission_denied"
    client.force_login(org["program_admin"])
    response = client.get(FULL_API, HTTP_ACCEPT="application/jsonl")
    assert json_lines(response)[-1]["action"] == AuditAction.AUDIT_EXPORTED
