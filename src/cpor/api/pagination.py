"""Cursor pagination: stable pages however many claims are added meanwhile."""

from django.utils.translation import gettext as _
from rest_framework.pagination import CursorPagination

from cpor.errors import DomainError


class CursorPage(CursorPagination):
    ordering = ("-id",)
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # A page size out of range is an error naming it, not a silent default: the
        # views of every app page with this class, whatever their base view.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise DomainError(
                "invalid_parameter",
                _("Query parameter %(name)s: a whole number from 1 to %(max)d.")
                % {"name": self.page_size_query_param, "max": self.max_page_size},
                field=self.page_size_query_param,
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        # The range the API keeps to (api/query.py refuses anything else).
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


class ClaimCursorPage(CursorPage):
    # The claim list's index: (organisation, status, -created_at).
    ordering = ("-created_at", "-id")
