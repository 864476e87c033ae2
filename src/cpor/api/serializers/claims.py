"""How the API answers with the catalog and claims: serializers for the schema, and
the claim bodies built from memory or from rows."""

import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from cpor.catalog.models import PartnerRole, Product, ProgramSettings, SolutionArea
from cpor.claims.models import (
    Claim,
    ClaimLine,
)
from cpor.claims.selectors import (
    ExpectedDates,
    claim_expected_dates,
    claim_tenant_related,
    expected_dates,
    needs_targets,
)
from cpor.partners.models import PartnerLocation

# ---------------------------------------------------------------------------
# Output


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("code", "name")


class RoleSerializer(serializers.ModelSerializer):
    engagement = serializers.CharField(source="engagement.code")
    engagement_name = serializers.CharField(source="engagement.name")
    claim_unit = serializers.CharField(source="engagement.claim_unit")
    incentivized = serializers.BooleanField(source="engagement.incentivized")
    opt_out_allowed = serializers.BooleanField(source="engagement.opt_out_allowed")
    requires_revenue_details = serializers.BooleanField(
        source="engagement.requires_revenue_details"
    )
    allowed_channels = serializers.ListField(
        child=serializers.CharField(), source="engagement.allowed_channels"
    )

    class Meta:
        model = PartnerRole
        fields = (
            "code",
            "name",
            "help_text",
            "engagement",
            "engagement_name",
            "claim_unit",
            "incentivized",
            "opt_out_allowed",
            "requires_revenue_details",
            "allowed_channels",
        )


class SolutionAreaSerializer(serializers.ModelSerializer):
    roles = RoleSerializer(many=True)
    products = ProductSerializer(many=True)

    class Meta:
        model = SolutionArea
        fields = ("code", "name", "roles", "products")


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerLocation
        fields = ("partner_id", "name", "country")


class LineSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    subscription_id = serializers.UUIDField(
        source="subscription.subscription_id", allow_null=True, default=None
    )

    class Meta:
        model = ClaimLine
        fields = ("id", "product", "product_name", "subscription_id", "status")


class ExpectedDatesSerializer(serializers.Serializer):
    """When to expect the program to act on the claim, or when the partner must: the
    reviewer's service-level targets. Null when the status expects nothing of the kind."""

    pickup_by = serializers.DateTimeField(
        source="pickup",
        allow_null=True,
        help_text="While the claim waits (submitted, disputed): when a reviewer should take it up.",
    )
    decision_by = serializers.DateTimeField(
        source="decision",
        allow_null=True,
        help_text="While the claim awaits a decision: when the reviewer should decide.",
    )
    reply_by = serializers.DateTimeField(
        source="reply",
        allow_null=True,
        help_text="Action required: when the answer to the request for information is due; "
        "past it, the claim is rejected.",
    )

    def to_representation(self, instance):
        if isinstance(instance, Claim):
            settings = None
            if needs_targets([instance.status]):
                # Read once per answer (a page of the queue), not once per claim.
                root = self.root
                settings = getattr(root, "_program_targets", None) or ProgramSettings.load()
                root._program_targets = settings
            instance = expected_dates(instance, settings=settings)
        return super().to_representation(instance)


class ClaimSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    partner_id = serializers.CharField(source="location.partner_id")
    role = serializers.CharField(source="role.code")
    solution_area = serializers.CharField(source="role.solution_area.code")
    engagement = serializers.CharField(source="role.engagement.code")
    tenant_id = serializers.UUIDField(source="tenant.tenant_id")
    tenant_name = serializers.SerializerMethodField(
        help_text=(
            "The customer's name; null while the caller's partner organisation has no "
            "relationship with the tenant (no held or past association, no accepted "
            "customer invitation): a pending claim is not one."
        )
    )
    lines = LineSerializer(many=True)
    url = serializers.SerializerMethodField()
    expected = ExpectedDatesSerializer(source="*", read_only=True)

    class Meta:
        model = Claim
        fields = (
            "id",
            "url",
            "name",
            "status",
            "organisation",
            "partner_id",
            "role",
            "solution_area",
            "engagement",
            "tenant_id",
            "tenant_name",
            "incentive_opt_out",
            "customer_contact_name",
            "customer_contact_title",
            "customer_contact_email",
            "partner_contact_name",
            "partner_contact_email",
            "seller_name",
            "customer_name",
            "isv_solution_name",
            "comments",
            "lines",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "info_requested_until",
            "expected",
        )

    def get_url(self, claim: Claim) -> str:
        return reverse("api:claim-detail", args=[claim.pk])

    def get_tenant_name(self, claim: Claim) -> str | None:
        request = self.context.get("request")
        actor = request.user if request is not None else None
        return claim.tenant.name if claim_tenant_related(actor=actor, claim=claim) else None


