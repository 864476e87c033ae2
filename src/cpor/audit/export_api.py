"""The history exports through the API (``cpor.audit.exports``): the program admin's full
audit trail and a partner's claim histories, streamed as CSV or JSON lines."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.negotiation import BaseContentNegotiation

from cpor.api.views.base import ApiView
from cpor.audit import exports
from cpor.audit.export_views import streamed
from cpor.errors import PermissionDenied


class JsonAnswers(BaseContentNegotiation):
    """Errors are JSON whatever the client accepts: the file streams past the renderers,
    and its format comes from ``output`` or the Accept header (``_output``)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HistoryExportParams(serializers.Serializer):
    since = serializers.DateField(
        required=False, help_text="From this day (inclusive, the program's time zone)."
    )
    until = serializers.DateField(
        required=False, help_text="To this day (inclusive); not before ``since``."
    )
    output = serializers.ChoiceField(
        choices=exports.OUTPUTS,
        required=False,
        help_text="``csv`` (the default) or ``jsonl``: one JSON object per line "
        "(also chosen by ``Accept: application/x-ndjson`` or ``application/jsonl``).",
    )

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise serializers.ValidationError({"until": _("“Until” must not be before “From”.")})
        return data


JSON_LINES_TYPES = ("application/x-ndjson", "application/jsonl")
EXPORTED = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed."),
    (200, "application/x-ndjson"): OpenApiResponse(
        OpenApiTypes.STR, description="JSON lines, streamed."
    ),
}


class _HistoryExportView(ApiView):
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = JsonAnswers
    pagination_class = None

    def _export(self, request, *, may, denied: str, export):
        if not may(request.user):
            raise PermissionDenied(denied)
        params = HistoryExportParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        output = params.validated_data.get("output")
        if output is None:
            accept = request.headers.get("Accept", "")
            lines = any(kind in accept for kind in JSON_LINES_TYPES)
            output = exports.JSON_LINES if lines else exports.CSV
        period = exports.Period(
            since=params.validated_data.get("since"), until=params.validated_data.get("until")
        )
        return streamed(export(actor=request.user, period=period, output=output))


class FullTrailExportView(_HistoryExportView):
    @extend_schema(
        parameters=[HistoryExportParams],
        responses=EXPORTED,
        tags=["audit"],
        operation_id="audit_trail_export",
    )
    def get(self, request):
        """Program admins: every claim's history events (with their seals' hashes) and
        every audit entry (sign-ins, failed sign-ins, sign-outs, admin changes, the
        organisations' changes) in the period, merged in time order, streamed."""
        return self._export(
            request,
            may=exports.may_export_full_trail,
            denied=_("Only a program admin can export the full audit trail."),
            export=exports.full_trail_export,
        )


class ClaimHistoryExportView(_HistoryExportView):
    @extend_schema(
        parameters=[HistoryExportParams],
        responses=EXPORTED,
        tags=["audit"],
        operation_id="claim_histories_export",
    )
    def get(self, request):
        """Partner admins and incentives administrators: their organisation's claims'
        history events in the period (no internal notes), with their hashes, streamed."""
        return self._export(
            request,
            may=exports.may_export_claim_histories,
            denied=_(
                "Only a partner admin or incentives administrator can export claim histories."
            ),
            export=exports.claim_history_export,
        )
