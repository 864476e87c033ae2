"""ProgramSettings.load: read once per request, never stale across requests or jobs."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cpor.catalog.models import ProgramSettings

pytestmark = pytest.mark.django_db


def test_a_request_reads_the_settings_once_and_sees_its_own_save():
    ProgramSettings.load()  # the row exists
    request_started.send(sender=None)
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
        request_finished.send(sender=None)


def test_the_next_request_and_work_outside_requests_read_the_row_anew():
    request_started.send(sender=None)
    assert ProgramSettings.load().dispute_window_days == 30
    request_finished.send(sender=None)
    ProgramSettings.objects.update(dispute_window_days=45)  # another process's change
    assert ProgramSettings.load().dispute_window_days == 45  # a job, a command
    request_started.send(sender=None)
    try:
        assert ProgramSettings.load().dispute_window_days == 45
    finally:
        request_finished.send(sender=None)
