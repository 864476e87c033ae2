"""What every API view shares: the idempotent base view, the claim and association in
the caller's scope, input parsing, and acting on a claim under its lock."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from rest_framework import generics, renderers
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import NotFound

from cpor.api.idempotency import IdempotentMixin
from cpor.api.parsers import LimitedJSONParser
from cpor.api.query import QueryChecked
from cpor.claims import selectors
from cpor.claims.models import Association, Claim, ClaimLine
from cpor.claims.services.history import claim_in_scope
from cpor.errors import DomainError


class ApiView(QueryChecked, IdempotentMixin, generics.GenericAPIView):
    """Every API view: query parameters as the schema declares them (or a 400 naming the
    parameter), idempotent POSTs, JSON in, JSON out."""

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


class CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()
