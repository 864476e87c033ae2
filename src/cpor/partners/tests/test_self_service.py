"""The partner admin's Organisation area: users, roles, deactivation, PartnerIDs and the
program's verification, each change in the audit trail."""

import pytest

from cpor.audit.models import AuditAction, AuditEntry
from cpor.claims import services as claim_services
from cpor.errors import DomainError, PermissionDenied
from cpor.notifications.models import OutboxMessage
from cpor.partners import self_service
from cpor.partners.models import LocationVerification, Membership, PartnerRoleName
from cpor.partners.services import AdminInput, LocationInput
from cpor.testing.factories import claim_input, customer_tenant, partner_user

pytestmark = pytest.mark.django_db


def invite(actor, email="new@partner.example", role=PartnerRoleName.INCENTIVES_USER):
    return self_service.member_invite(
        actor=actor, admin=AdminInput(email, "Nova", "Pessoa", "pt-pt"), role=role
    )


def test_partner_admin_invites_a_user_with_a_role_and_the_invitation_is_queued(org):
    member = invite(org["partner_admin"], role=PartnerRoleName.INCENTIVES_ADMIN)
    assert member.organisation == org["organisation"]
    assert member.role == PartnerRoleName.INCENTIVES_ADMIN
    assert not member.user.has_usable_password()
    message = OutboxMessage.objects.get(recipient="new@partner.example")
    assert "Nova Pessoa" in message.body_text
    assert "Administrador de incentivos" in message.body_text  # in the invitee's language
    entry = AuditEntry.objects.get(action=AuditAction.MEMBER_INVITED)
    assert entry.actor == org["partner_admin"]
    assert entry.organisation == org["organisation"]
    assert entry.after == {
        "email": "new@partner.example",
        "role": "incentives_admin",
        "active": True,
    }


def test_inviting_an_existing_address_is_refused_on_the_email_field(org):
    with pytest.raises(DomainError) as refused:
        invite(org["partner_admin"], email=org["other_admin"].email.upper())
    assert (refused.value.code, refused.value.field) == ("user_exists", "email")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "role", ["incentives_admin", "incentives_user", "reviewer", "program_admin"]
)
def test_only_a_partner_admin_manages_users(org, role):
    with pytest.raises(PermissionDenied):
        invite(org[role])
    with pytest.raises(PermissionDenied):
        self_service.member_set_role(
            actor=org[role],
            member_pk=org["incentives_user"].partner_membership.pk,
            role="partner_admin",
        )


def test_role_change_is_audited_with_before_and_after(org):
    target = org["incentives_user"].partner_membership
    self_service.member_set_role(
        actor=org["partner_admin"], member_pk=target.pk, role=PartnerRoleName.INCENTIVES_ADMIN
    )
    target.refresh_from_db()
    assert target.role == PartnerRoleName.INCENTIVES_ADMIN
    entry = AuditEntry.objects.get(action=AuditAction.MEMBER_ROLE_CHANGED)
    assert entry.before["role"] == "incentives_user"
    assert entry.after["role"] == "incentives_admin"


def test_the_last_partner_admin_cannot_demote_themselves(org):
    admin = org["partner_admin"]
    with pytest.raises(DomainError) as refused:
        self_service.member_set_role(
            actor=admin, member_pk=admin.partner_membership.pk, role=PartnerRoleName.INCENTIVES_USER
        )
    assert (refused.value.code, refused.value.field) == ("last_partner_admin", "role")
    assert Membership.objects.get(user=admin).role == PartnerRoleName.PARTNER_ADMIN


def test_an_admin_may_step_down_once_another_active_admin_exists(org):
    admin = org["partner_admin"]
    colleague = org["incentives_admin"].partner_membership
    self_service.member_set_role(actor=admin, member_pk=colleague.pk, role="partner_admin")
    self_service.member_set_role(
        actor=admin, member_pk=admin.partner_membership.pk, role="incentives_admin"
    )
    assert Membership.objects.get(user=admin).role == "incentives_admin"
    # The new admin cannot now step down: they are the only one left.
    with pytest.raises(DomainError, match="only active partner admin"):
        self_service.member_set_role(
            actor=org["incentives_admin"], member_pk=colleague.pk, role="incentives_user"
        )


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(org):
    admin = org["partner_admin"]
    second = partner_user(PartnerRoleName.PARTNER_ADMIN, org["organisation"])
    self_service.member_set_active(
        actor=admin, member_pk=second.partner_membership.pk, active=False
    )
    with pytest.raises(DomainError) as refused:
        self_service.member_set_role(
            actor=admin, member_pk=admin.partner_membership.pk, role="incentives_user"
        )
    assert refused.value.code == "last_partner_admin"


def test_nobody_deactivates_themselves(org):
    admin = org["partner_admin"]
    partner_user(PartnerRoleName.PARTNER_ADMIN, org["organisation"])
    with pytest.raises(DomainError) as refused:
        self_service.member_set_active(
            actor=admin, member_pk=admin.partner_membership.pk, active=False
        )
    assert refused.value.code == "deactivate_self"
    admin.refresh_from_db()
    assert admin.is_active


