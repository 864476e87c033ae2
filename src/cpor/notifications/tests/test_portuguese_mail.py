"""A recipient whose language is Portuguese reads the whole e-mail in Portuguese, dates
in the Portuguese format, through the real path: history event, outbox, SMTP."""

import re

import pytest
from django.utils import translation
from django.utils.formats import date_format

from cpor.claims import services
from cpor.notifications.tests.smtp import parts
from cpor.testing.events import deliver_events
from cpor.testing.factories import UserFactory, partner_user, submitted_claim

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _request_info_mail(smtp_server, reviewer, tenant, language):
    partner = partner_user()
    contact = UserFactory(email=f"rita.{language}@partner.example", language=language)
    claim = submitted_claim(partner, tenant, partner_contact_email=contact.email)
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="Falta o SoW."
    )
    claim.refresh_from_db()
    deliver_events()
    # The submission notice comes first; the request for information is the last one.
    received = smtp_server.to(contact.email)[-1]
    return claim, received


@pytest.mark.django_db
def test_a_portuguese_recipient_gets_subject_and_both_bodies_in_portuguese(
    smtp_server, reviewer, tenant
):
    claim, received = _request_info_mail(smtp_server, reviewer, tenant, "pt-pt")
    text, html = parts(received)

    assert received["Content-Language"] == "pt-pt"
    assert "Pedidas mais informações" in str(received["Subject"])
    for body in (text, html):
        assert "Olá" in body
        assert "Reclamação" in body and "Reclamar" not in body  # the noun, not the verb
        assert "Responder até" in body
        assert "Abrir a reclamação" in body
        for english in ("Hello", "Answer by", "Open the claim", "Information requested"):
            assert english not in body
    with translation.override("pt-pt"):
        due = date_format(claim.info_requested_until.date())
    assert " de " in due and due in text and due in html
    assert not ISO_DAY.search(text) and not ISO_DAY.search(html)


@pytest.mark.django_db
def test_an_english_recipient_gets_the_english_date_format(smtp_server, reviewer, tenant):
    claim, received = _request_info_mail(smtp_server, reviewer, tenant, "en")
    text, html = parts(received)
    with translation.override("en"):
        due = date_format(claim.info_requested_until.date())
    assert "Answer by: " + due in text and due in html
    assert not ISO_DAY.search(text) and not ISO_DAY.search(html)
