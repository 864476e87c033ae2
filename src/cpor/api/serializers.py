"""What goes in and out of the API. Input serializers only check shapes and types; the
rules are the services'. Every input serializer refuses fields it does not know."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from cpor.api.models import WebhookDelivery, WebhookEndpoint
from cpor.catalog.models import PartnerRole, Product, SolutionArea
from cpor.claims.models import (
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.services import ClaimInput
from cpor.partners.models import PartnerLocation


class StrictInput(serializers.Serializer):
    """Unknown fields are an error naming the field, never silently dropped."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: serializers.ErrorDetail(_("Unknown field."), code="unknown_field")
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


def _text(**kwargs):
    return serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, **kwargs
    )


# ---------------------------------------------------------------------------
# Input


class ClaimInputSerializer(StrictInput):
    """The Add customer wizard in one body. Rules (required fields, roles, units…) are
    checked by the claim services, which name the failing field."""

    role = serializers.CharField(max_length=60, help_text="A partner role code (see /catalog/).")
    solution_area = serializers.CharField(required=False, allow_null=True, default=None)
    partner_id = serializers.CharField(max_length=12)
    tenant_id = serializers.CharField(max_length=64, help_text="The customer's directory ID.")
    name = serializers.CharField(max_length=200)
    customer_contact_name = _text(max_length=200)
    customer_contact_title = _text(max_length=200)
    customer_contact_email = _text(max_length=254)
    partner_contact_name = _text(max_length=200)
    partner_contact_email = _text(max_length=254)
    products = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list, max_length=100
    )
    subscription_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=100
    )
    incentive_opt_out = serializers.BooleanField(required=False, default=False)
    seller_name = _text(max_length=200)
    customer_name = _text(max_length=200)
    isv_solution_name = _text(max_length=200)

    def to_claim_input(self) -> ClaimInput:
        return ClaimInput(**self.validated_data)


def claim_input_of(claim: Claim) -> dict:
    """A stored claim as input values: the base a partial update changes."""
    lines = list(claim.lines.select_related("subscription", "product"))
    return {
        "role": claim.role.code,
        "partner_id": claim.location.partner_id,
        "tenant_id": str(claim.tenant.tenant_id),
        "name": claim.name,
        "customer_contact_name": claim.customer_contact_name,
        "customer_contact_title": claim.customer_contact_title,
        "customer_contact_email": claim.customer_contact_email,
        "partner_contact_name": claim.partner_contact_name,
        "partner_contact_email": claim.partner_contact_email,
        "products": [line.product.code for line in lines if line.subscription_id is None],
        "subscription_ids": [
            str(line.subscription.subscription_id) for line in lines if line.subscription_id
        ],
        "incentive_opt_out": claim.incentive_opt_out,
        "seller_name": claim.seller_name,
        "customer_name": claim.customer_name,
        "isv_solution_name": claim.isv_solution_name,
    }


class ClaimFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ClaimStatus.choices, required=False)
    solution_area = serializers.CharField(required=False, max_length=40)
    role = serializers.CharField(required=False, max_length=60)
    tenant = serializers.CharField(
        required=False, max_length=200, help_text="Tenant ID, or part of the customer name."
    )
    text = serializers.CharField(required=False, max_length=200)


class AssociationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AssociationStatus.choices, required=False)


class QueueFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.DISPUTED],
        required=False,
    )
    engagement = serializers.CharField(required=False, max_length=60)
    solution_area = serializers.CharField(required=False, max_length=40)
    conflict = serializers.BooleanField(required=False, help_text="Only claims in conflict.")
    failed_checks = serializers.BooleanField(
        required=False, help_text="Only claims failing a quick check (PoE, unit, PartnerID)."
    )
    mine = serializers.BooleanField(required=False, help_text="Only claims in review with me.")
    text = serializers.CharField(required=False, max_length=200)


class SubmitSerializer(StrictInput):
    confirmed = serializers.BooleanField(
        help_text="The partner confirms the information is accurate and the customer agreed."
    )
    comments = _text(max_length=5000)


class MessageSerializer(StrictInput):
    message = _text(max_length=5000)


class DisputeSerializer(StrictInput):
    justification = _text(max_length=5000)


class ApproveSerializer(StrictInput):
    line_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        default=None,
        max_length=500,
        help_text="Approve only these lines (the rest are not approved); omit for all.",
    )
    message = _text(max_length=5000)


class RejectSerializer(StrictInput):
    reason_code = serializers.ChoiceField(choices=RejectionReason.choices)
    message = _text(max_length=5000)


class RequestInfoSerializer(StrictInput):
    reason_code = serializers.ChoiceField(choices=InfoRequestReason.choices)
    message = _text(max_length=5000)


class EndAssociationSerializer(StrictInput):
    reason = _text(max_length=5000)


class CustomerDeclineSerializer(StrictInput):
    line_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        default=None,
        max_length=500,
        help_text="Decline only these lines of the request; omit for every pending line.",
    )
    reason = _text(max_length=2000)


class ProofUploadSerializer(StrictInput):
    file = serializers.FileField(allow_empty_file=True)
    poe_type = serializers.ChoiceField(choices=PoEType.choices)
    signed_on = serializers.DateField()
    signatory = serializers.CharField(max_length=200)
    description = _text(max_length=5000)


