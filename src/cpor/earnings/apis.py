"""Earnings through the API (included under /api/v1/earnings/): the same selectors and
services as the pages, so the same scope: a partner's own organisation's associations
(anything else is a 404), the liability and the rate cards for program admins.
Amounts are decimal strings with their currency, never floats."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, renderers, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from cpor.api.query import QueryChecked
from cpor.api.views.base import ApiView, CsvRenderer
from cpor.catalog.models import Engagement, PurchaseChannel
from cpor.claims.models import Association
from cpor.claims.permissions import partner_membership
from cpor.csv_export import csv_response
from cpor.earnings import selectors, services
from cpor.earnings.models import IncentiveBase, RateCard
from cpor.usage.apis import MONTHS
from cpor.usage.forms import PeriodForm

MONEY = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}


class RateCardVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField(source="version_label")
    base = serializers.CharField()
    rate = serializers.DecimalField(max_digits=12, decimal_places=4)
    currency = serializers.CharField()
    min_paid_units = serializers.IntegerField()
    min_growth = serializers.IntegerField()
    cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class AccrualSerializer(serializers.Serializer):
    month = serializers.DateField()
    rate_card = RateCardVersionSerializer(source="card", allow_null=True)
    days = serializers.IntegerField()
    days_in_month = serializers.IntegerField()
    active_users = serializers.IntegerField(allow_null=True)
    paid_units = serializers.IntegerField(allow_null=True)
    baseline = serializers.IntegerField(allow_null=True)
    units = serializers.IntegerField(allow_null=True)
    month_amount = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    capped = serializers.BooleanField()
    amount = serializers.DecimalField(source="money.amount", allow_null=True, default=None, **MONEY)
    currency = serializers.CharField(source="money.currency", allow_null=True, default=None)
    reason = serializers.CharField(allow_blank=True)
    reason_text = serializers.CharField(allow_blank=True)


class AssociationEarningsSerializer(serializers.Serializer):
    association = serializers.IntegerField(source="association.pk")
    status = serializers.CharField(source="association.status")
    partner_id = serializers.CharField()
    engagement = serializers.CharField(source="engagement.code")
    customer = serializers.CharField(source="association.tenant.name")
    tenant_id = serializers.UUIDField(source="association.tenant.tenant_id")
    product = serializers.CharField(source="association.product.code")
    subscription_id = serializers.UUIDField(
        source="association.subscription.subscription_id", allow_null=True, default=None
    )
    earns_nothing = serializers.CharField(source="reason", allow_blank=True)
    earns_nothing_text = serializers.CharField(source="reason_text", allow_blank=True)
    figures_hidden = serializers.BooleanField()
    totals = serializers.DictField(child=serializers.DecimalField(**MONEY))
    months = AccrualSerializer(source="rows", many=True)


class TotalsSerializer(serializers.Serializer):
    total = serializers.DictField(child=serializers.DecimalField(**MONEY))
    by_month = serializers.SerializerMethodField()
    by_engagement = serializers.DictField(
        child=serializers.DictField(child=serializers.DecimalField(**MONEY))
    )
    by_partner_id = serializers.DictField(
        child=serializers.DictField(child=serializers.DecimalField(**MONEY))
    )

    def get_by_month(self, totals) -> dict[str, dict[str, str]]:
        return {
            month.isoformat(): {code: str(amount) for code, amount in amounts.items()}
            for month, amounts in totals.by_month.items()
        }


class LiabilitySerializer(serializers.Serializer):
    total = serializers.DictField(child=serializers.DecimalField(**MONEY))
    engagements = serializers.SerializerMethodField()

    def get_engagements(self, liability) -> dict[str, dict[str, dict[str, str]]]:
        return {
            engagement: {
                month.isoformat(): {code: str(amount) for code, amount in amounts.items()}
                for month, amounts in by_month.items()
            }
            for engagement, by_month in liability.rows.items()
        }


class RateCardSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="code", queryset=Engagement.objects.all())
    base = serializers.ChoiceField(choices=IncentiveBase.choices)
    # Checked by the service, so the API and the pages answer the same messages.
    rate = serializers.DecimalField(max_digits=12, decimal_places=4)
    currency = serializers.CharField(max_length=3)
    eligible_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=PurchaseChannel.choices), required=False
    )

    class Meta:
        model = RateCard
        fields = (
            "id",
            "engagement",
            "effective_from",
            "effective_until",
            "base",
            "rate",
            "currency",
            "min_paid_units",
            "min_growth",
            "cap",
            "eligible_channels",
            "note",
            "updated_at",
        )
        read_only_fields = ("id", "updated_at")
        validators = []  # overlaps and the rest: ``services.rate_card_validate``


class _PartnerView(QueryChecked, generics.GenericAPIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if partner_membership(request.user) is None:
            raise PermissionDenied(_("Only partner users see earnings estimates."))

    def get_queryset(self):
        return selectors.partner_associations(actor=self.request.user)

    @property
    def window(self):
        return selectors.month_window(PeriodForm(self.request.query_params).months_or_default())


class EarningsListView(_PartnerView, generics.ListAPIView):
    serializer_class = AssociationEarningsSerializer

    @extend_schema(parameters=[MONTHS], tags=["earnings"], operation_id="earnings_list")
    def get(self, request, *args, **kwargs):
        """Estimated earnings of your organisation's associations, month by month, with
        the usage figures and rate card version behind each amount."""
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        items = selectors.association_earnings(associations=list(page), months=self.window)
        return self.get_paginated_response(AssociationEarningsSerializer(items, many=True).data)


class EarningsDetailView(_PartnerView):
    serializer_class = AssociationEarningsSerializer

    @extend_schema(parameters=[MONTHS], tags=["earnings"], operation_id="earnings_retrieve")
    def get(self, request, pk: int):
        """One association's estimate; 404 unless it is your organisation's."""
        try:
            item = selectors.earnings_get(actor=request.user, pk=pk, months=self.window)
        except Association.DoesNotExist:
            raise NotFound(_("No such association.")) from None
        return Response(AssociationEarningsSerializer(item).data)


class EarningsTotalsView(_PartnerView):
    serializer_class = TotalsSerializer
    pagination_class = None

    @extend_schema(parameters=[MONTHS], tags=["earnings"], operation_id="earnings_totals")
    def get(self, request):
        """Totals per currency: by month, by engagement and by PartnerID."""
        totals = selectors.earnings_totals(actor=request.user, months=self.window)
        return Response(TotalsSerializer(totals).data)


class EarningsExportView(_PartnerView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    pagination_class = None

    @extend_schema(
        parameters=[MONTHS],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        tags=["earnings"],
        operation_id="earnings_export",
    )
    def get(self, request):
        """One CSV line per association, month and rate card version, streamed; the
        same file as the page's export (formula-like text quoted, plain numbers)."""
        return csv_response(
            selectors.EXPORT_COLUMNS,
            selectors.earnings_export_rows(actor=request.user, months=self.window),
            filename="earnings.csv",
        )


