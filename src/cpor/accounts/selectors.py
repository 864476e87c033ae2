"""Reads about who signs in how: a user's roles, whether their role needs a second
factor, and which organisation a single sign-on identity belongs to."""

import uuid

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.cache import cache

from cpor.accounts.models import OrganisationSignOn, SignOnDomain, SignOnTenant, User
from cpor.partners.models import Membership, PartnerRoleName
from cpor.rowload import RowLoader

# The session remembers that the identity provider asserted MFA at this sign-in.
IDP_MFA_SESSION_KEY = "cpor_mfa_by_idp"


# What a signed-in user is, asked on most pages (the second-factor check, the permission
# checks, the navigation and its identity line): their partner membership with its
# organisation, and their customer-admin record with its tenant.
ROLE_RELATIONS = {
    "partner_membership": "partner_membership__organisation",
    "customer_admin": "customer_admin__tenant",
}


# By a statement built once (``cpor.rowload``): asked on most pages.
_ROLES = RowLoader(User, ROLE_RELATIONS.values())


def load_roles(user: User) -> None:
    """Read the role relations ``user`` has not loaded yet, all in one query, and cache
    them on it as Django caches a relation it read (an absent one as absent): a page
    then asks nothing more of them. One query instead of up to four."""
    missing = [name for name in ROLE_RELATIONS if not getattr(User, name).is_cached(user)]
    if not missing or not user.pk:
        return
    loaded = _ROLES.first("{row}.id = %s", [user.pk])  # all of them, whatever is missing
    for name in missing:
        relation = getattr(User, name).related
        relation.set_cached_value(user, loaded and relation.get_cached_value(loaded, None))


def membership_of(user: User) -> Membership | None:
    """The user's partner membership, read through the relation so that one already
    loaded with the user (API tokens select it) costs nothing, and one loaded here (with
    the other role relations) is there for every check after."""
    if not User.partner_membership.is_cached(user):
        load_roles(user)
    try:
        return user.partner_membership
    except Membership.DoesNotExist:
        return None


def partner_role(user: User) -> str | None:
    membership = membership_of(user)
    return membership and membership.role


def user_roles(user: User) -> set[str]:
    """The roles the user holds: operator role, partner role; a superuser counts as a
    program admin (the admin gives them at least as much)."""
    roles = set()
    if user.operator_role:
        roles.add(user.operator_role)
    if user.is_superuser:
        roles.add("program_admin")
    if role := partner_role(user):
        roles.add(role)
    return roles


def mfa_required(user: User) -> bool:
    """Whether the program makes this user's role use a second factor
    (``CPOR_MFA_REQUIRED_ROLES``)."""
    required = set(settings.CPOR_MFA_REQUIRED_ROLES)
    operator_roles = {user.operator_role} | ({"program_admin"} if user.is_superuser else set())
    if operator_roles & required:
        return True
    return partner_role(user) in required


def mfa_enrolled_cache_key(user_id: int) -> str:
    return f"cpor:mfa-enrolled:{user_id}"


def mfa_enrolled(user: User) -> bool:
    """A TOTP app or a passkey (recovery codes alone are a fallback, not a factor).

    Asked on every request of a user whose role needs MFA, so the answer is cached; any
    save or delete of an authenticator drops it (``AccountsConfig.ready``)."""
    key = mfa_enrolled_cache_key(user.pk)
    enrolled = cache.get(key)
    if enrolled is None:
        enrolled = Authenticator.objects.filter(
            user=user, type__in=(Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
        ).exists()
        cache.set(key, enrolled, timeout=300)
    return enrolled


def mfa_enrolment_missing(user: User, session=None) -> bool:
    """True when the user must enrol before reaching anything: their role needs a second
    factor, they have none, and this session's sign-in was not already multi-factor at
    their identity provider."""
    if not (user.is_authenticated and mfa_required(user)):
        return False
    if session is not None and session.get(IDP_MFA_SESSION_KEY):
        return False
    return not mfa_enrolled(user)


def organisation_sign_on_for(*, tenant_id: str | None, email: str) -> OrganisationSignOn | None:
    """The organisation an identity belongs to: by its tenant first, else by the domain
    of its e-mail."""
    if tenant_id:
        try:
            tenant = uuid.UUID(str(tenant_id))
        except ValueError:
            tenant = None
        link = (
            SignOnTenant.objects.select_related("sign_on__organisation")
            .filter(tenant_id=tenant)
            .first()
            if tenant
            else None
        )
        if link is not None:
            return link.sign_on
    domain = email.rpartition("@")[2].lower()
    if domain:
        link = (
            SignOnDomain.objects.select_related("sign_on__organisation")
            .filter(domain=domain)
            .first()
        )
        if link is not None:
            return link.sign_on
    return None


def sso_required_for(user: User) -> bool:
    """Whether the user may sign in only through single sign-on: a member of an
    organisation that requires it, or operator staff when ``CPOR_OPERATOR_IDP`` is set."""
    if settings.CPOR_OPERATOR_IDP and (user.is_operator or user.is_superuser):
        return True
    return OrganisationSignOn.objects.filter(
        sso_required=True, organisation__memberships__user=user
    ).exists()


def sign_on_of(organisation) -> OrganisationSignOn | None:
    return (
        OrganisationSignOn.objects.filter(organisation=organisation)
        .prefetch_related("tenants", "domains")
        .first()
    )


def partner_admin_membership(user: User) -> Membership | None:
    """The user's membership when they are a partner admin of an active organisation."""
    if not (user.is_authenticated and user.is_active):
        return None
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    if (
        membership is None
        or membership.role != PartnerRoleName.PARTNER_ADMIN
        or not membership.organisation.active
    ):
        return None
    return membership
