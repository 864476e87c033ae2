from django.urls import path

from cpor.consent import views

app_name = "consent"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("associations/<int:pk>/decline/", views.decline_association, name="decline_association"),
    path("requests/<int:pk>/decline/", views.decline_request, name="decline_request"),
    path("decline/new-link/", views.fresh_link, name="fresh_link"),
    path("decline/<str:token>/", views.decline, name="decline"),
]
