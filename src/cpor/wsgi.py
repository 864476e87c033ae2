import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpor.settings")
application = get_wsgi_application()

# Spooled uploads a crashed worker left behind (customers' documents) go at start-up.
from cpor.upload_temp import upload_temp_sweep  # noqa: E402 - needs the settings above

upload_temp_sweep()

# The API's query check reads the OpenAPI document: build it while the worker starts,
# not in its first requests (readiness is answered only after this).
from cpor.api.query import _operations  # noqa: E402

_operations()
