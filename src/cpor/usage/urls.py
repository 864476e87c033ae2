from django.urls import path

from cpor.usage import views

app_name = "usage"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("export.csv", views.export_csv, name="export"),
    path("import/", views.import_upload, name="import"),
]