def test_deactivated_user_can_no_longer_sign_in_or_use_a_token(org, client):
    from rest_framework.test import APIClient

    from cpor.api.services import api_token_create

    user = org["incentives_admin"]
    _row, token = api_token_create(actor=user, name="CRM")
    self_service.member_set_active(
        actor=org["partner_admin"], member_pk=user.partner_membership.pk, active=False
    )
    user.refresh_from_db()
    assert not user.is_active
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/claims/").status_code == 401
    assert AuditEntry.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).count() == 1
    self_service.member_set_active(
        actor=org["partner_admin"], member_pk=user.partner_membership.pk, active=True
    )
    assert api.get("/api/v1/claims/").status_code == 200


def test_a_member_of_another_organisation_does_not_exist_for_the_admin(org):
    stranger = org["other_admin"].partner_membership
    for call in (
        lambda: self_service.member_set_role(
            actor=org["partner_admin"], member_pk=stranger.pk, role="incentives_user"
        ),
        lambda: self_service.member_set_active(
            actor=org["partner_admin"], member_pk=stranger.pk, active=False
        ),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "not_found"
    stranger.refresh_from_db()
    assert stranger.role == PartnerRoleName.PARTNER_ADMIN
    assert stranger.user.is_active


# ---------------------------------------------------------------------------
# PartnerIDs


def test_a_partner_id_added_by_the_partner_waits_for_verification_and_cannot_be_claimed(org):
    location = self_service.location_request(
        actor=org["partner_admin"], location=LocationInput("98765432", "Porto office", "pt")
    )
    assert location.verification == LocationVerification.PENDING
    assert location.country == "PT"
    tenant = customer_tenant()
    with pytest.raises(DomainError) as refused:
        claim_services.claim_create(
            actor=org["incentives_admin"],
            data=claim_input(org["incentives_admin"], tenant, partner_id="98765432"),
        )
    errors = {error.code: error for error in refused.value.errors}
    assert errors["partner_id_unverified"].field == "partner_id"
    assert "awaits the program's verification" in errors["partner_id_unverified"].message


def test_program_verifies_a_partner_id_and_it_can_then_be_claimed_with(org):
    location = self_service.location_request(
        actor=org["partner_admin"], location=LocationInput("98765432", "Porto office", "PT")
    )
    self_service.location_decide(actor=org["program_admin"], location_pk=location.pk, verify=True)
    location.refresh_from_db()
    assert location.is_verified
    assert location.decided_by == org["program_admin"]
    claim = claim_services.claim_create(
        actor=org["incentives_admin"],
        data=claim_input(org["incentives_admin"], customer_tenant(), partner_id="98765432"),
    )
    assert claim.location == location
    actions = list(
        AuditEntry.objects.filter(organisation=org["organisation"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.LOCATION_REQUESTED, AuditAction.LOCATION_VERIFIED]


def test_refusing_a_partner_id_needs_a_reason_and_the_refused_id_stays_unusable(org):
    location = self_service.location_request(
        actor=org["partner_admin"], location=LocationInput("98765432", "Porto office", "PT")
    )
    with pytest.raises(DomainError) as refused:
        self_service.location_decide(
            actor=org["program_admin"], location_pk=location.pk, verify=False
        )
    assert (refused.value.code, refused.value.field) == ("required", "note")
    self_service.location_decide(
        actor=org["program_admin"], location_pk=location.pk, verify=False, note="Not your MPN"
    )
    with pytest.raises(DomainError) as twice:
        self_service.location_decide(
            actor=org["program_admin"], location_pk=location.pk, verify=True
        )
    assert twice.value.code == "illegal_transition"
    with pytest.raises(DomainError) as claimed:
        claim_services.claim_create(
            actor=org["incentives_admin"],
            data=claim_input(org["incentives_admin"], customer_tenant(), partner_id="98765432"),
        )
    assert "partner_id_refused" in {error.code for error in claimed.value.errors}
    entry = AuditEntry.objects.get(action=AuditAction.LOCATION_REFUSED)
    assert entry.after["note"] == "Not your MPN"
    assert entry.organisation == org["organisation"]


@pytest.mark.parametrize("role", ["reviewer", "partner_admin", "incentives_admin"])
def test_only_program_admins_decide_partner_ids(org, role):
    location = self_service.location_request(
        actor=org["partner_admin"], location=LocationInput("98765432", "Porto office", "PT")
    )
    with pytest.raises(PermissionDenied):
        self_service.location_decide(actor=org[role], location_pk=location.pk, verify=True)


def test_a_partner_id_taken_by_another_organisation_is_refused(org):
    taken = org["other_admin"].partner_membership.organisation.locations.first().partner_id
    with pytest.raises(DomainError) as refused:
        self_service.location_request(
            actor=org["partner_admin"], location=LocationInput(taken, "Copy", "PT")
        )
    assert (refused.value.code, refused.value.field) == ("partner_id_taken", "partner_id")


def test_seeded_locations_count_as_verified(org):
    location = org["organisation"].locations.get()
    assert location.verification == LocationVerification.VERIFIED
