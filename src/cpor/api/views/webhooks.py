"""Webhook endpoints and their delivery log; unknown API paths."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cpor.api import serializers
from cpor.api.models import WebhookEndpoint
from cpor.api.services import webhook_endpoint_create, webhook_endpoint_delete
from cpor.api.views.base import ApiView, _parse
from cpor.claims.permissions import partner_membership

# ---------------------------------------------------------------------------
# Webhooks


def _endpoints(request):
    membership = partner_membership(request.user)
    if membership is None:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(organisation_id=membership.organisation_id)


def _endpoint(request, pk: int) -> WebhookEndpoint:
    endpoint = _endpoints(request).filter(pk=pk).first()
    if endpoint is None:
        raise NotFound(_("No such webhook endpoint."))
    return endpoint


class WebhookListView(ApiView):
    pagination_class = None
    input_serializer = serializers.WebhookEndpointInputSerializer

    @extend_schema(responses=serializers.WebhookEndpointSerializer(many=True), tags=["webhooks"])
    def get(self, request):
        """Your organisation's webhook endpoints."""
        return Response(serializers.WebhookEndpointSerializer(_endpoints(request), many=True).data)

    @extend_schema(
        request=serializers.WebhookEndpointInputSerializer,
        responses={201: serializers.WebhookEndpointCreatedSerializer},
        tags=["webhooks"],
    )
    def post(self, request):
        """Register an https:// endpoint; the answer holds its signing secret, once."""
        data = _parse(serializers.WebhookEndpointInputSerializer, request).validated_data
        endpoint, _secret = webhook_endpoint_create(actor=request.user, **data)
        return Response(
            serializers.WebhookEndpointCreatedSerializer(endpoint).data,
            status=status.HTTP_201_CREATED,
        )


class WebhookDetailView(ApiView):
    @extend_schema(responses=serializers.WebhookEndpointSerializer, tags=["webhooks"])
    def get(self, request, pk: int):
        return Response(serializers.WebhookEndpointSerializer(_endpoint(request, pk)).data)

    @extend_schema(responses={204: None}, tags=["webhooks"])
    def delete(self, request, pk: int):
        webhook_endpoint_delete(actor=request.user, endpoint=_endpoint(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(ApiView):
    @extend_schema(responses=serializers.WebhookDeliverySerializer(many=True), tags=["webhooks"])
    def get(self, request, pk: int):
        """The delivery log of one endpoint, newest first."""
        deliveries = _endpoint(request, pk).deliveries.all()
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(
            serializers.WebhookDeliverySerializer(page, many=True).data
        )


@extend_schema(exclude=True)
class UnknownPathView(ApiView):
    """Any other path under /api/v1/: a JSON 404 rather than the site's HTML page."""

    permission_classes = []
    authentication_classes = []

    def _not_found(self, request, *args, **kwargs):
        raise NotFound(_("No such API path."))

    get = post = put = patch = delete = _not_found
