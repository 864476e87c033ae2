# ruff: noqa: S608 - the flags query is built from table names and placeholders only;
# every value is a parameter.
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
from django.db import connection, models
from django.utils import timezone
from django.utils.formats import date_format
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


class CheckResults(list):
    """What ``run_checks`` found, and the inputs of the time-bound checks that a
    transition stores on the claim (``check_flags.stored_check_flags``), read by the same
    query: the newest PoE signed by the day of the check, and the first end of a pending
    line's subscription."""

    def __init__(self, results=(), *, poe_signed_on=None, units_end_on=None) -> None:
        super().__init__(results)
        self.poe_signed_on: datetime.date | None = poe_signed_on
        self.units_end_on: datetime.date | None = units_end_on


def run_checks(claim: Claim, *, today: datetime.date | None = None) -> CheckResults:
    """Every check of the claim: what is loaded already (the claim, its relations and
    lines) plus one query of flags about everything else."""
    today = today or timezone.localdate()
    lines = _lines(claim)
    flags = _flags(claim, lines, today)
    results = CheckResults(poe_signed_on=flags["poe_signed_on"], units_end_on=flags["units_end_on"])
    for check in (
        _location,
        _tenant,
        _role,
        _units,
        _required_fields,
        _poe,
        _contact_domain,
        _open_claims,
        _already_held,
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
    are named ``<flag>_<line id>``. Plain SQL (portable to SQLite): the checks run on
    every submission, and building this as ORM expressions cost more CPU than the rest
    of the checks together."""
    query = _FlagQuery()
    tenant, organisation = claim.tenant_id, claim.organisation_id
    domain = claim.customer_contact_email.rpartition("@")[2].lower()
    oldest_allowed = today - datetime.timedelta(days=claim.role.engagement.poe_max_age_days)
    accepted = [file_type.content_type for file_type in filetypes.ACCEPTED]
    query.add(
        "tenant_has_contact", f"EXISTS (SELECT 1 FROM {CONTACTS} WHERE tenant_id = %s)", tenant
    )
    query.add(
        "tenant_has_domain",
        f"EXISTS (SELECT 1 FROM {DOMAINS} WHERE tenant_id = %s AND verified)",
        tenant,
    )
    query.add(
        "contact_domain_verified",
        f"EXISTS (SELECT 1 FROM {DOMAINS} WHERE tenant_id = %s AND domain = %s AND verified)",
        tenant,
        domain,
    )
    query.add("newest_poe", f"SELECT MAX(signed_on) FROM {PROOFS} WHERE claim_id = %s", claim.pk)
    _add_time_bound_inputs(query, claim, today)
    query.add(
        "newest_valid_poe",
        f"SELECT MAX(signed_on) FROM {PROOFS} WHERE claim_id = %s "
        f"AND content_type IN ({_marks(accepted)}) AND signed_on >= %s AND signed_on <= %s",
        claim.pk,
        *accepted,
        oldest_allowed,
        today,
    )
    for line in lines:
        n = line.pk
        if line.subscription_id is None:
            query.add(
                f"licensed_{n}",
                f"EXISTS (SELECT 1 FROM {SUBSCRIPTIONS} WHERE tenant_id = %s "
                "AND product_id = %s AND starts_on <= %s AND ends_on >= %s)",
                tenant,
                line.product_id,
                today,
                today,
            )
            line_unit, line_params = (
                "c.tenant_id = %s AND l.product_id = %s AND l.subscription_id IS NULL",
                [tenant, line.product_id],
            )
            held_unit, held_params = (
                "a.tenant_id = %s AND a.product_id = %s AND a.subscription_id IS NULL",
                [tenant, line.product_id],
            )
        else:
            # The subscription as it is now (it may have ended since it was loaded).
            subscription = line.subscription_id
            query.add(
                f"other_tenant_{n}",
                f"EXISTS (SELECT 1 FROM {SUBSCRIPTIONS} WHERE id = %s AND tenant_id <> %s)",
                subscription,
                tenant,
            )
            query.add(
                f"active_{n}",
                f"EXISTS (SELECT 1 FROM {SUBSCRIPTIONS} WHERE id = %s "
                "AND starts_on <= %s AND ends_on >= %s)",
                subscription,
                today,
                today,
            )
            query.add(
                f"channel_{n}",
                f"SELECT purchase_channel FROM {SUBSCRIPTIONS} WHERE id = %s",
                subscription,
            )
            line_unit, line_params = "l.subscription_id = %s", [subscription]
            held_unit, held_params = "a.subscription_id = %s", [subscription]
        query.add(
            f"open_claim_{n}",
            f"SELECT c.name FROM {LINES} l JOIN {CLAIMS} c ON c.id = l.claim_id "
            f"WHERE {line_unit} AND c.organisation_id = %s AND c.status IN "
            f"({_marks(OPEN_STATUSES)}) AND l.status = %s AND l.claim_id <> %s "
            "ORDER BY l.id LIMIT 1",
            *line_params,
            organisation,
            *sorted(OPEN_STATUSES),
            LineStatus.PENDING,
            claim.pk,
        )
        # A legacy association of ours is no obstacle: claiming its unit re-associates.
        for name, legacy in ((f"held_by_us_{n}", False), (f"legacy_by_us_{n}", True)):
            query.add(
                name,
                f"EXISTS (SELECT 1 FROM {ASSOCIATIONS} a WHERE {held_unit} "
                f"AND a.status IN ({_marks(HELD_STATUSES)}) AND a.organisation_id = %s "
                "AND a.legacy = %s)",
                *held_params,
                *HELD_STATUSES,
                organisation,
                legacy,
            )
        query.add(
            f"held_by_other_{n}",
            f"EXISTS (SELECT 1 FROM {ASSOCIATIONS} a WHERE {held_unit} "
            f"AND a.status IN ({_marks(HELD_STATUSES)}) AND a.organisation_id <> %s)",
            *held_params,
            *HELD_STATUSES,
            organisation,
        )
    return query.run()


DATE_FLAGS = frozenset({"newest_poe", "newest_valid_poe", "poe_signed_on", "units_end_on"})
CLAIMS = Claim._meta.db_table
LINES = ClaimLine._meta.db_table
PROOFS = ProofOfExecution._meta.db_table
ASSOCIATIONS = Association._meta.db_table
SUBSCRIPTIONS = Subscription._meta.db_table
CONTACTS = TenantAdminContact._meta.db_table
DOMAINS = TenantDomain._meta.db_table


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _add_time_bound_inputs(query: "_FlagQuery", claim: Claim, today: datetime.date) -> None:
    """The inputs of the time-bound checks that a claim stores (``CheckResults``)."""
    query.add(
        "poe_signed_on",
        f"SELECT MAX(signed_on) FROM {PROOFS} WHERE claim_id = %s AND signed_on <= %s",
        claim.pk,
        today,
    )
    query.add(
        "units_end_on",
        f"SELECT MIN(s.ends_on) FROM {LINES} l JOIN {SUBSCRIPTIONS} s ON s.id = l.subscription_id "
        "WHERE l.claim_id = %s AND l.status = %s",
        claim.pk,
        LineStatus.PENDING,
    )


def time_bound_inputs(claim: Claim, *, today: datetime.date) -> dict[str, datetime.date | None]:
    """``poe_signed_on`` and ``units_end_on`` of the claim, without running the checks (a
    dispute stores them again)."""
    query = _FlagQuery()
    _add_time_bound_inputs(query, claim, today)
    return query.run()


class _FlagQuery:
    """``SELECT (<sub-query>) AS <name>, …``: one row of named flags."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.params: list = []

    def add(self, name: str, sql: str, *params) -> None:
        self.columns.append(f"({sql}) AS {name}")
        self.params.extend(params)

    def run(self) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(self.columns)}", self.params)
            names = [column[0] for column in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
        # SQLite answers dates as text and flags as 0/1.
        for name in DATE_FLAGS & row.keys():
            if isinstance(row[name], str):
                row[name] = datetime.date.fromisoformat(row[name])
        return row


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
    # The ID only: partners read these results too, and see a tenant's name only with a
    # relationship (cpor.customers.relationships).
    names = {"id": claim.tenant.tenant_id}
    if flags["tenant_has_contact"] or flags["tenant_has_domain"]:
        yield _ok("tenant", _("Tenant %(id)s exists.") % names)
    else:
        yield CheckResult(
            "tenant",
            Outcome.FAIL,
            _(
                "Tenant %(id)s is not in the customer directory: it has no admin contact "
                "and no verified domain."
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
        yield _ok("poe", _("PoE signed by the customer on %s.") % date_format(newest_valid))
        return
    if newest > today:
        message = _("The PoE is dated in the future (%s).") % date_format(newest)
    else:
        message = _("The PoE was signed on %(d)s, more than %(n)s days ago.") % {
            "d": date_format(newest),
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


def _already_held(claim, lines, flags, today):
    # Claiming again what the organisation holds would only e-mail the customer again
    # and could never be approved.
    held = [line for line in lines if flags[f"held_by_us_{line.pk}"]]
    for line in held:
        yield CheckResult(
            "already_held",
            Outcome.FAIL,
            _("Your organisation already holds %s: there is nothing to claim.") % line,
            "products",
        )
    if not held:
        yield _ok("already_held", _("Your organisation holds none of these units yet."))
    for line in lines:
        if flags[f"legacy_by_us_{line.pk}"]:
            yield CheckResult(
                "reassociation",
                Outcome.WARNING,
                _(
                    "Your organisation holds %s through a legacy association: once this "
                    "claim is approved, it replaces the legacy association."
                )
                % line,
                "products",
            )


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
