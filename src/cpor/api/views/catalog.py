"""The catalog, the reason codes and the caller's partner locations."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from cpor.api import serializers
from cpor.api.views.base import ApiView
from cpor.catalog.selectors import catalog_overview
from cpor.claims import selectors
from cpor.claims.reasons import InfoRequestReason, RejectionReason

# ---------------------------------------------------------------------------
# Catalog and the caller's organisation


class CatalogView(ApiView):
    pagination_class = None

    @extend_schema(responses=serializers.SolutionAreaSerializer(many=True), tags=["catalog"])
    def get(self, request):
        """Solution areas with their partner roles (and engagement rules) and products."""
        return Response(serializers.SolutionAreaSerializer(catalog_overview(), many=True).data)


class ReasonsView(ApiView):
    pagination_class = None

    @extend_schema(responses=OpenApiTypes.OBJECT, tags=["catalog"])
    def get(self, request):
        """Reason codes for requests for information and rejections, with their text."""
        return Response(
            {
                "info_request": [{"code": c, "text": str(t)} for c, t in InfoRequestReason.choices],
                "rejection": [{"code": c, "text": str(t)} for c, t in RejectionReason.choices],
            }
        )


class LocationListView(ApiView):
    pagination_class = None

    @extend_schema(responses=serializers.LocationSerializer(many=True), tags=["partner"])
    def get(self, request):
        """The active locations (PartnerIDs) of the caller's partner organisation."""
        locations = selectors.partner_locations(actor=request.user)
        return Response(serializers.LocationSerializer(locations, many=True).data)
