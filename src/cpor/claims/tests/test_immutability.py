"""A submitted claim's recorded fields cannot change through any path."""

import pytest
from django.db import IntegrityError, connection, transaction

from cpor.claims import services
from cpor.claims.models import Claim, ClaimEvent, ClaimLine, ClaimStatus, ProofOfExecution
from cpor.errors import DomainError
from cpor.testing.factories import claim_input, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(partner, tenant):
    return submitted_claim(partner, tenant)


def stored_name(claim):
    return Claim.objects.values_list("name", flat=True).get(pk=claim.pk)


def test_model_save_refuses_a_changed_name(claim):
    original = claim.name
    claim.name = "Rewritten"
    with pytest.raises(DomainError) as error:
        claim.save()
    assert error.value.code == "claim_frozen"
    assert stored_name(claim) == original


def test_model_save_refuses_contact_changes_outside_action_required(claim):
    claim.customer_contact_email = "someone@else.example"
    with pytest.raises(DomainError):
        claim.save()


def test_queryset_update_refuses_frozen_fields(claim):
    with pytest.raises(DomainError):
        Claim.objects.filter(pk=claim.pk).update(name="Rewritten")
    with pytest.raises(DomainError):
        Claim.objects.all().update(tenant=claim.tenant)
    assert stored_name(claim) == claim.name


def test_queryset_update_of_drafts_is_allowed(partner, tenant):
    draft = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    Claim.objects.filter(pk=draft.pk).update(name="Renamed draft")
    assert stored_name(draft) == "Renamed draft"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE claims_claim SET name = 'Rewritten' WHERE id = %s",
        "UPDATE claims_claim SET incentive_opt_out = NOT incentive_opt_out WHERE id = %s",
        "UPDATE claims_claim SET customer_contact_email = 'x@y.z' WHERE id = %s",
    ],
)
def test_database_refuses_raw_sql_rewrites(claim, sql):
    with (
        pytest.raises(IntegrityError, match="claim_frozen"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [claim.pk])
    assert stored_name(claim) == claim.name


def test_database_refuses_line_changes_of_a_submitted_claim(claim):
    line = claim.lines.get()
    for sql, params in [
        ("DELETE FROM claims_claimline WHERE id = %s", [line.pk]),
        ("UPDATE claims_claimline SET product_id = product_id + 1 WHERE id = %s", [line.pk]),
        (
            "INSERT INTO claims_claimline (claim_id, product_id, status) "
            "VALUES (%s, %s, 'pending')",
            [claim.pk, line.product_id + 1],
        ),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert list(claim.lines.values_list("pk", "product_id")) == [(line.pk, line.product_id)]


def test_line_status_may_still_change_for_decisions(claim, reviewer):
    services.claim_approve(actor=reviewer, claim=claim)
    assert claim.lines.get().status == "approved"


def test_history_events_cannot_be_edited_or_deleted(claim):
    event = claim.events.first()
    event.message = "Forged"
    with pytest.raises(DomainError):
        event.save()
    for sql in (
        "UPDATE claims_claimevent SET message = 'Forged' WHERE id = %s",
        "DELETE FROM claims_claimevent WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert ClaimEvent.objects.get(pk=event.pk).message == ""


def test_stored_poe_cannot_be_swapped(claim):
    proof = claim.proofs.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProofOfExecution.objects.filter(pk=proof.pk).update(sha256="0" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProofOfExecution.objects.filter(pk=proof.pk).delete()
    assert ProofOfExecution.objects.get(pk=proof.pk).sha256 == proof.sha256


def test_status_transitions_still_work_on_frozen_claims(claim, reviewer):
    services.claim_start_review(actor=reviewer, claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW


def test_draft_with_history_can_be_deleted(partner, tenant):
    draft = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    services.claim_delete(actor=partner, claim=draft)
    assert not ClaimLine.objects.filter(claim_id=draft.pk).exists()


def test_every_trigger_is_installed_after_the_migrations_rebuilt_tables():
    from cpor.claims import immutability

    # Migration 0004 rebuilds claims_claimevent on SQLite, which drops its triggers;
    # the post_migrate installer must have put them back.
    expected = (
        {name for name, _table in immutability.SQLITE_TRIGGERS}
        if connection.vendor == "sqlite"
        else {name for name, _table, _fn in immutability.POSTGRESQL_TRIGGERS}
    )
    assert immutability.installed(connection) == expected


@pytest.mark.django_db(transaction=True)
def test_migrate_reinstalls_a_dropped_trigger(seeded_catalog):
    from django.core.management import call_command

    from cpor.claims import immutability

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER claims_claim_frozen")
        else:
            cursor.execute("DROP TRIGGER claims_claim_frozen ON claims_claim")
    assert "claims_claim_frozen" not in immutability.installed(connection)
    call_command("migrate", verbosity=0)
    assert "claims_claim_frozen" in immutability.installed(connection)
