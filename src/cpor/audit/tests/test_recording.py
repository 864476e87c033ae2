"""Sign-ins, failed sign-ins, sign-outs and admin changes land in the audit trail, with
who, when, from where and the organisation; a failed audit write signs nobody in."""

from unittest import mock

import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.accounts.tests.test_sso import (  # noqa: F401 (fixtures)
    PROVIDER_ID,
    idp,
    linked_organisation,
    person,
    sso_sign_in,
)
from cpor.accounts.tests.test_sso import sso as sso  # a fixture, used by name
from cpor.audit.models import AuditAction, AuditEntry
from cpor.catalog.models import OutOfScopeProgram
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import PASSWORD, UserFactory, enrol_second_factor, partner_user

pytestmark = pytest.mark.django_db


def _sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def test_sign_in_and_sign_out_are_recorded_with_ip_and_organisation(client):
    user = partner_user(PartnerRoleName.INCENTIVES_USER)
    _sign_in(client, user.email, REMOTE_ADDR="203.0.113.7")
    client.post(reverse("account_logout"), REMOTE_ADDR="203.0.113.7")

    signed_in, signed_out = AuditEntry.objects.order_by("id")
    assert signed_in.action == AuditAction.SIGNED_IN
    assert (signed_in.actor_id, signed_in.actor_email) == (user.pk, user.email)
    assert signed_in.organisation_id == user.partner_membership.organisation_id
    assert signed_in.ip == "203.0.113.7"
    assert signed_in.after == {"method": "password"}
    assert signed_out.action == AuditAction.SIGNED_OUT
    assert signed_out.actor_id == user.pk


def test_failed_sign_in_is_recorded_with_the_address_tried(client):
    user = UserFactory()
    response = _sign_in(client, user.email, "wrong-password", REMOTE_ADDR="198.51.100.2")

    assert response.status_code == 200  # the form again, with its error
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.SIGN_IN_FAILED
    assert entry.actor_id is None
    assert entry.actor_email == user.email
    assert entry.ip == "198.51.100.2"
    assert "password" not in str(entry.after)


def test_a_wrong_second_factor_code_is_recorded_for_the_account(client):
    user = enrol_second_factor(partner_user(PartnerRoleName.INCENTIVES_ADMIN))
    _sign_in(client, user.email, REMOTE_ADDR="198.51.100.9")
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"}, REMOTE_ADDR="198.51.100.9")

    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(action=AuditAction.SECOND_FACTOR_FAILED)
    assert (entry.actor_id, entry.actor_email, entry.ip) == (user.pk, user.email, "198.51.100.9")
    assert entry.organisation_id == user.partner_membership.organisation_id
    assert entry.after == {"factor": "totp"}
    assert not AuditEntry.objects.filter(action=AuditAction.SIGNED_IN).exists()


def test_a_failed_audit_write_signs_nobody_in(client):
    user = UserFactory()
    with (
        mock.patch("cpor.audit.recording.audit_record", side_effect=RuntimeError("db down")),
        pytest.raises(RuntimeError),
    ):
        _sign_in(client, user.email)

    assert "_auth_user_id" not in client.session
    assert not client.get(reverse("account_email")).wsgi_request.user.is_authenticated


@pytest.fixture
def admin_user():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


def _form_data(page) -> dict:
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value
    return data


def test_admin_add_change_and_delete_are_recorded(client, admin_user):
    client.force_login(admin_user)
    add = client.post(
        reverse("admin:catalog_outofscopeprogram_add"),
        {"code": "legacy-fund", "name": "Legacy fund", "message": "Ask the fund."},
        REMOTE_ADDR="192.0.2.9",
    )
    assert add.status_code == 302, add.context and add.context["adminform"].form.errors
    program = OutOfScopeProgram.objects.get(code="legacy-fund")
    change_url = reverse("admin:catalog_outofscopeprogram_change", args=[program.pk])
    data = _form_data(client.get(change_url)) | {"name": "Legacy fund (closed)"}
    assert client.post(change_url, data).status_code == 302
    delete_url = reverse("admin:catalog_outofscopeprogram_delete", args=[program.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302

    rows = list(AuditEntry.objects.filter(action__startswith="admin_").order_by("id"))
    assert [row.action for row in rows] == [
        AuditAction.ADMIN_ADDED,
        AuditAction.ADMIN_CHANGED,
        AuditAction.ADMIN_DELETED,
    ]
    assert {row.actor_id for row in rows} == {admin_user.pk}
    assert {row.target_id for row in rows} == {str(program.pk)}
    assert rows[0].ip == "192.0.2.9"
    assert rows[1].after["change"] == [{"changed": {"fields": ["Name"]}}]
    assert rows[2].target_label == "Legacy fund (closed)"


def test_admin_bulk_delete_records_every_object(client, admin_user):
    client.force_login(admin_user)
    programs = [
        OutOfScopeProgram.objects.create(code=f"fund-{n}", name=f"Fund {n}", message="x")
        for n in range(3)
    ]
    response = client.post(
        reverse("admin:catalog_outofscopeprogram_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [p.pk for p in programs],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not OutOfScopeProgram.objects.filter(code__startswith="fund-").exists()
    deleted = AuditEntry.objects.filter(action=AuditAction.ADMIN_DELETED)
    assert sorted(deleted.values_list("target_id", flat=True)) == sorted(
        str(p.pk) for p in programs
    )
    assert {row.actor_id for row in deleted} == {admin_user.pk}


def test_a_user_who_signed_in_can_still_be_deleted_and_the_row_keeps_who(client):
    user = UserFactory()
    _sign_in(client, user.email)
    email, pk = user.email, user.pk
    user.delete()

    entry = AuditEntry.objects.get(action=AuditAction.SIGNED_IN)
    assert (entry.actor_id, entry.actor_email) == (pk, email)


@pytest.mark.django_db(transaction=True)
def test_single_sign_on_sign_in_is_recorded_with_its_provider(sso, live_server):
    organisation = linked_organisation()
    person(sso, "rita@partner.example")

    _browser, response = sso_sign_in(live_server, sso, "rita@partner.example")

    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.SIGNED_IN)
    assert entry.actor_email == "rita@partner.example"
    assert entry.organisation_id == organisation.pk
    assert entry.after == {"method": "socialaccount", "provider": PROVIDER_ID}
    assert entry.ip == "127.0.0.1"