class ClaimFileSerializer(ClaimInputSerializer):
    """A claim, its PoE and its submission in one multipart body: the claim's fields
    (lists as repeated parts), the PoE file and its metadata, and the confirmation."""

    file = serializers.FileField(allow_empty_file=True, help_text="The PoE document.")
    poe_type = serializers.ChoiceField(choices=PoEType.choices)
    signed_on = serializers.DateField(help_text="The day the customer signed the PoE.")
    signatory = serializers.CharField(max_length=200, help_text="The customer's signatory.")
    description = _text(max_length=5000, help_text="What the PoE shows.")
    confirmed = serializers.BooleanField(
        help_text="The partner confirms the information is accurate and the customer agreed."
    )
    comments = _text(max_length=5000)

    POE_FIELDS = ("file", "poe_type", "signed_on", "signatory", "description")
    SUBMIT_FIELDS = ("confirmed", "comments")

    def to_claim_input(self) -> ClaimInput:
        data = self.validated_data
        skip = {*self.POE_FIELDS, *self.SUBMIT_FIELDS}
        return ClaimInput(**{name: value for name, value in data.items() if name not in skip})

    def poe(self) -> dict:
        return {name: self.validated_data[name] for name in self.POE_FIELDS}

    def submission(self) -> dict:
        return {name: self.validated_data[name] for name in self.SUBMIT_FIELDS}


class WebhookEndpointInputSerializer(StrictInput):
    url = serializers.CharField(max_length=500)
    description = _text(max_length=200)


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


class ClaimSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    partner_id = serializers.CharField(source="location.partner_id")
    role = serializers.CharField(source="role.code")
    solution_area = serializers.CharField(source="role.solution_area.code")
    engagement = serializers.CharField(source="role.engagement.code")
    tenant_id = serializers.UUIDField(source="tenant.tenant_id")
    tenant_name = serializers.CharField(source="tenant.name")
    lines = LineSerializer(many=True)
    url = serializers.SerializerMethodField()

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
        )

    def get_url(self, claim: Claim) -> str:
        return reverse("api:claim-detail", args=[claim.pk])


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


def claim_data(claim: Claim) -> dict:
    """``ClaimSerializer(claim).data``, built directly from the loaded claim: the same
    keys and values (a test compares them) at a fraction of the serializer's CPU. The
    serializer stays as the schema's description."""
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
    return _claim_answer(row, lines, _claim_url_prefix(), timezone.get_current_timezone())


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
    """A page of the claim list from ``CLAIM_ROW`` rows and ``LINE_ROW`` tuples
    (ordered by id): the same answer as ``claim_data`` of each claim."""
    by_claim: dict[int, list[tuple]] = {row["id"]: [] for row in rows}
    for claim_id, *line in lines:
        by_claim[claim_id].append(line)
    prefix, zone = _claim_url_prefix(), timezone.get_current_timezone()
    return [_claim_answer(row, by_claim[row["id"]], prefix, zone) for row in rows]


def _claim_answer(row: dict, lines: list, prefix: str, zone: datetime.tzinfo) -> dict:
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
        "tenant_name": row["tenant__name"],
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


class CheckResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["pass", "warning", "fail"])
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class ChecksSerializer(serializers.Serializer):
    can_submit = serializers.BooleanField()
    results = CheckResultSerializer(many=True)


class ProofSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProofOfExecution
        fields = (
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "poe_type",
            "signed_on",
            "signatory",
            "description",
            "uploaded_at",
            "download_url",
        )

    def get_download_url(self, proof: ProofOfExecution) -> str:
        return reverse("api:claim-proof-download", args=[proof.claim_id, proof.pk])


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    association_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = ClaimEvent
        fields = (
            "id",
            "at",
            "action",
            "from_status",
            "to_status",
            "reason_code",
            "message",
            "internal",
            "actor",
            "association_id",
        )

    def get_actor(self, event: ClaimEvent) -> str:
        if event.actor_id:
            return event.actor.get_full_name() or event.actor.email
        return event.actor_label


class AssociationSerializer(serializers.ModelSerializer):
    claim_id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.name")
    tenant_id = serializers.UUIDField(source="tenant.tenant_id")
    tenant_name = serializers.CharField(source="tenant.name")
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    subscription_id = serializers.UUIDField(
        source="subscription.subscription_id", allow_null=True, default=None
    )

    class Meta:
        model = Association
        fields = (
            "id",
            "claim_id",
            "organisation",
            "tenant_id",
            "tenant_name",
            "product",
            "product_name",
            "subscription_id",
            "status",
            "end_reason",
            "end_message",
            "approved_at",
            "notice_ends_at",
            "activated_at",
            "ended_at",
        )


class BulkRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line number in the file (the header is line 1).")
    ok = serializers.BooleanField()
    claim_id = serializers.IntegerField(allow_null=True)
    errors = serializers.ListField(child=serializers.DictField())


class BulkReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    created = serializers.IntegerField()
    rows = BulkRowSerializer(many=True)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ("id", "url", "description", "active", "created_at")


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        )


class CustomerRequestSerializer(serializers.ModelSerializer):
    """A claim under review as the customer sees it: who claims what."""

    partner = serializers.CharField(source="organisation.name")
    partner_id = serializers.CharField(source="location.partner_id")
    role = serializers.CharField(source="role.name")
    lines = LineSerializer(many=True)

    class Meta:
        model = Claim
        fields = (
            "id",
            "name",
            "status",
            "partner",
            "partner_id",
            "role",
            "partner_contact_name",
            "partner_contact_email",
            "submitted_at",
            "lines",
        )
