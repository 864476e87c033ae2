"""The program operator's pages, all under /review/: the reviewers' queue and screens,
and the program admin's catalog, partner onboarding and customer import."""

from django.urls import path

from cpor.catalog import views as catalog_views
from cpor.customers import views as customer_views
from cpor.partners import views as partner_views
from cpor.review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("claims/<int:pk>/assign/", views.claim_assign, name="assign"),
    path("claims/<int:pk>/approve/", views.claim_approve, name="approve"),
    path("claims/<int:pk>/reject/", views.claim_reject, name="reject"),
    path("claims/<int:pk>/request-info/", views.claim_request_info, name="request_info"),
    path("claims/<int:pk>/notes/", views.claim_note, name="note"),
    path("claims/<int:pk>/assign-to/", views.claim_assign_to, name="assign_to"),
    path("poe/<int:pk>/", views.proof_file, name="poe"),
    # Reviewer workload
    path("bulk/", views.queue_bulk, name="bulk"),
    path("workload/", views.workload, name="workload"),
    path("workload/<int:pk>/duty/", views.reviewer_duty, name="reviewer_duty"),
    path("filters/", views.saved_filter_create, name="saved_filter_create"),
    path("filters/<int:pk>/delete/", views.saved_filter_remove, name="saved_filter_delete"),
    # Program admin
    path("admin/", catalog_views.admin_home, name="admin_home"),
    path("admin/catalog/", catalog_views.catalog_home, name="catalog"),
    path("admin/catalog/settings/", catalog_views.settings_edit, name="settings_edit"),
    path(
        "admin/catalog/engagements/<int:pk>/",
        catalog_views.engagement_edit,
        name="engagement_edit",
    ),
    path("admin/catalog/roles/<int:pk>/", catalog_views.role_edit, name="role_edit"),
    path("admin/catalog/products/new/", catalog_views.product_edit, name="product_new"),
    path("admin/catalog/products/<int:pk>/", catalog_views.product_edit, name="product_edit"),
    path("admin/catalog/out-of-scope/new/", catalog_views.program_edit, name="program_new"),
    path("admin/catalog/out-of-scope/<int:pk>/", catalog_views.program_edit, name="program_edit"),
    path("admin/partners/", partner_views.partner_list, name="partners"),
    path("admin/partners/new/", partner_views.partner_onboard, name="partner_new"),
    path("admin/partners/<int:pk>/", partner_views.partner_detail, name="partner"),
    path(
        "admin/partners/<int:pk>/locations/",
        partner_views.location_add,
        name="partner_location_add",
    ),
    path("admin/partners/<int:pk>/invite/", partner_views.admin_invite, name="partner_invite"),
    path("admin/import/", customer_views.customer_import, name="import"),
    path("admin/legacy/", views.legacy_import, name="legacy_import"),
]
