"""Writes to a user's own account settings."""

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cpor.accounts.models import OrganisationSignOn, SignOnDomain, SignOnTenant, User
from cpor.accounts.selectors import organisation_sign_on_for, partner_admin_membership
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.errors import DomainError, PermissionDenied
from cpor.partners.models import Membership, PartnerRoleName


def user_set_language(*, user: User, language: str) -> User:
    """Remember the language a signed-in user chose, for every device and e-mail."""
    if language not in dict(settings.LANGUAGES):
        raise DomainError(
            "unknown_language", _("Choose a language from the list."), field="language"
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


# --- Single sign-on ------------------------------------------------------------------


@dataclass(frozen=True)
class SignOnInput:
    tenant_ids: list[str]
    domains: list[str]
    invite_only: bool
    sso_required: bool


DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _clean_tenants(values: list[str]) -> list[uuid.UUID]:
    tenants = []
    for value in values:
        try:
            tenants.append(uuid.UUID(value.strip()))
        except ValueError:
            raise DomainError(
                "tenant_id_invalid",
                _(
                    "“%s” is not a tenant ID: it must be a GUID such as "
                    "00000000-0000-0000-0000-000000000000."
                )
                % value.strip(),
                field="tenant_ids",
            ) from None
    return sorted(set(tenants))


def _clean_domains(values: list[str]) -> list[str]:
    domains = []
    for value in values:
        domain = value.strip().lower().removeprefix("@")
        if not DOMAIN_PATTERN.match(domain):
            raise DomainError(
                "domain_invalid",
                _("“%s” is not an e-mail domain such as contoso.com.") % value.strip(),
                field="domains",
            )
        domains.append(domain)
    return sorted(set(domains))


@transaction.atomic
def sign_on_update(*, actor: User, data: SignOnInput) -> OrganisationSignOn:
    """The partner admin links their organisation's identity provider tenants and e-mail
    domains, and says whether people it has not invited are refused and whether its
    users must sign in through single sign-on. A tenant or domain belongs to one
    organisation only."""
    membership = partner_admin_membership(actor)
    if membership is None:
        raise PermissionDenied(_("Only a partner admin of the organisation can do this."))
    tenants = _clean_tenants(data.tenant_ids)
    domains = _clean_domains(data.domains)
    if data.sso_required and not (tenants or domains):
        raise DomainError(
            "sso_required_without_link",
            _("Link a tenant or an e-mail domain before requiring single sign-on."),
            field="sso_required",
        )
    sign_on, _created = OrganisationSignOn.objects.select_for_update().get_or_create(
        organisation=membership.organisation
    )
    before = _sign_on_state(sign_on)
    taken_tenants = SignOnTenant.objects.filter(tenant_id__in=tenants).exclude(sign_on=sign_on)
    if taken := taken_tenants.first():
        raise DomainError(
            "tenant_id_linked",
            _("The tenant %s is linked to another organisation.") % taken.tenant_id,
            field="tenant_ids",
        )
    taken_domains = SignOnDomain.objects.filter(domain__in=domains).exclude(sign_on=sign_on)
    if taken := taken_domains.first():
        raise DomainError(
            "domain_linked",
            _("The domain %s is linked to another organisation.") % taken.domain,
            field="domains",
        )
    sign_on.invite_only = data.invite_only
    sign_on.sso_required = data.sso_required
    sign_on.updated_by = actor
    sign_on.save()
    sign_on.tenants.exclude(tenant_id__in=tenants).delete()
    sign_on.domains.exclude(domain__in=domains).delete()
    have_tenants = set(sign_on.tenants.values_list("tenant_id", flat=True))
    have_domains = set(sign_on.domains.values_list("domain", flat=True))
    try:
        # A savepoint: another organisation may link the same tenant at this moment, and
        # the unique index, not the check above, decides who has it.
        with transaction.atomic():
            SignOnTenant.objects.bulk_create(
                SignOnTenant(sign_on=sign_on, tenant_id=t) for t in tenants if t not in have_tenants
            )
            SignOnDomain.objects.bulk_create(
                SignOnDomain(sign_on=sign_on, domain=d) for d in domains if d not in have_domains
            )
    except IntegrityError:
        raise DomainError(
            "sign_on_linked",
            _("A tenant or domain you entered was just linked to another organisation."),
            field="tenant_ids",
        ) from None
    after = _sign_on_state(sign_on)
    if after != before:
        audit_record(
            actor=actor,
            action=AuditAction.SSO_LINKS_CHANGED,
            organisation=membership.organisation,
            target=sign_on,
            target_label=_("Single sign-on"),
            before=before,
            after=after,
        )
    return sign_on


def _sign_on_state(sign_on: OrganisationSignOn) -> dict:
    return {
        "tenant_ids": sorted(str(t) for t in sign_on.tenants.values_list("tenant_id", flat=True)),
        "domains": sorted(sign_on.domains.values_list("domain", flat=True)),
        "invite_only": sign_on.invite_only,
        "sso_required": sign_on.sso_required,
    }


class SignInRefused(DomainError):
    """A single sign-on identity that may not sign in; ``code`` says why."""


def sso_user_for(*, provider_id: str, claims: dict, email: str, connected: User | None) -> User:
    """The user an identity from a linked identity provider signs in as, provisioned
    when new. Rules, in order:

    - an identity already connected signs in as its user, if that user is active;
    - operator staff sign in only through the operator's IdP (``CPOR_OPERATOR_IDP``),
      never by an e-mail asserted by a partner's IdP;
    - an existing partner user is connected only when the identity's tenant (or else
      e-mail domain) is linked to that user's own organisation;
    - a new person whose tenant or domain is linked is added to that organisation as an
      incentives user, unless it is invite-only;
    - anyone else is refused (``unknown_tenant``)."""
    try:
        return _sso_user_for(
            provider_id=provider_id, claims=claims, email=email, connected=connected
        )
    except SignInRefused as refused:
        if connected is not None:
            # A person CPOR knows through this IdP lost access: the program and their
            # partner admin see it in the audit trail.
            membership = Membership.objects.filter(user=connected).first()
            audit_record(
                actor=connected,
                action=AuditAction.SSO_SIGN_IN_REFUSED,
                organisation=membership.organisation_id if membership else None,
                target=connected,
                target_label=connected.email,
                after={"reason": refused.code, "provider": provider_id},
            )
        raise


def _sso_user_for(*, provider_id: str, claims: dict, email: str, connected: User | None) -> User:
    tenant_id = claims.get("tid")
    user = connected
    if user is None and email:
        user = User.objects.filter(email__iexact=email).first()
    if user is not None and not user.is_active:
        raise SignInRefused(
            "account_disabled", _("Your CPOR account is deactivated: ask your administrator.")
        )
    if user is not None and (user.is_operator or user.is_superuser):
        if not operator_idp_matches(provider_id=provider_id, claims=claims):
            raise SignInRefused(
                "operator_idp_required",
                _("Program staff sign in through the operator's identity provider only."),
            )
        return user
    if connected is not None:
        return connected
    sign_on = organisation_sign_on_for(tenant_id=tenant_id, email=email)
    if user is not None:
        membership = Membership.objects.filter(user=user).first()
        if (
            sign_on is None
            or membership is None
            or membership.organisation_id != sign_on.organisation_id
        ):
            raise SignInRefused(
                "not_linked",
                _(
                    "Your organisation has not linked this identity provider to CPOR. "
                    "Sign in with your password, or ask your partner admin to link it."
                ),
            )
        return user
    if sign_on is None:
        raise SignInRefused(
            "unknown_tenant",
            _(
                "No organisation in CPOR has linked your identity provider's tenant or "
                "your e-mail domain. Ask your partner admin to link it on the Single "
                "sign-on page."
            ),
        )
    if not email:
        raise SignInRefused(
            "email_missing", _("Your identity provider did not send an e-mail address.")
        )
    if sign_on.invite_only or not sign_on.organisation.active:
        raise SignInRefused(
            "invite_only",
            _(
                "%(organisation)s admits only the people it invites. Ask your partner "
                "admin for an invitation."
            )
            % {"organisation": sign_on.organisation.name},
        )
    return _provision(sign_on=sign_on, email=email, claims=claims)


def _provision(*, sign_on: OrganisationSignOn, email: str, claims: dict) -> User:
    """A new user with the least role, who signs in through the identity provider only:
    no password, so when the provider stops vouching for them they cannot get in."""
    with transaction.atomic():
        user = User(
            username=email,
            email=email,
            first_name=(claims.get("given_name") or "")[:150],
            last_name=(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise SignInRefused(
                "user_exists", _("A user with your e-mail was just created: sign in again.")
            ) from None
        Membership.objects.create(
            user=user, organisation=sign_on.organisation, role=PartnerRoleName.INCENTIVES_USER
        )
        audit_record(
            actor=user,
            action=AuditAction.SSO_USER_PROVISIONED,
            organisation=sign_on.organisation,
            target=user,
            target_label=email,
            after={
                "role": PartnerRoleName.INCENTIVES_USER,
                "tenant_id": str(claims.get("tid") or ""),
                "domain": email.rpartition("@")[2],
            },
        )
    return user


def operator_idp_matches(*, provider_id: str, claims: dict) -> bool:
    """Whether the sign-in came through the operator's IdP: ``CPOR_OPERATOR_IDP`` names
    a provider id, optionally with the tenant (``entra/<tenant id>``)."""
    wanted = settings.CPOR_OPERATOR_IDP
    if not wanted:
        return False
    provider, _slash, tenant = wanted.partition("/")
    if provider_id != provider:
        return False
    return not tenant or str(claims.get("tid", "")).lower() == tenant.lower()
