from django.urls import path

from cpor.claims import views

app_name = "claims"
urlpatterns = [
    path("", views.claim_list, name="list"),
    path("export.csv", views.claim_export, name="export"),
    path("new/", views.wizard_start, name="new"),
    path("new/<str:wizard_id>/<str:step>/", views.wizard_step, name="wizard"),
    path("<int:pk>/", views.claim_detail, name="detail"),
    path("<int:pk>/edit/", views.claim_edit, name="edit"),
    path("<int:pk>/delete/", views.claim_delete, name="delete"),
    path("<int:pk>/submit/", views.claim_submit, name="submit"),
    path("<int:pk>/reply/", views.claim_reply, name="reply"),
    path("<int:pk>/withdraw/", views.claim_withdraw, name="withdraw"),
    path("<int:pk>/dispute/", views.claim_dispute, name="dispute"),
    path("<int:pk>/poe/", views.poe_upload, name="poe_upload"),
    path("<int:pk>/poe/<int:poe_pk>/", views.poe_download, name="poe_download"),
    path("<int:pk>/poe-template.<str:kind>", views.poe_template_download, name="poe_template"),
    path(
        "<int:pk>/associations/<int:association_pk>/withdraw/",
        views.association_withdraw,
        name="association_withdraw",
    ),
]
