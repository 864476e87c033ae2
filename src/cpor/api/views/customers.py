"""The customer admin's associations and requests, and their declines."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cpor.api import serializers
from cpor.api.views.base import ApiView, _parse
from cpor.claims.models import Claim
from cpor.consent import selectors as consent_selectors
from cpor.consent import services as consent_services
from cpor.errors import PermissionDenied

# ---------------------------------------------------------------------------
# The customer (a signed-in customer admin of one tenant)


def _customer_tenant(request):
    tenant = consent_selectors.customer_tenant_of(request.user)
    if tenant is None:
        raise PermissionDenied(_("Only a customer admin of the tenant can do this."))
    return tenant


class CustomerAssociationListView(ApiView):
    pagination_class = None

    @extend_schema(responses=serializers.AssociationSerializer(many=True), tags=["customer"])
    def get(self, request):
        """Every partner association of your tenant, held ones first."""
        associations = consent_selectors.tenant_associations(tenant=_customer_tenant(request))
        return Response(serializers.AssociationSerializer(associations, many=True).data)


class CustomerAssociationDeclineView(ApiView):
    input_serializer = serializers.EndAssociationSerializer

    @extend_schema(
        request=serializers.EndAssociationSerializer,
        responses=serializers.AssociationSerializer,
        tags=["customer"],
    )
    def post(self, request, pk: int):
        """Decline a partner's association with your tenant, pending or active."""
        tenant = _customer_tenant(request)
        association = consent_selectors.tenant_association_get(tenant=tenant, pk=pk)
        if association is None:
            raise NotFound(_("No such association."))
        data = _parse(serializers.EndAssociationSerializer, request).validated_data
        consent_services.decline_by_customer_admin(
            actor=request.user,
            claim=association.claim,
            line_ids=[association.line_id],
            reason=data["reason"],
        )
        association = consent_selectors.tenant_association_get(tenant=tenant, pk=pk)
        return Response(serializers.AssociationSerializer(association).data)


class CustomerRequestListView(ApiView):
    pagination_class = None

    @extend_schema(responses=serializers.CustomerRequestSerializer(many=True), tags=["customer"])
    def get(self, request):
        """Claims for your tenant still under review, with the lines you can decline."""
        claims = consent_selectors.tenant_open_requests(tenant=_customer_tenant(request))
        return Response(serializers.CustomerRequestSerializer(claims, many=True).data)


class CustomerRequestDeclineView(ApiView):
    input_serializer = serializers.CustomerDeclineSerializer

    @extend_schema(
        request=serializers.CustomerDeclineSerializer,
        responses=serializers.CustomerRequestSerializer,
        tags=["customer"],
    )
    def post(self, request, pk: int):
        """Decline lines of a claim still under review (all pending lines by default)."""
        tenant = _customer_tenant(request)
        claim = consent_selectors.tenant_claim_get(tenant=tenant, pk=pk)
        if claim is None:
            raise NotFound(_("No such request."))
        data = _parse(serializers.CustomerDeclineSerializer, request).validated_data
        line_ids = data["line_ids"]
        if line_ids is None:
            line_ids = list(claim.lines.filter(status="pending").values_list("pk", flat=True))
        consent_services.decline_by_customer_admin(
            actor=request.user, claim=claim, line_ids=line_ids, reason=data["reason"]
        )
        claim = Claim.objects.select_related("organisation", "location", "role").get(pk=pk)
        return Response(serializers.CustomerRequestSerializer(claim).data)
