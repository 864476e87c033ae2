import pytest
from django.test import Client

from cpor.api.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"


def test_register_list_and_remove_an_https_endpoint(clients):
    client = clients["incentives_admin"]
    created = client.post(
        HOOKS, {"url": "https://crm.example/cpor", "description": "CRM"}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_")
    listed = clients["incentives_user"].get(HOOKS).json()
    assert [h["url"] for h in listed] == ["https://crm.example/cpor"]
    assert "secret" not in listed[0]
    assert clients["incentives_user"].delete(f"{HOOKS}{body['id']}/").status_code == 403
    assert client.delete(f"{HOOKS}{body['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://crm.example/hook", "ftp://crm.example/", "crm.example", "https://", ""]
)
def test_only_https_urls_are_accepted(clients, url):
    response = clients["incentives_admin"].post(HOOKS, {"url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_allowed_only_for_configured_hosts(clients, settings):
    settings.API_WEBHOOK_INSECURE_HOSTS = ["127.0.0.1"]
    client = clients["incentives_admin"]
    assert client.post(HOOKS, {"url": "http://127.0.0.1:9/h"}, format="json").status_code == 201
    assert client.post(HOOKS, {"url": "http://10.0.0.1/h"}, format="json").status_code == 400


def test_webhooks_page_registers_shows_the_secret_once_and_removes(people):
    client = Client()
    client.force_login(people["incentives_admin"])
    response = client.post(
        "/organisation/webhooks/", {"url": "https://crm.example/hook", "description": "CRM"}
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert response.context["new_secret"] == endpoint.secret
    assert endpoint.secret.encode() not in client.get("/organisation/webhooks/").content
    detail = client.get(f"/organisation/webhooks/{endpoint.pk}/")
    assert detail.status_code == 200
    assert b"Delivery log" in detail.content
    client.post(f"/organisation/webhooks/{endpoint.pk}/")
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_page_refuses_http_and_hides_the_form_from_readers(people):
    client = Client()
    client.force_login(people["incentives_admin"])
    response = client.post("/organisation/webhooks/", {"url": "http://crm.example/hook"})
    assert response.context["form"].errors["url"]
    reader = Client()
    reader.force_login(people["incentives_user"])
    page = reader.get("/organisation/webhooks/")
    assert page.status_code == 200
    assert page.context["may_manage"] is False
    assert (
        reader.post("/organisation/webhooks/", {"url": "https://x.example/h"})
        .context["form"]
        .errors
    )


def test_webhooks_pages_are_for_partner_users_only(people):
    endpoint = WebhookEndpoint.objects.create(
        organisation=people["incentives_admin"].partner_membership.organisation,
        url="https://crm.example/hook",
        secret="s",
        created_by=people["incentives_admin"],
    )
    for role in ("reviewer", "program_admin", "other_partner", "customer_admin"):
        client = Client()
        client.force_login(people[role])
        assert client.get(f"/organisation/webhooks/{endpoint.pk}/").status_code == 404, role
    assert Client().get("/organisation/webhooks/").status_code == 302
