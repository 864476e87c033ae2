from django.urls import path

from cpor.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.mail_log, name="mail_log"),
    path("<int:pk>/", views.message_detail, name="message_detail"),
]
