"""``rowwrite`` writes the rows ``save`` writes, and refuses what it cannot do as ``save``."""

import datetime

import pytest
from django.db import DatabaseError
from django.db.models.signals import post_save
from django.test.utils import isolate_apps
from django.utils import timezone

from cpor import rowwrite
from cpor.claims.models import Association, AssociationStatus, Claim, ClaimEvent, EventAction
from cpor.errors import DomainError
from cpor.notifications.models import MessageKind, OutboxMessage
from cpor.testing.factories import operator_user, submitted_claim

pytestmark = pytest.mark.django_db


def _stored(model, pk, *, without=("id",)):
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in without}


def _event(claim, actor, **fields):
    return ClaimEvent(
        claim=claim,
        action=EventAction.NOTE,
        actor=actor,
        message="Checked the PoE",
        internal=True,
        at=timezone.now(),
        **fields,
    )


def test_an_event_inserted_is_the_row_save_writes():
    claim, actor = submitted_claim(), operator_user()
    saved, inserted = _event(claim, actor), _event(claim, actor)
    inserted.at = saved.at
    saved.save()
    rowwrite.insert(inserted)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    # The columns the database fills (db_default) come back as save gives them.
    assert inserted.txid == ClaimEvent.objects.get(pk=inserted.pk).txid
    assert inserted.shared is False
    assert _stored(ClaimEvent, inserted.pk, without=("id", "txid")) == _stored(
        ClaimEvent, saved.pk, without=("id", "txid")
    )


def _association(claim, now):
    line = claim.lines.get()
    return dict(
        claim=claim,
        line=line,
        organisation_id=claim.organisation_id,
        tenant_id=claim.tenant_id,
        product_id=line.product_id,
        status=AssociationStatus.PENDING_CUSTOMER,
        approved_at=now,
        notice_ends_at=now + datetime.timedelta(days=7),
    )


def test_an_association_inserted_is_the_row_save_writes():
    fields = _association(submitted_claim(), timezone.now())
    inserted = Association(**fields)
    rowwrite.insert(inserted)
    expected = _stored(Association, inserted.pk)
    Association.objects.filter(pk=inserted.pk).delete()
    saved = Association.objects.create(**fields)

    assert _stored(Association, saved.pk) == expected
    assert inserted.legacy is False  # db_default, given back


def test_a_row_with_a_primary_key_is_not_inserted_again():
    event = _event(submitted_claim(), operator_user())
    event.save()
    with pytest.raises(ValueError, match="new rows"):
        rowwrite.insert(event)


def test_an_update_writes_only_the_fields_named():
    claim = Claim.objects.get(pk=submitted_claim().pk)
    before = _stored(Claim, claim.pk)
    claim.comments = "not written"
    claim.decided_at = decided = timezone.now()
    rowwrite.update(claim, ["decided_at"])

    after = _stored(Claim, claim.pk)
    assert after["decided_at"] == decided
    assert after["comments"] == before["comments"] != "not written"
    assert {k: v for k, v in after.items() if k != "decided_at"} == {
        k: v for k, v in before.items() if k != "decided_at"
    }


def test_an_update_of_a_row_gone_fails_as_save_does():
    association = Association.objects.create(**_association(submitted_claim(), timezone.now()))
    Association.objects.filter(pk=association.pk).delete()
    association.end_message = "Ended"
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        rowwrite.update(association, ["end_message"])


def test_a_model_whose_saves_are_listened_to_is_refused():
    def heard(**kwargs):
        pass

    post_save.connect(heard, sender=ClaimEvent)
    try:
        with pytest.raises(TypeError, match="listened to"):
            rowwrite.insert(_event(submitted_claim(), operator_user()))
    finally:
        post_save.disconnect(heard, sender=ClaimEvent)
    assert not ClaimEvent.objects.filter(action=EventAction.NOTE).exists()


def test_a_claims_fields_saved_by_statement_still_refuse_frozen_changes():
    claim = Claim.objects.get(pk=submitted_claim().pk)
    claim.customer_contact_email = "someone.else@example.com"  # recorded at submission
    claim.decided_at = timezone.now()
    with pytest.raises(DomainError) as refused:
        claim.save_fields(["decided_at"])
    assert refused.value.code == "claim_frozen"
    assert Claim.objects.get(pk=claim.pk).decided_at is None


@isolate_apps("cpor.claims")
def test_a_model_whose_row_spans_tables_is_refused():
    class Child(Claim):  # multi-table inheritance: save() writes a row in each table
        class Meta:
            app_label = "claims"

    with pytest.raises(TypeError, match="child of another model"):
        rowwrite.insert(Child(name="x"))


def _webhook(key: str, recipient: str = "https://hooks.partner.example/cpor") -> OutboxMessage:
    return OutboxMessage(
        kind=MessageKind.WEBHOOK, dedupe_key=key, recipient=recipient, payload={"n": key}
    )


def test_insert_new_writes_each_unique_value_once_in_any_chunk(monkeypatch):
    monkeypatch.setattr(rowwrite, "ROWS_PER_STATEMENT", 2)  # chunks of 2, and a last of 1
    rowwrite.insert_new([_webhook("a")], unique="dedupe_key")
    given = [_webhook("b"), _webhook("a"), _webhook("c"), _webhook("c", "https://x"), _webhook("d")]

    inserted = rowwrite.insert_new(given, unique="dedupe_key")

    assert [m.dedupe_key for m in inserted] == ["b", "c", "d"]  # in the order given
    assert inserted[1] is given[2]  # a value twice: the first one is written
    stored = {m.dedupe_key: m for m in OutboxMessage.objects.all()}
    assert sorted(stored) == ["a", "b", "c", "d"]
    assert stored["c"].recipient == "https://hooks.partner.example/cpor"
    assert all(stored[m.dedupe_key].pk == m.pk and not m._state.adding for m in inserted)
    assert given[1].pk is None and given[1]._state.adding  # taken already: not written
