"""Writes of the review app's own: saved queue filters (the claims' writes, bulk
decisions and assignment included, are ``cpor.claims.services``)."""

from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.permissions import require_operator
from cpor.errors import DomainError
from cpor.review.models import SavedQueueFilter
from cpor.review.selectors import QueueFilters

MAX_SAVED_FILTERS = 20


def queue_query(filters: QueueFilters) -> str:
    """The queue's query string for ``filters``: only what is set, in a fixed order."""
    pairs = [
        ("status", filters.status),
        ("engagement", filters.engagement),
        ("solution_area", filters.solution_area),
        ("conflict", "on" if filters.conflict else ""),
        ("failed_checks", "on" if filters.failed_checks else ""),
        ("mine", "on" if filters.mine else ""),
        ("q", filters.text.strip()),
    ]
    return urlencode([(name, value) for name, value in pairs if value])


def saved_filter_save(*, actor: User, name: str, filters: QueueFilters) -> SavedQueueFilter:
    """Save the queue's current filters under ``name``; the same name again replaces
    them (names are per operator, whatever their case)."""
    require_operator(actor)
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise DomainError("invalid_name", _("Name the filter in 1 to 80 characters."), field="name")
    query = queue_query(filters)
    with transaction.atomic():
        existing = (
            SavedQueueFilter.objects.select_for_update()
            .filter(owner=actor, name__iexact=name)
            .first()
        )
        if existing is not None:
            existing.name, existing.query = name, query
            existing.save(update_fields=["name", "query"])
            return existing
        if SavedQueueFilter.objects.filter(owner=actor).count() >= MAX_SAVED_FILTERS:
            raise DomainError(
                "too_many_filters",
                _("Keep at most %d saved filters: delete one first.") % MAX_SAVED_FILTERS,
                field="name",
            )
        try:
            with transaction.atomic():
                return SavedQueueFilter.objects.create(owner=actor, name=name, query=query)
        except IntegrityError:  # the same name saved at the same moment
            raise DomainError(
                "duplicate_name", _("A filter with this name exists."), field="name"
            ) from None


def saved_filter_delete(*, actor: User, pk: int) -> None:
    """Delete one of the actor's saved filters (anyone else's does not exist)."""
    require_operator(actor)
    deleted, _rows = SavedQueueFilter.objects.filter(owner=actor, pk=pk).delete()
    if not deleted:
        raise DomainError("not_found", _("No such saved filter."), field="filter")
