"""The review queue and associations: list, detail, export, withdraw, revoke."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers
from rest_framework.response import Response

from cpor.api import bulk, serializers
from cpor.api.pagination import CursorPage
from cpor.api.views.base import ApiView, CsvRenderer, _association, _parse
from cpor.claims import selectors, services
from cpor.review import selectors as review_selectors

# ---------------------------------------------------------------------------
# Review


class ReviewQueueView(ApiView):
    pagination_class = CursorPage

    @extend_schema(
        parameters=[serializers.QueueFilterSerializer],
        responses=serializers.QueueItemSerializer(many=True),
        tags=["review"],
    )
    def get(self, request):
        """Claims awaiting a decision, oldest submission first, with quick flags
        (program staff)."""
        params = serializers.QueueFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queue = review_selectors.review_queue(
            actor=request.user, filters=review_selectors.QueueFilters(**params.validated_data)
        ).prefetch_related("lines__product", "lines__subscription")
        self.paginator.ordering = review_selectors.QUEUE_ORDER
        page = self.paginate_queryset(queue)
        items = serializers.QueueItemSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(items.data)


# ---------------------------------------------------------------------------
# Associations


class AssociationListView(ApiView):
    @extend_schema(
        parameters=[serializers.AssociationFilterSerializer],
        responses=serializers.AssociationSerializer(many=True),
        tags=["associations"],
    )
    def get(self, request):
        """Associations the caller may see: a partner its own, program staff every one."""
        params = serializers.AssociationFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        associations = selectors.association_list(actor=request.user)
        if "status" in params.validated_data:
            associations = associations.filter(status=params.validated_data["status"])
        page = self.paginate_queryset(associations)
        return self.get_paginated_response(serializers.AssociationSerializer(page, many=True).data)


class AssociationDetailView(ApiView):
    @extend_schema(responses=serializers.AssociationSerializer, tags=["associations"])
    def get(self, request, pk: int):
        return Response(serializers.AssociationSerializer(_association(request, pk)).data)


class AssociationExportView(ApiView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, tags=["associations"])
    def get(self, request):
        """Every association the caller may see, as CSV, streamed."""
        associations = selectors.association_list(actor=request.user).order_by("-id")
        response = StreamingHttpResponse(
            bulk.associations_csv(associations), content_type="text/csv"
        )
        response["Content-Disposition"] = 'attachment; filename="associations.csv"'
        return response


class AssociationWithdrawView(ApiView):
    input_serializer = serializers.EndAssociationSerializer

    @extend_schema(
        request=serializers.EndAssociationSerializer,
        responses=serializers.AssociationSerializer,
        tags=["associations"],
    )
    def post(self, request, pk: int):
        """The partner disassociates itself (a reason is required)."""
        association = _association(request, pk)
        data = _parse(serializers.EndAssociationSerializer, request).validated_data
        services.association_withdraw(actor=request.user, association=association, **data)
        return Response(serializers.AssociationSerializer(_association(request, pk)).data)


class AssociationRevokeView(ApiView):
    input_serializer = serializers.EndAssociationSerializer

    @extend_schema(
        request=serializers.EndAssociationSerializer,
        responses=serializers.AssociationSerializer,
        tags=["associations"],
    )
    def post(self, request, pk: int):
        """The program revokes an association (program admins)."""
        association = _association(request, pk)
        data = _parse(serializers.EndAssociationSerializer, request).validated_data
        services.association_revoke(actor=request.user, association=association, **data)
        return Response(serializers.AssociationSerializer(_association(request, pk)).data)
