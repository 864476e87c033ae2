"""The admin as a whole: every model a program admin edits or reads opens, and user
administration cannot be used to gain more rights."""

import uuid

import pytest
from django.contrib import admin
from django.urls import reverse

from cpor.accounts.models import OperatorRole, OrganisationSignOn, User
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.claims import services
from cpor.claims.models import ClaimEvent
from cpor.consent.models import CustomerAdmin
from cpor.earnings.demo import seed_rate_cards
from cpor.testing.events import consume_events
from cpor.testing.factories import (
    SubscriptionFactory,
    UserFactory,
    customer_tenant,
    enrol_second_factor,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db

CPOR_MODELS = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model.__module__.startswith("cpor.")
)


@pytest.fixture
def program_admin():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


@pytest.fixture
def every_kind_of_row(program_admin):
    """At least one row of each registered model (the catalog is seeded)."""
    reviewer = UserFactory(operator_role=OperatorRole.REVIEWER, is_staff=True)
    partner = partner_user()
    tenant = customer_tenant()
    SubscriptionFactory(tenant=tenant)
    claim = submitted_claim(actor=partner, tenant=tenant)
    services.claim_start_review(actor=reviewer, claim=claim)
    services.claim_approve(actor=reviewer, claim=claim)
    CustomerAdmin.objects.create(user=UserFactory(), tenant=tenant)
    sign_on = OrganisationSignOn.objects.create(
        organisation=partner.partner_membership.organisation
    )
    sign_on.tenants.create(tenant_id=uuid.uuid4())
    sign_on.domains.create(domain="partner.example")
    seed_rate_cards()
    audit_record(
        actor=partner,
        action=AuditAction.MEMBER_INVITED,
        organisation=partner.partner_membership.organisation,
        target=partner,
    )
    consume_events()  # the outbox messages the transitions cause


def test_every_cpor_model_is_registered():
    assert set(CPOR_MODELS) >= {
        "accounts.user",
        "catalog.solutionarea",
        "catalog.engagement",
        "catalog.partnerrole",
        "catalog.product",
        "catalog.outofscopeprogram",
        "catalog.programsettings",
        "partners.partnerorganisation",
        "partners.partnerlocation",
        "customers.tenant",
        "customers.subscription",
        "claims.claim",
        "claims.association",
    }


def test_program_admin_sees_every_app_on_the_index(client, program_admin):
    client.force_login(program_admin)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    listed = {
        f"{app['app_label']}.{model['object_name'].lower()}"
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert listed >= set(CPOR_MODELS)


@pytest.mark.parametrize("label", CPOR_MODELS)
def test_program_admin_opens_changelist_and_change_page(
    client, program_admin, every_kind_of_row, label
):
    app_label, model_name = label.split(".")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    obj = model._default_manager.order_by("pk").first()
    client.force_login(program_admin)

    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    change = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))

    assert changelist.status_code == 200
    assert change.status_code == 200


def test_history_events_are_shown_with_their_claim(client, program_admin, every_kind_of_row):
    event = ClaimEvent.objects.filter(action="approve").select_related("claim").get()
    client.force_login(program_admin)

    response = client.get(reverse("admin:claims_claim_change", args=[event.claim_id]))

    assert b"Approved" in response.content


def test_program_admin_cannot_make_anyone_a_superuser(client, program_admin):
    user = UserFactory()
    client.force_login(program_admin)
    url = reverse("admin:accounts_user_change", args=[user.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    client.post(
        url,
        {
            "username": user.username,
            "email": user.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "operator_role": OperatorRole.REVIEWER,
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    user.refresh_from_db()
    assert user.operator_role == OperatorRole.REVIEWER
    assert user.is_staff
    assert not user.is_superuser


def test_program_admin_cannot_change_or_delete_a_superuser(client, program_admin):
    root = User.objects.create_superuser("root@example.com", "root@example.com", "x" * 20)
    client.force_login(program_admin)

    page = client.get(reverse("admin:accounts_user_change", args=[root.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    password = client.get(reverse("admin:auth_user_password_change", args=[root.pk]))
    assert password.status_code == 403
    delete = client.post(reverse("admin:accounts_user_delete", args=[root.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert User.objects.filter(pk=root.pk).exists()


def test_superuser_uses_the_admin_without_an_operator_role(client):
    root = User.objects.create_superuser("root@example.com", "root@example.com", "x" * 20)
    enrol_second_factor(root)  # a superuser counts as a program admin for MFA
    client.force_login(root)

    assert client.get(reverse("admin:catalog_engagement_changelist")).status_code == 200
    assert client.get(reverse("admin:claims_claim_changelist")).status_code == 200
    assert client.get(reverse("admin:claims_claim_add")).status_code == 403


def test_program_admin_configures_identity_providers_reviewers_cannot(client, program_admin):
    client.force_login(program_admin)
    for name in ("socialaccount_socialapp_changelist", "socialaccount_socialapp_add"):
        assert client.get(reverse(f"admin:{name}")).status_code == 200
    response = client.post(
        reverse("admin:socialaccount_socialapp_add"),
        {
            "provider": "openid_connect",
            "provider_id": "entra",
            "name": "Contoso Entra ID",
            "client_id": "abc",
            "secret": "s3cret",
            "key": "",
            "settings": '{"server_url": "https://login.microsoftonline.com/organizations/v2.0"}',
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.force_login(UserFactory(operator_role=OperatorRole.REVIEWER, is_staff=True))
    assert client.get(reverse("admin:socialaccount_socialapp_add")).status_code == 403
