"""Program analytics through the API (under /api/v1/analytics/): the same tables as the
dashboard and its CSV exports, for reviewers and program admins."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from cpor.analytics import selectors
from cpor.analytics.forms import AnalyticsFilterForm
from cpor.api.query import QueryChecked


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["int", "float", "percent", "date", "text"])


TableSerializer = inline_serializer(
    "AnalyticsTable",
    {
        "report": serializers.CharField(source="key"),
        "title": serializers.CharField(),
        "description": serializers.CharField(),
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "computed_at": serializers.DateTimeField(
            help_text="When the database computed the rows: a table is kept for "
            "ANALYTICS_CACHE_SECONDS (5 minutes by default) per filters and language."
        ),
        "columns": ColumnSerializer(many=True),
        "rows": serializers.ListField(
            child=serializers.DictField(), source="dicts", help_text="One object per row."
        ),
    },
)

FILTERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 90 days ago)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (default: today)"),
    OpenApiParameter("engagement", OpenApiTypes.INT, description="Engagement id"),
    OpenApiParameter("solution_area", OpenApiTypes.INT, description="Solution area id"),
    OpenApiParameter(
        "report", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(selectors.REPORTS)
    ),
]


class AnalyticsTableView(QueryChecked, generics.GenericAPIView):
    serializer_class = TableSerializer

    @extend_schema(parameters=FILTERS, responses={200: TableSerializer})
    def get(self, request, report: str):
        if not request.user.is_operator:
            raise PermissionDenied(_("Only reviewers and program admins see program analytics."))
        if report not in selectors.REPORTS:
            raise NotFound(_("No such report."))
        form = AnalyticsFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        filters = form.filters()
        table = selectors.report(report, filters)
        body = {
            "report": table.key,
            "title": table.title,
            "description": table.description,
            "start": filters.start,
            "end": filters.end,
            "computed_at": table.computed_at,
            "columns": [vars(column) for column in table.columns],
            "rows": table.dicts(),
        }
        return Response(body)
