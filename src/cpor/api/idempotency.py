"""``Idempotency-Key`` on POST: a repeat with the same key and body replays the first
response; the same key with another body is refused with 422.

The view runs inside one transaction with the record of its response, so the effect and
the record commit together. Two requests racing with the same key both run; the second
to insert the record hits the unique (user, key) constraint, its whole transaction
(effect included) rolls back, and it answers with the first one's response.
"""

import datetime
import hashlib
import json

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.api.models import IdempotencyRecord
from cpor.claims.poe_storage import poe_atomic
from cpor.errors import DomainError

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


class Replay(Exception):
    """Raised once the caller is known, to answer with a stored response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


def request_key(request) -> str | None:
    key = request.META.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "invalid_idempotency_key",
            _("An Idempotency-Key is 1 to %d characters.") % MAX_KEY_LENGTH,
            field="Idempotency-Key",
        )
    return key


def _canonical(value):
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": digest.hexdigest(), "size": value.size}
    if hasattr(value, "lists"):  # QueryDict / MultiValueDict
        return {k: [_canonical(v) for v in vs] for k, vs in sorted(value.lists())}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request) -> str:
    """What makes two requests "the same": path, query and parsed body (files by hash)."""
    data = {
        "path": request.path,
        "query": sorted(request.query_params.lists()),
        "data": _canonical(request.data),
        "files": _canonical(request.FILES),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)


def find(*, user, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=_cutoff()).first()


def check(request, *, key: str, print_: str) -> int | None:
    """Before the view runs: replay a stored response, or refuse a reused key. Returns
    the id of an expired record with this key, which the new one will replace."""
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record is None:
        return None
    if record.created_at < _cutoff():
        return record.pk
    if record.fingerprint != print_:
        raise DomainError(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used with a different request."),
            field="Idempotency-Key",
        )
    raise Replay(record)


def remember(request, response, *, key: str, print_: str, expired: int | None) -> None:
    """After a successful view, in its transaction: store what it answered. A record
    that lost the race for the key raises IntegrityError, which rolls the view back."""
    response.render()
    if expired is not None:  # an expired record with the same key makes room
        IdempotencyRecord.objects.filter(pk=expired).delete()
    IdempotencyRecord.objects.create(
        user=request.user,
        key=key,
        fingerprint=print_,
        status_code=response.status_code,
        body=bytes(response.content),
        content_type=response.get("Content-Type", "application/json"),
    )


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotentMixin:
    """For APIViews: POSTs with an ``Idempotency-Key`` run at most once per user and key."""

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" or HEADER not in request.META:
            return super().dispatch(request, *args, **kwargs)
        try:
            # The loser of a race rolls back here, and the PoE files it stored go with it.
            with poe_atomic():
                response = super().dispatch(request, *args, **kwargs)
                state = getattr(self, "_idempotency", None)
                fresh = state is not None and not response.has_header("Idempotent-Replayed")
                if fresh and 200 <= response.status_code < 300:
                    remember(self.request, response, **state)
                return response
        except IntegrityError:
            # Lost the race for this key: everything above rolled back; answer as a repeat.
            state = getattr(self, "_idempotency", None)
            record = state and find(user=self.request.user, key=state["key"])
            if not record:
                raise
            if record.fingerprint != state["print_"]:
                return JsonResponse(
                    {
                        "code": "idempotency_key_reused",
                        "message": _(
                            "This Idempotency-Key was already used with a different request."
                        ),
                        "field": "Idempotency-Key",
                    },
                    status=422,
                )
            return replay_response(record)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Keys belong to a user: a caller refused authentication has none to replay.
        if request.method == "POST" and HEADER in request.META and request.user.is_authenticated:
            key = request_key(request)
            print_ = fingerprint(request)
            expired = check(request, key=key, print_=print_)
            self._idempotency = {"key": key, "print_": print_, "expired": expired}

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replay_response(exc.record)
        return super().handle_exception(exc)
