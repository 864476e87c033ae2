"""The project's URLs with the usage API mounted where the API includes it, so these
tests do not depend on the API app's wiring."""

from django.urls import include, path

from cpor.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/usage/", include("cpor.usage.api_urls")), *project_urlpatterns]
