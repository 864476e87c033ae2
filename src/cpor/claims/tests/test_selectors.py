"""The claim list's reads: keyset pages in every sort, bounded counts, search, scope."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.utils import timezone

from cpor.accounts.models import User
from cpor.claims import selectors, services
from cpor.claims.models import Association, Claim
from cpor.claims.services.history import _lock_claim, claim_in_scope
from cpor.customers.models import Tenant
from cpor.keyset import InvalidCursor, encode_cursor
from cpor.rowload import RowLoader
from cpor.testing.factories import (
    SubscriptionFactory,
    active_associations,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)
from cpor.testing.organisation import grant_relationship

pytestmark = pytest.mark.django_db


def _drafts(partner, names, tenant=None):
    tenant = tenant or customer_tenant()
    return [
        services.claim_create(actor=partner, data=claim_input(partner, tenant, name=name))
        for name in names
    ]


@pytest.fixture
def ties(partner):
    """Seven claims whose sort keys tie: three share a name, four share a creation time,
    so only the tie-breaker on id keeps pages apart."""
    claims = _drafts(partner, ["Delta", "Alpha", "Delta", "Bravo", "Delta", "Alpha", "Echo"])
    moment = timezone.now() - datetime.timedelta(days=1)
    Claim.objects.filter(pk__in=[c.pk for c in claims[:4]]).update(created_at=moment)
    submitted_claim(partner_user(), name="Delta")  # another partner's: never listed
    return claims


def _walk_forward(actor, sort, size):
    pages, cursor = [], None
    while True:
        page = selectors.claim_list_page(actor=actor, sort=sort, cursor=cursor, size=size)
        pages.append([claim.pk for claim in page.rows])
        if not page.has_next:
            return pages, page
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "sort", [*selectors.CLAIM_SORTS, *(f"-{s}" for s in selectors.CLAIM_SORTS)]
)
def test_pages_cover_every_claim_once_in_every_sort(partner, ties, sort):
    expected = [claim.pk for claim in selectors.claim_list_page_rows(actor=partner, sort=sort)]
    assert sorted(expected) == sorted(claim.pk for claim in ties)

    pages, last = _walk_forward(partner, sort, size=3)
    assert [pk for page in pages for pk in page] == expected  # no gap, no duplicate
    assert [len(page) for page in pages] == [3, 3, 1]

    # Walking back from the last page gives the same pages in reverse.
    back, page = [], last
    while page.has_previous:
        page = selectors.claim_list_page(
            actor=partner, sort=sort, cursor=page.previous_cursor, size=3
        )
        back.append([claim.pk for claim in page.rows])
    assert back == pages[:-1][::-1]


def test_a_draft_without_submission_date_sorts_last_either_way(partner):
    draft = _drafts(partner, ["Draft"])[0]
    sent = submitted_claim(partner, name="Sent")
    for sort in ("submitted", "-submitted"):
        pages, _last = _walk_forward(partner, sort, size=1)
        assert pages == [[sent.pk], [draft.pk]]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "W10",  # []
        encode_cursor("a", selectors.claim_sort_keys("name")[:1], Claim(name="x")),  # too short
        "WyJhIixbIngiLCJvbmUiXV0",  # ["a",["x","one"]]: the id is not a number
        "WyJ6IixbIngiLDFdXQ",  # ["z",["x",1]]: no such direction
    ],
)
def test_a_tampered_cursor_is_refused(partner, cursor):
    with pytest.raises(InvalidCursor) as refused:
        selectors.claim_list_page(actor=partner, sort="name", cursor=cursor)
    assert refused.value.field == "cursor"


def test_counts_stop_at_the_limit_unless_the_exact_count_is_asked(partner, ties, monkeypatch):
    monkeypatch.setattr(selectors.lists, "CLAIM_COUNT_LIMIT", 5)
    assert selectors.claim_list_count(actor=partner) == (5, True)
    assert selectors.claim_list_count(actor=partner, exact=True) == (7, False)
    assert selectors.claim_list_count(actor=partner_user()) == (0, False)


def test_search_finds_claims_by_claim_name_and_customer_name(partner, monkeypatch):
    harbor = customer_tenant()
    harbor.name = "Harbor Foods"
    harbor.save()
    by_customer = _drafts(partner, ["Teams rollout"], tenant=harbor)[0]
    by_name = _drafts(partner, ["Harbor pilot"])[0]
    _drafts(partner, ["Unrelated"])
    submitted_claim(partner_user(), harbor, name="Harbor elsewhere")  # another partner's
    # A customer of the same name the partner already has a relationship with.
    known = customer_tenant()
    known.name = "Harbor Logistics"
    known.save()
    by_known = _drafts(partner, ["Intune rollout"], tenant=known)[0]
    grant_relationship(partner.partner_membership.organisation, known)
    # One the partner holds an association with (no invitation), and one whose
    # invitation the customer revoked: the first is related, the second no longer.
    held = customer_tenant()
    held.name = "Harbor Marine"
    held.save()
    by_held = active_associations(partner, held, name="Dynamics rollout")[0].claim
    revoked = customer_tenant()
    revoked.name = "Harbor Retail"
    revoked.save()
    _drafts(partner, ["Azure rollout"], tenant=revoked)
    invitation = grant_relationship(partner.partner_membership.organisation, revoked)
    invitation.revoked_at = timezone.now()
    invitation.save()
    filters = selectors.ClaimFilters(text="harbor")

    def found(filters=filters):
        return {c.pk for c in selectors.claim_list_page(actor=partner, filters=filters).rows}

    def common(check):
        """The same answer for a term so common that its customers are not listed by
        id (a partner's relationships are then asked in subqueries)."""
        check()
        with monkeypatch.context() as patch:
            patch.setattr(selectors.scope, "SEARCH_TENANT_IDS", 0)
            check()

    def hidden():
        # Without a relationship, the customer's name finds nothing: it is not shown.
        assert found() == {by_name.pk, by_known.pk, by_held.pk}
        assert found(selectors.ClaimFilters(tenant="harbor")) == {by_known.pk, by_held.pk}
        assert found(selectors.ClaimFilters(tenant=str(harbor.tenant_id))) == {by_customer.pk}

    def shown():
        assert found() == {by_customer.pk, by_name.pk, by_known.pk, by_held.pk}
        # LIKE's wildcards are searched for as characters: no name holds them.
        for wildcard in ("%", "_", "Harbor%Foods"):
            assert found(selectors.ClaimFilters(text=wildcard)) == set(), wildcard
        assert found(selectors.ClaimFilters(tenant="harbor")) == {
            by_customer.pk,
            by_known.pk,
            by_held.pk,
        }

    common(hidden)
    grant_relationship(partner.partner_membership.organisation, harbor)
    common(shown)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_search_uses_the_trigram_indexes_on_postgresql(partner):
    """The indexes are on the very expression ``icontains`` compiles to, UPPER(col::text);
    with sequential scans off, the planner must be able to use them."""
    _drafts(partner, ["Harbor pilot"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        claims = Claim.objects.filter(name__icontains="harb").explain()
        tenants = Tenant.objects.filter(name__icontains="harb").explain()
    assert "claim_name_trgm" in claims
    assert "tenant_name_trgm" in tenants


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_a_page_plans_its_joins_as_written_and_the_setting_ends_with_it(partner):
    """The page's query runs with join_collapse_limit = 1 (no search over join orders);
    every other statement, also later in the same transaction, plans as configured."""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    _drafts(partner, ["Alpha", "Bravo"])

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW join_collapse_limit")
            return cursor.fetchone()[0]

    configured = setting()
    assert configured != "1"
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        page = selectors.claim_list_page(actor=partner)
        assert setting() == configured
    assert [c.name for c in page.rows] == ["Bravo", "Alpha"]
    sql = [q["sql"] for q in queries.captured_queries]
    at = next(i for i, s in enumerate(sql) if s.startswith('SELECT "claims_claim"."id"'))
    assert sql[at - 1] == "SET LOCAL join_collapse_limit = 1"
    assert sql[at + 1] == "SET LOCAL join_collapse_limit TO DEFAULT"
    assert setting() == configured


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_outside_a_transaction_the_pages_own_commit_ends_the_setting(seeded_catalog):
    from django.test.utils import CaptureQueriesContext

    partner = partner_user()
    _drafts(partner, ["Alpha", "Bravo"])
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        configured = cursor.fetchone()[0]
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as queries:
        page = selectors.claim_list_page(actor=partner)
        with connection.cursor() as cursor:
            cursor.execute("SHOW join_collapse_limit")
            after = cursor.fetchone()[0]
    assert [c.name for c in page.rows] == ["Bravo", "Alpha"]
    assert after == configured != "1"
    sql = [q["sql"] for q in queries.captured_queries]
    assert "SET LOCAL join_collapse_limit = 1" in sql
    assert "SET LOCAL join_collapse_limit TO DEFAULT" not in sql  # the commit reset it


def test_both_forms_of_the_visibility_rule_agree(partner):
    """What ``claim_list`` shows each reader is what a service locks for them
    (``claim_visibility``, the same rule in SQL): a partner its organisation's claims,
    drafts included; program staff every claim but drafts; anyone else nothing."""
    colleague = partner_user(organisation=partner.partner_membership.organisation)
    stranger = partner_user()
    draft = _drafts(partner, ["Draft"])[0]
    mine = submitted_claim(partner)
    theirs = submitted_claim(stranger)
    readers = [
        partner,
        colleague,
        stranger,
        operator_user(),
        User.objects.create_user("nobody@example.com", "nobody@example.com", "x"),
        AnonymousUser(),
    ]

    def locks(reader, claim):
        try:
            with transaction.atomic():
                _lock_claim(claim_in_scope(claim.pk, actor=reader))
        except Claim.DoesNotExist:
            return False
        return True

    seen = {}
    for reader in readers:
        for claim in (draft, mine, theirs):
            listed = selectors.claim_list(actor=reader).filter(pk=claim.pk).exists()
            assert locks(reader, claim) == listed, (reader, claim.name)
            seen[(readers.index(reader), claim.pk)] = listed
    # The rule itself, so that the two cannot agree on nothing.
    assert [seen[(0, c.pk)] for c in (draft, mine, theirs)] == [True, True, False]
    assert [seen[(1, c.pk)] for c in (draft, mine, theirs)] == [True, True, False]
    assert [seen[(2, c.pk)] for c in (draft, mine, theirs)] == [False, False, True]
    assert [seen[(3, c.pk)] for c in (draft, mine, theirs)] == [False, True, True]
    assert not any(seen[(i, c.pk)] for i in (4, 5) for c in (draft, mine, theirs))


def test_a_unit_in_sql_names_the_rows_unit_filter_names():
    """``unit_sql`` (the reads built once) and ``unit_filter`` (the ORM's) agree: a
    subscription, and a tenant's workload of a product, not the same product elsewhere."""
    tenant, other = customer_tenant(), customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    active_associations(partner_user(), tenant, products=["teams", "intune"])
    active_associations(partner_user(), other, products=["teams"])
    active_associations(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[subscription]
    )
    loader = RowLoader(Association)
    units = {(a.tenant_id, a.product_id, a.subscription_id) for a in Association.objects.all()}
    assert len(units) == 4
    for tenant_id, product_id, subscription_id in units:
        unit = {
            "tenant_id": tenant_id,
            "product_id": product_id,
            "subscription_id": subscription_id,
        }
        expected = set(
            Association.objects.filter(selectors.unit_filter(**unit)).values_list("pk", flat=True)
        )
        where, params = selectors.unit_sql(**unit)
        assert {a.pk for a in loader.fetch(where, params)} == expected != set()
