"""ProgramSettings.load: read once per request, never stale across requests or jobs.

The memo opens and closes with Django's request signals (CatalogConfig.ready); the API's
statement counts (api/tests/test_lean_requests.py) show it within real requests. Here the
two ends are called directly: sending request_finished would also close the test's
database connection."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cpor.catalog.models import (
    ProgramSettings,
    program_settings_memo_close,
    program_settings_memo_open,
)

pytestmark = pytest.mark.django_db


def test_a_request_reads_the_settings_once_and_sees_its_own_save():
    ProgramSettings.load()  # the row exists
    program_settings_memo_open()
    try:
        with CaptureQueriesContext(connection) as queries:
            first = ProgramSettings.load()
            assert ProgramSettings.load().poe_max_bytes == first.poe_max_bytes
        assert len(queries) == 1
        # A form changes its copy without saving: the next read does not see it.
        first.poe_max_bytes = 2048
        assert ProgramSettings.load().poe_max_bytes != 2048
        first.save()
        assert ProgramSettings.load().poe_max_bytes == 2048
    finally:
        program_settings_memo_close()


def test_the_next_request_and_work_outside_requests_read_the_row_anew():
    program_settings_memo_open()
    assert ProgramSettings.load().dispute_window_days == 30
    program_settings_memo_close()
    ProgramSettings.objects.update(dispute_window_days=45)  # another process's change
    assert ProgramSettings.load().dispute_window_days == 45  # a job, a command
    program_settings_memo_open()
    try:
        assert ProgramSettings.load().dispute_window_days == 45
    finally:
        program_settings_memo_close()
