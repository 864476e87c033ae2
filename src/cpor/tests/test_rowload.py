"""``RowLoader`` gives the instances ``select_related`` gives, with no query after."""

import threading

import pytest
from django.db import OperationalError, connection, transaction
from django.db.transaction import TransactionManagementError

from cpor.accounts.models import User
from cpor.claims.models import Claim, ClaimLine
from cpor.claims.services.history import CLAIM_RELATED, _lock_claim
from cpor.partners.models import Membership
from cpor.rowload import RowLoader
from cpor.testing.factories import (
    SubscriptionFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def _values(instance):
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _related(instance, path):
    for name in path.split("__"):
        instance = getattr(instance, name)
    return instance


def test_a_claim_and_its_relations_load_as_the_orm_loads_them(django_assert_num_queries):
    claim = submitted_claim()
    expected = Claim.objects.select_related(*CLAIM_RELATED).get(pk=claim.pk)
    with django_assert_num_queries(1):
        (loaded,) = RowLoader(Claim, CLAIM_RELATED).fetch("{row}.id = %s", [claim.pk])
    with django_assert_num_queries(0):
        # Typed as the ORM types them: datetimes, booleans, JSON lists, decimals.
        assert _values(loaded) == _values(expected)
        for path in CLAIM_RELATED:
            assert _values(_related(loaded, path)) == _values(_related(expected, path))
    assert not loaded._state.adding and loaded._state.db == "default"
    assert isinstance(_related(loaded, "role__engagement").allowed_channels, list)


def test_an_empty_nullable_link_is_cached_as_none(django_assert_num_queries):
    tenant = customer_tenant()
    claim = submitted_claim(
        partner_user(),
        tenant,
        role="build_intent_advisor",
        subscriptions=[SubscriptionFactory(tenant=tenant)],
    )
    workload = submitted_claim()
    loader = RowLoader(ClaimLine, ("product", "subscription"), order=("id",))
    with django_assert_num_queries(1):
        lines = loader.fetch("{row}.claim_id IN (%s, %s)", [claim.pk, workload.pk])
    expected = list(
        ClaimLine.objects.filter(claim_id__in=[claim.pk, workload.pk])
        .select_related("product", "subscription")
        .order_by("id")
    )
    assert [line.pk for line in lines] == [line.pk for line in expected]
    with django_assert_num_queries(0):
        assert [line.subscription and line.subscription.pk for line in lines] == [
            line.subscription_id for line in expected
        ]
        assert None in [line.subscription for line in lines]
        assert [line.product.code for line in lines] == [line.product.code for line in expected]


def test_nothing_matching_is_an_empty_list():
    assert RowLoader(Claim, CLAIM_RELATED).fetch("{row}.id = %s", [-1]) == []


@pytest.mark.django_db(transaction=True)
def test_a_lock_outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError):
        RowLoader(Claim).fetch("{row}.id = %s", [-1], lock=True)


def test_rows_come_in_the_order_asked():
    claims = [submitted_claim() for _ in range(3)]
    ids = [claim.pk for claim in claims]
    where = "{row}.id IN (%s, %s, %s)"
    assert [c.pk for c in RowLoader(Claim, order=("-id",)).fetch(where, ids)] == ids[::-1]
    assert [c.pk for c in RowLoader(Claim, order=("id",)).fetch(where, ids)] == ids


def test_a_locked_claim_reads_its_lines_without_a_query(django_assert_num_queries):
    claim = submitted_claim(products=["teams", "intune"])
    with transaction.atomic(), django_assert_num_queries(2):
        locked = _lock_claim(claim.pk)
        lines = list(locked.lines.all())
        assert [line.product.code for line in lines] == ["teams", "intune"]
        assert all(line.claim is locked for line in lines)
        assert locked.organisation.name and locked.role.engagement.code


def _try_lock_elsewhere(pk: int) -> str:
    """From another connection (a thread has its own): lock the claim without waiting."""
    outcome = []

    def run():
        try:
            with transaction.atomic():
                list(Claim.objects.select_for_update(nowait=True).filter(pk=pk).values("pk"))
            outcome.append("locked")
        except OperationalError:
            outcome.append("busy")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    return outcome[0]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_lock_holds_the_row_until_the_transaction_ends(seeded_catalog):
    claim = submitted_claim()
    with transaction.atomic():
        _lock_claim(claim.pk)
        assert _try_lock_elsewhere(claim.pk) == "busy"
    assert _try_lock_elsewhere(claim.pk) == "locked"


def test_a_one_to_one_relation_loads_from_the_other_side(django_assert_num_queries):
    """A user's membership (the one-to-one field is on the membership): present, it is
    cached both ways; absent, it is known to be absent, and what is joined under it too."""
    partner, reviewer = partner_user(), operator_user()
    loader = RowLoader(User, ("partner_membership__organisation",), order=("id",))
    with django_assert_num_queries(1):
        loaded = loader.fetch("{row}.id IN (%s, %s)", [partner.pk, reviewer.pk])
    with django_assert_num_queries(0):
        by_pk = {user.pk: user for user in loaded}
        membership = by_pk[partner.pk].partner_membership
        assert membership.pk == partner.partner_membership.pk
        assert membership.user is by_pk[partner.pk]
        assert membership.organisation.name == partner.partner_membership.organisation.name
        assert User.partner_membership.is_cached(by_pk[reviewer.pk])
        with pytest.raises(Membership.DoesNotExist):
            getattr(by_pk[reviewer.pk], "partner_membership")  # noqa: B009
