from django.urls import path

from cpor.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:key>.csv", views.table_csv, name="csv"),
]
