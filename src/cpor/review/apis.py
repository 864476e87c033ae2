"""Reviewer workload and legacy associations through the API (included under /api/v1/),
with the conventions of ``cpor.api``: token or session authentication, the one error
body, ``Idempotency-Key`` on POST, cursor pages. The same services and selectors as the
pages, so the same rules and scope."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cpor.api.pagination import CursorPage
from cpor.api.parsers import CsvParser, LimitedMultiPartParser
from cpor.api.serializers import ClaimSerializer, claim_data
from cpor.api.serializers.inputs import StrictInput
from cpor.api.views.base import ApiView, _acting_on, _parse
from cpor.claims import services
from cpor.claims.models import Association
from cpor.claims.permissions import require_program_admin
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import association_list
from cpor.errors import DomainError
from cpor.review import selectors
from cpor.review.selectors import QUEUE_STATUSES, QueueFilters
from cpor.review.services import saved_filter_delete, saved_filter_save

# ---------------------------------------------------------------------------
# Serializers


class BulkDecisionSerializer(StrictInput):
    action = serializers.ChoiceField(choices=list(services.BULK_ACTIONS))
    claims = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=services.MAX_BULK_CLAIMS,
        help_text="Claim ids, at most 100; each is decided in its own transaction.",
    )
    reason_code = serializers.ChoiceField(
        choices=[*InfoRequestReason.choices, *RejectionReason.choices],
        required=False,
        default="",
        help_text="Required for request_info (an information request reason) and reject "
        "(a rejection reason).",
    )
    message = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, trim_whitespace=False
    )


class BulkDecisionOutcomeSerializer(serializers.Serializer):
    claim = serializers.IntegerField()
    ok = serializers.BooleanField()
    status = serializers.CharField(help_text="The claim's new status when ok.")
    code = serializers.CharField(help_text="Why it was refused (e.g. unit_held).")
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class BulkDecisionReportSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = BulkDecisionOutcomeSerializer(many=True)


class AssignSerializer(StrictInput):
    reviewer = serializers.IntegerField(min_value=1, help_text="The reviewer's user id.")


class DutySerializer(StrictInput):
    on_duty = serializers.BooleanField(
        help_text="false marks the reviewer away and reassigns their open claims."
    )


class ReviewerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="reviewer.pk")
    name = serializers.CharField()
    email = serializers.EmailField(source="reviewer.email")
    on_duty = serializers.BooleanField()
    open_claims = serializers.IntegerField(source="open")
    last_assigned_at = serializers.DateTimeField(allow_null=True)


class SavedFilterInputSerializer(StrictInput):
    name = serializers.CharField(max_length=80)
    status = serializers.ChoiceField(choices=list(QUEUE_STATUSES), required=False, default="")
    engagement = serializers.CharField(required=False, default="", max_length=60)
    solution_area = serializers.CharField(required=False, default="", max_length=60)
    conflict = serializers.BooleanField(required=False, default=False)
    failed_checks = serializers.BooleanField(required=False, default=False)
    mine = serializers.BooleanField(required=False, default=False)
    reviewer = serializers.RegexField(r"^(none|\d{1,12})$", required=False, default="")
    q = serializers.CharField(required=False, default="", max_length=200)


class SavedFilterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(help_text="The review queue's query string.")
    created_at = serializers.DateTimeField()


class LegacyAssociationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    claim = serializers.IntegerField(source="claim_id")
    partner = serializers.CharField(source="organisation.name")
    tenant_id = serializers.UUIDField(source="tenant.tenant_id")
    customer = serializers.CharField(source="tenant.name")
    product = serializers.CharField(source="product.code")
    subscription_id = serializers.UUIDField(source="subscription.subscription_id")
    subscription_ends_on = serializers.DateField(source="subscription.ends_on")
    status = serializers.CharField()
    end_reason = serializers.CharField()
    legacy_source = serializers.CharField()
    legacy_since = serializers.DateField()
    reassociation_warned_at = serializers.DateTimeField(allow_null=True)


LEGACY_REPORT = inline_serializer(
    "LegacyImportReport",
    {
        "dry_run": serializers.BooleanField(),
        "ok": serializers.BooleanField(),
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "import": serializers.IntegerField(allow_null=True),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


# ---------------------------------------------------------------------------
# Bulk decisions and assignment


class BulkDecisionView(ApiView):
    input_serializer = BulkDecisionSerializer

    @extend_schema(
        request=BulkDecisionSerializer,
        responses={200: BulkDecisionReportSerializer},
        tags=["review"],
    )
    def post(self, request):
        """Start review, request information, approve or reject many claims with one
        reason (reviewers). Atomic per claim: each claim's outcome is in ``results``, and a
        claim refused (unit held, decided by someone else, not found) never stops the others."""
        data = _parse(BulkDecisionSerializer, request).validated_data
        outcomes = services.claims_bulk_decide(
            actor=request.user,
            action=data["action"],
            claim_ids=data["claims"],
            reason_code=data["reason_code"],
            message=data["message"],
        )
        results = [outcome.as_dict() for outcome in outcomes]
        return Response(
            {
                "done": sum(1 for r in results if r["ok"]),
                "refused": sum(1 for r in results if not r["ok"]),
                "results": results,
            }
        )


class ClaimAssignView(ApiView):
    input_serializer = AssignSerializer

    @extend_schema(request=AssignSerializer, responses={200: ClaimSerializer}, tags=["review"])
    def post(self, request, pk: int):
        """Assign an open claim to a named reviewer (reviewers and program admins)."""
        with _acting_on(request, pk) as claim:
            data = _parse(AssignSerializer, request).validated_data
            claim = services.claim_assign(
                actor=request.user, claim=claim, reviewer=data["reviewer"]
            )
        return Response(claim_data(claim, actor=request.user))


# ---------------------------------------------------------------------------
# Duty


class ReviewerListView(ApiView):
    @extend_schema(responses={200: ReviewerSerializer(many=True)}, tags=["review"])
    def get(self, request):
        """Every active reviewer with their duty and open load (operators)."""
        rows = selectors.reviewer_workload(actor=request.user)
        return Response(ReviewerSerializer(rows, many=True).data)


class ReviewerDutyView(ApiView):
    input_serializer = DutySerializer

    @extend_schema(
        request=DutySerializer,
        responses={
            200: inline_serializer(
                "ReviewerDuty",
                {
                    "reviewer": serializers.IntegerField(),
                    "on_duty": serializers.BooleanField(),
                    "reassigned": serializers.IntegerField(),
                },
            )
        },
        tags=["review"],
    )
    def post(self, request, pk: int):
        """Put a reviewer on duty, or mark them away (their open claims are reassigned).
        Program admins for anyone; a reviewer for themself."""
        data = _parse(DutySerializer, request).validated_data
        try:
            duty = services.reviewer_set_duty(
                actor=request.user, reviewer=pk, on_duty=data["on_duty"]
            )
        except DomainError as error:
            # The reviewer is the path: one that does not exist is not found.
            if error.code == "unknown_reviewer":
                raise NotFound(error.message) from None
            raise
        return Response(
            {"reviewer": duty.pk, "on_duty": duty.on_duty, "reassigned": duty.reassigned}
        )


# ---------------------------------------------------------------------------
# Saved filters


class SavedFilterListView(ApiView):
    input_serializer = SavedFilterInputSerializer

    @extend_schema(responses={200: SavedFilterSerializer(many=True)}, tags=["review"])
    def get(self, request):
        """Your saved review-queue filters."""
        saved = selectors.saved_filters(actor=request.user)
        return Response(SavedFilterSerializer(saved, many=True).data)

    @extend_schema(
        request=SavedFilterInputSerializer,
        responses={201: SavedFilterSerializer},
        tags=["review"],
    )
    def post(self, request):
        """Save filters under a name (the same name again replaces them)."""
        data = dict(_parse(SavedFilterInputSerializer, request).validated_data)
        name = data.pop("name")
        data["text"] = data.pop("q")
        saved = saved_filter_save(actor=request.user, name=name, filters=QueueFilters(**data))
        return Response(SavedFilterSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedFilterDetailView(ApiView):
    @extend_schema(responses={204: None}, tags=["review"])
    def delete(self, request, pk: int):
        """Delete one of your saved filters."""
        saved_filter_delete(actor=request.user, pk=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# Legacy associations


class LegacyAssociationListView(ApiView):
    pagination_class = CursorPage

    @extend_schema(responses=LegacyAssociationSerializer(many=True), tags=["associations"])
    def get(self, request):
        """Legacy associations (made before CPOR) the caller may see: a partner its own,
        operators all; newest first."""
        associations = association_list(actor=request.user).filter(legacy=True)
        page = self.paginate_queryset(associations)
        return self.get_paginated_response(LegacyAssociationSerializer(page, many=True).data)

    def get_queryset(self):
        return Association.objects.none()


class LegacyImportView(ApiView):
    parser_classes = [CsvParser, LimitedMultiPartParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, description="Check every row, write nothing."
            )
        ],
        request={"text/csv": OpenApiTypes.STR},
        responses={200: LEGACY_REPORT},
        tags=["associations"],
    )
    def post(self, request):
        """Import legacy associations from CSV (program admins): all rows or none. Columns
        partner_id, tenant_id, subscription_id, role, associated_on, source,
        partner_contact_email (and optionally partner_contact_name). A file with any bad
        row answers 400 with every problem by line and column; nothing is written."""
        # Who may import is known before the body is read: anyone else gets 403, not a
        # complaint about a file they may not send.
        require_program_admin(request.user)
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        body = request.data
        if isinstance(body, str):
            content, name = body.encode(), "api.csv"
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError(
                    "required", _("Send the CSV as text/csv or as the “file” part."), field="file"
                )
            content, name = upload.read(), upload.name
        report = services.legacy_associations_import(
            actor=request.user, content=content, file_name=name, dry_run=dry_run
        )
        if not report.ok:
            first = report.errors[0]
            body = {
                "code": "invalid_rows",
                "message": _("%(n)d problems found (first on line %(line)d): nothing was written.")
                % {"n": len(report.errors), "line": first.line},
                "field": "file",
                "errors": [
                    {
                        "code": e.code,
                        "message": e.message,
                        "field": e.column or "file",
                        "line": e.line,
                    }
                    for e in report.errors
                ],
                "report": report.as_dict(),
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(report.as_dict())
