"""The private folder uploads spool into, and the sweep of what a crash left there.

Django writes an upload larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file
and deletes it when the request ends; a worker killed mid-request leaves it behind, and
these are customers' documents. The web process sweeps at start-up and the periodic job
``sweep_upload_temp`` every few minutes. Only files older than
``FILE_UPLOAD_TEMP_MAX_AGE_SECONDS`` go, so another worker's upload in progress stays.
"""

import logging
import os
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def upload_temp_sweep(*, max_age_seconds: int | None = None) -> int:
    """Delete the spooled uploads older than the maximum age; return how many went."""
    folder = settings.FILE_UPLOAD_TEMP_DIR
    max_age = (
        settings.FILE_UPLOAD_TEMP_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
    )
    cutoff = time.time() - max_age
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # the request finished, or another sweep got there first
    if removed:
        logger.info("Removed %d stale upload temp file(s) from %s", removed, folder)
    return removed
