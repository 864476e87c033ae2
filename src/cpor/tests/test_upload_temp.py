"""Uploads spool into a private folder under the var dir, and what a crash leaves there
is removed: at the web process's start and by the periodic sweep."""

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import TemporaryUploadedFile

from cpor.notifications import periodic

STALE_AGE = 2 * 3600  # seconds; far past any live upload


@pytest.fixture
def spool(settings, tmp_path) -> Path:
    folder = tmp_path / "upload-tmp"
    folder.mkdir(mode=0o700)
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def _left_by_a_crash(folder: Path) -> tuple[Path, Path]:
    """A spooled upload from two hours ago, and one being written right now."""
    stale, live = folder / "tmpold.upload.pdf", folder / "tmpnew.upload.pdf"
    stale.write_bytes(b"%PDF-1.7 a customer's statement of work")
    live.write_bytes(b"%PDF-1.7 still uploading")
    old = time.time() - STALE_AGE
    os.utime(stale, (old, old))
    return stale, live


def test_large_uploads_spool_into_a_private_folder_under_the_var_dir():
    folder = Path(django_settings.FILE_UPLOAD_TEMP_DIR)
    assert folder.parent == django_settings.VAR_DIR
    assert folder.stat().st_mode & 0o777 == 0o700
    upload = TemporaryUploadedFile("poe.pdf", "application/pdf", 10, None)
    try:
        assert Path(upload.temporary_file_path()).parent == folder
    finally:
        upload.close()


def test_settings_create_the_folder_private_whatever_the_umask(tmp_path):
    code = (
        "import os; os.umask(0o022); import cpor.settings as s; "
        "print(oct(os.stat(s.FILE_UPLOAD_TEMP_DIR).st_mode & 0o777))"
    )
    env = dict(os.environ, CPOR_VAR_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[2]))
    out = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0o700"
    assert (tmp_path / "upload-tmp").is_dir()


def test_web_process_start_removes_stale_uploads_only(spool):
    stale, live = _left_by_a_crash(spool)
    import cpor.wsgi

    importlib.reload(cpor.wsgi)
    assert not stale.exists()
    assert live.exists()  # a concurrent worker's upload in progress survives


def test_periodic_sweep_removes_stale_uploads_only(spool):
    stale, live = _left_by_a_crash(spool)
    assert periodic.run_job("sweep_upload_temp") == 1
    assert not stale.exists() and live.exists()
    assert periodic.run_job("sweep_upload_temp") == 0


def test_celery_beat_runs_the_sweep():
    jobs = {entry["args"][0] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sweep_upload_temp" in jobs
