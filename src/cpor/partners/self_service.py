"""The partner admin's own writes (the Organisation area): invite users, change their
role, deactivate and reactivate them, add PartnerIDs for the program to verify; and the
program's verification decision. Each change writes its audit row in its transaction.

Changes to an organisation's people lock the organisation row first, so two admins
demoting each other at the same moment cannot leave it with no partner admin."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.claims.permissions import require_program_admin
from cpor.errors import DomainError, PermissionDenied
from cpor.partners.models import (
    LocationVerification,
    Membership,
    PartnerLocation,
    PartnerOrganisation,
    PartnerRoleName,
)
from cpor.partners.services import AdminInput, LocationInput, _location, _new_invited_user


def require_partner_admin(actor: User | None) -> Membership:
    """The actor's membership if they are an active partner admin of an active partner."""
    membership = None
    if actor is not None and actor.is_authenticated and actor.is_active:
        membership = Membership.objects.select_related("organisation").filter(user=actor).first()
    if (
        membership is None
        or membership.role != PartnerRoleName.PARTNER_ADMIN
        or not membership.organisation.active
    ):
        raise PermissionDenied(_("Only a partner admin of the organisation can do this."))
    return membership


def _lock_organisation(actor: User) -> Membership:
    membership = require_partner_admin(actor)
    PartnerOrganisation.objects.select_for_update().get(pk=membership.organisation_id)
    return membership


def _member_in(membership: Membership, member_pk: int) -> Membership:
    """A member of the admin's own organisation; any other user does not exist for them."""
    target = (
        Membership.objects.select_related("user")
        .filter(pk=member_pk, organisation_id=membership.organisation_id)
        .first()
    )
    if target is None:
        raise DomainError("not_found", _("No such user in your organisation."), field="member")
    return target


def _other_active_admins(target: Membership) -> int:
    return (
        Membership.objects.filter(
            organisation_id=target.organisation_id,
            role=PartnerRoleName.PARTNER_ADMIN,
            user__is_active=True,
        )
        .exclude(pk=target.pk)
        .count()
    )


def _member_state(target: Membership) -> dict:
    return {"email": target.user.email, "role": target.role, "active": target.user.is_active}


@transaction.atomic
def member_invite(*, actor: User, admin: AdminInput, role: str) -> Membership:
    """Invite a person by e-mail into the actor's organisation with ``role``."""
    membership = _lock_organisation(actor)
    if role not in PartnerRoleName.values:
        raise DomainError("invalid_role", _("Choose a role from the list."), field="role")
    user = _new_invited_user(
        organisation=membership.organisation, admin=admin, role=role, invited_by=actor
    )
    target = user.partner_membership
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_INVITED,
        organisation=membership.organisation,
        target=target.user,
        target_label=user.email,
        after=_member_state(target),
    )
    return target


@transaction.atomic
def member_set_role(*, actor: User, member_pk: int, role: str) -> Membership:
    """Change a member's role; an organisation always keeps an active partner admin."""
    membership = _lock_organisation(actor)
    target = _member_in(membership, member_pk)
    if role not in PartnerRoleName.values:
        raise DomainError("invalid_role", _("Choose a role from the list."), field="role")
    if role == target.role:
        return target
    if (
        target.role == PartnerRoleName.PARTNER_ADMIN
        and target.user.is_active
        and _other_active_admins(target) == 0
    ):
        raise DomainError(
            "last_partner_admin",
            _(
                "%s is the organisation's only active partner admin: "
                "make someone else partner admin first."
            )
            % target.user.email,
            field="role",
        )
    before = _member_state(target)
    target.role = role
    target.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        organisation=membership.organisation,
        target=target.user,
        target_label=target.user.email,
        before=before,
        after=_member_state(target),
    )
    return target


@transaction.atomic
def member_set_active(*, actor: User, member_pk: int, active: bool) -> Membership:
    """Deactivate a member (they can no longer sign in or use their API tokens), or
    reactivate them. Nobody deactivates themselves, nor the last active partner admin."""
    membership = _lock_organisation(actor)
    target = _member_in(membership, member_pk)
    if target.user.is_active == active:
        return target
    if not active and target.user_id == actor.pk:
        raise DomainError(
            "deactivate_self",
            _("You cannot deactivate yourself: ask another partner admin."),
            field="member",
        )
    if (
        not active
        and target.role == PartnerRoleName.PARTNER_ADMIN
        and _other_active_admins(target) == 0
    ):
        raise DomainError(
            "last_partner_admin",
            _("%s is the organisation's only active partner admin.") % target.user.email,
            field="member",
        )
    before = _member_state(target)
    User.objects.filter(pk=target.user_id).update(is_active=active)
    target.user.is_active = active
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_REACTIVATED if active else AuditAction.MEMBER_DEACTIVATED,
        organisation=membership.organisation,
        target=target.user,
        target_label=target.user.email,
        before=before,
        after=_member_state(target),
    )
    return target


def _location_state(location: PartnerLocation) -> dict:
    return {
        "partner_id": location.partner_id,
        "name": location.name,
        "country": location.country,
        "verification": location.verification,
    }


@transaction.atomic
def location_request(*, actor: User, location: LocationInput) -> PartnerLocation:
    """A partner admin adds a PartnerID; it awaits the program's verification."""
    membership = _lock_organisation(actor)
    added = _location(
        membership.organisation,
        location,
        verification=LocationVerification.PENDING,
        requested_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LOCATION_REQUESTED,
        organisation=membership.organisation,
        target=added,
        after=_location_state(added),
    )
    return added


@transaction.atomic
def location_decide(
    *, actor: User, location_pk: int, verify: bool, note: str = ""
) -> PartnerLocation:
    """The program verifies a pending PartnerID (claims may use it) or refuses it, with a
    reason the partner sees."""
    require_program_admin(actor)
    location = PartnerLocation.objects.select_for_update().filter(pk=location_pk).first()
    if location is None:
        raise DomainError("not_found", _("No such location."), field="location")
    if location.verification != LocationVerification.PENDING:
        raise DomainError(
            "illegal_transition",
            _("PartnerID %(id)s is already %(state)s.")
            % {"id": location.partner_id, "state": location.get_verification_display().lower()},
            field="verification",
        )
    note = (note or "").strip()
    if not verify and not note:
        raise DomainError("required", _("Say why the PartnerID is refused."), field="note")
    before = _location_state(location)
    location.verification = (
        LocationVerification.VERIFIED if verify else LocationVerification.REFUSED
    )
    location.decided_by = actor
    location.decided_at = timezone.now()
    location.decision_note = note[:500]
    location.save(update_fields=["verification", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.LOCATION_VERIFIED if verify else AuditAction.LOCATION_REFUSED,
        organisation=location.organisation_id,
        target=location,
        before=before,
        after={**_location_state(location), "note": location.decision_note},
    )
    return location