class _ProgramAdminView(ApiView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.is_program_admin:
            raise PermissionDenied(_("Only a program admin can do this."))

    def get_queryset(self):
        return RateCard.objects.none()


class LiabilityView(_ProgramAdminView):
    serializer_class = LiabilitySerializer
    pagination_class = None

    @extend_schema(
        parameters=[MONTHS],
        tags=["earnings"],
        operation_id="earnings_liability",
        responses=LiabilitySerializer,
    )
    def get(self, request):
        """The program's estimated liability per engagement and month, per currency."""
        months = selectors.month_window(PeriodForm(request.query_params).months_or_default())
        liability = selectors.program_liability(actor=request.user, months=months)
        return Response(LiabilitySerializer(liability).data)


class RateCardListView(_ProgramAdminView):
    input_serializer = RateCardSerializer
    serializer_class = RateCardSerializer

    @extend_schema(tags=["earnings"], responses=RateCardSerializer(many=True))
    def get(self, request):
        """Every rate card version, by engagement and date."""
        cards = RateCard.objects.select_related("engagement")
        page = self.paginate_queryset(cards.order_by("-id"))
        return self.get_paginated_response(RateCardSerializer(page, many=True).data)

    @extend_schema(tags=["earnings"], request=RateCardSerializer, responses=RateCardSerializer)
    def post(self, request):
        """Add a version; a later start closes the open-ended version the day before."""
        data = RateCardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = services.rate_card_save(actor=request.user, card=None, values=data.validated_data)
        return Response(RateCardSerializer(card).data, status=status.HTTP_201_CREATED)


class RateCardDetailView(_ProgramAdminView):
    input_serializer = RateCardSerializer
    serializer_class = RateCardSerializer

    def _card(self, pk: int) -> RateCard:
        try:
            return RateCard.objects.select_related("engagement").get(pk=pk)
        except RateCard.DoesNotExist:
            raise NotFound(_("No such rate card.")) from None

    @extend_schema(tags=["earnings"])
    def get(self, request, pk: int):
        return Response(RateCardSerializer(self._card(pk)).data)

    @extend_schema(tags=["earnings"], request=RateCardSerializer, responses=RateCardSerializer)
    def patch(self, request, pk: int):
        """Change a version (only the fields given)."""
        card = self._card(pk)
        data = RateCardSerializer(card, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        card = services.rate_card_save(actor=request.user, card=card, values=data.validated_data)
        return Response(RateCardSerializer(card).data)

    @extend_schema(tags=["earnings"], responses={204: None})
    def delete(self, request, pk: int):
        services.rate_card_delete(actor=request.user, card=self._card(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
