"""Automated checks run when a draft is checked or submitted (SPEC §4).

Each check gives pass, warning or fail with a message; any fail blocks submission. The
partner sees them before submitting and the reviewer sees them re-run on opening.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Exists, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.catalog.models import ClaimUnit, PurchaseChannel
from cpor.claims import filetypes
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimLine,
    LineStatus,
    ProofOfExecution,
)
from cpor.claims.selectors import unit_filter
from cpor.customers.models import Subscription, TenantAdminContact, TenantDomain


class Outcome(models.TextChoices):
    PASS = "pass", gettext_lazy("Pass")
    WARNING = "warning", gettext_lazy("Warning")
    FAIL = "fail", gettext_lazy("Fail")


@dataclass(frozen=True)
class CheckResult:
    code: str
    outcome: str
    message: str
    field: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.FAIL


def run_checks(claim: Claim, *, today: datetime.date | None = None) -> list[CheckResult]:
    """Every check of the claim: what is loaded already (the claim, its relations and
    lines) plus one query of flags about everything else."""
    today = today or timezone.localdate()
    lines = _lines(claim)
    flags = _flags(claim, lines, today)
    results: list[CheckResult] = []
    for check in (
        _location,
        _tenant,
        _role,
        _units,
        _required_fields,
        _poe,
        _contact_domain,
        _open_claims,
        _conflicts,
    ):
        results.extend(check(claim, lines, flags, today))
    return results


def _lines(claim: Claim) -> list[ClaimLine]:
    if "lines" in getattr(claim, "_prefetched_objects_cache", {}):
        return list(claim.lines.all())
    return list(claim.lines.select_related("product", "subscription"))


def _flags(claim: Claim, lines: list[ClaimLine], today: datetime.date) -> dict[str, Any]:
    """One query answering every question the checks ask the database; per-line flags
    are named ``<flag>_<line id>``."""
    tenant_id, organisation_id = claim.tenant_id, claim.organisation_id
    proofs = ProofOfExecution.objects.filter(claim_id=claim.pk).order_by("-signed_on")
    oldest_allowed = today - datetime.timedelta(days=claim.role.engagement.poe_max_age_days)
    accepted = [file_type.content_type for file_type in filetypes.ACCEPTED]
    domain = claim.customer_contact_email.rpartition("@")[2].lower()
    flags: dict[str, Any] = {
        "tenant_has_contact": Exists(TenantAdminContact.objects.filter(tenant_id=tenant_id)),
        "tenant_has_domain": Exists(
            TenantDomain.objects.filter(tenant_id=tenant_id, verified=True)
        ),
        "contact_domain_verified": Exists(
            TenantDomain.objects.filter(tenant_id=tenant_id, domain=domain, verified=True)
        ),
        "newest_poe": Subquery(proofs.values("signed_on")[:1]),
        "newest_valid_poe": Subquery(
            proofs.filter(
                content_type__in=accepted, signed_on__gte=oldest_allowed, signed_on__lte=today
            ).values("signed_on")[:1]
        ),
    }
    for line in lines:
        unit = {
            "tenant_id": tenant_id,
            "product_id": line.product_id,
            "subscription_id": line.subscription_id,
        }
        if line.subscription_id is None:
            flags[f"licensed_{line.pk}"] = Exists(
                Subscription.objects.filter(
                    tenant_id=tenant_id,
                    product_id=line.product_id,
                    starts_on__lte=today,
                    ends_on__gte=today,
                )
            )
        else:
            # The subscription as it is now (it may have ended since it was loaded).
            subscription = Subscription.objects.filter(pk=line.subscription_id)
            flags[f"other_tenant_{line.pk}"] = Exists(subscription.exclude(tenant_id=tenant_id))
            flags[f"active_{line.pk}"] = Exists(
                subscription.filter(starts_on__lte=today, ends_on__gte=today)
            )
            flags[f"channel_{line.pk}"] = Subquery(subscription.values("purchase_channel")[:1])
        flags[f"open_claim_{line.pk}"] = Subquery(
            ClaimLine.objects.filter(
                unit_filter(**unit, prefix="claim__tenant_id"),
                claim__organisation_id=organisation_id,
                claim__status__in=OPEN_STATUSES,
                status=LineStatus.PENDING,
            )
            .exclude(claim_id=claim.pk)
            .order_by("pk")
            .values("claim__name")[:1]
        )
        flags[f"held_by_other_{line.pk}"] = Exists(
            Association.objects.filter(unit_filter(**unit), status__in=HELD_STATUSES).exclude(
                organisation_id=organisation_id
            )
        )
    # The flags need a one-row base to be selected from: the claim's own row.
    return Claim.objects.filter(pk=claim.pk).order_by().values(**flags).get()


def failures(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.failed]


def _ok(code: str, message: str) -> CheckResult:
    return CheckResult(code, Outcome.PASS, message)


def _location(claim, lines, flags, today):
    location = claim.location
    if location.organisation_id != claim.organisation_id:
        yield CheckResult(
            "partner_id",
            Outcome.FAIL,
            _("PartnerID %s is not a location of your organisation.") % location.partner_id,
            "partner_id",
        )
    elif not location.active:
        yield CheckResult(
            "partner_id",
            Outcome.FAIL,
            _("PartnerID %s is not active.") % location.partner_id,
            "partner_id",
        )
    else:
        yield _ok("partner_id", _("PartnerID %s is an active location.") % location.partner_id)


def _tenant(claim, lines, flags, today):
    # A tenant exists for the program when the customer directory can reach it: an
    # admin contact or a verified domain, to tell of the claim and to decline it.
    names = {"id": claim.tenant.tenant_id, "name": claim.tenant.name}
    if flags["tenant_has_contact"] or flags["tenant_has_domain"]:
        yield _ok("tenant", _("Tenant %(id)s (%(name)s) exists.") % names)
    else:
        yield CheckResult(
            "tenant",
            Outcome.FAIL,
            _(
                "Tenant %(id)s (%(name)s) is not in the customer directory: it has no admin "
                "contact and no verified domain."
            )
            % names,
            "tenant_id",
        )


def _role(claim, lines, flags, today):
    area_id = claim.role.solution_area_id
    wrong = [line.product.name for line in lines if line.product.solution_area_id != area_id]
    if wrong:
        yield CheckResult(
            "role",
            Outcome.FAIL,
            _("The role %(role)s does not cover: %(products)s.")
            % {"role": claim.role.name, "products": ", ".join(wrong)},
            "role",
        )
    else:
        yield _ok("role", _("The partner role matches the solution area."))


def _units(claim, lines, flags, today):
    engagement = claim.role.engagement
    if engagement.claim_unit == ClaimUnit.WORKLOAD:
        for line in lines:
            if flags.get(f"licensed_{line.pk}"):
                yield _ok("unit", _("%s is licensed by the tenant.") % line.product.name)
            else:
                yield CheckResult(
                    "unit",
                    Outcome.WARNING,
                    _("No active licence for %s was found for the tenant.") % line.product.name,
                    "products",
                )
        return
    for line in lines:
        label = f"{line.product.name} ({line.subscription.subscription_id})"
        channel = flags[f"channel_{line.pk}"]
        if flags[f"other_tenant_{line.pk}"]:
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %s belongs to another tenant.") % label,
                "subscription_ids",
            )
        elif not flags[f"active_{line.pk}"]:
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %s is not active today.") % label,
                "subscription_ids",
            )
        elif not engagement.allows_channel(channel):
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %(s)s was bought through %(c)s, which %(e)s does not accept.")
                % {
                    "s": label,
                    "c": PurchaseChannel(channel).label,
                    "e": engagement.name,
                },
                "subscription_ids",
            )
        else:
            yield _ok("unit", _("Subscription %s is active and eligible.") % label)


def _required_fields(claim, lines, flags, today):
    missing = [
        field
        for field in (
            "name",
            "customer_contact_name",
            "customer_contact_title",
            "customer_contact_email",
            "partner_contact_name",
            "partner_contact_email",
        )
        if not getattr(claim, field).strip()
    ]
    if claim.role.engagement.requires_revenue_details:
        missing += [
            field
            for field in ("seller_name", "customer_name", "isv_solution_name")
            if not getattr(claim, field).strip()
        ]
    for field in ("customer_contact_email", "partner_contact_email"):
        try:
            validate_email(getattr(claim, field))
        except ValidationError:
            missing.append(field)
    if not lines:
        missing.append("lines")
    if missing:
        yield CheckResult(
            "required_fields",
            Outcome.FAIL,
            _("Missing or invalid: %s.")
            % ", ".join(
                str(Claim._meta.get_field(f).verbose_name) if f != "lines" else _("workloads")
                for f in dict.fromkeys(missing)
            ),
            missing[0],
        )
    else:
        yield _ok("required_fields", _("Every required field is filled in."))


def _poe(claim, lines, flags, today):
    newest = flags["newest_poe"]
    if newest is None:
        yield CheckResult("poe", Outcome.FAIL, _("Upload a proof of execution (PoE)."), "poe")
        return
    newest_valid = flags["newest_valid_poe"]
    if newest_valid is not None:
        yield _ok("poe", _("PoE signed by the customer on %s.") % newest_valid.isoformat())
        return
    if newest > today:
        message = _("The PoE is dated in the future (%s).") % newest.isoformat()
    else:
        message = _("The PoE was signed on %(d)s, more than %(n)s days ago.") % {
            "d": newest.isoformat(),
            "n": claim.role.engagement.poe_max_age_days,
        }
    yield CheckResult("poe", Outcome.FAIL, message, "poe")


def _contact_domain(claim, lines, flags, today):
    domain = claim.customer_contact_email.rpartition("@")[2].lower()
    if flags["contact_domain_verified"]:
        yield _ok("contact_domain", _("%s is a verified domain of the tenant.") % domain)
    else:
        yield CheckResult(
            "contact_domain",
            Outcome.WARNING,
            _("%s is not a verified domain of the tenant: only its admins will be told.") % domain,
            "customer_contact_email",
        )


def _open_claims(claim, lines, flags, today):
    for line in lines:
        other_name = flags[f"open_claim_{line.pk}"]
        if other_name is not None:
            yield CheckResult(
                "open_claim",
                Outcome.FAIL,
                _("Your claim “%(c)s” already asks for %(u)s.")
                % {"c": other_name, "u": line.product.name},
                "products",
            )
            return
    yield _ok("open_claim", _("You have no other open claim for these units."))


def _conflicts(claim, lines, flags, today):
    conflict = False
    for line in lines:
        if flags[f"held_by_other_{line.pk}"]:
            conflict = True
            yield CheckResult(
                "conflict",
                Outcome.WARNING,
                _("Another partner holds %s: the claim with the most recent valid PoE wins.")
                % line.product.name,
                "products",
            )
    if not conflict:
        yield _ok("conflict", _("No other partner holds these units."))
