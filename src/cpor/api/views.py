"""The REST API (/api/v1/). Each view parses input, calls one service or selector and
serialises the result; the rules and the permissions are the claims app's."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, renderers, status
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cpor.api import bulk, serializers
from cpor.api.idempotency import IdempotentMixin
from cpor.api.models import WebhookEndpoint
from cpor.api.pagination import ClaimCursorPage, CursorPage
from cpor.api.parsers import CsvParser, LimitedJSONParser, LimitedMultiPartParser
from cpor.api.services import webhook_endpoint_create, webhook_endpoint_delete
from cpor.catalog.selectors import catalog_overview
from cpor.claims import checks, selectors, services
from cpor.claims.models import Association, Claim, ClaimLine
from cpor.claims.permissions import partner_membership
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.services.history import claim_in_scope
from cpor.consent import selectors as consent_selectors
from cpor.consent import services as consent_services
from cpor.errors import DomainError, PermissionDenied
from cpor.review import selectors as review_selectors


class ApiView(IdempotentMixin, generics.GenericAPIView):
    """Every API view: idempotent POSTs, JSON in, JSON out."""

    parser_classes = [LimitedJSONParser]
    input_serializer: type[drf_serializers.Serializer] | None = None

    def get_serializer_class(self):
        return self.input_serializer or drf_serializers.Serializer

    def get_queryset(self):
        # Reads go through the selectors, scoped to the caller; this only satisfies the
        # browsable API's filter form, which has no filter backends to offer.
        return Claim.objects.none()

    def get_serializer(self, *args, **kwargs):
        # Only the browsable API asks, for its input form: always the empty input.
        return self.get_serializer_class()(context=self.get_serializer_context())

    def handle_exception(self, exc):
        # The services lock a claim within what the caller may see (``claim_in_scope``):
        # any other claim does not exist for them.
        if isinstance(exc, Claim.DoesNotExist):
            exc = NotFound(_("No such claim."))
        return super().handle_exception(exc)


# A claim's lines for its answer: one query for a claim or a whole page, with their
# products and subscriptions.
LINES = Prefetch("lines", queryset=ClaimLine.objects.select_related("product", "subscription"))


def _claim(request, pk: int, *, lines: bool = False) -> Claim:
    claims = selectors.claim_list(actor=request.user)
    try:
        return (claims.prefetch_related(LINES) if lines else claims).get(pk=pk)
    except Claim.DoesNotExist:
        raise NotFound(_("No such claim.")) from None


def _association(request, pk: int) -> Association:
    try:
        return selectors.association_list(actor=request.user).get(pk=pk)
    except Association.DoesNotExist:
        raise NotFound(_("No such association.")) from None


def _parse(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


@contextmanager
def _acting_on(request, pk: int) -> Iterator[Claim]:
    """The claim for a service to load and lock, once, if the caller may see it.

    Services may refuse before they load the claim (a reviewer-only action, bad input);
    on a claim the caller may not see, any refusal is a 404, as if it did not exist."""
    try:
        yield claim_in_scope(pk, actor=request.user)
    except (DomainError, drf_serializers.ValidationError):
        if not selectors.claim_list(actor=request.user).filter(pk=pk).exists():
            raise NotFound(_("No such claim.")) from None
        raise


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
            actor=request.user, filters=selectors.ClaimFilters(**params.validated_data)
        )
        # Rows, not model instances: one query for the page and one for its lines.
        page = self.paginate_queryset(claims.values(*serializers.CLAIM_ROW))
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
        return Response(serializers.claim_data(claim), status=status.HTTP_201_CREATED)


class ClaimFileView(ApiView):
    """Create, give PoE and submit in one request: for integrators filing in bulk."""

    parser_classes = [LimitedMultiPartParser]
    input_serializer = serializers.ClaimFileSerializer

    def dispatch(self, request, *args, **kwargs):
        self.uncommitted_files: list[str] = []
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Outside every transaction the outcome is known: a PoE file whose row did not
            # commit (say the Idempotency-Key race rolled the request back) goes too.
            if not transaction.get_connection().in_atomic_block:
                _delete_files(self.uncommitted_files)

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
        actor = request.user
        try:
            with transaction.atomic():
                claim = services.claim_create(actor=actor, data=form.to_claim_input())
                proof = services.poe_add(actor=actor, claim=claim, **form.poe())
                stored = proof.file.name
                self.uncommitted_files.append(stored)
                transaction.on_commit(lambda: self.uncommitted_files.remove(stored))
                claim = services.claim_submit(actor=actor, claim=claim, **form.submission())
        except BaseException:
            _delete_files(self.uncommitted_files)
            raise
        return Response(serializers.claim_data(claim), status=status.HTTP_201_CREATED)


def _delete_files(names: list[str]) -> None:
    while names:
        default_storage.delete(names.pop())


class ClaimDetailView(ApiView):
    input_serializer = serializers.ClaimInputSerializer

    @extend_schema(responses=serializers.ClaimSerializer, tags=["claims"])
    def get(self, request, pk: int):
        return Response(serializers.claim_data(_claim(request, pk, lines=True)))

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
        return Response(serializers.claim_data(claim))

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
        return Response(serializers.claim_data(claim))

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
        return Response(serializers.claim_data(claim))


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
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=["claims"]
    )
    def get(self, request, pk: int, proof_pk: int):
        """The stored PoE file, to anyone who may see the claim."""
        proof = _claim(request, pk).proofs.filter(pk=proof_pk).first()
        if proof is None:
            raise NotFound(_("No such proof of execution."))
        return FileResponse(
            default_storage.open(proof.file.name, "rb"),
            as_attachment=True,
            filename=proof.original_name,
            content_type=proof.content_type,
        )


class CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


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
        return self.get_paginated_response(serializers.QueueItemSerializer(page, many=True).data)


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
