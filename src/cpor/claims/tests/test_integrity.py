"""The tamper-evident history: seals, checkpoints and ``manage.py verify_history``.

Tampering is done as a database administrator would: raw SQL with the immutability
triggers turned off (PostgreSQL: DISABLE TRIGGER; SQLite: the triggers dropped and put
back), inside the test's transaction."""

import io
import itertools
import re
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.core.signing import Signer
from django.db import connection

from cpor.claims import immutability, integrity, services
from cpor.claims.models import ClaimEvent, ClaimEventSeal, EventAction, HistoryCheckpoint
from cpor.notifications import consumers
from cpor.notifications.models import EventCursor
from cpor.testing.factories import claim_input, customer_tenant, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def seal_all() -> int:
    """Run the sealer until it has read everything; the number of events sealed."""
    sealed = 0
    while read := consumers.consume("history_seal")[0]:
        sealed += read
    return sealed


def as_dba(sql: str, params: list | tuple = ()) -> None:
    """One statement behind the application's back: immutability triggers off."""
    touched = set(re.findall(r"claims_\w+", sql))
    triggers = [(t[0], t[1]) for t in immutability.POSTGRESQL_TRIGGERS if t[1] in touched]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL alters no table with foreign-key checks pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, table in triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        else:
            for name, _table in immutability.SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for name, table in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if connection.vendor == "sqlite":
        immutability.install(connection)


def verify() -> str:
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    return out.getvalue()


def broken() -> str:
    with pytest.raises(CommandError) as failure:
        verify()
    return str(failure.value)


@pytest.fixture
def history() -> list[ClaimEvent]:
    """Two submitted claims' history (create, add_poe, submit each), sealed and
    checkpointed; events in the order they were sealed."""
    actor = partner_user()
    submitted_claim(actor)
    submitted_claim(actor)
    assert seal_all() == 6
    assert integrity.history_checkpoint() == 1
    return list(ClaimEvent.objects.order_by("seal__seq"))


def test_a_clean_history_verifies_with_its_counts(history):
    assert verify().startswith(
        "history intact: 6 seals, 6 events rehashed, 0 deleted with their drafts, "
        "1 checkpoints, 0 pending"
    )


def test_each_event_is_chained_globally_and_within_its_claim(history):
    seals = list(ClaimEventSeal.objects.order_by("seq"))
    assert [s.seq for s in seals] == [1, 2, 3, 4, 5, 6]
    assert [s.event_id for s in seals] == [e.pk for e in history]
    assert seals[0].global_hash == integrity.link(integrity.GENESIS, seals[0].content_hash)
    for before, seal in itertools.pairwise(seals):
        assert seal.global_hash == integrity.link(before.global_hash, seal.content_hash)
    second_claim = [s for s in seals if s.claim_id == history[-1].claim_id]
    assert second_claim[0].claim_hash == integrity.link(
        integrity.GENESIS, second_claim[0].content_hash
    )
    assert second_claim[1].claim_hash == integrity.link(
        second_claim[0].claim_hash, second_claim[1].content_hash
    )


def test_chains_carry_over_from_one_sealing_batch_to_the_next():
    actor = partner_user()
    for _ in range(3):
        submitted_claim(actor)
    while consumers.consume("history_seal", batch_size=2)[0]:
        pass

    assert ClaimEventSeal.objects.count() == 9
    assert verify().startswith("history intact: 9 seals, 9 events rehashed")


def test_the_content_hash_covers_every_column_but_the_transaction_id():
    columns = {f.column for f in ClaimEvent._meta.concrete_fields} - {"txid"}
    assert set(integrity.CONTENT_COLUMNS) == columns


def test_an_event_changed_behind_the_application_is_named(history):
    submit = history[2]
    as_dba("UPDATE claims_claimevent SET message = %s WHERE id = %s", ["approved", submit.pk])

    message = broken()

    assert message.startswith(f"history broken: content_changed (event {submit.pk}, ")
    assert f"claim {submit.claim_id}, seq 3" in message


def test_a_moved_timestamp_is_a_changed_event(history):
    create = history[3]
    as_dba("UPDATE claims_claimevent SET at = %s WHERE id = %s", [history[0].at, create.pk])

    assert f"content_changed (event {create.pk}," in broken()


def test_a_deleted_event_is_named(history):
    submit = history[5]
    as_dba("DELETE FROM claims_claimevent WHERE id = %s", [submit.pk])

    assert f"event_missing (event {submit.pk}, claim {submit.claim_id}, seq 6)" in broken()


def test_two_events_swapped_are_an_order_change(history):
    poe, submit = history[1], history[2]
    columns = [c for c in integrity.CONTENT_COLUMNS if c != "id"]
    rows = {
        row["id"]: row
        for row in ClaimEvent.objects.filter(pk__in=[poe.pk, submit.pk]).values(
            *integrity.CONTENT_COLUMNS
        )
    }
    assignments = ", ".join(f"{c} = %s" for c in columns)
    for target, source in ((poe.pk, submit.pk), (submit.pk, poe.pk)):
        as_dba(
            f"UPDATE claims_claimevent SET {assignments} WHERE id = %s",  # noqa: S608
            [rows[source][c] for c in columns] + [target],
        )

    message = broken()

    assert f"order_changed (event {poe.pk}, claim {poe.claim_id}, seq 2)" in message
    assert f"is now in event {submit.pk}" in message


def test_a_deleted_seal_is_a_missing_seal(history):
    as_dba("DELETE FROM claims_claimeventseal WHERE seq = 4")

    assert "seal_missing (seq 4): the seals numbered 4 to 4 are gone" in broken()


