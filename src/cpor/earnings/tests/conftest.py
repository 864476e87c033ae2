import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import Engagement
from cpor.claims.models import Association, AssociationStatus, EndReason
from cpor.earnings import services
from cpor.earnings.models import IncentiveBase, RateCard
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    SubscriptionFactory,
    UserFactory,
    active_associations,
    customer_tenant,
    operator_user,
    partner_user,
)
from cpor.usage.models import SubscriptionUsage, WorkloadUsage

MWS = "modern_work_security_usage"
PRESALES = "mci_bizapps_presales_advisor"


def month(year: int, number: int) -> datetime.date:
    return datetime.date(year, number, 1)


def at(year: int, number: int, day: int) -> datetime.datetime:
    """Noon, local time, on that day: the day an association changed."""
    return timezone.make_aware(datetime.datetime(year, number, day, 12))


def card(engagement: str = MWS, **values) -> RateCard:
    """A rate card saved through the service, as a program admin would."""
    admin = User.objects.filter(operator_role=OperatorRole.PROGRAM_ADMIN).first()
    admin = admin or operator_user(OperatorRole.PROGRAM_ADMIN)
    values = {
        "engagement": Engagement.objects.get(code=engagement),
        "effective_from": datetime.date(2025, 1, 1),
        "base": IncentiveBase.PAU,
        "rate": Decimal("2.00"),
        "currency": "EUR",
        **values,
    }
    return services.rate_card_save(actor=admin, card=None, values=values)


def official(association: Association, since: datetime.datetime) -> Association:
    Association.objects.filter(pk=association.pk).update(
        status=AssociationStatus.ACTIVE, activated_at=since
    )
    association.refresh_from_db()
    return association


def ended(association: Association, on: datetime.datetime, reason=EndReason.SUPERSEDED):
    Association.objects.filter(pk=association.pk).update(
        status=AssociationStatus.ENDED, end_reason=reason, ended_at=on
    )
    association.refresh_from_db()
    return association


def workload_usage(association: Association, rows: dict[datetime.date, tuple[int, int]]):
    WorkloadUsage.objects.bulk_create(
        WorkloadUsage(
            tenant_id=association.tenant_id,
            product_id=association.product_id,
            month=m,
            active_users=active,
            paid_units=paid,
        )
        for m, (active, paid) in rows.items()
    )


def subscription_usage(subscription, rows: dict[datetime.date, int]):
    SubscriptionUsage.objects.bulk_create(
        SubscriptionUsage(
            subscription=subscription,
            month=m,
            licensed_units=units,
            revenue=Decimal("10.00"),
            currency="EUR",
        )
        for m, units in rows.items()
    )


@dataclass
class People:
    partner_admin: User
    incentives_admin: User
    incentives_user: User
    other_partner: User
    reviewer: User
    program_admin: User
    customer: User

    @property
    def partner(self) -> User:
        return self.incentives_admin

    def get(self, who: str) -> User | None:
        return None if who == "anonymous" else getattr(self, who)


@pytest.fixture
def people(db) -> People:
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    return People(
        partner_admin=admin,
        incentives_admin=partner_user(PartnerRoleName.INCENTIVES_ADMIN, organisation),
        incentives_user=partner_user(PartnerRoleName.INCENTIVES_USER, organisation),
        other_partner=partner_user(PartnerRoleName.INCENTIVES_ADMIN),
        reviewer=operator_user(OperatorRole.REVIEWER),
        program_admin=operator_user(OperatorRole.PROGRAM_ADMIN),
        customer=UserFactory(),
    )


@dataclass
class Book:
    """Partner A holds Teams at Contoso (official 15 Jan 2026, 100 PAU a month) and a
    Dynamics subscription (official 1 Feb 2026, 60 seats); partner B holds Teams at
    Northwind. One rate card: 2.00 EUR per PAU, 3.00 EUR per seat."""

    teams: Association
    sales: Association
    other: Association
    months: list[datetime.date]


@pytest.fixture
def book(people) -> Book:
    months = [month(2026, m) for m in (1, 2, 3, 4)]
    contoso = customer_tenant()
    contoso.name = "Contoso Earnings"
    contoso.save()
    (teams,) = active_associations(people.partner, contoso, products=["teams"])
    teams = official(teams, at(2026, 1, 15))
    workload_usage(teams, {m: (80, 100) for m in months})
    subscription = SubscriptionFactory(tenant=contoso)
    (sales,) = active_associations(
        people.partner,
        contoso,
        role="build_intent_advisor",
        products=(),
        subscriptions=[subscription],
    )
    sales = official(sales, at(2026, 2, 1))
    subscription_usage(subscription, {m: 60 for m in months})
    northwind = customer_tenant()
    northwind.name = "Northwind Elsewhere"
    northwind.save()
    (other,) = active_associations(people.other_partner, northwind, products=["teams"])
    other = official(other, at(2026, 1, 1))
    workload_usage(other, {m: (10, 1000) for m in months})
    card(MWS)
    card(PRESALES, rate=Decimal("3.00"))
    return Book(teams, sales, other, months)
