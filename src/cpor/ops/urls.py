from django.urls import path

from cpor.ops import health, metrics

app_name = "ops"
urlpatterns = [
    path("health/live", health.live, name="live"),
    path("health/ready", health.ready, name="ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
