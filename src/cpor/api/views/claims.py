"""Claims: list, filing, detail, checks, every transition, notes, history, PoE,
export and bulk filing."""

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cpor.api import bulk, serializers
from cpor.api.pagination import ClaimCursorPage
from cpor.api.parsers import CsvParser, LimitedMultiPartParser
from cpor.api.views.base import ApiView, CsvRenderer, _acting_on, _claim, _parse
from cpor.claims import checks, filetypes, selectors, services
from cpor.claims.models import Claim, ClaimLine
from cpor.claims.permissions import partner_membership
from cpor.claims.poe_storage import poe_response
from cpor.errors import DomainError, PermissionDenied

POE_MEDIA_TYPES = [file_type.content_type for file_type in filetypes.ACCEPTED]

# ---------------------------------------------------------------------------
# Claims


class ClaimListView(ApiView):
    pagination_class = ClaimCursorPage
    input_serializer = serializers.ClaimInputSerializer

    @extend_schema(
        parameters=[serializers.ClaimFilterSerializer],
        responses=serializers.ClaimSerializer(many=True),
        tags=["claims"],
    )
    def get(self, request):
        """Claims the caller may see, newest first, filtered."""
        params = serializers.ClaimFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        claims = selectors.claim_list(
            actor=request.user,
            filters=selectors.ClaimFilters(**params.validated_data),
            flagged=False,
        )
        # Rows, not model instances: one query for the page, one for its lines, and one
        # for whether the caller may see each row's customer name (the page's own
        # customers only, as the web list asks).
        page = self.paginate_queryset(claims.values(*serializers.CLAIM_ROW))
        shown = selectors.tenants_shown(
            actor=request.user, tenant_ids={row["tenant_id"] for row in page}
        )
        for row in page:
            row["tenant_related"] = row["tenant_id"] in shown
        lines = ClaimLine.objects.filter(claim_id__in=[row["id"] for row in page]).order_by("id")
        return self.get_paginated_response(
            serializers.claim_rows_data(page, list(lines.values_list(*serializers.LINE_ROW)))
        )

    @extend_schema(
        request=serializers.ClaimInputSerializer,
        responses={201: serializers.ClaimSerializer},
        tags=["claims"],
    )
    def post(self, request):
        """Create a draft claim (the Add customer wizard in one request)."""
        data = _parse(serializers.ClaimInputSerializer, request).to_claim_input()
        claim = services.claim_create(actor=request.user, data=data)
        return Response(
            serializers.claim_data(claim, actor=request.user), status=status.HTTP_201_CREATED
        )


class ClaimFileView(ApiView):
    """Create, give PoE and submit in one request: for integrators filing in bulk."""

    parser_classes = [LimitedMultiPartParser]
    input_serializer = serializers.ClaimFileSerializer

    @extend_schema(
        operation_id="claims_file",
        request={"multipart/form-data": serializers.ClaimFileSerializer},
        responses={201: serializers.ClaimSerializer},
        tags=["claims"],
    )
    def post(self, request):
        """File a claim: create it, store its PoE and submit it, in one transaction.

        The body is multipart: the fields of POST /claims/ (``products`` or
        ``subscription_ids`` repeated once per value), the PoE ``file`` with ``poe_type``,
        ``signed_on``, ``signatory`` and ``description``, and ``confirmed`` (and
        ``comments``) as for /submit/. The same rules apply as in those three steps; any
        broken rule or failed check answers with its code and field, and nothing is
        written, the PoE file included. The answer is the submitted claim.
        """
        form = _parse(serializers.ClaimFileSerializer, request)
        claim = services.claim_file(
            actor=request.user,
            data=form.to_claim_input(),
            poe=form.poe(),
            **form.submission(),
        )
        return Response(
            serializers.claim_data(claim, actor=request.user), status=status.HTTP_201_CREATED
        )


