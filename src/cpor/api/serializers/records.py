"""How the API answers with checks, PoE, history, associations, bulk reports,
webhooks and customer requests."""

from django.urls import reverse
from rest_framework import serializers

from cpor.api.models import WebhookDelivery, WebhookEndpoint
from cpor.api.serializers.claims import LineSerializer
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
    ProofOfExecution,
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
