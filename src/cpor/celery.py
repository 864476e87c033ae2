"""The Celery app. Configured from Django settings (``CELERY_*``, see README).

Without ``CELERY_BROKER_URL`` (the embedded mode) nothing needs it: outbox messages are
delivered in-process after commit and ``manage.py run_periodic`` runs the jobs. With a
broker, run ``celery -A cpor worker`` and ``celery -A cpor beat`` beside the web processes.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpor.settings")

app = Celery("cpor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["cpor.notifications"])

# Worker side of django-structlog: each task's log lines carry the request id (and user)
# of the request that published it (the publishing side is connected in settings).
from django_structlog.celery.steps import DjangoStructLogInitStep  # noqa: E402

app.steps["worker"].add(DjangoStructLogInitStep)
