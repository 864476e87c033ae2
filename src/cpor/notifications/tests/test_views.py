"""The staff mail log: program admins only."""

import pytest

from cpor.accounts.models import OperatorRole
from cpor.consent.models import CustomerAdmin
from cpor.notifications.services import queue_email
from cpor.testing.factories import UserFactory, customer_tenant, operator_user, partner_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def message():
    return queue_email(
        to="rui@partner.example",
        template="partner_event",
        context={"claim_id": 3, "claim_name": "Logged claim", "headline": "Claim approved"},
        dedupe_key="log-1",
    )


def test_a_program_admin_reads_the_mail_log_with_the_rendered_content(client, message):
    client.force_login(operator_user(OperatorRole.PROGRAM_ADMIN))
    listing = client.get("/notifications/")
    assert listing.status_code == 200 and "Logged claim" in listing.content.decode()
    detail = client.get(f"/notifications/{message.pk}/")
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "rui@partner.example" in body and "/claims/3/" in body
    assert 'sandbox=""' in body  # the HTML part cannot run scripts or navigate


def test_a_superuser_reads_the_mail_log(client, message):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/notifications/").status_code == 200


@pytest.mark.parametrize("who", ["partner", "reviewer", "customer", "plain"])
def test_nobody_else_reads_the_mail_log(client, message, who):
    users = {
        "partner": lambda: partner_user(),
        "reviewer": lambda: operator_user(OperatorRole.REVIEWER),
        "customer": lambda: (
            CustomerAdmin.objects.create(user=UserFactory(), tenant=customer_tenant()).user
        ),
        "plain": lambda: UserFactory(is_staff=False),
    }
    client.force_login(users[who]())
    assert client.get("/notifications/").status_code == 404
    assert client.get(f"/notifications/{message.pk}/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, message):
    response = client.get(f"/notifications/{message.pk}/")
    assert response.status_code == 302 and "login" in response["Location"]
