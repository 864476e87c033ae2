"""System-written history messages read in the reader's language, whatever language was
active when they were written; what a person wrote shows as written. The sealed
``message`` itself never changes."""

import pytest
from django.urls import reverse
from django.utils import translation

from cpor.claims.history_text import history_message
from cpor.claims.models import EventAction
from cpor.testing.factories import submitted_claim

pytestmark = pytest.mark.django_db

LEGACY_EN = (
    "Legacy association imported from CRM export (associated on 2025-03-01). It lasts until "
    "subscription 6f1c-22 ends on 2027-01-31; claim the subscription again to stay partner "
    "of record after that."
)


def test_a_system_message_written_in_english_reads_in_portuguese():
    with translation.override("pt-pt"):
        legacy = history_message(LEGACY_EN)
        superseded = history_message("Superseded by a claim with more recent PoE.")
        replaced = history_message("Replaced by the partner's approved claim #42.")
    assert legacy.startswith("Associação legada importada de CRM export (associada em 2025-03-01)")
    assert "6f1c-22" in legacy and "2027-01-31" in legacy
    assert superseded == "Substituída por uma reclamação com PoE mais recente."
    assert replaced == "Substituída pela reclamação aprovada do parceiro n.º 42."


def test_a_message_written_in_portuguese_reads_in_english():
    with translation.override("pt-pt"):
        portuguese = history_message(LEGACY_EN)
    with translation.override("en"):
        assert history_message(portuguese) == LEGACY_EN


def test_what_a_person_wrote_shows_as_written():
    with translation.override("pt-pt"):
        assert history_message("Please add the SoW.") == "Please add the SoW."


def test_a_portuguese_partner_reads_the_poe_event_in_portuguese(client, partner):
    with translation.override("en"):
        claim = submitted_claim(partner)
    event = claim.events.get(action=EventAction.ADD_POE)
    assert event.message.startswith("Statement of work signed by the customer signed on")
    partner.language = "pt-pt"
    partner.save(update_fields=["language"])
    client.force_login(partner)

    body = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()

    assert "Declaração de trabalho assinada pelo cliente" in body
    assert "Statement of work signed" not in body
    event.refresh_from_db()
    assert event.message.startswith("Statement of work signed by the customer")  # as sealed


def test_an_associations_end_message_reads_in_the_readers_language():
    from cpor.claims.models import Association

    ended = Association(end_message="Replaced by the partner's approved claim #7.")
    with translation.override("pt-pt"):
        assert (
            ended.display_end_message == "Substituída pela reclamação aprovada do parceiro n.º 7."
        )
    assert ended.end_message == "Replaced by the partner's approved claim #7."
