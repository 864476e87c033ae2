from django.urls import path

from cpor.customers import views

app_name = "customer_partners"
urlpatterns = [
    path("", views.partner_invitations, name="invitations"),
    path("<int:pk>/revoke/", views.partner_invitation_revoke, name="revoke"),
]
