"""A partner admin linking or unlinking identity provider tenants and e-mail domains is
in the audit trail, readable by the partner admin and the program."""

import uuid

import pytest

from cpor.accounts.services import SignOnInput, sign_on_update
from cpor.audit.models import AuditAction, AuditEntry
from cpor.audit.selectors import audit_list
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import UserFactory, partner_user

pytestmark = pytest.mark.django_db


def test_linking_and_unlinking_are_audited_with_before_and_after():
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    tenant = str(uuid.uuid4())

    sign_on_update(
        actor=admin,
        data=SignOnInput(
            tenant_ids=[tenant], domains=["contoso.example"], invite_only=True, sso_required=False
        ),
    )
    sign_on_update(
        actor=admin,
        data=SignOnInput(
            tenant_ids=[], domains=["contoso.example"], invite_only=True, sso_required=False
        ),
    )
    # Saving the same settings again changes nothing and writes nothing.
    sign_on_update(
        actor=admin,
        data=SignOnInput(
            tenant_ids=[], domains=["contoso.example"], invite_only=True, sso_required=False
        ),
    )

    linked, unlinked = AuditEntry.objects.filter(action=AuditAction.SSO_LINKS_CHANGED).order_by(
        "id"
    )
    assert AuditEntry.objects.filter(action=AuditAction.SSO_LINKS_CHANGED).count() == 2
    assert linked.actor == admin and linked.organisation == organisation
    assert linked.before["tenant_ids"] == [] and linked.after["tenant_ids"] == [tenant]
    assert linked.after["domains"] == ["contoso.example"] and linked.after["invite_only"]
    assert unlinked.before["tenant_ids"] == [tenant] and unlinked.after["tenant_ids"] == []
    for reader in (admin, UserFactory(operator_role="program_admin")):
        assert audit_list(actor=reader).filter(action=AuditAction.SSO_LINKS_CHANGED).count() == 2
    stranger = partner_user(PartnerRoleName.PARTNER_ADMIN)
    assert not audit_list(actor=stranger).filter(action=AuditAction.SSO_LINKS_CHANGED).exists()
