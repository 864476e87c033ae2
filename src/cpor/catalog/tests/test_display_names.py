"""Catalog entries carry their own pt-PT wording: pages and e-mails show the one of the
reader's language, the seeded rows come translated, and codes stay as they are."""

import pytest
from django.urls import reverse

from cpor.catalog import services
from cpor.catalog.models import OutOfScopeProgram
from cpor.notifications.models import OutboxMessage
from cpor.testing.events import consume_events, rendered
from cpor.testing.factories import operator_user, role, submitted_claim

pytestmark = pytest.mark.django_db


def test_the_seeded_catalog_reads_in_portuguese():
    use = role("use_or_consume")
    assert use.name == "Use or consume" and use.code == "use_or_consume"
    assert use.name_pt == "Usar ou consumir"
    assert use.solution_area.name_pt == "Trabalho Moderno e Segurança"
    assert use.engagement.name_pt == "Utilização de Trabalho Moderno e Segurança"
    csp = OutOfScopeProgram.objects.get(code="csp")
    assert csp.name_pt == "Fornecedor de Soluções Cloud (CSP)"
    assert "co-op" in csp.message_pt and "Fornecedor de Soluções Cloud" in csp.message_pt


def test_a_portuguese_reviewer_reads_the_claims_catalog_names_in_portuguese(client, reviewer):
    claim = submitted_claim()
    reviewer.language = "pt-pt"
    reviewer.save(update_fields=["language"])
    client.force_login(reviewer)

    body = client.get(reverse("review:claim", args=[claim.pk])).content.decode()

    assert "Usar ou consumir" in body
    assert "Utilização de Trabalho Moderno e Segurança" in body
    assert "Modern Work and Security" not in body and "Use or consume" not in body


def test_the_customer_request_names_the_role_in_the_recipients_language():
    submitted_claim()
    consume_events()
    message = OutboxMessage.objects.filter(template="customer_request").first()

    message.language = "pt-pt"
    portuguese = rendered(message)
    message.language = "en"
    english = rendered(message)

    assert "Usar ou consumir (Utilização de Trabalho Moderno e Segurança)" in portuguese.body_text
    assert "Use or consume (Modern Work and Security Usage)" in english.body_text


def test_a_program_admin_gives_an_edited_entry_its_portuguese_name(client):
    admin = operator_user("program_admin")
    use = role("use_or_consume")
    services.partner_role_update(
        actor=admin, role=use, values={"name_pt": "Utilizar ou consumir", "help_text_pt": "Ajuda."}
    )
    admin.language = "pt-pt"
    admin.save(update_fields=["language"])
    client.force_login(admin)

    body = client.get(reverse("review:catalog")).content.decode()

    assert "Utilizar ou consumir" in body and "Ajuda." in body
    assert "Use or consume" not in body


def test_the_review_queue_and_analytics_name_the_catalog_in_portuguese(client, reviewer):
    from cpor.claims import services as claims

    claims.claim_approve(actor=operator_user(), claim=submitted_claim())
    reviewer.language = "pt-pt"
    reviewer.save(update_fields=["language"])
    client.force_login(reviewer)

    for url in (reverse("review:queue"), "/review/analytics/"):
        body = client.get(url).content.decode()
        assert "Trabalho Moderno e Segurança" in body, url
        assert "Modern Work and Security" not in body, url


def test_the_claims_csv_names_the_role_as_its_reader_reads_it(client, partner):
    use = role("use_or_consume")
    use.name_pt = "Utilizar ou consumir"
    use.save(update_fields=["name_pt"])
    submitted_claim(partner)
    partner.language = "pt-pt"
    partner.save(update_fields=["language"])
    client.force_login(partner)

    response = client.get(reverse("claims:export"))
    body = b"".join(response.streaming_content).decode()

    assert "Utilizar ou consumir" in body and "Trabalho Moderno e Segurança" in body
