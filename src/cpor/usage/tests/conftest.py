import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.claims import services
from cpor.claims.models import Association
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    SubscriptionFactory,
    UserFactory,
    active_associations,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)
from cpor.usage.models import SubscriptionUsage, WorkloadUsage
from cpor.usage.selectors import add_months, first_of_month


@dataclass
class Holdings:
    """Partner A actively holds Teams at Contoso and a subscription at Contoso, and has
    an approved but not yet official association at Fabrikam; partner B actively holds
    Teams at Northwind. Every unit has 14 months of usage."""

    people: dict[str, User | None]
    teams: Association
    sales: Association
    pending: Association
    other: Association
    this_month: datetime.date

    @property
    def partner(self) -> User:
        return self.people["incentives_admin"]


def add_workload_usage(association: Association, months: list[datetime.date], start: int = 100):
    WorkloadUsage.objects.bulk_create(
        WorkloadUsage(
            tenant_id=association.tenant_id,
            product_id=association.product_id,
            month=month,
            active_users=start + 10 * index,
            paid_units=500,
        )
        for index, month in enumerate(months)
    )


@pytest.fixture
def holdings(db) -> Holdings:
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    people = {
        "anonymous": None,
        "partner_admin": admin,
        "incentives_admin": partner_user(PartnerRoleName.INCENTIVES_ADMIN, organisation),
        "incentives_user": partner_user(PartnerRoleName.INCENTIVES_USER, organisation),
        "other_partner": partner_user(PartnerRoleName.INCENTIVES_ADMIN),
        "reviewer": operator_user(OperatorRole.REVIEWER),
        "program_admin": operator_user(OperatorRole.PROGRAM_ADMIN),
        "customer": UserFactory(),
    }
    partner = people["incentives_admin"]
    contoso = customer_tenant()
    contoso.name = "Contoso Usage"
    contoso.save()
    (teams,) = active_associations(partner, contoso, products=["teams"])
    subscription = SubscriptionFactory(tenant=contoso)
    (sales,) = active_associations(
        partner, contoso, role="build_intent_advisor", products=(), subscriptions=[subscription]
    )
    fabrikam = customer_tenant()
    fabrikam.name = "Fabrikam Pending"
    fabrikam.save()
    claim = submitted_claim(partner, fabrikam, products=["teams"])
    services.claim_approve(actor=people["reviewer"], claim=claim)
    pending = claim.associations.get()
    northwind = customer_tenant()
    northwind.name = "Northwind Elsewhere"
    northwind.save()
    (other,) = active_associations(people["other_partner"], northwind, products=["teams"])

    this_month = first_of_month(timezone.localdate())
    months = [add_months(this_month, -offset) for offset in range(13, -1, -1)]
    # Official four months ago: ten months of history before it.
    Association.objects.filter(pk__in=[teams.pk, sales.pk]).update(
        activated_at=timezone.now() - datetime.timedelta(days=31 * 4)
    )
    teams.refresh_from_db()
    sales.refresh_from_db()
    for association in (teams, pending, other):
        add_workload_usage(association, months)
    SubscriptionUsage.objects.bulk_create(
        SubscriptionUsage(
            subscription=subscription,
            month=month,
            licensed_units=20 + index,
            revenue=Decimal("100.00") * (index + 1),
            currency="EUR",
        )
        for index, month in enumerate(months)
    )
    return Holdings(people, teams, sales, pending, other, this_month)
