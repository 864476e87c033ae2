"""Where PoE files live, and why none is left without its row.

A PoE file is written to storage before its row is inserted, inside the transaction
that inserts the row. If that transaction rolls back (a failed check, the loser of an
Idempotency-Key race, any error after the write), the file must go too: these are
customers' documents that nothing would reference and nobody could delete.

- **Rollback.** Each stored name is remembered as uncommitted for the thread until an
  ``on_commit`` callback forgets it. ``poe_atomic`` is ``transaction.atomic`` that
  deletes the files stored inside it when it exits with an exception (its block rolled
  back, whatever encloses it); ``poe_add`` and the API's transactions around it (the
  Idempotency-Key's, ``claims/file/``) use it. Django drops the callbacks of a
  transaction that rolls back, so anything still remembered once no transaction is
  open on the connection belonged to a rollback too (say ``set_rollback``): it is
  deleted after the outermost ``poe_atomic`` and at the end of every request
  (``request_finished``).
- **Crash.** A process killed between the write and the commit runs nothing. The
  periodic ``poe_orphans_sweep`` deletes files under ``poe/`` that no row references
  and that are older than ``POE_ORPHAN_GRACE_SECONDS``: a younger file may belong to a
  transaction still in flight.
- **Serving.** ``poe_response`` is the one way a PoE leaves: the claim page's download,
  the reviewer's preview and the API's download.
"""

import datetime
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.claims.models import ProofOfExecution

logger = logging.getLogger(__name__)

PREFIX = "poe"
SWEEP_BATCH = 500

_local = threading.local()


def _uncommitted() -> set[str]:
    names = getattr(_local, "names", None)
    if names is None:
        names = _local.names = set()
    return names


def poe_file_save(file: File, *, extension: str) -> str:
    """Store a PoE file under a random name; it is deleted again unless the current
    transaction commits."""
    name = default_storage.save(f"{PREFIX}/{uuid.uuid4().hex}.{extension}", file)
    pending = _uncommitted()
    pending.add(name)
    transaction.on_commit(lambda: pending.discard(name))
    return name


def poe_discard_uncommitted(**_signal_kwargs) -> int:
    """Delete the files whose transaction rolled back; a no-op while one is still open."""
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return 0
    pending = _uncommitted()
    removed = 0
    while pending:
        default_storage.delete(pending.pop())
        removed += 1
    return removed


@contextmanager
def poe_atomic() -> Iterator[None]:
    """``transaction.atomic()`` whose rollback also deletes the PoE files stored in it."""
    before = set(_uncommitted())
    try:
        with transaction.atomic():
            yield
    except BaseException:
        pending = _uncommitted()
        for name in pending - before:
            default_storage.delete(name)
            pending.discard(name)
        raise
    finally:
        poe_discard_uncommitted()


def _stored_names(folder: str) -> Iterator[str]:
    """Every file under ``folder`` in storage (local folder or bucket), depth first."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_names(f"{folder}/{sub}")


def poe_orphans_sweep(*, grace_seconds: int | None = None) -> int:
    """Delete PoE files no row references, older than the grace period; return how many.

    Storage is listed and looked up in the database in batches, so memory stays flat."""
    grace = settings.POE_ORPHAN_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - datetime.timedelta(seconds=grace)
    removed = 0
    batch: list[str] = []

    def flush() -> int:
        referenced = set(
            ProofOfExecution.objects.filter(file__in=batch).values_list("file", flat=True)
        )
        gone = 0
        for name in batch:
            if name in referenced:
                continue
            try:
                if default_storage.get_modified_time(name) >= cutoff:
                    continue  # perhaps a transaction still in flight
            except FileNotFoundError:
                continue
            default_storage.delete(name)
            gone += 1
        batch.clear()
        return gone

    for name in _stored_names(PREFIX):
        batch.append(name)
        if len(batch) >= SWEEP_BATCH:
            removed += flush()
    if batch:
        removed += flush()
    if removed:
        logger.info("Removed %d PoE file(s) that no row references", removed)
    return removed


def poe_response(proof: ProofOfExecution, *, inline: bool = False) -> FileResponse:
    """The PoE's file as a response: a customer's document, never cached, never sniffed,
    and inert (a sandbox) if a browser opens it. ``inline`` shows it in the page (the
    reviewer's preview) instead of downloading it. Http404 if storage lost the file."""
    try:
        handle = default_storage.open(proof.file.name, "rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=proof.original_name,
        content_type=proof.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if inline and proof.content_type == "application/pdf":
        # Browsers refuse to show a PDF in a sandbox; and not the site's policy either:
        # its frame-ancestors 'none' would refuse the review page's frame.
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
    else:
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
