"""Drafting: the Add customer wizard's input, validated and resolved; create, edit, delete."""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import ClaimUnit, PartnerRole, Product
from cpor.catalog.selectors import out_of_scope_program, role_by_code
from cpor.claims.models import (
    ACTION_REQUIRED_EDITABLE,
    Claim,
    ClaimLine,
    ClaimStatus,
    EventAction,
)
from cpor.claims.permissions import (
    partner_membership,
    require_claim_manager,
)
from cpor.claims.services.history import ValidationFailed, _cache_lines, _lock_claim, _record
from cpor.customers.lookup import count_lookup, record_unknown_tenant
from cpor.customers.models import Subscription, Tenant
from cpor.customers.relationships import related_tenant_sql
from cpor.errors import DomainError, PermissionDenied, illegal_transition
from cpor.partners.models import LocationVerification, PartnerLocation, PartnerOrganisation
from cpor.rowload import RowLoader


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
            raise DomainError("program_out_of_scope", program.display_message, field="role")
        raise DomainError("unknown_role", _("Choose a partner role from the list."), field="role")
    if data.solution_area and role.solution_area.code != data.solution_area:
        raise DomainError(
            "role_wrong_solution_area",
            _("The role “%(role)s” belongs to %(area)s, not to the chosen solution area.")
            % {"role": role.display_name, "area": role.solution_area.display_name},
            field="role",
        )
    return role


# Read by every claim written, by statements built once (``cpor.rowload``).
_LOCATIONS = RowLoader(PartnerLocation)
_TENANTS = RowLoader(Tenant)


def _resolve_location(organisation: PartnerOrganisation, partner_id: str) -> PartnerLocation:
    location = _LOCATIONS.first(
        "{row}.partner_id = %s AND {row}.organisation_id = %s",
        [str(partner_id).strip(), organisation.pk],
    )
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
    if location.verification == LocationVerification.PENDING:
        raise DomainError(
            "partner_id_unverified",
            _("PartnerID %s awaits the program's verification: it cannot be used in a claim yet.")
            % location.partner_id,
            field="partner_id",
        )
    if location.verification == LocationVerification.REFUSED:
        raise DomainError(
            "partner_id_refused",
            _("The program refused PartnerID %s: it cannot be used in a claim.")
            % location.partner_id,
            field="partner_id",
        )
    return location


def _resolve_tenant(tenant_id: str, organisation: PartnerOrganisation) -> Tenant:
    """The tenant, with ``related``: whether the organisation may see its name (in the
    same query, for the answer of the write)."""
    guid = _parse_guid(tenant_id, "tenant_id")
    value = Tenant._meta.get_field("tenant_id").get_db_prep_value(guid, connection)
    related = related_tenant_sql(organisation.pk, "{row}.id")
    tenant = _TENANTS.first("{row}.tenant_id = %s", [value], annotate={"related": related})
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
                % {"product": product.display_name, "area": role.solution_area.display_name},
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
                % {"id": guid, "day": date_format(subscription.ends_on)},
                field="subscription_ids",
            )
        if subscription.starts_on > today:
            raise DomainError(
                "subscription_not_started",
                _("Subscription %(id)s starts on %(day)s.")
                % {"id": guid, "day": date_format(subscription.starts_on)},
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
                    "role": role.display_name,
                },
                field="subscription_ids",
            )
        if subscription.product.solution_area_id != role.solution_area_id:
            raise DomainError(
                "product_wrong_solution_area",
                _("Subscription %(id)s is for %(product)s, not a %(area)s product.")
                % {
                    "id": guid,
                    "product": subscription.product.display_name,
                    "area": role.solution_area.display_name,
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
    tenant = attempt(_resolve_tenant, data.tenant_id, organisation)

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
    lines = ClaimLine.objects.bulk_create(
        [ClaimLine(claim=claim, product=product, subscription=sub) for product, sub in units]
    )
    # Keep the lines just written as if prefetched: the caller's answer lists them
    # without reading them back.
    _cache_lines(claim, lines)


@contextmanager
def _tenant_looked_up(
    *, actor: User, organisation_id: int, tenant_id: str, current: uuid.UUID | None = None
) -> Iterator[None]:
    """Naming a tenant (other than the ``current`` one) is a look-up
    (cpor.customers.lookup): counted against the limits (in the cache), and an unknown one
    audited outside the write's transaction, so the refusal keeps its trace."""
    try:
        guid = uuid.UUID(str(tenant_id).strip())
    except ValueError:
        guid = None  # reported by _resolve with every other input problem
    if guid == current:
        guid = None
    if guid is not None:
        count_lookup(actor=actor, organisation_id=organisation_id, guid=guid)
    try:
        yield
    except ValidationFailed as failed:
        if guid is not None and any(e.code == "unknown_tenant" for e in failed.errors):
            record_unknown_tenant(actor=actor, organisation_id=organisation_id, guid=guid)
        raise


def claim_create(*, actor: User, data: ClaimInput) -> Claim:
    """Create a Draft claim with its lines (the wizard's "Add customer")."""
    membership = partner_membership(actor)
    if membership is None:
        raise PermissionDenied(_("Only partner users create claims."))
    require_claim_manager(actor, membership.organisation)
    with _tenant_looked_up(
        actor=actor, organisation_id=membership.organisation_id, tenant_id=data.tenant_id
    ):
        return _claim_create(actor=actor, membership=membership, data=data)


@transaction.atomic
def _claim_create(*, actor: User, membership, data: ClaimInput) -> Claim:
    resolved = _resolve(membership.organisation, data)
    claim = Claim(
        organisation=membership.organisation,
        location=resolved.location,
        role=resolved.role,
        tenant=resolved.tenant,
        created_by=actor,
        **resolved.fields,
    )
    claim.save_new()
    claim.tenant_related = resolved.tenant.related
    _write_lines(claim, resolved.units)
    _record(claim, action=EventAction.CREATE, actor=actor, to_status=ClaimStatus.DRAFT)
    return claim


def claim_update(*, actor: User, claim: Claim, data: ClaimInput) -> Claim:
    """Replace a Draft's fields and lines; in Action required only contacts and PartnerID.

    Moving a draft to another tenant is a look-up like naming it at creation."""
    membership = partner_membership(actor)
    current = _draft_tenant(claim) if membership is not None else None
    if current is None:  # not a draft (or not the actor's): nothing moves
        return _claim_update(actor=actor, claim=claim, data=data)
    with _tenant_looked_up(
        actor=actor,
        organisation_id=membership.organisation_id,
        tenant_id=data.tenant_id,
        current=current,
    ):
        return _claim_update(actor=actor, claim=claim, data=data)


def _draft_tenant(claim: Claim) -> uuid.UUID | None:
    """The directory ID of the draft's tenant; None if the claim is not a draft. A claim
    reference (``claim_in_scope``) is read, a loaded claim is not."""
    if claim.tenant_id is not None:
        return claim.tenant.tenant_id if claim.status == ClaimStatus.DRAFT else None
    return (
        Claim.objects.filter(pk=claim.pk, status=ClaimStatus.DRAFT)
        .values_list("tenant__tenant_id", flat=True)
        .first()
    )


@transaction.atomic
def _claim_update(*, actor: User, claim: Claim, data: ClaimInput) -> Claim:
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
    claim.tenant_related = resolved.tenant.related
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
