"""Every write to claims and associations (SPEC §4).

One function per transition. Each runs in one transaction, locks the row it changes,
checks the current state, writes the change and its history event together, and raises
``DomainError`` (nothing written) when the rule is broken.
"""

import datetime
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.api.webhooks import queue_webhooks_for_event
from cpor.catalog.models import ClaimUnit, PartnerRole, Product, ProgramSettings
from cpor.catalog.selectors import out_of_scope_program, role_by_code
from cpor.claims import checks, filetypes
from cpor.claims.business_days import add_business_days
from cpor.claims.models import (
    ACTION_REQUIRED_EDITABLE,
    AWAITING_DECISION,
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.permissions import (
    partner_membership,
    require_claim_manager,
    require_program_admin,
    require_reviewer,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import latest_poe_date, unit_filter
from cpor.customers.models import Subscription, Tenant
from cpor.errors import DomainError, PermissionDenied, illegal_transition
from cpor.notifications.notices import claim_event_notify, draft_expiry_warning_notify
from cpor.partners.models import PartnerLocation, PartnerOrganisation

SYSTEM = "system"


class ValidationFailed(DomainError):
    """Several inputs are wrong at once; the first one gives the code, field and message."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        first = errors[0]
        super().__init__(first.code, first.message, field=first.field)
        self.errors = list(errors)


# ---------------------------------------------------------------------------
# History


def _record(
    claim: Claim,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    message: str = "",
    reason_code: str = "",
    internal: bool = False,
    shared: bool = False,
    association: Association | None = None,
    actor_label: str = "",
    at: datetime.datetime | None = None,
) -> ClaimEvent:
    event = ClaimEvent.objects.create(
        claim=claim,
        association=association,
        action=action,
        from_status=from_status,
        to_status=to_status,
        message=message,
        reason_code=reason_code,
        internal=internal,
        shared=shared,
        actor=actor,
        actor_label=actor_label or ("" if actor else SYSTEM),
        at=at or timezone.now(),
    )
    # Every history event is where notifications start: queued in this same transaction.
    claim_event_notify(event=event)
    queue_webhooks_for_event(event=event)
    return event


def _lock_claim(claim: Claim | int) -> Claim:
    pk = claim.pk if isinstance(claim, Claim) else claim
    return (
        Claim.objects.select_for_update(of=("self",)).select_related("role__engagement").get(pk=pk)
    )


def _move(
    claim: Claim,
    to_status: str,
    *,
    action: str,
    actor: User | None,
    allowed_from: Iterable[str],
    verb: str,
    message: str = "",
    reason_code: str = "",
    actor_label: str = "",
    **changes,
) -> Claim:
    """Change a locked claim's status if it is in ``allowed_from``, with its event."""
    if claim.status not in set(allowed_from):
        raise illegal_transition(_("claim"), verb, claim.get_status_display())
    from_status = claim.status
    now = timezone.now()
    claim.status = to_status
    claim.updated_at = now
    for name, value in changes.items():
        setattr(claim, name, value)
    claim.save(update_fields=["status", "updated_at", *changes])
    _record(
        claim,
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        message=message,
        reason_code=reason_code,
        actor_label=actor_label,
        at=now,
    )
    return claim


# ---------------------------------------------------------------------------
# Drafting: input validation shared by create and update


@dataclass
class ClaimInput:
    """What a partner enters in the Add customer wizard (or the API)."""

    role: str
    partner_id: str
    tenant_id: str
    name: str
    customer_contact_name: str
    customer_contact_title: str
    customer_contact_email: str
    partner_contact_name: str
    partner_contact_email: str
    products: Sequence[str] = ()
    subscription_ids: Sequence[str] = ()
    incentive_opt_out: bool = False
    seller_name: str = ""
    customer_name: str = ""
    isv_solution_name: str = ""
    solution_area: str | None = None


@dataclass
class _Resolved:
    role: PartnerRole
    location: PartnerLocation
    tenant: Tenant
    fields: dict
    units: list[tuple[Product, Subscription | None]] = field(default_factory=list)


def _parse_guid(value: str, field_name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError, TypeError):
        raise DomainError(
            "malformed_guid",
            _("“%s” is not a GUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47).") % value,
            field=field_name,
        ) from None


_TEXT_LIMITS = {
    "name": 200,
    "customer_contact_name": 200,
    "customer_contact_title": 200,
    "partner_contact_name": 200,
    "seller_name": 200,
    "customer_name": 200,
    "isv_solution_name": 200,
}


def _clean_text(data: ClaimInput, name: str, *, required: bool, errors: list) -> str:
    value = (getattr(data, name) or "").strip()
    if required and not value:
        label = Claim._meta.get_field(name).verbose_name
        errors.append(DomainError("required", _("%s is required.") % label, field=name))
    elif len(value) > _TEXT_LIMITS[name]:
        errors.append(
            DomainError(
                "too_long",
                _("At most %d characters.") % _TEXT_LIMITS[name],
                field=name,
            )
        )
    elif "\n" in value or "\r" in value:
        # These values end up in e-mail headers and subjects: no line breaks.
        errors.append(DomainError("line_break", _("Use a single line."), field=name))
    return value


def _clean_email(data: ClaimInput, name: str, errors: list) -> str:
    value = (getattr(data, name) or "").strip()
    label = Claim._meta.get_field(name).verbose_name
    if not value:
        errors.append(DomainError("required", _("%s is required.") % label, field=name))
        return value
    try:
        validate_email(value)
    except ValidationError:
        errors.append(
            DomainError(
                "invalid_email", _("“%s” is not a valid e-mail address.") % value, field=name
            )
        )
    return value


def _resolve_role(data: ClaimInput) -> PartnerRole:
    role = role_by_code(data.role or "")
    if role is None:
        program = out_of_scope_program(data.role or "")
        if program is not None:
            raise DomainError("program_out_of_scope", program.message, field="role")
        raise DomainError("unknown_role", _("Choose a partner role from the list."), field="role")
    if data.solution_area and role.solution_area.code != data.solution_area:
        raise DomainError(
            "role_wrong_solution_area",
            _("The role “%(role)s” belongs to %(area)s, not to the chosen solution area.")
            % {"role": role.name, "area": role.solution_area.name},
            field="role",
        )
    return role


def _resolve_location(organisation: PartnerOrganisation, partner_id: str) -> PartnerLocation:
    location = PartnerLocation.objects.filter(
        partner_id=str(partner_id).strip(), organisation=organisation
    ).first()
    if location is None:
        raise DomainError(
            "partner_id_not_yours",
            _("PartnerID %s is not a location of your organisation.") % partner_id,
            field="partner_id",
        )
    if not location.active:
        raise DomainError(
            "partner_id_inactive", _("PartnerID %s is not active.") % partner_id, field="partner_id"
        )
    return location


def _resolve_tenant(tenant_id: str) -> Tenant:
    guid = _parse_guid(tenant_id, "tenant_id")
    tenant = Tenant.objects.filter(tenant_id=guid).first()
    if tenant is None:
        raise DomainError(
            "unknown_tenant",
            _("No customer tenant has the ID %s. Check the customer's directory ID.") % guid,
            field="tenant_id",
        )
    return tenant


def _resolve_workloads(role: PartnerRole, codes: Sequence[str]) -> list[tuple[Product, None]]:
    codes = list(dict.fromkeys(code.strip() for code in codes if code and code.strip()))
    if not codes:
        raise DomainError("products_required", _("Choose at least one workload."), field="products")
    products = {p.code: p for p in Product.objects.filter(code__in=codes)}
    units = []
    for code in codes:
        product = products.get(code)
        if product is None or not product.active:
            raise DomainError(
                "unknown_product", _("Unknown workload “%s”.") % code, field="products"
            )
        if product.solution_area_id != role.solution_area_id:
            raise DomainError(
                "product_wrong_solution_area",
                _("%(product)s is not a %(area)s workload.")
                % {"product": product.name, "area": role.solution_area.name},
                field="products",
            )
        units.append((product, None))
    return units


def _resolve_subscriptions(
    role: PartnerRole, tenant: Tenant, raw_ids: Sequence[str]
) -> list[tuple[Product, Subscription]]:
    guids = list(dict.fromkeys(_parse_guid(raw, "subscription_ids") for raw in raw_ids if raw))
    if not guids:
        raise DomainError(
            "subscriptions_required",
            _("Business Applications claims must name at least one subscription ID."),
            field="subscription_ids",
        )
    found = {
        s.subscription_id: s
        for s in Subscription.objects.select_related("product").filter(subscription_id__in=guids)
    }
    engagement = role.engagement
    today = timezone.localdate()
    units = []
    for guid in guids:
        subscription = found.get(guid)
        if subscription is None:
            raise DomainError(
                "unknown_subscription",
                _("No subscription has the ID %s.") % guid,
                field="subscription_ids",
            )
        if subscription.tenant_id != tenant.pk:
            raise DomainError(
                "subscription_other_tenant",
                _("Subscription %s does not belong to this customer's tenant.") % guid,
                field="subscription_ids",
            )
        if subscription.ends_on < today:
            raise DomainError(
                "subscription_ended",
                _("Subscription %(id)s ended on %(day)s.")
                % {"id": guid, "day": subscription.ends_on.isoformat()},
                field="subscription_ids",
            )
        if subscription.starts_on > today:
            raise DomainError(
                "subscription_not_started",
                _("Subscription %(id)s starts on %(day)s.")
                % {"id": guid, "day": subscription.starts_on.isoformat()},
                field="subscription_ids",
            )
        if not engagement.allows_channel(subscription.purchase_channel):
            raise DomainError(
                "channel_not_allowed",
                _(
                    "Subscription %(id)s was bought through %(channel)s; the role “%(role)s” "
                    "applies only to products bought through Volume Licensing or Web Direct."
                )
                % {
                    "id": guid,
                    "channel": subscription.get_purchase_channel_display(),
                    "role": role.name,
                },
                field="subscription_ids",
            )
        if subscription.product.solution_area_id != role.solution_area_id:
            raise DomainError(
                "product_wrong_solution_area",
                _("Subscription %(id)s is for %(product)s, not a %(area)s product.")
                % {
                    "id": guid,
                    "product": subscription.product.name,
                    "area": role.solution_area.name,
                },
                field="subscription_ids",
            )
        units.append((subscription.product, subscription))
    return units


def _resolve(organisation: PartnerOrganisation, data: ClaimInput) -> _Resolved:
    """Turn raw input into catalog objects, or raise every problem found."""
    errors: list[DomainError] = []

    def attempt(resolver, *args):
        try:
            return resolver(*args)
        except DomainError as error:
            errors.append(error)
            return None

    role = attempt(_resolve_role, data)
    location = attempt(_resolve_location, organisation, data.partner_id)
    tenant = attempt(_resolve_tenant, data.tenant_id)

    fields = {
        name: _clean_text(data, name, required=True, errors=errors)
        for name in (
            "name",
            "customer_contact_name",
            "customer_contact_title",
            "partner_contact_name",
        )
    }
    for name in ("customer_contact_email", "partner_contact_email"):
        fields[name] = _clean_email(data, name, errors)

    units: list = []
    if role is not None:
        engagement = role.engagement
        revenue = engagement.requires_revenue_details
        for name in ("seller_name", "customer_name", "isv_solution_name"):
            value = _clean_text(data, name, required=revenue, errors=errors)
            fields[name] = value if revenue else ""
        if data.incentive_opt_out and not engagement.opt_out_allowed:
            errors.append(
                DomainError(
                    "opt_out_not_allowed",
                    _("Only Modern Work and Security claims can opt out of incentive payments."),
                    field="incentive_opt_out",
                )
            )
        fields["incentive_opt_out"] = bool(data.incentive_opt_out)
        try:
            if engagement.claim_unit == ClaimUnit.WORKLOAD:
                units = _resolve_workloads(role, data.products)
            elif tenant is not None:
                units = _resolve_subscriptions(role, tenant, data.subscription_ids)
        except DomainError as error:
            errors.append(error)

    if errors:
        raise ValidationFailed(errors)
    return _Resolved(role=role, location=location, tenant=tenant, fields=fields, units=units)


def _write_lines(claim: Claim, units: list[tuple[Product, Subscription | None]]) -> None:
    ClaimLine.objects.bulk_create(
        [ClaimLine(claim=claim, product=product, subscription=sub) for product, sub in units]
    )


@transaction.atomic
def claim_create(*, actor: User, data: ClaimInput) -> Claim:
    """Create a Draft claim with its lines (the wizard's "Add customer")."""
    membership = partner_membership(actor)
    if membership is None:
        raise PermissionDenied(_("Only partner users create claims."))
    require_claim_manager(actor, membership.organisation)
    resolved = _resolve(membership.organisation, data)
    claim = Claim.objects.create(
        organisation=membership.organisation,
        location=resolved.location,
        role=resolved.role,
        tenant=resolved.tenant,
        created_by=actor,
        **resolved.fields,
    )
    _write_lines(claim, resolved.units)
    _record(claim, action=EventAction.CREATE, actor=actor, to_status=ClaimStatus.DRAFT)
    return claim


@transaction.atomic
def claim_update(*, actor: User, claim: Claim, data: ClaimInput) -> Claim:
    """Replace a Draft's fields and lines; in Action required only contacts and PartnerID."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status == ClaimStatus.ACTION_REQUIRED:
        return _update_correctable_fields(actor=actor, claim=claim, data=data)
    if claim.status != ClaimStatus.DRAFT:
        raise illegal_transition(_("claim"), _("edited"), claim.get_status_display())
    resolved = _resolve(claim.organisation, data)
    for name, value in resolved.fields.items():
        setattr(claim, name, value)
    claim.role = resolved.role
    claim.location = resolved.location
    claim.tenant = resolved.tenant
    claim.updated_at = timezone.now()
    claim.draft_warned_at = None
    claim.save()
    claim.lines.all().delete()
    _write_lines(claim, resolved.units)
    _record(claim, action=EventAction.EDIT, actor=actor)
    return claim


def _update_correctable_fields(*, actor: User, claim: Claim, data: ClaimInput) -> Claim:
    errors: list[DomainError] = []
    values = {
        name: _clean_text(data, name, required=True, errors=errors)
        for name in ("customer_contact_name", "customer_contact_title", "partner_contact_name")
    }
    for name in ("customer_contact_email", "partner_contact_email"):
        values[name] = _clean_email(data, name, errors)
    try:
        values["location"] = _resolve_location(claim.organisation, data.partner_id)
    except DomainError as error:
        errors.append(error)
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name in ACTION_REQUIRED_EDITABLE if getattr(claim, name) != values[name]]
    for name in changed:
        setattr(claim, name, values[name])
    claim.updated_at = timezone.now()
    claim.save(update_fields=[*changed, "updated_at"])
    if changed:
        _record(
            claim,
            action=EventAction.EDIT,
            actor=actor,
            message=_("Changed: %s.")
            % ", ".join(str(Claim._meta.get_field(name).verbose_name) for name in changed),
        )
    return claim


@transaction.atomic
def claim_delete(*, actor: User, claim: Claim) -> None:
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.DRAFT:
        raise illegal_transition(_("claim"), _("deleted"), claim.get_status_display())
    files = [proof.file.name for proof in claim.proofs.all()]
    claim.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


# ---------------------------------------------------------------------------
# Proof of execution

POE_ALLOWED_STATUSES = frozenset(
    {
        ClaimStatus.DRAFT,
        ClaimStatus.ACTION_REQUIRED,
        ClaimStatus.REJECTED,  # new PoE for a dispute
        ClaimStatus.APPROVED,  # holders protect their associations with newer PoE
        ClaimStatus.PARTIALLY_APPROVED,
    }
)


@transaction.atomic
def poe_add(
    *,
    actor: User,
    claim: Claim,
    file: File,
    poe_type: str,
    signed_on: datetime.date,
    signatory: str,
    description: str = "",
) -> ProofOfExecution:
    """Store a PoE after checking its size and real type; the file goes to private storage."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status not in POE_ALLOWED_STATUSES:
        raise illegal_transition(_("claim"), _("given a new PoE"), claim.get_status_display())
    if poe_type not in PoEType.values:
        raise DomainError(
            "unknown_poe_type", _("Choose a PoE type from the list."), field="poe_type"
        )
    if signed_on > timezone.localdate():
        raise DomainError(
            "poe_dated_in_future",
            _("The signature date cannot be in the future."),
            field="signed_on",
        )
    signatory = (signatory or "").strip()
    if not signatory:
        raise DomainError("required", _("Name the customer signatory."), field="signatory")
    limit = ProgramSettings.load().poe_max_bytes
    size = file.size or 0
    if size == 0:
        raise DomainError("poe_empty", _("The file is empty."), field="file")
    if size > limit:
        raise DomainError(
            "poe_too_large",
            _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": size / 1_048_576, "limit": limit / 1_048_576},
            field="file",
        )
    file_type = filetypes.detect(file, size)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    stored_name = default_storage.save(f"poe/{uuid.uuid4().hex}.{file_type.extension}", file)
    proof = ProofOfExecution.objects.create(
        claim=claim,
        file=stored_name,
        original_name=(getattr(file, "name", "") or f"poe.{file_type.extension}")[-255:],
        content_type=file_type.content_type,
        size=size,
        sha256=digest.hexdigest(),
        poe_type=poe_type,
        signed_on=signed_on,
        signatory=signatory[:200],
        description=description.strip(),
        uploaded_by=actor,
    )
    if claim.status == ClaimStatus.DRAFT:
        claim.updated_at = timezone.now()
        claim.save(update_fields=["updated_at"])
    _record(
        claim,
        action=EventAction.ADD_POE,
        actor=actor,
        message=_("%(type)s signed on %(day)s by %(who)s.")
        % {"type": proof.get_poe_type_display(), "day": signed_on.isoformat(), "who": signatory},
    )
    return proof


# ---------------------------------------------------------------------------
# Partner transitions


def _require_checks_pass(claim: Claim) -> None:
    failed = checks.failures(checks.run_checks(claim))
    if failed:
        raise ValidationFailed(
            [DomainError(f"check_{f.code}", f.message, field=f.field) for f in failed]
        )


@transaction.atomic
def claim_submit(*, actor: User, claim: Claim, confirmed: bool, comments: str = "") -> Claim:
    """Draft → Submitted, once every automated check passes and the partner confirms."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.DRAFT:
        raise illegal_transition(_("claim"), _("submitted"), claim.get_status_display())
    if not confirmed:
        raise DomainError(
            "confirmation_required",
            _("Confirm that the information is accurate and the customer agreed to it."),
            field="confirmed",
        )
    _require_checks_pass(claim)
    now = timezone.now()
    return _move(
        claim,
        ClaimStatus.SUBMITTED,
        action=EventAction.SUBMIT,
        actor=actor,
        allowed_from=[ClaimStatus.DRAFT],
        verb=_("submitted"),
        message=comments.strip(),
        comments=comments.strip(),
        submitted_at=now,
    )


@transaction.atomic
def claim_reply(*, actor: User, claim: Claim, message: str) -> Claim:
    """Action required → Submitted: the partner answers the reviewer and resubmits."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.ACTION_REQUIRED:
        raise illegal_transition(_("claim"), _("resubmitted"), claim.get_status_display())
    if not message.strip():
        raise DomainError("required", _("Write a reply to the reviewer."), field="message")
    _require_checks_pass(claim)
    return _move(
        claim,
        ClaimStatus.SUBMITTED,
        action=EventAction.REPLY,
        actor=actor,
        allowed_from=[ClaimStatus.ACTION_REQUIRED],
        verb=_("resubmitted"),
        message=message.strip(),
        info_requested_until=None,
    )


@transaction.atomic
def claim_withdraw(*, actor: User, claim: Claim, message: str = "") -> Claim:
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    return _move(
        claim,
        ClaimStatus.WITHDRAWN,
        action=EventAction.WITHDRAW,
        actor=actor,
        allowed_from=OPEN_STATUSES,
        verb=_("withdrawn"),
        message=message.strip(),
    )


@transaction.atomic
def claim_dispute(*, actor: User, claim: Claim, justification: str) -> Claim:
    """Rejected → Disputed within the dispute window, with a justification or new PoE."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.REJECTED:
        raise illegal_transition(_("claim"), _("disputed"), claim.get_status_display())
    window = ProgramSettings.load().dispute_window_days
    if claim.decided_at and timezone.now() > claim.decided_at + datetime.timedelta(days=window):
        raise DomainError(
            "dispute_window_closed",
            _("A rejection can be disputed within %d days of the decision.") % window,
            field="status",
        )
    new_poe = claim.proofs.filter(uploaded_at__gt=claim.decided_at).exists()
    if not justification.strip() and not new_poe:
        raise DomainError(
            "dispute_needs_grounds",
            _("Explain why the rejection is wrong, or add newer PoE."),
            field="justification",
        )
    # The dispute reopens the decision: the lines the rejection closed await it again.
    claim.lines.filter(status=LineStatus.REJECTED).update(status=LineStatus.PENDING)
    return _move(
        claim,
        ClaimStatus.DISPUTED,
        action=EventAction.DISPUTE,
        actor=actor,
        allowed_from=[ClaimStatus.REJECTED],
        verb=_("disputed"),
        message=justification.strip(),
        decided_at=None,
    )


# ---------------------------------------------------------------------------
# Reviewer transitions


@transaction.atomic
def claim_start_review(*, actor: User, claim: Claim) -> Claim:
    """Submitted or Disputed → In review, assigned to the reviewer."""
    require_reviewer(actor)
    claim = _lock_claim(claim)
    return _move(
        claim,
        ClaimStatus.IN_REVIEW,
        action=EventAction.START_REVIEW,
        actor=actor,
        allowed_from=[ClaimStatus.SUBMITTED, ClaimStatus.DISPUTED],
        verb=_("taken into review"),
        assigned_reviewer=actor,
    )


@transaction.atomic
def claim_request_info(*, actor: User, claim: Claim, reason_code: str, message: str) -> Claim:
    require_reviewer(actor)
    claim = _lock_claim(claim)
    if reason_code not in InfoRequestReason.values:
        raise DomainError(
            "unknown_reason", _("Choose a reason from the list."), field="reason_code"
        )
    if not message.strip():
        raise DomainError("required", _("Tell the partner what is needed."), field="message")
    days = ProgramSettings.load().info_request_business_days
    return _move(
        claim,
        ClaimStatus.ACTION_REQUIRED,
        action=EventAction.REQUEST_INFO,
        actor=actor,
        allowed_from=AWAITING_DECISION,
        verb=_("sent back for information"),
        message=message.strip(),
        reason_code=reason_code,
        info_requested_until=add_business_days(timezone.now(), days),
        assigned_reviewer=claim.assigned_reviewer or actor,
    )


REJECTABLE = AWAITING_DECISION | {ClaimStatus.ACTION_REQUIRED}


@transaction.atomic
def claim_reject(*, actor: User, claim: Claim, reason_code: str, message: str = "") -> Claim:
    """A decision against the claim: every pending line is rejected."""
    require_reviewer(actor)
    if reason_code not in RejectionReason.values:
        raise DomainError(
            "unknown_reason", _("Choose a reason from the list."), field="reason_code"
        )
    return _reject(_lock_claim(claim), actor=actor, reason_code=reason_code, message=message)


def _reject(claim: Claim, *, actor: User | None, reason_code: str, message: str) -> Claim:
    if claim.status not in REJECTABLE:
        raise illegal_transition(_("claim"), _("rejected"), claim.get_status_display())
    claim.lines.filter(status=LineStatus.PENDING).update(status=LineStatus.REJECTED)
    return _move(
        claim,
        ClaimStatus.REJECTED,
        action=EventAction.REJECT,
        actor=actor,
        allowed_from=REJECTABLE,
        verb=_("rejected"),
        message=message.strip(),
        reason_code=reason_code,
        decided_at=timezone.now(),
        info_requested_until=None,
    )


@transaction.atomic
def claim_approve(
    *,
    actor: User,
    claim: Claim,
    line_ids: Sequence[int] | None = None,
    message: str = "",
) -> Claim:
    """Approve the whole claim, or only ``line_ids`` (the rest are not approved).

    Each approved line becomes an association. Where another partner holds the unit
    with older PoE, that association ends as superseded in this same transaction; where
    the holder's PoE is as recent or newer, the approval is refused. The unique index
    on held associations settles concurrent approvals: the loser's transaction rolls
    back whole with ``unit_held``.
    """
    require_reviewer(actor)
    claim = _lock_claim(claim)
    if claim.status not in AWAITING_DECISION:
        raise illegal_transition(_("claim"), _("approved"), claim.get_status_display())
    pending = {
        line.pk: line
        for line in claim.lines.select_related("product", "subscription").filter(
            status=LineStatus.PENDING
        )
    }
    if not pending:
        raise DomainError(
            "no_pending_lines", _("Every line of this claim was declined."), field="line_ids"
        )
    if line_ids is None:
        chosen = list(pending.values())
    else:
        unknown = [pk for pk in line_ids if pk not in pending]
        if unknown or not line_ids:
            raise DomainError(
                "unknown_line",
                _("Choose lines of this claim that await a decision."),
                field="line_ids",
            )
        chosen = [pending[pk] for pk in dict.fromkeys(line_ids)]

    now = timezone.now()
    engagement = claim.role.engagement
    newcomer_poe = latest_poe_date(claim)
    for line in chosen:
        _associate(
            claim=claim,
            line=line,
            actor=actor,
            now=now,
            notice_days=engagement.notice_period_days,
            newcomer_poe=newcomer_poe,
        )
    ClaimLine.objects.filter(pk__in=[line.pk for line in chosen]).update(status=LineStatus.APPROVED)
    not_chosen = [pk for pk in pending if pk not in {line.pk for line in chosen}]
    ClaimLine.objects.filter(pk__in=not_chosen).update(status=LineStatus.REJECTED)
    partial = bool(not_chosen) or claim.lines.exclude(status=LineStatus.APPROVED).exists()
    return _move(
        claim,
        ClaimStatus.PARTIALLY_APPROVED if partial else ClaimStatus.APPROVED,
        action=EventAction.APPROVE,
        actor=actor,
        allowed_from=AWAITING_DECISION,
        verb=_("approved"),
        message=message.strip(),
        decided_at=now,
    )


def _associate(
    *,
    claim: Claim,
    line: ClaimLine,
    actor: User,
    now: datetime.datetime,
    notice_days: int,
    newcomer_poe: datetime.date | None,
) -> Association:
    holders = list(
        Association.objects.select_for_update(of=("self",))
        .select_related("claim")
        .filter(
            unit_filter(
                tenant_id=claim.tenant_id,
                product_id=line.product_id,
                subscription_id=line.subscription_id,
            ),
            status__in=HELD_STATUSES,
        )
    )
    for holder in holders:
        if holder.organisation_id == claim.organisation_id:
            raise DomainError(
                "unit_held",
                _("This partner already holds %s.") % line,
                field="line_ids",
            )
        holder_poe = latest_poe_date(holder.claim)
        if holder_poe is not None and (newcomer_poe is None or holder_poe >= newcomer_poe):
            raise DomainError(
                "unit_held_with_newer_poe",
                _("%(unit)s is held by another partner whose PoE (%(day)s) is as recent or newer.")
                % {"unit": line, "day": holder_poe.isoformat()},
                field="line_ids",
            )
    active_now = notice_days == 0
    try:
        with transaction.atomic():
            for holder in holders:
                _end(
                    holder,
                    reason=EndReason.SUPERSEDED,
                    actor=actor,
                    now=now,
                    message=_("Superseded by a claim with more recent PoE."),
                )
            association = Association.objects.create(
                claim=claim,
                line=line,
                organisation_id=claim.organisation_id,
                tenant_id=claim.tenant_id,
                product_id=line.product_id,
                subscription_id=line.subscription_id,
                status=AssociationStatus.ACTIVE
                if active_now
                else AssociationStatus.PENDING_CUSTOMER,
                approved_at=now,
                notice_ends_at=now + datetime.timedelta(days=notice_days),
                activated_at=now if active_now else None,
            )
    except IntegrityError:
        raise DomainError(
            "unit_held",
            _("Another association for %s was approved at the same moment. Reopen the claim.")
            % line,
            field="line_ids",
        ) from None
    if holders:
        Association.objects.filter(pk__in=[h.pk for h in holders]).update(superseded_by=association)
    return association


@transaction.atomic
def claim_add_note(*, actor: User, claim: Claim, message: str, shared: bool = False) -> ClaimEvent:
    """An internal note: partners never see it; other reviewers only when ``shared``."""
    if actor is None or not actor.is_operator:
        raise DomainError("permission_denied", _("Only program staff write internal notes."))
    if not message.strip():
        raise DomainError("required", _("Write the note."), field="message")
    claim = _lock_claim(claim)
    return _record(
        claim,
        action=EventAction.NOTE,
        actor=actor,
        message=message.strip(),
        internal=True,
        shared=shared,
    )


# ---------------------------------------------------------------------------
# Customer transitions (the caller has established who the customer is)


@transaction.atomic
def claim_decline_lines(
    *,
    claim: Claim,
    line_ids: Sequence[int] | None = None,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> Claim:
    """The customer declines lines of a claim still under review.

    Declining what is already declined is harmless; when no line is left to decide,
    the claim becomes Declined."""
    claim = _lock_claim(claim)
    if claim.status not in OPEN_STATUSES:
        raise illegal_transition(_("claim"), _("declined"), claim.get_status_display())
    lines = claim.lines.filter(status=LineStatus.PENDING)
    if line_ids is not None:
        lines = lines.filter(pk__in=line_ids)
    declined = lines.update(status=LineStatus.DECLINED)
    if not declined:
        return claim
    if claim.lines.exclude(status=LineStatus.DECLINED).exists():
        _record(
            claim,
            action=EventAction.DECLINE,
            actor=actor,
            actor_label=actor_label,
            from_status=claim.status,
            to_status=claim.status,
            message=reason.strip(),
        )
        return claim
    return _move(
        claim,
        ClaimStatus.DECLINED,
        action=EventAction.DECLINE,
        actor=actor,
        actor_label=actor_label,
        allowed_from=OPEN_STATUSES,
        verb=_("declined"),
        message=reason.strip(),
        reason_code=RejectionReason.CUSTOMER_DECLINED,
        decided_at=timezone.now(),
    )


# ---------------------------------------------------------------------------
# Associations


def _end(
    association: Association,
    *,
    reason: str,
    actor: User | None,
    now: datetime.datetime,
    message: str = "",
    actor_label: str = "",
) -> Association:
    """End a held association with a conditional write, so two racing enders end it once."""
    ended = Association.objects.filter(pk=association.pk, status__in=HELD_STATUSES).update(
        status=AssociationStatus.ENDED, end_reason=reason, end_message=message, ended_at=now
    )
    if not ended:
        association.refresh_from_db()
        raise illegal_transition(_("association"), _("ended"), association.get_status_display())
    from_status = association.status
    association.status = AssociationStatus.ENDED
    association.end_reason = reason
    association.end_message = message
    association.ended_at = now
    _record(
        association.claim,
        action=EventAction.END,
        actor=actor,
        actor_label=actor_label,
        association=association,
        from_status=from_status,
        to_status=AssociationStatus.ENDED,
        reason_code=reason,
        message=message,
        at=now,
    )
    return association


def _lock_association(association: Association | int) -> Association:
    pk = association.pk if isinstance(association, Association) else association
    return (
        Association.objects.select_for_update(of=("self",))
        .select_related("claim", "product", "subscription", "tenant")
        .get(pk=pk)
    )


@transaction.atomic
def association_decline(
    *,
    association: Association,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> Association:
    """The customer declines an association, pending or active, at any time.

    Declining one the customer already declined changes nothing."""
    association = _lock_association(association)
    if association.end_reason == EndReason.DECLINED_BY_CUSTOMER:
        return association
    if not association.is_held:
        raise DomainError(
            "association_not_held",
            _("This association already ended; there is nothing to decline."),
            field="association",
        )
    return _end(
        association,
        reason=EndReason.DECLINED_BY_CUSTOMER,
        actor=actor,
        actor_label=actor_label,
        now=timezone.now(),
        message=reason.strip(),
    )


@transaction.atomic
def association_withdraw(*, actor: User, association: Association, reason: str) -> Association:
    """The partner disassociates itself; a reason is mandatory."""
    association = _lock_association(association)
    require_claim_manager(actor, association.organisation)
    if not reason.strip():
        raise DomainError("required", _("Say why you disassociate."), field="reason")
    if not association.is_held:
        raise illegal_transition(_("association"), _("withdrawn"), association.get_status_display())
    return _end(
        association,
        reason=EndReason.WITHDRAWN,
        actor=actor,
        now=timezone.now(),
        message=reason.strip(),
    )


@transaction.atomic
def association_revoke(*, actor: User, association: Association, reason: str) -> Association:
    require_program_admin(actor)
    association = _lock_association(association)
    if not reason.strip():
        raise DomainError("required", _("Say why the association is revoked."), field="reason")
    if not association.is_held:
        raise illegal_transition(_("association"), _("revoked"), association.get_status_display())
    return _end(
        association,
        reason=EndReason.REVOKED,
        actor=actor,
        now=timezone.now(),
        message=reason.strip(),
    )


def association_activate(*, association: Association, now: datetime.datetime | None = None) -> bool:
    """Pending customer → Active once the notice period passed without a decline.

    A conditional write: safe to run on two workers at once; returns whether it acted."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Association.objects.filter(
            pk=association.pk,
            status=AssociationStatus.PENDING_CUSTOMER,
            notice_ends_at__lte=now,
        ).update(status=AssociationStatus.ACTIVE, activated_at=now)
        if changed:
            _record_activation(association, now)
    return bool(changed)


def _record_activation(association: Association, now: datetime.datetime) -> None:
    association.status = AssociationStatus.ACTIVE
    association.activated_at = now
    _record(
        association.claim,
        action=EventAction.ACTIVATE,
        actor=None,
        association=association,
        from_status=AssociationStatus.PENDING_CUSTOMER,
        to_status=AssociationStatus.ACTIVE,
        at=now,
    )


def associations_activate_due(
    *, now: datetime.datetime | None = None, batch_size: int = 500
) -> int:
    """The periodic job: activate every association whose notice period has passed.

    Batch by batch, each in one transaction: the batch's rows are locked (skipping rows
    another worker holds, on PostgreSQL), switched with one conditional UPDATE, and
    each gets its history event and notification. Two workers never act on the same
    association; a worker stops when what is left is held by the other."""
    now = now or timezone.now()
    due_filter = {"status": AssociationStatus.PENDING_CUSTOMER, "notice_ends_at__lte": now}
    skip_locked = connection.features.has_select_for_update_skip_locked
    activated = 0
    while True:
        with transaction.atomic():
            batch = list(
                Association.objects.select_for_update(of=("self",), skip_locked=skip_locked)
                .filter(**due_filter)
                .select_related("claim__tenant", "product", "subscription", "tenant")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return activated
            changed = Association.objects.filter(pk__in=[a.pk for a in batch], **due_filter).update(
                status=AssociationStatus.ACTIVE, activated_at=now
            )
            if changed != len(batch):  # cannot happen under the row locks; never half-act
                raise RuntimeError("activation batch changed under its lock")
            for association in batch:
                _record_activation(association, now)
            activated += changed


@transaction.atomic
def association_expire_or_renew(
    *, association: Association, today: datetime.date | None = None
) -> Association:
    """A subscription association whose subscription ended: carry it over to the renewal
    (a subscription recording this one as predecessor), or end it as expired."""
    today = today or timezone.localdate()
    association = _lock_association(association)
    subscription = association.subscription
    if not association.is_held or subscription is None or subscription.ends_on >= today:
        return association
    renewal = Subscription.objects.filter(predecessor=subscription, ends_on__gte=today).first()
    if renewal is not None:
        try:
            with transaction.atomic():
                Association.objects.filter(pk=association.pk).update(subscription=renewal)
        except IntegrityError:
            renewal = None  # someone else already holds the renewal: this one simply expires
        else:
            association.subscription = renewal
            _record(
                association.claim,
                action=EventAction.CARRY_OVER,
                actor=None,
                association=association,
                from_status=association.status,
                to_status=association.status,
                message=_("Carried over from %(old)s to renewal %(new)s.")
                % {"old": subscription.subscription_id, "new": renewal.subscription_id},
            )
            return association
    return _end(
        association,
        reason=EndReason.EXPIRED,
        actor=None,
        now=timezone.now(),
        message=_("Subscription %(id)s ended on %(day)s.")
        % {"id": subscription.subscription_id, "day": subscription.ends_on.isoformat()},
    )


def associations_expire_ended_subscriptions(*, today: datetime.date | None = None) -> int:
    """The periodic job for the Dynamics 365 rule: associations last as long as the
    subscription; returns how many associations it ended or carried over."""
    today = today or timezone.localdate()
    due = Association.objects.filter(
        status__in=HELD_STATUSES, subscription__ends_on__lt=today
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        association_expire_or_renew(association=pk, today=today)
        count += 1
    return count


# ---------------------------------------------------------------------------
# Claim periodic transitions


def claims_warn_stale_drafts(*, now: datetime.datetime | None = None) -> int:
    """E-mail the author of each draft that will expire within ``CPOR_DRAFT_WARNING_DAYS``,
    once per period of inactivity (a conditional write of ``draft_warned_at``)."""
    now = now or timezone.now()
    expiry = datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    warn_before = datetime.timedelta(days=settings.CPOR_DRAFT_WARNING_DAYS)
    cutoff = now - max(expiry - warn_before, datetime.timedelta(0))
    unwarned = Q(draft_warned_at__isnull=True) | Q(draft_warned_at__lt=F("updated_at"))
    warned = 0
    due = Claim.objects.filter(unwarned, status=ClaimStatus.DRAFT, updated_at__lt=cutoff)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not Claim.objects.filter(
                unwarned, pk=pk, status=ClaimStatus.DRAFT, updated_at__lt=cutoff
            ).update(draft_warned_at=now):
                continue  # edited, or warned by another worker meanwhile
            claim = Claim.objects.select_related("created_by", "tenant").get(pk=pk)
            draft_expiry_warning_notify(claim=claim, expires_on=(claim.updated_at + expiry).date())
            warned += 1
    return warned


def claims_expire_stale_drafts(*, now: datetime.datetime | None = None) -> int:
    """Expire drafts untouched for the program's draft expiry period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    expired = 0
    for pk in Claim.objects.filter(status=ClaimStatus.DRAFT, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            claim = _lock_claim(pk)
            if claim.status != ClaimStatus.DRAFT or claim.updated_at >= cutoff:
                continue  # edited or expired by another worker meanwhile
            _move(
                claim,
                ClaimStatus.EXPIRED,
                action=EventAction.EXPIRE,
                actor=None,
                allowed_from=[ClaimStatus.DRAFT],
                verb=_("expired"),
                message=_("Untouched since %s.") % claim.updated_at.date().isoformat(),
            )
            expired += 1
    return expired


def claims_reject_unanswered(*, now: datetime.datetime | None = None) -> int:
    """Reject claims whose request for information passed its deadline unanswered."""
    now = now or timezone.now()
    rejected = 0
    for pk in Claim.objects.filter(
        status=ClaimStatus.ACTION_REQUIRED, info_requested_until__lt=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            claim = _lock_claim(pk)
            if claim.status != ClaimStatus.ACTION_REQUIRED or claim.info_requested_until >= now:
                continue  # answered, or handled by another worker, meanwhile
            _reject(
                claim,
                actor=None,
                reason_code=RejectionReason.NO_PARTNER_RESPONSE,
                message=_("No answer by the deadline."),
            )
            rejected += 1
    return rejected
