"""The program admin's rate cards, included under /review/admin/rate-cards/ beside the
other program-admin pages."""

from django.urls import path

from cpor.earnings import views

app_name = "earnings_admin"
urlpatterns = [
    path("", views.rate_cards, name="rate_cards"),
    path("new/", views.rate_card_edit, name="rate_card_new"),
    path("<int:pk>/", views.rate_card_edit, name="rate_card_edit"),
    path("<int:pk>/delete/", views.rate_card_delete, name="rate_card_delete"),
]