class ClaimDetailView(ApiView):
    input_serializer = serializers.ClaimInputSerializer

    @extend_schema(responses=serializers.ClaimSerializer, tags=["claims"])
    def get(self, request, pk: int):
        return Response(serializers.claim_data(_claim(request, pk, lines=True), actor=request.user))

    @extend_schema(
        request=serializers.ClaimInputSerializer,
        responses=serializers.ClaimSerializer,
        tags=["claims"],
    )
    def put(self, request, pk: int):
        """Replace a draft (in Action required only the contacts and PartnerID change)."""
        with _acting_on(request, pk) as claim:
            data = _parse(serializers.ClaimInputSerializer, request).to_claim_input()
            claim = services.claim_update(actor=request.user, claim=claim, data=data)
        return Response(serializers.claim_data(claim, actor=request.user))

    @extend_schema(
        request=serializers.ClaimInputSerializer(partial=True),
        responses=serializers.ClaimSerializer,
        tags=["claims"],
    )
    def patch(self, request, pk: int):
        """Change some fields of a draft; the others keep their values."""
        claim = _claim(request, pk)
        given = _parse(serializers.ClaimInputSerializer, request, partial=True).validated_data
        data = services.ClaimInput(**{**serializers.claim_input_of(claim), **given})
        claim = services.claim_update(actor=request.user, claim=claim, data=data)
        return Response(serializers.claim_data(claim, actor=request.user))

    @extend_schema(responses={204: None}, tags=["claims"])
    def delete(self, request, pk: int):
        """Delete a draft (and its PoE)."""
        with _acting_on(request, pk) as claim:
            services.claim_delete(actor=request.user, claim=claim)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClaimChecksView(ApiView):
    @extend_schema(responses=serializers.ChecksSerializer, tags=["claims"])
    def get(self, request, pk: int):
        """Run the automated checks now; any fail blocks submission."""
        results = checks.run_checks(_claim(request, pk, lines=True))
        return Response(
            {
                "can_submit": not checks.failures(results),
                "results": [
                    {"code": r.code, "outcome": r.outcome, "message": r.message, "field": r.field}
                    for r in results
                ],
            }
        )


class ClaimActionView(ApiView):
    """POST an action on a claim; answers the claim as it is afterwards."""

    input_serializer = serializers.MessageSerializer

    def perform(self, request, claim: Claim, data: dict) -> Claim:
        raise NotImplementedError

    def post(self, request, pk: int):
        with _acting_on(request, pk) as claim:
            data = _parse(self.input_serializer, request).validated_data
            claim = self.perform(request, claim, data)
        return Response(serializers.claim_data(claim, actor=request.user))


def _action(name: str, input_serializer, doc: str, tag: str):
    """Give an action view its schema (one decorator per subclass would repeat it)."""

    def decorate(cls):
        def post(self, request, pk: int):
            return ClaimActionView.post(self, request, pk)

        cls.input_serializer = input_serializer
        cls.post = extend_schema(
            operation_id=f"claims_{name}",
            request=input_serializer,
            responses=serializers.ClaimSerializer,
            description=doc,
            tags=[tag],
        )(post)
        return cls

    return decorate


@_action(
    "submit", serializers.SubmitSerializer, "Draft → Submitted once every check passes.", "claims"
)
class ClaimSubmitView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_submit(actor=request.user, claim=claim, **data)


@_action(
    "withdraw", serializers.MessageSerializer, "Withdraw a claim before its decision.", "claims"
)
class ClaimWithdrawView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_withdraw(actor=request.user, claim=claim, **data)


@_action(
    "reply",
    serializers.MessageSerializer,
    "Answer a request for information and resubmit.",
    "claims",
)
class ClaimReplyView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_reply(actor=request.user, claim=claim, **data)


@_action(
    "dispute", serializers.DisputeSerializer, "Contest a rejection within the window.", "claims"
)
class ClaimDisputeView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_dispute(actor=request.user, claim=claim, **data)


@_action(
    "start_review", serializers.MessageSerializer, "Take a claim into review (reviewers).", "review"
)
class ClaimStartReviewView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_start_review(actor=request.user, claim=claim)


@_action(
    "approve",
    serializers.ApproveSerializer,
    "Approve the claim, or chosen lines (reviewers).",
    "review",
)
class ClaimApproveView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_approve(actor=request.user, claim=claim, **data)


@_action(
    "reject", serializers.RejectSerializer, "Reject the claim with a reason (reviewers).", "review"
)
class ClaimRejectView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_reject(actor=request.user, claim=claim, **data)


