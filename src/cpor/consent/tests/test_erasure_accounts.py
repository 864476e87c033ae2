"""``manage.py erase_contact EMAIL`` also reaches the person's own CPOR user account and
the PoE signatory fields naming them, the history still verifies, and the erasure is in
the audit trail."""

import pytest
from django.contrib.auth import authenticate

from cpor.accounts.models import User
from cpor.audit.models import AuditAction, AuditEntry
from cpor.claims import integrity
from cpor.claims.models import ProofOfExecution
from cpor.claims.tests.test_integrity import seal_all
from cpor.consent.tests.test_erasure import erase, tables_quoting, verify
from cpor.testing.events import deliver_events
from cpor.testing.factories import PASSWORD, customer_tenant, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    partner = partner_user()
    partner.first_name, partner.last_name = "Rita", "Gomes"
    partner.save()
    tenant = customer_tenant()
    claim = submitted_claim(
        partner,
        tenant,
        partner_contact_email=partner.email,
        partner_contact_name="Rita Gomes",
    )
    deliver_events()
    seal_all()
    integrity.history_checkpoint()
    return {"partner": partner, "claim": claim, "customer": f"ana@{tenant.domains.first().domain}"}


def test_the_persons_user_account_is_pseudonymised_and_deactivated(history):
    partner = history["partner"]
    assert authenticate(username=partner.email, password=PASSWORD) is not None

    erase(partner.email, "--by", "DPO")

    user = User.objects.get(pk=partner.pk)
    assert user.email.endswith("@erased.invalid") and user.username == user.email
    assert (user.first_name, user.last_name) == ("[erased]", "")
    assert not user.is_active and not user.has_usable_password()
    assert tables_quoting(partner.email) == {}
    assert tables_quoting("Rita Gomes") == {}
    assert user.partner_membership.organisation == partner.partner_membership.organisation
    assert authenticate(username=partner.email, password=PASSWORD) is None


def test_the_poe_signatory_naming_the_person_is_pseudonymised(history):
    proof = ProofOfExecution.objects.get(claim=history["claim"])
    assert proof.signatory == "Ana Silva, CIO"

    erase(history["customer"], "--by", "DPO")

    proof.refresh_from_db()
    assert proof.signatory == "[erased], CIO"
    assert tables_quoting("Ana Silva") == {}
    assert proof.sha256  # the customer's evidence itself stays


def test_history_verifies_and_the_erasure_is_audited(history):
    erase(history["partner"].email, "--by", "DPO")
    erase(history["customer"], "--by", "DPO")

    assert "with personal data erased" in verify()
    seal_all()
    result = integrity.history_verify()
    assert result.broken is None and result.pending == 0
    entries = AuditEntry.objects.filter(action=AuditAction.CONTACT_ERASED)
    assert entries.count() == 2
    assert all(entry.after["requested_by"] == "DPO" for entry in entries)
    assert all(entry.target_label.endswith("@erased.invalid") for entry in entries)
