"""Estimates read from real associations, usage and rate cards: who earns nothing and
why, supersession and renewal carry-over through the real services, totals, scope."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cpor.claims import services as claim_services
from cpor.claims.models import AssociationStatus, EndReason
from cpor.claims.services.jobs import associations_expire_ended_subscriptions
from cpor.customers.models import Subscription
from cpor.earnings import selectors
from cpor.earnings.models import RateCard
from cpor.earnings.tests.conftest import (
    MWS,
    at,
    card,
    ended,
    month,
    official,
    subscription_usage,
    workload_usage,
)
from cpor.errors import PermissionDenied
from cpor.testing.factories import (
    SubscriptionFactory,
    active_associations,
    customer_tenant,
    submitted_claim,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def estimate(association, months):
    (item,) = selectors.association_earnings(associations=[association], months=months)
    return item


def by_month(item) -> dict[datetime.date, Decimal]:
    result: dict[datetime.date, Decimal] = {}
    for row in item.rows:
        result[row.month] = result.get(row.month, Decimal(0)) + row.money.amount
    return result


def test_a_workload_accrues_from_its_activation(book):
    item = estimate(book.teams, book.months)
    # 2.00 EUR x 100 PAU; official on 15 January: 17 of 31 days.
    assert by_month(item) == {
        month(2026, 1): Decimal("109.68"),
        month(2026, 2): Decimal("200.00"),
        month(2026, 3): Decimal("200.00"),
        month(2026, 4): Decimal("200.00"),
    }
    assert item.totals == {"EUR": Decimal("709.68")}
    january = item.rows[0]
    assert (january.paid_units, january.active_users, january.card.version_label) == (
        100,
        80,
        "2025-01-01",
    )


def test_opt_out_and_revenue_only_earn_nothing_and_say_why(people, book):
    tenant = customer_tenant()
    (opted,) = active_associations(people.partner, tenant, incentive_opt_out=True)
    subscription = SubscriptionFactory(tenant=tenant)
    (revenue,) = active_associations(
        people.partner,
        tenant,
        role="influenced_revenue",
        products=(),
        subscriptions=[subscription],
    )
    subscription_usage(subscription, {m: 100 for m in book.months})
    for association, reason in ((opted, "opted_out"), (revenue, "revenue_only")):
        association = official(association, at(2026, 1, 1))
        workload_usage(
            association, {m: (80, 100) for m in book.months}
        ) if reason == "opted_out" else None
        item = estimate(association, book.months)
        assert (item.reason, item.rows, item.totals) == (reason, [], {})
        assert item.reason_text
    totals = selectors.earnings_totals(actor=people.partner, months=book.months)
    assert totals.total == {"EUR": Decimal("709.68") + Decimal("540.00")}


def test_nothing_accrues_while_the_customer_may_still_decline(people, book):
    claim = submitted_claim(people.partner, customer_tenant())
    claim_services.claim_approve(actor=people.reviewer, claim=claim)
    pending = claim.associations.get()
    assert pending.status == AssociationStatus.PENDING_CUSTOMER
    item = estimate(pending, book.months)
    assert (item.reason, item.rows) == ("not_active", [])


def test_a_superseded_holder_stops_on_the_day_it_ends(people, book):
    # Partner B claims Contoso's Teams with newer PoE; the reviewer approves it.
    newer = submitted_claim(
        people.other_partner, book.teams.tenant, signed_on=datetime.date.today()
    )
    claim_services.claim_approve(actor=people.reviewer, claim=newer)
    book.teams.refresh_from_db()
    assert book.teams.end_reason == EndReason.SUPERSEDED
    ended(book.teams, at(2026, 3, 10))
    newcomer = official(newer.associations.get(), at(2026, 3, 10))
    holder, winner = (estimate(a, book.months) for a in (book.teams, newcomer))
    assert by_month(holder)[month(2026, 3)] == Decimal("58.06")  # the 1st to the 9th
    assert month(2026, 4) not in by_month(holder)
    assert by_month(winner) == {
        month(2026, 3): Decimal("141.94"),
        month(2026, 4): Decimal("200.00"),
    }
    # The ended holder keeps its amounts, not the usage behind them (usage visibility).
    assert holder.figures_hidden and all(r.paid_units is None for r in holder.rows)
    assert not winner.figures_hidden and winner.rows[0].paid_units == 100


def test_a_renewal_carry_over_continues_the_accrual(people, book):
    tenant = customer_tenant()
    first = SubscriptionFactory(tenant=tenant, starts_on=D(2025, 3, 1))
    (association,) = active_associations(
        people.partner, tenant, role="build_intent_advisor", products=(), subscriptions=[first]
    )
    # The subscription ran until February; the customer renewed it from March.
    Subscription.objects.filter(pk=first.pk).update(ends_on=D(2026, 2, 28))
    renewal = SubscriptionFactory(
        tenant=tenant, starts_on=D(2026, 3, 1), ends_on=D(2027, 2, 28), predecessor=first
    )
    association = official(association, at(2026, 1, 1))
    subscription_usage(first, {month(2026, 1): 60, month(2026, 2): 60})
    subscription_usage(renewal, {month(2026, 3): 70, month(2026, 4): 70})
    associations_expire_ended_subscriptions(today=D(2026, 3, 5))
    association.refresh_from_db()
    assert (association.status, association.subscription_id) == ("active", renewal.pk)
    # 3.00 EUR per seat, month after month across the renewal.
    assert by_month(estimate(association, book.months)) == {
        month(2026, 1): Decimal("180.00"),
        month(2026, 2): Decimal("180.00"),
        month(2026, 3): Decimal("210.00"),
        month(2026, 4): Decimal("210.00"),
    }


def test_an_expired_subscription_stops_the_accrual(people, book):
    tenant = customer_tenant()
    only = SubscriptionFactory(tenant=tenant, starts_on=D(2025, 3, 1))
    (association,) = active_associations(
        people.partner, tenant, role="build_intent_advisor", products=(), subscriptions=[only]
    )
    Subscription.objects.filter(pk=only.pk).update(ends_on=D(2026, 2, 28))
    association = official(association, at(2026, 1, 1))
    subscription_usage(only, {m: 60 for m in book.months})
    associations_expire_ended_subscriptions(today=D(2026, 3, 5))
    association.refresh_from_db()
    assert association.end_reason == EndReason.EXPIRED
    ended(association, at(2026, 3, 1), EndReason.EXPIRED)
    assert set(by_month(estimate(association, book.months))) == {month(2026, 1), month(2026, 2)}


def test_totals_per_engagement_partner_id_and_month(people, book):
    totals = selectors.earnings_totals(actor=people.partner, months=book.months)
    teams, sales = Decimal("709.68"), Decimal("540.00")  # sales: 3.00 x 60 from February
    assert totals.total == {"EUR": teams + sales}
    assert totals.by_engagement == {
        "Modern Work and Security Usage": {"EUR": teams},
        "MCI BizApps Presales Advisor": {"EUR": sales},
    }
    partner_id = people.partner.partner_membership.organisation.locations.get().partner_id
    assert totals.by_partner_id == {partner_id: {"EUR": teams + sales}}
    assert totals.by_month[month(2026, 1)] == {"EUR": Decimal("109.68")}
    assert totals.by_month[month(2026, 2)] == {"EUR": Decimal("380.00")}


def test_another_partners_associations_are_never_in_the_estimates(people, book):
    mine = selectors.partner_associations(actor=people.partner)
    assert book.other.pk not in set(mine.values_list("pk", flat=True))
    with pytest.raises(type(book.other).DoesNotExist):
        selectors.earnings_get(actor=people.partner, pk=book.other.pk, months=book.months)
    for outsider in (people.reviewer, people.customer, people.program_admin):
        assert not selectors.partner_associations(actor=outsider).exists()
        assert selectors.earnings_totals(actor=outsider, months=book.months).total == {}
    theirs = selectors.earnings_totals(actor=people.other_partner, months=book.months)
    assert theirs.total == {"EUR": Decimal("8000.00")}  # 2.00 x 1000 PAU, four months


def test_program_liability_per_engagement_and_month(people, book):
    liability = selectors.program_liability(actor=people.program_admin, months=book.months)
    assert liability.total == {"EUR": Decimal("709.68") + Decimal("540.00") + Decimal("8000.00")}
    mws = liability.rows["Modern Work and Security Usage"]
    assert mws[month(2026, 1)] == {"EUR": Decimal("109.68") + Decimal("2000.00")}
    # The subscription became official in February: nothing for it in January.
    assert month(2026, 1) not in liability.rows["MCI BizApps Presales Advisor"]
    for outsider in (people.partner, people.reviewer):
        with pytest.raises(PermissionDenied):
            selectors.program_liability(actor=outsider, months=book.months)


def test_a_new_rate_card_version_moves_the_estimate_from_its_day(people, book):
    card(MWS, effective_from=D(2026, 3, 16), rate=Decimal("4.00"))
    march = [r for r in estimate(book.teams, book.months).rows if r.month == month(2026, 3)]
    assert [(r.card.version_label, r.days, r.money.amount) for r in march] == [
        ("2025-01-01", 15, Decimal("96.77")),  # 200 x 15/31
        ("2026-03-16", 16, Decimal("206.45")),  # 400 x 16/31
    ]


def test_queries_do_not_grow_with_the_number_of_associations(people, book):
    def count() -> int:
        associations = list(selectors.partner_associations(actor=people.partner))
        with CaptureQueriesContext(connection) as queries:
            selectors.association_earnings(associations=associations, months=book.months)
        return len(queries)

    before = count()
    for _ in range(3):
        (extra,) = active_associations(people.partner, customer_tenant())
        official(extra, at(2026, 1, 1))
        tenant = customer_tenant()
        subscription = SubscriptionFactory(tenant=tenant)
        active_associations(
            people.partner,
            tenant,
            role="build_intent_advisor",
            products=(),
            subscriptions=[subscription],
        )
    assert count() == before


def test_months_without_rate_card_explain_it(people, book):
    RateCard.objects.filter(engagement__code=MWS).update(effective_from=D(2026, 3, 1))
    rows = estimate(book.teams, book.months).rows
    assert [(r.month, r.reason) for r in rows][:2] == [
        (month(2026, 1), "no_rate_card"),
        (month(2026, 2), "no_rate_card"),
    ]
