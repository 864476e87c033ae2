"""Sign-ins, failed and refused sign-ins, wrong second-factor codes, sign-outs and Django
admin changes into the audit trail.

Neither flow is a CPOR service: allauth signs people in (password, passkey, single
sign-on) through ``django.contrib.auth.login``, and the admin writes its own
``LogEntry``. So, unlike every other audit row, these are written by receivers of
Django's signals, connected in ``AuditConfig.ready``: ``user_logged_in``,
``user_login_failed`` and ``user_logged_out`` (each fires inside the request, single
sign-on included), allauth mfa's ``authentication_failed``, and ``post_save`` of
``LogEntry``; the sign-in limits call ``sign_in_throttled`` themselves.

Reliability over availability: the row is one insert in the same request. If it fails
the request fails (a 500, logged) and the session is ended first, so nobody is left
signed in without a trace; a failed sign-in stays failed. Nothing is queued for later,
which would lose rows exactly when the database is in trouble.

A "delete selected" of several objects writes its log entries with one bulk insert,
which sends no ``post_save``: the site's action is wrapped (``delete_selected``) to
record those rows too.
"""

import contextvars
import ipaddress
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from allauth.account.adapter import get_adapter
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cpor.audit.models import AuditAction, AuditEntry
from cpor.audit.services import audit_record
from cpor.claims.permissions import partner_membership

ADMIN_ACTIONS = {
    ADDITION: AuditAction.ADMIN_ADDED,
    CHANGE: AuditAction.ADMIN_CHANGED,
    DELETION: AuditAction.ADMIN_DELETED,
}
# allauth's record of how the session authenticated (password, socialaccount, mfa, …).
AUTHENTICATION_METHODS = "account_authentication_methods"

# The request being served, for the admin's LogEntry (a post_save carries none).
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "cpor_audit_request", default=None
)


class AuditRequestMiddleware:
    """Makes the request (who, from where) known to the admin's ``LogEntry`` receiver."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the sign-in rate limits see it (behind trusted proxies)."""
    if request is None:
        return None
    try:
        ip = get_adapter(request).get_client_ip(request)
        return str(ipaddress.ip_address(ip))
    except (PermissionDenied, ValueError):
        return None


def _organisation_id(user) -> int | None:
    membership = partner_membership(user)
    return membership.organisation_id if membership else None


@contextmanager
def _or_end_session(request: HttpRequest | None) -> Iterator[None]:
    """On a failed write, end the session before the error propagates."""
    try:
        yield
    except Exception:
        if request is not None and hasattr(request, "session"):
            request.session.flush()
        raise


def _method(request: HttpRequest | None) -> dict[str, str]:
    methods = getattr(request, "session", {}).get(AUTHENTICATION_METHODS) or []
    first = methods[0] if methods else {}
    return {key: str(first[key]) for key in ("method", "provider") if key in first}


def on_signed_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    with _or_end_session(request):
        audit_record(
            actor=user,
            action=AuditAction.SIGNED_IN,
            organisation=_organisation_id(user),
            target=user,
            after=_method(request) or None,
            ip=client_ip(request),
        )


def _sign_in_refused(
    action: str, login: str, request: HttpRequest | None, after: dict | None = None
) -> None:
    """A sign-in that let nobody in: by the e-mail tried, which may name no account."""
    audit_record(
        actor=None,
        actor_email=login,
        action=action,
        target_type="user",
        target_label=login,
        after=after,
        ip=client_ip(request),
    )


def on_sign_in_failed(sender, credentials: dict, request: HttpRequest | None = None, **kw) -> None:
    tried = str(credentials.get("email") or credentials.get("username") or "")
    _sign_in_refused(AuditAction.SIGN_IN_FAILED, tried, request)


def on_second_factor_failed(sender, request: HttpRequest | None, user, authenticator, **kw):
    """A wrong code at the second step (allauth mfa's ``authentication_failed``): the
    password was right, so someone may hold it."""
    audit_record(
        actor=user,
        action=AuditAction.SECOND_FACTOR_FAILED,
        organisation=_organisation_id(user),
        target=user,
        after={"factor": str(authenticator.type)},
        ip=client_ip(request),
    )


def sign_in_throttled(request: HttpRequest, login: str, *, wait_seconds: int) -> None:
    """An attempt the sign-in limits refused (``accounts.sign_in_throttle``), recorded
    once per account and address while the wait lasts, so a flood stays one row."""
    _sign_in_refused(
        AuditAction.SIGN_IN_THROTTLED, login, request, after={"wait_seconds": wait_seconds}
    )


def on_signed_out(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if user is None:  # signing out with no one signed in
        return
    with _or_end_session(request):
        audit_record(
            actor=user,
            action=AuditAction.SIGNED_OUT,
            organisation=_organisation_id(user),
            target=user,
            ip=client_ip(request),
        )


def _admin_row(entry: LogEntry, request: HttpRequest | None) -> AuditEntry:
    actor = request.user if request is not None and request.user.pk == entry.user_id else None
    actor = actor or entry.user
    try:
        change = json.loads(entry.change_message) if entry.change_message else []
    except ValueError:
        change = entry.change_message
    content_type = entry.content_type
    return AuditEntry(
        actor=actor,
        actor_email=actor.email,
        organisation_id=_organisation_id(actor),
        action=ADMIN_ACTIONS[entry.action_flag],
        target_type=(content_type.model if content_type else "")[:40],
        target_id=str(entry.object_id or "")[:64],
        target_label=entry.object_repr[:300],
        after={
            "model": f"{content_type.app_label}.{content_type.model}" if content_type else "",
            "change": change,
            "admin_log_entry": entry.pk,
        },
        at=entry.action_time,
        ip=client_ip(request),
    )


def on_admin_logged(sender, instance: LogEntry, created: bool, raw: bool = False, **kw) -> None:
    if created and not raw and instance.action_flag in ADMIN_ACTIONS:
        # In the admin's own transaction: a failed write undoes the change it describes.
        _admin_row(instance, current_request.get()).save()


def delete_selected(modeladmin, request: HttpRequest, queryset):
    """Django's "delete selected" action, with its bulk-written log entries audited."""
    latest = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = django_delete_selected(modeladmin, request, queryset)
    entries = list(
        LogEntry.objects.filter(pk__gt=latest, user_id=request.user.pk, action_flag=DELETION)
        .select_related("content_type", "user")
        .order_by("pk")
    )
    if len(entries) > 1:  # one entry is saved singly: on_admin_logged recorded it
        AuditEntry.objects.bulk_create(_admin_row(entry, request) for entry in entries)
    return response


delete_selected.allowed_permissions = django_delete_selected.allowed_permissions
delete_selected.short_description = django_delete_selected.short_description
