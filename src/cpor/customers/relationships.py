"""Customer-granted visibility: a customer admin invites a partner (a signed code, like
Microsoft 365's partner relationship request), the partner's admin accepts it, and the
customer can revoke it at any time.

A partner organisation has a relationship with a tenant when it holds or held an
association there, or accepted an invitation the customer has not revoked. Only then
does it see the tenant's name and list its subscriptions (``cpor.customers.lookup``).

A refused acceptance (forged, unknown, expired, revoked or used code) is written to the
audit trail after the refusal, outside the transaction that refused it."""

import datetime
import json
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.customers.models import PartnerInvitation, Tenant
from cpor.errors import DomainError, PermissionDenied
from cpor.partners.self_service import require_partner_admin

SALT = "cpor.customers.partner-invitation"


def customer_tenant(actor: User | None) -> Tenant | None:
    """The tenant the actor administers as a customer admin, if any."""
    if actor is None or not actor.is_authenticated:
        return None
    return Tenant.objects.filter(customer_admins__user=actor).first()


def _require_customer_admin(actor: User | None) -> Tenant:
    tenant = customer_tenant(actor)
    if tenant is None:
        raise PermissionDenied(_("Only a customer admin of the tenant can do this."))
    return tenant


def invitation_code(invitation: PartnerInvitation) -> str:
    return signing.dumps(invitation.nonce, salt=SALT)


@transaction.atomic
def invitation_create(*, actor: User, note: str = "") -> tuple[PartnerInvitation, str]:
    """A new invitation of the actor's tenant; returns it and its code (shown once)."""
    tenant = _require_customer_admin(actor)
    now = timezone.now()
    invitation = PartnerInvitation.objects.create(
        nonce=secrets.token_urlsafe(24),
        tenant=tenant,
        created_by=actor,
        expires_at=now + datetime.timedelta(days=settings.CUSTOMER_INVITATION_DAYS),
        note=(note or "").strip()[:200],
    )
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_CREATED,
        target=invitation,
        target_label=tenant.name,
        after={"tenant_id": str(tenant.tenant_id), "expires_at": invitation.expires_at.isoformat()},
    )
    return invitation, invitation_code(invitation)


def _refusal(code: str, message: str) -> DomainError:
    return DomainError(code, message, field="code")


def invitation_accept(*, actor: User, code: str) -> PartnerInvitation:
    """The partner admin accepts an invitation for their organisation."""
    membership = require_partner_admin(actor)
    try:
        return _accept(actor=actor, membership=membership, code=code)
    except DomainError as error:
        if error.code != "permission_denied":
            audit_record(
                actor=actor,
                action=AuditAction.INVITATION_REFUSED,
                organisation=membership.organisation,
                target_type="partnerinvitation",
                target_label=_("Customer invitation"),
                after={"reason": error.code},
            )
        raise


@transaction.atomic
def _accept(*, actor: User, membership, code: str) -> PartnerInvitation:
    code = (code or "").strip()
    if not code:
        raise _refusal("required", _("Paste the invitation code the customer gave you."))
    try:
        nonce = signing.loads(code, salt=SALT)
    except signing.BadSignature:
        raise _refusal(
            "invitation_invalid",
            _("This invitation code is not valid: check that it was copied whole."),
        ) from None
    invitation = (
        PartnerInvitation.objects.select_for_update().select_related("tenant").filter(nonce=nonce)
    ).first()
    if invitation is None:
        raise _refusal("invitation_invalid", _("This invitation code is not valid."))
    if invitation.revoked_at:
        raise _refusal("invitation_revoked", _("The customer revoked this invitation."))
    if invitation.accepted_at:
        if invitation.organisation_id == membership.organisation_id:
            return invitation  # accepting twice changes nothing
        raise _refusal("invitation_used", _("This invitation was already accepted."))
    if invitation.expires_at <= timezone.now():
        raise _refusal(
            "invitation_expired",
            _("This invitation expired on %s: ask the customer for a new one.")
            % date_format(timezone.localdate(invitation.expires_at)),
        )
    invitation.organisation = membership.organisation
    invitation.accepted_by = actor
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["organisation", "accepted_by", "accepted_at"])
    audit_record(
        actor=actor,
        action=AuditAction.RELATIONSHIP_ACCEPTED,
        organisation=membership.organisation,
        target=invitation,
        target_label=invitation.tenant.name,
        after={"tenant_id": str(invitation.tenant.tenant_id)},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation_pk: int) -> PartnerInvitation:
    """The customer withdraws an invitation, or ends the relationship it started."""
    tenant = _require_customer_admin(actor)
    invitation = (
        PartnerInvitation.objects.select_for_update()
        .filter(pk=invitation_pk, tenant=tenant)
        .first()
    )
    if invitation is None:
        raise DomainError("not_found", _("No such invitation."), field="invitation")
    if invitation.revoked_at:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditAction.RELATIONSHIP_REVOKED,
        organisation=invitation.organisation_id,
        target=invitation,
        target_label=tenant.name,
        before={"state": "accepted" if invitation.accepted_at else "pending"},
        after={"state": "revoked", "tenant_id": str(tenant.tenant_id)},
    )
    return invitation


# ---------------------------------------------------------------------------
# Reads


