"""Cursor pagination: stable pages however many claims are added meanwhile."""

from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    ordering = ("-id",)
    page_size_query_param = "page_size"
    max_page_size = 200


class ClaimCursorPage(CursorPage):
    # The claim list's index: (organisation, status, -created_at).
    ordering = ("-created_at", "-id")