def _datetime(value: datetime.datetime | None, zone: datetime.tzinfo) -> str | None:
    """A time as ``serializers.DateTimeField`` writes it: ISO 8601 in the current time
    zone, UTC as "Z"."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _claim_url_prefix() -> str:
    # One reverse() per answer rather than per claim: "/api/v1/claims/0/" less the id.
    return reverse("api:claim-detail", args=[0])[:-2]


def claim_data(claim: Claim, *, actor) -> dict:
    """``ClaimSerializer(claim).data``, built directly from the loaded claim: the same
    keys and values (a test compares them) at a fraction of the serializer's CPU. The
    serializer stays as the schema's description. The tenant's name is the ``actor``'s
    to see only with a relationship."""
    role, tenant = claim.role, claim.tenant
    row = {name: getattr(claim, name) for name in CLAIM_COLUMNS}
    row |= {
        "organisation__name": claim.organisation.name,
        "location__partner_id": claim.location.partner_id,
        "role__code": role.code,
        "role__solution_area__code": role.solution_area.code,
        "role__engagement__code": role.engagement.code,
        "tenant__tenant_id": tenant.tenant_id,
        "tenant__name": tenant.name,
        "tenant_related": claim_tenant_related(actor=actor, claim=claim),
    }
    lines = [
        (
            line.pk,
            line.product.code,
            line.product.name,
            line.subscription.subscription_id if line.subscription_id else None,
            line.status,
        )
        for line in claim.lines.all()
    ]
    settings = ProgramSettings.load() if needs_targets([claim.status]) else None
    return _claim_answer(row, lines, _claim_url_prefix(), timezone.get_current_timezone(), settings)


# What the claim list reads: rows of these paths (no model instances), and its lines.
CLAIM_COLUMNS = (
    "id",
    "name",
    "status",
    "incentive_opt_out",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
    "seller_name",
    "customer_name",
    "isv_solution_name",
    "comments",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
    "info_requested_until",
)
CLAIM_ROW = (
    *CLAIM_COLUMNS,
    "organisation__name",
    "location__partner_id",
    "role__code",
    "role__solution_area__code",
    "role__engagement__code",
    "tenant__tenant_id",
    "tenant_id",
    "tenant__name",
)
LINE_ROW = (
    "claim_id",
    "id",
    "product__code",
    "product__name",
    "subscription__subscription_id",
    "status",
)


def claim_rows_data(rows: list[dict], lines: list[tuple]) -> list[dict]:
    """A page of the claim list from ``CLAIM_ROW`` rows, each also saying
    ``tenant_related``, and ``LINE_ROW`` tuples (ordered by id): the same answer as
    ``claim_data`` of each claim."""
    by_claim: dict[int, list[tuple]] = {row["id"]: [] for row in rows}
    for claim_id, *line in lines:
        by_claim[claim_id].append(line)
    prefix, zone = _claim_url_prefix(), timezone.get_current_timezone()
    # The program's targets, read once for the page and only if a claim needs them.
    settings = ProgramSettings.load() if needs_targets(row["status"] for row in rows) else None
    return [_claim_answer(row, by_claim[row["id"]], prefix, zone, settings) for row in rows]


def _claim_answer(
    row: dict,
    lines: list,
    prefix: str,
    zone: datetime.tzinfo,
    settings: ProgramSettings | None,
) -> dict:
    expected: ExpectedDates = claim_expected_dates(
        status=row["status"],
        entered_at=row["updated_at"],
        info_requested_until=row["info_requested_until"],
        settings=settings,
    )
    return {
        "id": row["id"],
        "url": f"{prefix}{row['id']}/",
        "name": row["name"],
        "status": row["status"],
        "organisation": row["organisation__name"],
        "partner_id": row["location__partner_id"],
        "role": row["role__code"],
        "solution_area": row["role__solution_area__code"],
        "engagement": row["role__engagement__code"],
        "tenant_id": str(row["tenant__tenant_id"]),
        "tenant_name": row["tenant__name"] if row["tenant_related"] else None,
        "incentive_opt_out": row["incentive_opt_out"],
        "customer_contact_name": row["customer_contact_name"],
        "customer_contact_title": row["customer_contact_title"],
        "customer_contact_email": row["customer_contact_email"],
        "partner_contact_name": row["partner_contact_name"],
        "partner_contact_email": row["partner_contact_email"],
        "seller_name": row["seller_name"],
        "customer_name": row["customer_name"],
        "isv_solution_name": row["isv_solution_name"],
        "comments": row["comments"],
        "lines": [
            {
                "id": line_id,
                "product": product,
                "product_name": product_name,
                "subscription_id": str(subscription) if subscription else None,
                "status": status,
            }
            for line_id, product, product_name, subscription, status in lines
        ],
        "created_at": _datetime(row["created_at"], zone),
        "updated_at": _datetime(row["updated_at"], zone),
        "submitted_at": _datetime(row["submitted_at"], zone),
        "decided_at": _datetime(row["decided_at"], zone),
        "info_requested_until": _datetime(row["info_requested_until"], zone),
        "expected": {
            "pickup_by": _datetime(expected.pickup, zone),
            "decision_by": _datetime(expected.decision, zone),
            "reply_by": _datetime(expected.reply, zone),
        },
    }


class QueueItemSerializer(ClaimSerializer):
    """A claim in the review queue, with the database's quick flags."""

    has_conflict = serializers.BooleanField()
    poe_flag = serializers.BooleanField(help_text="No PoE signed within the age limit.")
    unit_flag = serializers.BooleanField(help_text="A subscription not active or wrong channel.")
    location_flag = serializers.BooleanField(help_text="The PartnerID is no longer active.")

    class Meta(ClaimSerializer.Meta):
        fields = (
            *ClaimSerializer.Meta.fields,
            "has_conflict",
            "poe_flag",
            "unit_flag",
            "location_flag",
        )