def test_a_rewritten_seal_breaks_the_chain(history):
    # The DBA edits an event and recomputes its content hash: the chain no longer holds.
    poe = history[1]
    as_dba("UPDATE claims_claimevent SET message = 'x' WHERE id = %s", [poe.pk])
    values = ClaimEvent.objects.filter(pk=poe.pk).values(*integrity.CONTENT_COLUMNS)[0]
    as_dba(
        "UPDATE claims_claimeventseal SET content_hash = %s WHERE seq = 2",
        [integrity.content_hash(values)],
    )

    assert f"seal_changed (event {poe.pk}, claim {poe.claim_id}, seq 2)" in broken()


def test_a_fully_rewritten_chain_fails_its_signed_checkpoint(history):
    # Event, seals and every later link recomputed: only the checkpoint's key is missing.
    poe = history[1]
    as_dba("UPDATE claims_claimevent SET message = 'x' WHERE id = %s", [poe.pk])
    as_dba("DELETE FROM claims_claimeventseal")
    EventCursor.objects.filter(consumer="history_seal").delete()
    assert seal_all() == 6

    assert "checkpoint_off_chain (seq 6)" in broken()


def test_a_forged_checkpoint_signature_is_named(history):
    checkpoint = HistoryCheckpoint.objects.get()
    forged = Signer(key="not-the-key", salt=integrity.SIGNING_SALT).signature(
        f"{checkpoint.seq}:{checkpoint.count}:{checkpoint.head_hash}"
    )
    as_dba("UPDATE claims_historycheckpoint SET signature = %s", [forged])

    assert "checkpoint_forged (seq 6)" in broken()


def test_a_truncated_tail_is_caught_by_the_checkpoint(history):
    as_dba("DELETE FROM claims_claimeventseal WHERE seq > 4")
    as_dba("DELETE FROM claims_claimevent WHERE id IN (%s, %s)", [history[4].pk, history[5].pk])

    assert "vouches for 6 sealed events, only 4 remain" in broken()


def test_a_checkpoint_signed_with_another_key_does_not_verify(history, settings):
    settings.CPOR_HISTORY_KEY = "a-key-kept-elsewhere"

    assert "checkpoint_forged" in broken()


def test_the_checkpoint_job_writes_only_when_the_head_moved(history):
    assert integrity.history_checkpoint() == 0
    submitted_claim()
    seal_all()

    assert integrity.history_checkpoint() == 1
    assert list(HistoryCheckpoint.objects.values_list("seq", "count")) == [(6, 6), (9, 9)]
    assert "2 checkpoints" in verify()


def test_events_not_yet_sealed_are_pending_not_broken(history):
    submitted_claim()

    assert "6 seals, 6 events rehashed, 0 deleted with their drafts, 1 checkpoints, 3 pending" in (
        verify()
    )


def test_a_sealed_draft_can_still_be_deleted_and_the_chain_verifies(history):
    actor = partner_user()
    draft = services.claim_create(actor=actor, data=claim_input(actor, customer_tenant()))
    submitted_claim(actor)
    seal_all()

    services.claim_delete(actor=actor, claim=draft)

    assert "10 seals, 9 events rehashed, 1 deleted with their drafts" in verify()


def test_a_submitted_claim_deleted_behind_the_application_is_caught(history):
    claim_id = history[0].claim_id
    as_dba("DELETE FROM claims_claimevent WHERE claim_id = %s", [claim_id])

    assert f"event_missing (event {history[0].pk}, claim {claim_id}, seq 1)" in broken()


def test_seals_and_checkpoints_refuse_changes(history):
    from django.db import DatabaseError, transaction

    for statement in (
        "UPDATE claims_claimeventseal SET content_hash = 'x'",
        "DELETE FROM claims_claimeventseal",
        "UPDATE claims_historycheckpoint SET head_hash = 'x'",
        "DELETE FROM claims_historycheckpoint",
    ):
        with (
            pytest.raises(DatabaseError, match="history_immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


def test_an_event_older_than_the_last_seal_without_a_seal_is_caught(history):
    # Inserted behind the sealer: placed before the sealed head in the consumers' order.
    submit = history[2]
    as_dba(
        "INSERT INTO claims_claimevent (claim_id, action, from_status, to_status, reason_code, "
        "message, internal, shared, actor_label, at, txid) "
        "VALUES (%s, %s, '', '', '', 'backdated', FALSE, FALSE, '', %s, %s)",
        [submit.claim_id, EventAction.NOTE, submit.at, -1],
    )
    inserted = ClaimEvent.objects.get(message="backdated")

    assert f"seal_missing (event {inserted.pk}, claim {submit.claim_id})" in broken()


def test_verification_streams_in_constant_memory(django_capture_on_commit_callbacks):
    """Over 20,000 generated events are sealed as generated and verified chunk by chunk:
    the peak of Python memory stays far below what holding the rows would take."""
    from cpor.web.demo import generate_claims

    with django_capture_on_commit_callbacks(execute=True):
        generate_claims(6500, seed=14)
    events = ClaimEvent.objects.count()
    assert events >= 20000
    # A request seals a few batches after its commit; the sweep seals the rest.
    assert 0 < ClaimEventSeal.objects.count() < events
    consumers.consume_all()
    assert ClaimEventSeal.objects.count() == events  # generated history is sealed too

    tracemalloc.start()
    try:
        result = integrity.history_verify(chunk_size=500)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.broken is None
    assert result.events == events
    # Every row held at once would be ~20 Python objects times 20,000 rows: well over 10 MB.
    assert peak < 3 * 1024 * 1024
