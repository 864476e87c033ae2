"""Partner onboarding by program admins: the organisation, its locations (PartnerIDs)
and an invitation for its first admin.

The invited admin gets a user with no usable password and a partner-admin membership;
the e-mail carries a one-time link to choose a password (django-allauth's password
reset page, whose token stops working once the password is set). It goes through the
transactional outbox, so it leaves only if the onboarding commits."""

from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.permissions import require_program_admin
from cpor.errors import DomainError
from cpor.notifications.services import queue_email
from cpor.partners.models import (
    LocationVerification,
    Membership,
    PartnerLocation,
    PartnerOrganisation,
    PartnerRoleName,
)


@dataclass(frozen=True)
class LocationInput:
    partner_id: str
    name: str
    country: str = ""


@dataclass(frozen=True)
class AdminInput:
    email: str
    first_name: str
    last_name: str
    language: str = "en"


def _location(
    organisation: PartnerOrganisation,
    data: LocationInput,
    *,
    verification: str = LocationVerification.VERIFIED,
    requested_by: User | None = None,
) -> PartnerLocation:
    location = PartnerLocation(
        organisation=organisation,
        partner_id=data.partner_id.strip(),
        name=data.name.strip(),
        country=data.country.strip().upper(),
        verification=verification,
        requested_by=requested_by,
        requested_at=timezone.now() if requested_by else None,
    )
    if PartnerLocation.objects.filter(partner_id=location.partner_id).exists():
        raise DomainError(
            "partner_id_taken",
            _("PartnerID %s belongs to another location.") % location.partner_id,
            field="partner_id",
        )
    try:
        location.full_clean(exclude=["organisation"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise DomainError("invalid_location", messages[0], field=field) from None
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError:  # taken a moment ago by a concurrent onboarding
        raise DomainError(
            "partner_id_taken",
            _("PartnerID %s belongs to another location.") % location.partner_id,
            field="partner_id",
        ) from None
    return location


@transaction.atomic
def partner_onboard(
    *, actor: User, name: str, location: LocationInput, admin: AdminInput
) -> PartnerOrganisation:
    """Create the organisation with its first location and invite its first admin."""
    require_program_admin(actor)
    name = name.strip()
    if not name:
        raise DomainError("required", _("Name the partner organisation."), field="name")
    if PartnerOrganisation.objects.filter(name__iexact=name).exists():
        raise DomainError(
            "organisation_exists", _("A partner named “%s” already exists.") % name, field="name"
        )
    try:
        with transaction.atomic():
            organisation = PartnerOrganisation.objects.create(name=name)
    except IntegrityError:
        raise DomainError(
            "organisation_exists", _("A partner named “%s” already exists.") % name, field="name"
        ) from None
    _location(organisation, location)
    partner_admin_invite(actor=actor, organisation=organisation, admin=admin)
    return organisation


@transaction.atomic
def partner_location_add(
    *, actor: User, organisation: PartnerOrganisation, location: LocationInput
) -> PartnerLocation:
    require_program_admin(actor)
    return _location(organisation, location)


def invitation_url(user: User) -> str:
    """A one-time link where the invited user sets a password."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return settings.CPOR_BASE_URL.rstrip("/") + path


@transaction.atomic
def partner_admin_invite(
    *, actor: User, organisation: PartnerOrganisation, admin: AdminInput
) -> User:
    """A new user, partner admin of ``organisation``, e-mailed a link to set a password."""
    require_program_admin(actor)
    return _new_invited_user(
        organisation=organisation, admin=admin, role=PartnerRoleName.PARTNER_ADMIN
    )


def _new_invited_user(
    *,
    organisation: PartnerOrganisation,
    admin: AdminInput,
    role: str,
    invited_by: User | None = None,
) -> User:
    """A user with no usable password and a membership, e-mailed a link to choose one."""
    email = admin.email.strip()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            "user_exists", _("A user with the e-mail %s already exists.") % email, field="email"
        )
    user = User(
        username=email,
        email=email,
        first_name=admin.first_name.strip()[:150],
        last_name=admin.last_name.strip()[:150],
        language=admin.language if admin.language in ("en", "pt-pt") else "",
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise DomainError(
            "user_exists", _("A user with the e-mail %s already exists.") % email, field="email"
        ) from None
    Membership.objects.create(user=user, organisation=organisation, role=role)
    context = {
        "name": user.get_full_name() or email,
        "organisation": organisation.name,
        "url": invitation_url(user),
    }
    if invited_by is None:  # the program onboards the organisation and its first admin
        template = "partner_invitation"
    else:  # a partner admin invites a colleague
        template = "member_invitation"
        context |= {"invited_by": invited_by.get_full_name() or invited_by.email, "role": role}
    queue_email(
        to=email,
        template=template,
        context=context,
        language=admin.language or "en",
        dedupe_key=f"partner_invitation:{user.pk}",
    )
    return user
