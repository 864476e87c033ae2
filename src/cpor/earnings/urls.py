"""The partner's earnings estimates and the program's liability, under /earnings/."""

from django.urls import path

from cpor.earnings import views

app_name = "earnings"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("associations/<int:pk>/", views.association_detail, name="association"),
    path("export.csv", views.export_csv, name="export"),
    path("program/", views.liability, name="liability"),
]
