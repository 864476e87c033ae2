"""The mail log shows each e-mail as it was sent, in its recipient's language, and says
which language that is (``lang``), so a Portuguese reader's page marks an English
subject as English rather than passing it off as untranslated interface text."""

import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.notifications.models import MessageKind, OutboxMessage
from cpor.testing.factories import operator_user

pytestmark = pytest.mark.django_db


def test_a_sent_subject_carries_its_recipients_language(client):
    message = OutboxMessage.objects.create(
        kind=MessageKind.EMAIL,
        dedupe_key="claim-event:1:partner",
        recipient="ana@partner.example",
        language="en",
        subject="Association declined by the customer",
        body_text="Hello Ana,",
    )
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    admin.language = "pt-pt"
    admin.save(update_fields=["language"])
    client.force_login(admin)

    log = client.get(reverse("notifications:mail_log")).content.decode()
    detail = client.get(reverse("notifications:message_detail", args=[message.pk]))

    assert '<td lang="en"><a href="' in log and "Association declined by the customer" in log
    assert '<h1 class="h4" lang="en">Association declined by the customer</h1>' in (
        detail.content.decode()
    )
    assert '<html lang="pt-pt"' in log
