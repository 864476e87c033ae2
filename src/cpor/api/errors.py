"""One JSON error body for every refusal: ``{"code", "message", "field"}``.

``DomainError`` from the services keeps its code; ``ValidationFailed`` adds every
problem under ``errors``; DRF's own errors (parsing, authentication, serializer
validation, throttling…) are reshaped into the same form.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cpor.claims.services import ValidationFailed
from cpor.errors import DomainError

# Domain codes that are about size, not content.
TOO_LARGE_CODES = frozenset({"poe_too_large"})
UNPROCESSABLE_CODES = frozenset({"idempotency_key_reused"})
# Refusals because of how often the caller asked (tenant look-ups, cpor.customers.lookup).
TOO_MANY_CODES = frozenset({"tenant_lookup_limited"})
# The Organisation area and customer invitations: refusals because of what already exists
# (409), and a code that names no invitation (404).
ORGANISATION_CONFLICT_CODES = frozenset(
    {
        "user_exists",
        "partner_id_taken",
        "last_partner_admin",
        "deactivate_self",
        "invitation_expired",
        "invitation_revoked",
        "invitation_used",
    }
)
NOT_FOUND_CODES = frozenset({"not_found", "invitation_invalid"})


def domain_status(error: DomainError) -> int:
    if error.code == "permission_denied":
        return status.HTTP_403_FORBIDDEN
    if error.code in NOT_FOUND_CODES:
        return status.HTTP_404_NOT_FOUND
    if error.code in DomainError.CONFLICT_CODES | ORGANISATION_CONFLICT_CODES:
        return status.HTTP_409_CONFLICT
    if error.code in TOO_LARGE_CODES:
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if error.code in UNPROCESSABLE_CODES:
        return status.HTTP_422_UNPROCESSABLE_ENTITY
    if error.code in TOO_MANY_CODES:
        return status.HTTP_429_TOO_MANY_REQUESTS
    return status.HTTP_400_BAD_REQUEST


def error_body(code: str, message: str, field: str | None = None, errors=None) -> dict:
    body = {"code": code, "message": str(message), "field": field}
    if errors is not None:
        body["errors"] = errors
    return body


def _flatten(detail, field: str | None = None) -> list[dict]:
    """DRF's nested ``{field: [ErrorDetail]}`` as a flat list naming each field."""
    if isinstance(detail, dict):
        items = []
        for name, value in detail.items():
            name = None if name in ("non_field_errors", "detail") else str(name)
            path = f"{field}.{name}" if field and name else (name or field)
            items.extend(_flatten(value, path))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                items.extend(_flatten(value, f"{field}.{index}" if field else str(index)))
            else:
                items.extend(_flatten(value, field))
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [error_body(code, str(detail), field)]


def exception_handler(exc, context):
    if isinstance(exc, ValidationFailed):
        errors = [error.as_dict() for error in exc.errors]
        return Response(
            error_body(exc.code, exc.message, exc.field, errors), status=domain_status(exc)
        )
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.field), status=domain_status(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("body_too_large", _("The request body is too large.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail) or [error_body("invalid", _("Invalid input."))]
        first = errors[0]
        response.data = error_body(first["code"], first["message"], first["field"], errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        if isinstance(detail, dict | list):
            errors = _flatten(detail)
            first = errors[0] if errors else error_body(code, str(exc.default_detail))
            response.data = error_body(first["code"], first["message"], first["field"], errors)
        else:
            response.data = error_body(code, str(detail))
    return response
