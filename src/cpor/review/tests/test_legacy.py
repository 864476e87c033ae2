"""Legacy associations: the CSV import (dry run, per-line errors, all or nothing), the
one-partner rule, visibility, the expiry job's notice and end, and re-association."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.claims import checks, services
from cpor.claims.models import (
    Association,
    AssociationStatus,
    Claim,
    ClaimStatus,
    EndReason,
    EventAction,
    LegacyImport,
)
from cpor.claims.selectors import association_list
from cpor.consent.selectors import tenant_associations
from cpor.errors import PermissionDenied
from cpor.notifications.consumers import consume_all
from cpor.notifications.models import OutboxMessage
from cpor.notifications.notices import render_event_message
from cpor.testing.factories import (
    SubscriptionFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db

HEADER = "partner_id,tenant_id,subscription_id,role,associated_on,source,partner_contact_email"


def row(partner, subscription, **overrides) -> str:
    values = {
        "partner_id": partner.partner_membership.organisation.locations.first().partner_id,
        "tenant_id": str(subscription.tenant.tenant_id),
        "subscription_id": str(subscription.subscription_id),
        "role": "usage_recognition",
        "associated_on": "2023-05-02",
        "source": "Dynamics 365 PAL export",
        "partner_contact_email": "pal@partner.example",
    }
    values.update(overrides)
    return ",".join(values[c] for c in HEADER.split(","))


def csv_of(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def admin():
    return operator_user(OperatorRole.PROGRAM_ADMIN)


def import_csv(admin, content: bytes, *, dry_run=False):
    return services.legacy_associations_import(
        actor=admin, content=content, file_name="legacy.csv", dry_run=dry_run
    )


def codes(report) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.code) for e in report.errors]


# --- import ------------------------------------------------------------------------------


def test_import_makes_active_legacy_associations_with_source_and_date(admin):
    partner = partner_user()
    first, second = SubscriptionFactory(), SubscriptionFactory()
    report = import_csv(admin, csv_of(row(partner, first), row(partner, second)))
    assert report.ok and report.created == 2
    association = Association.objects.get(subscription=first)
    assert association.status == AssociationStatus.ACTIVE and association.legacy
    assert association.legacy_source == "Dynamics 365 PAL export"
    assert association.legacy_since == datetime.date(2023, 5, 2)
    assert association.legacy_import == LegacyImport.objects.get() == report.batch
    assert association.organisation == partner.partner_membership.organisation
    claim = association.claim
    assert (
        claim.status == ClaimStatus.APPROVED
        and claim.partner_contact_email == "pal@partner.example"
    )
    event = claim.events.get()
    assert event.action == EventAction.LEGACY_IMPORT and event.association == association
    assert not event.internal and event.actor == admin


def test_dry_run_checks_everything_and_writes_nothing(admin):
    partner = partner_user()
    report = import_csv(admin, csv_of(row(partner, SubscriptionFactory())), dry_run=True)
    assert report.ok and report.dry_run and report.created == 1
    assert not Association.objects.exists() and not Claim.objects.exists()
    assert not LegacyImport.objects.exists()


def test_one_bad_row_writes_nothing_and_each_problem_names_its_line_and_column(admin):
    partner, rival = partner_user(), partner_user()
    held = SubscriptionFactory()
    import_csv(admin, csv_of(row(rival, held)))
    good, twice = SubscriptionFactory(), SubscriptionFactory()
    other_tenant = customer_tenant()
    content = csv_of(
        row(partner, good),  # line 2
        row(partner, twice),  # line 3
        row(partner, twice),  # line 4: the same subscription again
        row(partner, held),  # line 5: held by the rival
        row(partner, SubscriptionFactory(), partner_id="99999999"),  # line 6
        row(partner, SubscriptionFactory(), tenant_id="6c1a1bd4-0000-4000-8000-000000000000"),
        row(partner, SubscriptionFactory(), subscription_id="0b7e4c1e-0000-4000-8000-0000000000aa"),
        row(partner, SubscriptionFactory(), tenant_id=str(other_tenant.tenant_id)),  # line 9
        row(partner, SubscriptionFactory(), associated_on="02/05/2023"),  # line 10
        row(partner, SubscriptionFactory(), role="use_or_consume"),  # line 11
        row(
            partner, SubscriptionFactory(ends_on=timezone.localdate() - datetime.timedelta(days=1))
        ),
    )
    report = import_csv(admin, content)
    assert codes(report) == [
        (4, "subscription_id", "duplicate_row"),
        (5, "subscription_id", "unit_held"),
        (6, "partner_id", "unknown_partner_id"),
        (7, "tenant_id", "unknown_tenant"),
        (8, "subscription_id", "unknown_subscription"),
        (9, "subscription_id", "subscription_of_other_tenant"),
        (10, "associated_on", "invalid_date"),
        (11, "role", "unknown_role"),
        (12, "subscription_id", "subscription_ended"),
    ]
    assert "line 3" in report.errors[0].message
    assert rival.partner_membership.organisation.name in report.errors[1].message
    assert Association.objects.count() == 1  # the rival's, from before
    assert LegacyImport.objects.count() == 1


def test_a_partner_cannot_import_what_it_already_holds(admin):
    partner = partner_user()
    subscription = SubscriptionFactory()
    import_csv(admin, csv_of(row(partner, subscription)))
    report = import_csv(admin, csv_of(row(partner, subscription)))
    assert codes(report) == [(2, "subscription_id", "already_held")]


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3"])
def test_a_formula_looking_value_is_refused(admin, value):
    partner = partner_user()
    quoted = '"' + value.replace('"', '""') + '"'  # as a spreadsheet would save it
    report = import_csv(admin, csv_of(row(partner, SubscriptionFactory(), source=quoted)))
    assert codes(report) == [(2, "source", "formula_like")]
    assert not Association.objects.exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", [(1, "", "empty")]),
        (b"partner_id,tenant_id\n1,2\n", [(1, "", "header")]),
        (HEADER.encode() + b"\n", [(1, "", "empty")]),
        (HEADER.encode() + b"\n1,2,3\n", [(2, "", "column_count")]),
        (HEADER.encode() + b'\n"unterminated,2,3,4,5,6,7\n', [(2, "", "csv")]),
        (HEADER.encode() + b"\n\xff\xfe,2,3,4,5,6,7\n", [(2, "", "encoding")]),
        (b"\x00\x01binary", [(1, "", "encoding")]),
    ],
)
def test_a_malformed_file_is_refused_whole(admin, content, expected):
    report = import_csv(admin, content)
    assert [(e.line, e.column, e.code) for e in report.errors] == expected
    assert not LegacyImport.objects.exists()


def test_only_program_admins_import():
    partner = partner_user()
    content = csv_of(row(partner, SubscriptionFactory()))
    for actor in (operator_user(), partner):
        with pytest.raises(PermissionDenied):
            import_csv(actor, content)


# --- the one-partner rule and visibility ------------------------------------------------


def test_a_legacy_association_holds_its_subscription_against_older_poe(admin):
    holder, rival = partner_user(), partner_user()
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    import_csv(admin, csv_of(row(holder, subscription, associated_on=str(timezone.localdate()))))
    claim = submitted_claim(
        rival,
        tenant,
        role="usage_recognition",
        products=(),
        subscriptions=[subscription],
        signed_on=timezone.localdate() - datetime.timedelta(days=5),
    )
    assert Claim.objects.get(pk=claim.pk).has_conflict
    with pytest.raises(services.ValidationFailed.__mro__[1]) as error:
        services.claim_approve(actor=operator_user(), claim=claim)
    assert error.value.code == "unit_held_with_newer_poe"
    assert Association.objects.get(subscription=subscription, status="active").legacy


def test_newer_poe_supersedes_a_legacy_association(admin):
    holder, rival = partner_user(), partner_user()
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    import_csv(admin, csv_of(row(holder, subscription, associated_on="2022-01-10")))
    claim = submitted_claim(
        rival, tenant, role="usage_recognition", products=(), subscriptions=[subscription]
    )
    services.claim_approve(actor=operator_user(), claim=claim)
    legacy = Association.objects.get(legacy=True)
    assert legacy.status == AssociationStatus.ENDED and legacy.end_reason == EndReason.SUPERSEDED


def test_the_partner_and_the_customer_see_the_legacy_association(admin, client):
    partner, other = partner_user(), partner_user()
    subscription = SubscriptionFactory()
    import_csv(admin, csv_of(row(partner, subscription)))
    association = Association.objects.get()
    assert list(association_list(actor=partner)) == [association]
    assert not association_list(actor=other).exists()
    assert list(tenant_associations(tenant=subscription.tenant)) == [association]
    client.force_login(partner)
    page = client.get(reverse("claims:detail", args=[association.claim_id]))
    assert page.status_code == 200
    assert b"Legacy" in page.content and b"Dynamics 365 PAL export" in page.content
    client.force_login(other)
    assert client.get(reverse("claims:detail", args=[association.claim_id])).status_code == 404


# --- expiry, notice, re-association ---------------------------------------------------------


def test_the_partner_is_told_ahead_once_then_the_association_ends_with_its_subscription(admin):
    partner = partner_user()
    today = timezone.localdate()
    subscription = SubscriptionFactory(ends_on=today + datetime.timedelta(days=20))
    # A renewal naming it as predecessor: an ordinary association would carry over.
    SubscriptionFactory(
        tenant=subscription.tenant,
        predecessor=subscription,
        starts_on=today + datetime.timedelta(days=21),
        ends_on=today + datetime.timedelta(days=400),
    )
    import_csv(admin, csv_of(row(partner, subscription)))
    association = Association.objects.get()
    assert services.associations_expire_ended_subscriptions(today=today) == 1
    assert services.associations_expire_ended_subscriptions(today=today) == 0  # once
    warning = association.claim.events.get(action=EventAction.WARN_REASSOCIATE)
    assert str(subscription.subscription_id) in warning.message
    consume_all()
    message = OutboxMessage.objects.get(template="legacy_reassociate")
    assert message.recipient == "pal@partner.example"
    subject, text, html = render_event_message(message)
    assert "Claim" in subject and "/claims/new/" in text and "/claims/new/" in html

    services.associations_expire_ended_subscriptions(today=today + datetime.timedelta(days=21))
    association.refresh_from_db()
    assert association.status == AssociationStatus.ENDED
    assert association.end_reason == EndReason.EXPIRED
    assert association.subscription == subscription  # never carried over


def test_the_notice_is_rendered_in_portuguese(admin):
    partner = partner_user()
    subscription = SubscriptionFactory(ends_on=timezone.localdate() + datetime.timedelta(days=3))
    import_csv(admin, csv_of(row(partner, subscription)))
    services.legacy_warn_reassociation()
    consume_all()
    message = OutboxMessage.objects.get(template="legacy_reassociate")
    message.language = "pt-pt"
    subject, text, _html = render_event_message(message)
    assert "Reclame" in subject and "associação legada" in text


def test_the_partner_re_associates_with_an_ordinary_claim(admin):
    partner = partner_user()
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    import_csv(admin, csv_of(row(partner, subscription)))
    claim = submitted_claim(
        partner, tenant, role="usage_recognition", products=(), subscriptions=[subscription]
    )
    results = {r.code: r for r in checks.run_checks(claim)}
    assert results["already_held"].outcome == "pass"
    assert results["reassociation"].outcome == "warning"
    services.claim_approve(actor=operator_user(), claim=claim)
    legacy = Association.objects.get(legacy=True)
    assert legacy.status == AssociationStatus.ENDED
    assert legacy.end_reason == EndReason.REASSOCIATED
    new = Association.objects.get(claim=claim)
    assert new.is_held and not new.legacy and legacy.superseded_by == new


# --- the page and the API ----------------------------------------------------------------


def test_import_page_for_program_admins_only(client, admin):
    url = reverse("review:legacy_import")
    assert client.get(url).status_code == 302
    for user in (operator_user(), partner_user()):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(admin)
    assert client.get(url).status_code == 200


def test_import_page_dry_run_then_import_and_errors_by_line(client, admin):
    partner = partner_user()
    content = csv_of(row(partner, SubscriptionFactory()))
    client.force_login(admin)
    url = reverse("review:legacy_import")
    checked = client.post(url, {"file": SimpleUploadedFile("l.csv", content), "dry_run": "on"})
    assert checked.status_code == 200 and b"nothing written" in checked.content
    assert not Association.objects.exists()
    done = client.post(url, {"file": SimpleUploadedFile("l.csv", content)})
    assert done.status_code == 200 and Association.objects.filter(legacy=True).count() == 1
    again = client.post(url, {"file": SimpleUploadedFile("l.csv", content)})
    assert again.status_code == 400
    assert b'id="legacy-errors"' in again.content and b"already_held" in again.content


def test_api_import_and_list(client, admin):
    partner, other = partner_user(), partner_user()
    subscription = SubscriptionFactory()
    content = csv_of(row(partner, subscription))
    client.force_login(admin)
    url = reverse("legacy-associations-import")
    dry = client.post(f"{url}?dry_run=1", content, content_type="text/csv")
    assert dry.status_code == 200 and dry.json()["dry_run"] and not Association.objects.exists()
    done = client.post(url, content, content_type="text/csv")
    assert done.status_code == 200 and done.json()["created"] == 1
    bad = client.post(url, content, content_type="text/csv")
    body = bad.json()
    assert bad.status_code == 400 and body["code"] == "invalid_rows"
    assert body["errors"] == [
        {
            "code": "already_held",
            "message": "This partner already holds the subscription.",
            "field": "subscription_id",
            "line": 2,
        }
    ]
    client.force_login(partner)
    listed = client.get(reverse("legacy-associations")).json()["results"]
    assert [a["subscription_id"] for a in listed] == [str(subscription.subscription_id)]
    assert listed[0]["legacy_source"] == "Dynamics 365 PAL export"
    assert client.post(url, content, content_type="text/csv").status_code == 403
    client.force_login(other)
    assert client.get(reverse("legacy-associations")).json()["results"] == []
