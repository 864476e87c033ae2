import datetime

import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.customers.models import Subscription
from cpor.testing.factories import SubscriptionFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program_admin():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


def test_tenants_are_found_by_tenant_id(client, program_admin):
    wanted = TenantFactory()
    TenantFactory()
    client.force_login(program_admin)

    response = client.get(
        reverse("admin:customers_tenant_changelist"), {"q": str(wanted.tenant_id)}
    )

    assert list(response.context["cl"].result_list) == [wanted]


def test_subscriptions_are_found_by_id_and_list_in_fixed_queries(
    client, program_admin, django_assert_max_num_queries
):
    wanted = SubscriptionFactory()
    for _ in range(4):
        SubscriptionFactory()
    client.force_login(program_admin)
    url = reverse("admin:customers_subscription_changelist")

    found = client.get(url, {"q": str(wanted.subscription_id).upper()})
    with django_assert_max_num_queries(15):
        everything = client.get(url)

    assert list(found.context["cl"].result_list) == [wanted]
    assert everything.context["cl"].result_count == 5


def test_program_admin_records_a_renewal(client, program_admin):
    old = SubscriptionFactory()
    client.force_login(program_admin)

    response = client.post(
        reverse("admin:customers_subscription_add"),
        {
            "subscription_id": "6f1c2a52-0d7e-4b8e-9a55-3a1f0e2b7c10",
            "tenant": old.tenant_id,
            "product": old.product_id,
            "purchase_channel": old.purchase_channel,
            "seats": 60,
            "starts_on": old.ends_on.isoformat(),
            "ends_on": (old.ends_on + datetime.timedelta(days=365)).isoformat(),
            "predecessor": old.pk,
        },
    )

    assert response.status_code == 302
    renewal = Subscription.objects.get(subscription_id="6f1c2a52-0d7e-4b8e-9a55-3a1f0e2b7c10")
    assert renewal.predecessor == old
