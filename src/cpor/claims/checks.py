"""Automated checks run when a draft is checked or submitted (SPEC §4).

Each check gives pass, warning or fail with a message; any fail blocks submission. The
partner sees them before submitting and the reviewer sees them re-run on opening.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.catalog.models import ClaimUnit
from cpor.claims import filetypes
from cpor.claims.models import OPEN_STATUSES, Claim, ClaimLine, LineStatus
from cpor.claims.selectors import unit_filter
from cpor.customers.models import TenantDomain


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
    today = today or timezone.localdate()
    lines = list(claim.lines.select_related("product", "subscription"))
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
        results.extend(check(claim, lines, today))
    return results


def failures(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.failed]


def _ok(code: str, message: str) -> CheckResult:
    return CheckResult(code, Outcome.PASS, message)


def _location(claim, lines, today):
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


def _tenant(claim, lines, today):
    yield _ok(
        "tenant",
        _("Tenant %(id)s (%(name)s) exists.")
        % {"id": claim.tenant.tenant_id, "name": claim.tenant.name},
    )


def _role(claim, lines, today):
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


def _units(claim, lines, today):
    engagement = claim.role.engagement
    if engagement.claim_unit == ClaimUnit.WORKLOAD:
        licensed = set(
            claim.tenant.subscriptions.filter(starts_on__lte=today, ends_on__gte=today).values_list(
                "product_id", flat=True
            )
        )
        for line in lines:
            if line.product_id in licensed:
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
        subscription = line.subscription
        label = f"{line.product.name} ({subscription.subscription_id})"
        if subscription.tenant_id != claim.tenant_id:
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %s belongs to another tenant.") % label,
                "subscription_ids",
            )
        elif not subscription.is_active_on(today):
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %s is not active today.") % label,
                "subscription_ids",
            )
        elif not engagement.allows_channel(subscription.purchase_channel):
            yield CheckResult(
                "unit",
                Outcome.FAIL,
                _("Subscription %(s)s was bought through %(c)s, which %(e)s does not accept.")
                % {
                    "s": label,
                    "c": subscription.get_purchase_channel_display(),
                    "e": engagement.name,
                },
                "subscription_ids",
            )
        else:
            yield _ok("unit", _("Subscription %s is active and eligible.") % label)


def _required_fields(claim, lines, today):
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


def _poe(claim, lines, today):
    proofs = list(claim.proofs.all())
    if not proofs:
        yield CheckResult("poe", Outcome.FAIL, _("Upload a proof of execution (PoE)."), "poe")
        return
    accepted = {file_type.content_type for file_type in filetypes.ACCEPTED}
    oldest_allowed = today - datetime.timedelta(days=claim.role.engagement.poe_max_age_days)
    valid = [
        proof
        for proof in proofs
        if proof.content_type in accepted and oldest_allowed <= proof.signed_on <= today
    ]
    if valid:
        newest = max(proof.signed_on for proof in valid)
        yield _ok("poe", _("PoE signed by the customer on %s.") % newest.isoformat())
        return
    newest = max(proofs, key=lambda proof: proof.signed_on)
    if newest.signed_on > today:
        message = _("The PoE is dated in the future (%s).") % newest.signed_on.isoformat()
    else:
        message = _("The PoE was signed on %(d)s, more than %(n)s days ago.") % {
            "d": newest.signed_on.isoformat(),
            "n": claim.role.engagement.poe_max_age_days,
        }
    yield CheckResult("poe", Outcome.FAIL, message, "poe")


def _contact_domain(claim, lines, today):
    domain = claim.customer_contact_email.rpartition("@")[2].lower()
    if TenantDomain.objects.filter(tenant=claim.tenant, domain=domain, verified=True).exists():
        yield _ok("contact_domain", _("%s is a verified domain of the tenant.") % domain)
    else:
        yield CheckResult(
            "contact_domain",
            Outcome.WARNING,
            _("%s is not a verified domain of the tenant: only its admins will be told.") % domain,
            "customer_contact_email",
        )


def _open_claims(claim, lines, today):
    for line in lines:
        others = ClaimLine.objects.filter(
            unit_filter(
                tenant_id=claim.tenant_id,
                product_id=line.product_id,
                subscription_id=line.subscription_id,
                prefix="claim__tenant_id",
            ),
            claim__organisation_id=claim.organisation_id,
            claim__status__in=OPEN_STATUSES,
            status=LineStatus.PENDING,
        ).exclude(claim_id=claim.pk)
        other = others.select_related("claim").first()
        if other is not None:
            yield CheckResult(
                "open_claim",
                Outcome.FAIL,
                _("Your claim “%(c)s” already asks for %(u)s.")
                % {"c": other.claim.name, "u": line.product.name},
                "products",
            )
            return
    yield _ok("open_claim", _("You have no other open claim for these units."))


def _conflicts(claim, lines, today):
    from cpor.claims.selectors import unit_holder

    conflict = False
    for line in lines:
        holder = unit_holder(
            tenant_id=claim.tenant_id,
            product_id=line.product_id,
            subscription_id=line.subscription_id,
        )
        if holder is not None and holder.organisation_id != claim.organisation_id:
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
