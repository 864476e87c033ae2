"""The audit trail: append-only, scoped to who reads it, filtered, exported as CSV with
formula escaping, and through the API."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction

from cpor.audit.models import AuditAction, AuditEntry
from cpor.audit.selectors import AuditFilters, audit_list
from cpor.audit.services import audit_record
from cpor.errors import DomainError, PermissionDenied
from cpor.partners import self_service
from cpor.partners.services import LocationInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(org):
    """One change in organisation A, one in B, one program decision in A."""
    ours = self_service.location_request(
        actor=org["partner_admin"], location=LocationInput("55550001", "Braga", "PT")
    )
    self_service.location_request(
        actor=org["other_admin"], location=LocationInput("55550002", "Madrid", "ES")
    )
    self_service.location_decide(actor=org["program_admin"], location_pk=ours.pk, verify=True)
    return org


def test_rows_cannot_be_changed_or_deleted_through_the_model(trail):
    entry = AuditEntry.objects.first()
    entry.target_label = "rewritten"
    with pytest.raises(DomainError):
        entry.save()
    with pytest.raises(DomainError):
        entry.delete()
    with pytest.raises(DomainError):
        AuditEntry.objects.update(target_label="rewritten")
    with pytest.raises(DomainError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_an_update_behind_the_applications_back(trail):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET target_label = 'rewritten'")
    assert not AuditEntry.objects.filter(target_label="rewritten").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite flushes with DELETE")
def test_postgresql_refuses_a_delete_behind_the_applications_back(trail):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 3


def test_partner_admin_reads_only_their_organisation(trail):
    rows = list(audit_list(actor=trail["partner_admin"]))
    assert {row.organisation_id for row in rows} == {trail["organisation"].pk}
    assert [row.action for row in rows] == [
        AuditAction.LOCATION_VERIFIED,
        AuditAction.LOCATION_REQUESTED,
    ]
    # Asking for another organisation's rows is ignored for a partner admin.
    other = trail["other_admin"].partner_membership.organisation_id
    assert all(
        row.organisation_id == trail["organisation"].pk
        for row in audit_list(
            actor=trail["partner_admin"], filters=AuditFilters(organisation=other)
        )
    )


@pytest.mark.parametrize("role", ["reviewer", "program_admin"])
def test_program_staff_read_every_organisation(trail, role):
    assert audit_list(actor=trail[role]).count() == 3
    other = trail["other_admin"].partner_membership.organisation_id
    assert audit_list(actor=trail[role], filters=AuditFilters(organisation=other)).count() == 1


@pytest.mark.parametrize("role", ["incentives_admin", "incentives_user", "customer_admin"])
def test_other_roles_may_not_read_the_trail(trail, role):
    with pytest.raises(PermissionDenied):
        audit_list(actor=trail[role])


def test_page_filters_by_action_and_actor(trail, as_user):
    client = as_user(trail["program_admin"])
    page = client.get("/organisation/audit/", {"action": "location_requested"})
    assert page.status_code == 200
    assert [e.action for e in page.context["entries"]] == ["location_requested"] * 2
    page = client.get("/organisation/audit/", {"actor": trail["other_admin"].email[:8]})
    assert len(page.context["entries"]) == 1
    bad = client.get("/organisation/audit/", {"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 400
    assert "must not be before" in bad.content.decode()


def test_page_in_portuguese(trail, as_user):
    trail["partner_admin"].language = "pt-pt"
    trail["partner_admin"].save()
    page = as_user(trail["partner_admin"]).get("/organisation/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Registo de auditoria" in text
    assert "PartnerID verificado" in text


def test_csv_export_escapes_formulas_and_is_itself_audited(trail, as_user):
    audit_record(
        actor=trail["partner_admin"],
        action=AuditAction.LOCATION_REQUESTED,
        organisation=trail["organisation"],
        target_label='=HYPERLINK("https://evil.example","click")',
    )
    response = as_user(trail["partner_admin"]).get("/organisation/audit/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "at", "actor"]
    labels = [row[7] for row in rows[1:]]
    assert '\'=HYPERLINK("https://evil.example","click")' in labels
    assert not any(label.startswith("=") for label in labels)
    # Only organisation A's rows: its two changes, the formula, the admin's sign-in and
    # this export itself.
    assert {row[3] for row in rows[1:]} == {trail["organisation"].name}
    assert rows[1][4] == "audit_exported"
    assert rows[2][4] == "signed_in"
    assert len(rows) == 1 + 5
    assert AuditEntry.objects.filter(
        action=AuditAction.AUDIT_EXPORTED, organisation=trail["organisation"]
    ).exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("partner_admin", 200),
        ("reviewer", 200),
        ("program_admin", 200),
        ("incentives_admin", 403),
        ("incentives_user", 403),
        ("customer_admin", 403),
    ],
)
def test_page_and_export_permissions(trail, as_user, client, role, expected):
    assert client.get("/organisation/audit/").status_code == 302  # anonymous: sign in first
    client = as_user(trail[role])
    assert client.get("/organisation/audit/").status_code == expected
    assert client.get("/organisation/audit/export.csv").status_code == expected


def test_api_lists_the_callers_scope_with_filters(trail):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(trail["partner_admin"])
    body = api.get("/api/v1/audit/").json()
    assert {row["organisation_id"] for row in body["results"]} == {trail["organisation"].pk}
    assert api.get("/api/v1/audit/", {"action": "nonsense"}).status_code == 400
    api.force_authenticate(trail["incentives_admin"])
    refused = api.get("/api/v1/audit/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    api.force_authenticate(trail["reviewer"])
    assert len(api.get("/api/v1/audit/", {"action": "location_requested"}).json()["results"]) == 2