@_action(
    "request_info",
    serializers.RequestInfoSerializer,
    "Ask the partner for more (reviewers).",
    "review",
)
class ClaimRequestInfoView(ClaimActionView):
    def perform(self, request, claim, data):
        return services.claim_request_info(actor=request.user, claim=claim, **data)


class ClaimNoteView(ApiView):
    input_serializer = serializers.MessageSerializer

    @extend_schema(
        request=serializers.MessageSerializer,
        responses={201: serializers.EventSerializer},
        tags=["review"],
    )
    def post(self, request, pk: int):
        """Write an internal note (program staff; partners never see it)."""
        with _acting_on(request, pk) as claim:
            data = _parse(serializers.MessageSerializer, request).validated_data
            event = services.claim_add_note(actor=request.user, claim=claim, **data)
        return Response(serializers.EventSerializer(event).data, status=status.HTTP_201_CREATED)


class ClaimHistoryView(ApiView):
    pagination_class = None

    @extend_schema(responses=serializers.EventSerializer(many=True), tags=["claims"])
    def get(self, request, pk: int):
        """The claim's history, oldest first (internal notes only for program staff)."""
        events = selectors.claim_history(actor=request.user, claim=_claim(request, pk))
        return Response(serializers.EventSerializer(events, many=True).data)


class ProofListView(ApiView):
    pagination_class = None
    parser_classes = [LimitedMultiPartParser]
    input_serializer = serializers.ProofUploadSerializer

    @extend_schema(responses=serializers.ProofSerializer(many=True), tags=["claims"])
    def get(self, request, pk: int):
        return Response(
            serializers.ProofSerializer(_claim(request, pk).proofs.all(), many=True).data
        )

    @extend_schema(
        request={"multipart/form-data": serializers.ProofUploadSerializer},
        responses={201: serializers.ProofSerializer},
        tags=["claims"],
    )
    def post(self, request, pk: int):
        """Upload a proof of execution (multipart: the file and its metadata)."""
        with _acting_on(request, pk) as claim:
            data = _parse(serializers.ProofUploadSerializer, request).validated_data
            proof = services.poe_add(actor=request.user, claim=claim, **data)
        return Response(serializers.ProofSerializer(proof).data, status=status.HTTP_201_CREATED)


class ProofDownloadView(ApiView):
    @extend_schema(
        # The file's own type, as detected from its content when it was stored.
        responses={(200, media): OpenApiTypes.BINARY for media in POE_MEDIA_TYPES},
        tags=["claims"],
    )
    def get(self, request, pk: int, proof_pk: int):
        """The stored PoE file, to anyone who may see the claim."""
        proof = _claim(request, pk).proofs.filter(pk=proof_pk).first()
        if proof is None:
            raise NotFound(_("No such proof of execution."))
        return poe_response(proof)


class ClaimExportView(ApiView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[serializers.ClaimFilterSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        tags=["claims"],
    )
    def get(self, request):
        """Every claim the caller may see (filtered), as CSV, streamed."""
        params = serializers.ClaimFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        claims = selectors.claim_list(
            actor=request.user, filters=selectors.ClaimFilters(**params.validated_data)
        ).order_by("-created_at", "-id")
        response = StreamingHttpResponse(bulk.claims_csv(claims), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="claims.csv"'
        return response


class ClaimBulkView(ApiView):
    parser_classes = [CsvParser, LimitedMultiPartParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, description="Validate every row, write nothing."
            )
        ],
        request={"text/csv": OpenApiTypes.STR},
        responses={200: serializers.BulkReportSerializer},
        tags=["claims"],
    )
    def post(self, request):
        """Create draft claims from a CSV (one claim per row; lists separated by “;”).

        Each valid row becomes a draft in its own transaction; invalid rows are reported
        with the field, code and message of every problem. ``?dry_run=1`` only validates.
        """
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        text = request.data
        if not isinstance(text, str):
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError(
                    "required", _("Send the CSV as text/csv or as the “file” part."), field="file"
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DomainError(
                    "csv_not_utf8", _("The CSV must be UTF-8 encoded."), field="file"
                ) from None
        partner = partner_membership(request.user)
        if partner is None:
            raise PermissionDenied(_("Only partner users create claims."))
        return Response(bulk.claims_bulk_create(actor=request.user, text=text, dry_run=dry_run))