def tenant_invitations(*, actor: User) -> QuerySet[PartnerInvitation]:
    """The customer's invitations, newest first, with the partner that accepted each."""
    tenant = _require_customer_admin(actor)
    return PartnerInvitation.objects.filter(tenant=tenant).select_related("organisation")


def organisation_relationships(*, actor: User) -> QuerySet[PartnerInvitation]:
    """The invitations the actor's organisation accepted (revoked ones too)."""
    membership = require_partner_admin(actor)
    return PartnerInvitation.objects.filter(
        organisation_id=membership.organisation_id
    ).select_related("tenant")


def _association_model():
    """The claims app's association, reached through the tenant's reverse relation: the
    customers app does not import claims."""
    return Tenant._meta.get_field("associations").related_model


def _held(organisation_id: int) -> QuerySet:
    """The organisation's associations, held or ended."""
    return _association_model().objects.filter(organisation_id=organisation_id)


def _invited(organisation_id: int) -> QuerySet[PartnerInvitation]:
    """The organisation's accepted invitations that the customer has not revoked."""
    return PartnerInvitation.objects.filter(
        organisation_id=organisation_id, accepted_at__isnull=False, revoked_at__isnull=True
    )


def related_tenant(organisation_id: int, *, tenant: str = "tenant_id") -> Q:
    """The relationship rule as a condition on rows that reach a tenant through the field
    ``tenant`` (``"pk"`` on tenants): two EXISTS per row, no query per row, so a list can
    say for every claim whether its partner may see the tenant's name.

    The organisation holds or held an association with the tenant, or accepted an
    invitation the customer has not revoked."""
    return Q(Exists(_held(organisation_id).filter(tenant_id=OuterRef(tenant)))) | Q(
        Exists(_invited(organisation_id).filter(tenant_id=OuterRef(tenant)))
    )


def related_tenant_probe(organisation_id: int) -> Q:
    """The relationship rule (``related_tenant``) as a test that PostgreSQL makes row by
    row, one or two index probes for each row that reaches it: for a scan that stops
    early (a page, a bounded count) and tests only rows another condition let through,
    such as the claims of customers whose name a search matches. The EXISTS of
    ``related_tenant`` would be planned as a hash of every association of the
    organisation, or the customers named, built before the scan (at a million claims,
    14 ms for the 7,800 customers named "Harbor", twice per search page)."""
    held = _held(organisation_id).filter(tenant_id=OuterRef("tenant_id"))
    invited = _invited(organisation_id).filter(tenant_id=OuterRef("tenant_id"))
    # Scalar subqueries, which PostgreSQL never hashes; COALESCE asks the invitations
    # only of a tenant without an association.
    first = [Subquery(rows.order_by().values("pk")[:1]) for rows in (held, invited)]
    return Q(IsNull(Coalesce(*first), False))


# ``related_tenant_ids`` in SQL: the two halves of the rule under a UNION, the tenants
# as one parameter (an array, or a JSON list on SQLite) so that the statement's text
# is the same for every page: psycopg parses it once and PostgreSQL plans it once,
# where a list of 50 placeholders was parsed anew on every list page.
_RELATED_AMONG = """
SELECT tenant_id FROM {association} WHERE organisation_id = %s AND tenant_id {among}
UNION
SELECT tenant_id FROM {invitation} WHERE organisation_id = %s AND tenant_id {among}
   AND accepted_at IS NOT NULL AND revoked_at IS NULL
"""


def related_tenant_ids(organisation_id: int, tenant_ids: Iterable[int]) -> set[int]:
    """Which of ``tenant_ids`` the organisation has a relationship with, in one query over
    those tenants only. A list page asks this for its own rows (every list page does):
    the same test as a column of the whole list makes PostgreSQL hash every association
    of the organisation. In SQL, not built by the ORM: a tenth of the CPU (0.09 ms
    against 0.76 ms for a page of 50 customers). ``test_the_forms_of_the_rule_agree``
    holds it to ``related_tenant``."""
    ids = sorted(set(tenant_ids))
    if not ids:
        return set()
    if connection.vendor == "postgresql":
        among, value = "= ANY(%s::bigint[])", ids  # one type, whatever the ids' size
    else:
        among, value = "IN (SELECT value FROM json_each(%s))", json.dumps(ids)
    sql = _RELATED_AMONG.format(
        association=_association_model()._meta.db_table,
        invitation=PartnerInvitation._meta.db_table,
        among=among,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [organisation_id, value, organisation_id, value])
        return {tenant_id for (tenant_id,) in cursor.fetchall()}


def related_tenant_sql(organisation_id: int, tenant_column: str) -> tuple[str, list]:
    """The rule as an SQL condition on a row whose tenant is ``tenant_column``, from the
    same statement as ``related_tenant_ids``: for a read built without the ORM (a claim
    locked for a transition says whether the partner may see its tenant's name)."""
    sql = _RELATED_AMONG.format(
        association=_association_model()._meta.db_table,
        invitation=PartnerInvitation._meta.db_table,
        among=f"= {tenant_column}",
    )
    return f"EXISTS ({sql})", [organisation_id, organisation_id]


def has_relationship(*, organisation_id: int, tenant: Tenant) -> bool:
    """Whether the organisation has a relationship with the tenant (``related_tenant``)."""
    return tenant.pk in related_tenant_ids(organisation_id, [tenant.pk])
