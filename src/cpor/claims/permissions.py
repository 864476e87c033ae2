"""Who may do what to claims and associations: the one place the UI and API ask."""

from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.accounts.selectors import membership_of
from cpor.errors import PermissionDenied
from cpor.partners.models import Membership, PartnerOrganisation


def partner_membership(actor: User | None) -> Membership | None:
    if actor is None or not actor.is_authenticated:
        return None
    return membership_of(actor)


def can_manage_claims(actor: User | None, organisation: PartnerOrganisation) -> bool:
    """Partner admins and incentives admins of the organisation create, edit, submit,
    withdraw, upload PoE, answer requests and disassociate."""
    membership = partner_membership(actor)
    return (
        membership is not None
        and membership.organisation_id == organisation.pk
        and membership.can_manage_claims
        and organisation.active
    )


def require_claim_manager(actor: User | None, organisation: PartnerOrganisation) -> Membership:
    if not can_manage_claims(actor, organisation):
        raise PermissionDenied(
            _("Only an incentives administrator or partner admin of this partner can do this.")
        )
    return actor.partner_membership


def require_reviewer(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated or not actor.is_reviewer:
        raise PermissionDenied(_("Only a program reviewer can decide claims."))
    return actor


def require_program_admin(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated or not actor.is_program_admin:
        raise PermissionDenied(_("Only a program admin can do this."))
    return actor


def require_partner_member(actor: User | None) -> Membership:
    membership = partner_membership(actor)
    if membership is None:
        raise PermissionDenied(_("Only partner users can do this."))
    return membership


def require_operator(actor: User | None) -> User:
    """Reviewers and program admins: the review queue and every submitted claim."""
    if actor is None or not actor.is_authenticated or not actor.is_operator:
        raise PermissionDenied(_("Only program staff can do this."))
    return actor
