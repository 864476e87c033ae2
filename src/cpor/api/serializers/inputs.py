"""What the API reads: strict inputs that refuse unknown fields, filters, and the
bodies of each action."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cpor.api.services import WEBHOOK_URL_PATTERN
from cpor.claims.models import (
    AssociationStatus,
    Claim,
    ClaimStatus,
    PoEType,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.services import ClaimInput


class StrictInput(serializers.Serializer):
    """Unknown fields are an error naming the field, never silently dropped (and the
    schema says so: ``additionalProperties: false``, ``StrictInputScheme`` below)."""

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


class StrictInputScheme(OpenApiSerializerExtension):
    target_class = StrictInput
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
            # Fields the services require (they report every missing one at once).
            for name in getattr(self.target, "SERVICE_REQUIRED", ()):
                schema.setdefault("required", []).append(name)
                schema["properties"][name] |= {"minLength": 1, "pattern": "\\S"}
                if name.endswith("_email"):
                    schema["properties"][name]["format"] = "email"
            # Values the services keep on one line once trimmed (they reach e-mail
            # subjects): no line break between the first and the last visible character.
            for name in getattr(self.target, "SINGLE_LINE", ()):
                required = name in schema.get("required", ())
                schema["properties"][name]["pattern"] = (
                    SINGLE_LINE_REQUIRED if required else SINGLE_LINE_OPTIONAL
                )
        return schema


SINGLE_LINE_REQUIRED = r"^\s*\S([^\r\n]*\S)?\s*$"
SINGLE_LINE_OPTIONAL = r"^\s*(\S([^\r\n]*\S)?)?\s*$"


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
    customer_contact_email = _text(max_length=254, help_text="An e-mail address.")
    partner_contact_name = _text(max_length=200)
    partner_contact_email = _text(max_length=254, help_text="An e-mail address.")
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

    SERVICE_REQUIRED = (
        "customer_contact_name",
        "customer_contact_title",
        "customer_contact_email",
        "partner_contact_name",
        "partner_contact_email",
    )
    SINGLE_LINE = (
        "name",
        "customer_contact_name",
        "customer_contact_title",
        "partner_contact_name",
        "seller_name",
        "customer_name",
        "isv_solution_name",
    )

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


@extend_schema_field(
    {"type": "string", "maxLength": 500, "pattern": WEBHOOK_URL_PATTERN, "format": "uri"}
)
class WebhookUrlField(serializers.CharField):
    """An https:// address (``api.services`` checks it; plain http only for the hosts of
    ``API_WEBHOOK_INSECURE_HOSTS``, for tests and local development)."""


class WebhookEndpointInputSerializer(StrictInput):
    url = WebhookUrlField(max_length=500)
    description = _text(max_length=200)
