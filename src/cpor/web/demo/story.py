"""The story ``seed_demo`` tells through the claim services: claims in every status,
associations in every state, all with real history."""

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims import services
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.customers.models import Subscription, Tenant
from cpor.partners.models import PartnerLocation, PartnerOrganisation
from cpor.web.demo.cast import (
    ORGANISATIONS,
    TENANTS,
    DemoCast,
    _ensure_cast,
    poe_upload,
)

# ---------------------------------------------------------------------------
# The story: claims in every status, associations in every state


class _Story:
    def __init__(self, cast: DemoCast) -> None:
        self.cast = cast
        self.lisbon = cast.partner(ORGANISATIONS[0], "incentives")
        self.lisbon_admin = cast.partner(ORGANISATIONS[0], "admin")
        self.northwind = cast.partner(ORGANISATIONS[1], "incentives")
        self.reviewer = cast.reviewer
        self.today = timezone.localdate()

    def draft(
        self,
        actor: User,
        tenant_key: str,
        name: str,
        *,
        role: str = "use_or_consume",
        products: Sequence[str] = (),
        subscriptions: Sequence[str] = (),
        poe_days_ago: int | None = 12,
        location: int = 0,
    ) -> Claim:
        tenant = self.cast.tenants[tenant_key]
        spec = next(t for t in TENANTS if t.key == tenant_key)
        contact_name, contact_email = spec.admins[0]
        organisation = actor.partner_membership.organisation
        data = services.ClaimInput(
            role=role,
            partner_id=organisation.locations.order_by("partner_id")[location].partner_id,
            tenant_id=str(tenant.tenant_id),
            name=name,
            customer_contact_name=contact_name,
            customer_contact_title="IT director",
            customer_contact_email=contact_email,
            partner_contact_name=actor.get_full_name(),
            partner_contact_email=actor.email,
            products=list(products),
            subscription_ids=[
                str(self.cast.subscriptions[key].subscription_id) for key in subscriptions
            ],
        )
        if role == "influenced_revenue":
            data.seller_name = "Marta Dias"
            data.customer_name = tenant.name
            data.isv_solution_name = "FieldPro 365"
        claim = services.claim_create(actor=actor, data=data)
        if poe_days_ago is not None:
            services.poe_add(
                actor=actor,
                claim=claim,
                file=poe_upload(f"Statement of work - {name}"),
                poe_type=PoEType.STATEMENT_OF_WORK,
                signed_on=self.today - datetime.timedelta(days=poe_days_ago),
                signatory=f"{contact_name}, IT director",
                description="Signed statement of work describing the deployment services.",
            )
        return claim

    def submitted(self, actor: User, tenant_key: str, name: str, **kwargs) -> Claim:
        claim = self.draft(actor, tenant_key, name, **kwargs)
        return services.claim_submit(
            actor=actor, claim=claim, confirmed=True, comments="Workshops delivered on site."
        )

    def approved(
        self, actor: User, tenant_key: str, name: str, *, lines: int | None = None, **kwargs
    ) -> Claim:
        claim = self.submitted(actor, tenant_key, name, **kwargs)
        claim = services.claim_start_review(actor=self.reviewer, claim=claim)
        line_ids = None if lines is None else list(claim.lines.values_list("pk", flat=True))[:lines]
        return services.claim_approve(
            actor=self.reviewer, claim=claim, line_ids=line_ids, message="PoE checks out."
        )

    def legacy_import(self, rows: Sequence[tuple[User, str, str, int]]) -> None:
        """Import (partner user, tenant, subscription, days ago) as legacy associations."""
        lines = [",".join(services.LEGACY_COLUMNS)]
        for actor, tenant_key, subscription_key, days_ago in rows:
            location = actor.partner_membership.organisation.locations.order_by("partner_id")
            lines.append(
                ",".join(
                    [
                        location.first().partner_id,
                        str(self.cast.tenants[tenant_key].tenant_id),
                        str(self.cast.subscriptions[subscription_key].subscription_id),
                        "usage_recognition",
                        (self.today - datetime.timedelta(days=days_ago)).isoformat(),
                        "Dynamics 365 partner admin centre export",
                        actor.email,
                    ]
                )
            )
        report = services.legacy_associations_import(
            actor=self.cast.program_admin,
            content="\n".join(lines).encode(),
            file_name="legacy-associations.csv",
        )
        if report.errors:
            raise RuntimeError(f"demo legacy import refused: {report.errors}")

    def tell(self) -> None:
        lisbon, northwind, reviewer = self.lisbon, self.northwind, self.reviewer

        # Approved, then official once the customer's notice period passed.
        teams = self.approved(
            lisbon,
            "contoso",
            "Contoso: Teams and Exchange adoption",
            products=["teams", "exchange_online"],
        )
        self.submitted(
            lisbon,
            "contoso",
            "Contoso: Dynamics 365 Sales advisory",
            role="build_intent_advisor",
            subscriptions=["contoso-sales"],
        )
        in_review = self.submitted(
            lisbon,
            "contoso",
            "Contoso: Customer Service usage",
            role="usage_recognition",
            subscriptions=["contoso-service"],
            location=1,
        )
        services.claim_start_review(actor=reviewer, claim=in_review)
        self.draft(lisbon, "contoso", "Contoso: Intune rollout", products=["intune"])
        stale = self.draft(
            lisbon,
            "contoso",
            "Contoso: Copilot pilot",
            products=["m365_copilot"],
            poe_days_ago=None,
        )

        asked = self.submitted(
            lisbon,
            "adatum",
            "Adatum: Business Central presales",
            role="build_intent_advisor",
            subscriptions=["adatum-bc"],
        )
        asked = services.claim_start_review(actor=reviewer, claim=asked)
        services.claim_request_info(
            actor=reviewer,
            claim=asked,
            reason_code=InfoRequestReason.CUSTOMER_SIGNATURE_MISSING,
            message="The statement of work is not signed by the customer. Please add it.",
        )
        self.approved(
            lisbon,
            "adatum",
            "Adatum: Defender for Endpoint and Office 365",
            products=["defender_endpoint", "defender_office365"],
            lines=1,
        )
        rejected = self.submitted(
            lisbon,
            "adatum",
            "Adatum: Power Automate usage",
            role="usage_recognition",
            subscriptions=["adatum-automate"],
        )
        services.claim_reject(
            actor=reviewer,
            claim=rejected,
            reason_code=RejectionReason.INSUFFICIENT_POE,
            message="The PoE describes a licence sale, not adoption work.",
        )
        disputed = self.submitted(lisbon, "woodgrove", "Woodgrove: Purview", products=["purview"])
        services.claim_reject(
            actor=reviewer, claim=disputed, reason_code=RejectionReason.NO_CUSTOMER_CONSENT
        )
        services.claim_dispute(
            actor=lisbon,
            claim=disputed,
            justification="The customer's consent is on page 3 of the statement of work.",
        )
        withdrawn = self.submitted(
            lisbon,
            "woodgrove",
            "Woodgrove: Customer Service revenue",
            role="influenced_revenue",
            subscriptions=["woodgrove-service"],
        )
        services.claim_withdraw(
            actor=lisbon, claim=withdrawn, message="Filed under the wrong role."
        )

        declined = self.submitted(
            northwind,
            "alpine",
            "Alpine: Field Service advisory",
            role="build_intent_advisor",
            subscriptions=["alpine-field"],
        )
        services.claim_decline_lines(
            claim=declined,
            actor_label="admin@alpineskihouse.example",
            reason="We did not work with this partner on Field Service.",
        )
        phone = self.approved(northwind, "alpine", "Alpine: Teams Phone", products=["teams_phone"])
        services.association_decline(
            association=phone.associations.get(),
            actor_label="admin@alpineskihouse.example",
            reason="Another partner runs our telephony.",
        )

        # Northwind's newer PoE wins Fabrikam's Finance subscription from Lisbon.
        self.approved(
            lisbon,
            "fabrikam",
            "Fabrikam: Finance advisory",
            role="build_intent_advisor",
            subscriptions=["fabrikam-finance"],
            poe_days_ago=300,
        )
        winner = self.approved(
            northwind,
            "fabrikam",
            "Fabrikam: Finance transformation",
            role="build_intent_advisor",
            subscriptions=["fabrikam-finance"],
            poe_days_ago=5,
        )
        pages = self.approved(
            northwind,
            "tailspin",
            "Tailspin: Power Pages portal",
            role="usage_recognition",
            subscriptions=["tailspin-pages"],
        )
        services.association_withdraw(
            actor=self.cast.partner(ORGANISATIONS[1], "admin"),
            association=pages.associations.get(),
            reason="The project was cancelled before go-live.",
        )
        self.approved(
            lisbon,
            "tailspin",
            "Tailspin: Sales advisory",
            role="build_intent_advisor",
            subscriptions=["tailspin-sales"],
        )
        field = self.approved(
            northwind,
            "fabrikam",
            "Fabrikam: Field Service usage",
            role="usage_recognition",
            subscriptions=["fabrikam-field-2025"],
        )
        exchange = self.approved(
            northwind,
            "woodgrove",
            "Woodgrove: Exchange Online migration",
            products=["exchange_online"],
        )
        services.association_revoke(
            actor=self.cast.program_admin,
            association=exchange.associations.get(),
            reason="The partner's PartnerID was found to belong to another company.",
        )

        # Associations made before CPOR, imported by the program: Northwind keeps its
        # Finance one; Lisbon Cloud re-associates Supply Chain with a normal claim,
        # whose approval ends the legacy association ("reassociated").
        self.legacy_import(
            [
                (northwind, "woodgrove", "woodgrove-finance", 420),
                (lisbon, "fabrikam", "fabrikam-scm", 380),
            ]
        )
        self.approved(
            lisbon,
            "fabrikam",
            "Fabrikam: Supply Chain adoption",
            role="usage_recognition",
            subscriptions=["fabrikam-scm"],
        )

        # Time passes: these notice periods ran out ten days ago.
        now = timezone.now()
        official = Association.objects.filter(claim__in=[teams, winner, field])
        official.update(
            approved_at=now - datetime.timedelta(days=17),
            notice_ends_at=now - datetime.timedelta(days=10),
        )
        services.associations_activate_due(now=now)

        # Two subscriptions end: Fabrikam renewed Field Service, Tailspin did not renew Sales.
        Subscription.objects.filter(
            pk__in=[
                self.cast.subscriptions["fabrikam-field-2025"].pk,
                self.cast.subscriptions["tailspin-sales"].pk,
            ]
        ).update(ends_on=self.today - datetime.timedelta(days=1))
        services.associations_expire_ended_subscriptions(today=self.today)

        # A draft nobody touched for longer than the program allows.
        age = ProgramSettings.load().draft_expiry_days + 30
        Claim.objects.filter(pk=stale.pk).update(updated_at=now - datetime.timedelta(days=age))
        services.claims_expire_stale_drafts(now=now)


def seed_demo() -> bool:
    """Create the demo cast and story; returns False when the story was already told."""
    with transaction.atomic():
        cast = _ensure_cast()
        if Claim.objects.filter(organisation__in=cast.organisations).exists():
            return False
        _Story(cast).tell()
    return True


def summary() -> dict[str, int]:
    counts = {
        "partner organisations": PartnerOrganisation.objects.count(),
        "partner locations": PartnerLocation.objects.count(),
        "users": User.objects.count(),
        "tenants": Tenant.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "claims": Claim.objects.count(),
        "claim lines": ClaimLine.objects.count(),
        "proofs of execution": ProofOfExecution.objects.count(),
        "history events": ClaimEvent.objects.count(),
        "associations": Association.objects.count(),
    }
    for row in Claim.objects.values("status").annotate(n=Count("pk")).order_by("status"):
        counts[f"claims {row['status']}"] = row["n"]
    associations = Association.objects.values("status", "end_reason").annotate(n=Count("pk"))
    for row in associations.order_by("status", "end_reason"):
        label = row["status"] + (f" ({row['end_reason']})" if row["end_reason"] else "")
        counts[f"associations {label}"] = row["n"]
    return counts
