"""Usage through the API (included under /api/v1/usage/): the same selectors as the
dashboard, so the same scope: the caller's organisation's active associations, checked
again on every request. Anything else is a 404 or an empty list."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from cpor.api.query import QueryChecked
from cpor.claims.models import Association
from cpor.claims.permissions import partner_membership
from cpor.usage import selectors
from cpor.usage.forms import PeriodForm


class MonthUsageSerializer(serializers.Serializer):
    month = serializers.DateField()
    active_users = serializers.IntegerField(source="active", allow_null=True)
    licensed_units = serializers.IntegerField(source="licensed", allow_null=True)
    usage_percent = serializers.FloatField(allow_null=True)
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_blank=True)


class UnitUsageSerializer(serializers.Serializer):
    association = serializers.IntegerField(source="association.pk")
    kind = serializers.SerializerMethodField()
    tenant_id = serializers.UUIDField(source="association.tenant.tenant_id")
    customer = serializers.CharField(source="association.tenant.name")
    product = serializers.CharField(source="association.product.code")
    product_name = serializers.CharField(source="association.product.name")
    subscription_id = serializers.UUIDField(
        source="association.subscription.subscription_id", allow_null=True, default=None
    )
    official_since = serializers.DateTimeField(source="association.activated_at")
    baseline = serializers.IntegerField(allow_null=True)
    growth = serializers.IntegerField(allow_null=True)
    growth_percent = serializers.FloatField(allow_null=True)
    months = MonthUsageSerializer(many=True)

    def get_kind(self, unit: selectors.UnitUsage) -> str:
        return "subscription" if unit.is_subscription else "workload"


class MonthTotalsSerializer(serializers.Serializer):
    month = serializers.DateField()
    active_users = serializers.IntegerField()
    paid_units = serializers.IntegerField()
    usage_percent = serializers.FloatField(allow_null=True)
    licensed_units = serializers.IntegerField()
    revenue = serializers.DictField(child=serializers.DecimalField(max_digits=16, decimal_places=2))


MONTHS = OpenApiParameter(
    "months", OpenApiTypes.INT, enum=list(selectors.MONTH_CHOICES), description=_("Months shown")
)


class _UsageView(QueryChecked, generics.GenericAPIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if partner_membership(request.user) is None:
            raise PermissionDenied(_("Only partner users see usage."))

    def get_queryset(self):
        return selectors.active_units(actor=self.request.user)

    @property
    def months(self) -> int:
        return PeriodForm(self.request.query_params).months_or_default()


class UnitUsageListView(_UsageView, generics.ListAPIView):
    serializer_class = UnitUsageSerializer

    @extend_schema(parameters=[MONTHS], tags=["usage"], operation_id="usage_units_list")
    def get(self, request, *args, **kwargs):
        """The units where your organisation holds an active association, with their
        monthly usage and baseline."""
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        units = selectors.unit_usage(actor=request.user, units=list(page), months=self.months)
        return self.get_paginated_response(UnitUsageSerializer(units, many=True).data)


class UnitUsageDetailView(_UsageView):
    serializer_class = UnitUsageSerializer

    @extend_schema(parameters=[MONTHS], tags=["usage"], operation_id="usage_units_retrieve")
    def get(self, request, pk: int):
        """One unit's monthly usage; 404 unless your organisation actively holds it."""
        try:
            unit = selectors.unit_usage_get(actor=request.user, pk=pk, months=self.months)
        except Association.DoesNotExist:
            raise NotFound(_("No such unit.")) from None
        return Response(UnitUsageSerializer(unit).data)


class UsageTotalsView(_UsageView):
    serializer_class = MonthTotalsSerializer
    pagination_class = None

    @extend_schema(
        parameters=[MONTHS],
        tags=["usage"],
        operation_id="usage_totals_list",
        responses=MonthTotalsSerializer(many=True),
    )
    def get(self, request):
        """Month-by-month totals across every customer you actively hold."""
        totals = selectors.usage_totals(actor=request.user, months=self.months)
        return Response(MonthTotalsSerializer(totals, many=True).data)
