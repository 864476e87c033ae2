"""What every claim page shares: the claim in the caller's scope, and who may manage it."""

from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
)
from django.utils.translation import gettext as _

from cpor.claims.models import (
    Claim,
)
from cpor.claims.permissions import can_manage_claims, partner_membership
from cpor.claims.selectors import (
    claim_get,
)


def _claim_or_404(request: HttpRequest, pk: int) -> Claim:
    try:
        return claim_get(actor=request.user, pk=pk)
    except Claim.DoesNotExist:
        raise Http404(_("No such claim.")) from None


def _require_manager(request: HttpRequest, claim: Claim | None = None) -> None:
    """Read-only users and outsiders may look but not change (403)."""
    membership = partner_membership(request.user)
    organisation = claim.organisation if claim else membership and membership.organisation
    if organisation is None or not can_manage_claims(request.user, organisation):
        raise PermissionDenied(_("Your role can view claims but not change them."))


def _user_can_manage(request: HttpRequest) -> bool:
    membership = partner_membership(request.user)
    return membership is not None and can_manage_claims(request.user, membership.organisation)
