"""The reviewer's pages: queue, review screen, decisions, notes and PoE files."""

import datetime
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.catalog.models import Engagement, OutOfScopeProgram
from cpor.claims import services
from cpor.claims.models import (
    AssociationStatus,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
    PoEType,
)
from cpor.claims.selectors import claim_history
from cpor.review import selectors
from cpor.testing.factories import (
    SubscriptionFactory,
    UserFactory,
    customer_tenant,
    docx_file,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def queue_ids(response) -> list[int]:
    return [claim.pk for claim, _sla in response.context["rows"]]


# --- the queue ----------------------------------------------------------------


def test_queue_lists_claims_awaiting_a_decision_oldest_first(reviewer_client, reviewer):
    first = submitted_claim()
    second = submitted_claim()
    third = submitted_claim()
    services.claim_start_review(actor=reviewer, claim=third)
    waiting = submitted_claim()
    services.claim_request_info(
        actor=reviewer, claim=waiting, reason_code="poe_missing", message="Add the PoE."
    )
    decided = submitted_claim()
    services.claim_approve(actor=reviewer, claim=decided)
    rejected = submitted_claim()
    services.claim_reject(actor=reviewer, claim=rejected, reason_code="insufficient_poe")
    services.claim_dispute(actor=rejected.created_by, claim=rejected, justification="See p. 3.")

    response = reviewer_client.get(reverse("review:queue"))

    assert response.status_code == 200
    assert queue_ids(response) == [first.pk, second.pk, third.pk, rejected.pk]
    counts = {name: count.count for name, count in response.context["counts"].items()}
    assert counts["submitted"] == 2
    assert counts["in_review"] == 1
    assert counts["disputed"] == 1
    assert counts["action_required"] == 1
    assert counts["mine"] == 1


def test_queue_rows_print_what_people_typed_as_text(reviewer_client):
    # The rows are rendered by Jinja2 (review/jinja2/): it must escape as Django does.
    tenant = customer_tenant()
    tenant.name = 'Contoso <b>"Bold"</b>'
    tenant.save()
    partner = partner_user()
    organisation = partner.partner_membership.organisation
    organisation.name = "Fabrikam <script>alert(1)</script>"
    organisation.save()
    submitted_claim(partner, tenant, name="<img src=x onerror=alert(1)> & Co")

    body = reviewer_client.get(reverse("review:queue")).content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co</a>" in body
    assert "Fabrikam &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Contoso &lt;b&gt;&#34;Bold&#34;&lt;/b&gt;" in body
    assert "<img src=x" not in body and "<script>alert" not in body and "<b>" not in body


def test_queue_flags_a_conflict_when_another_partner_holds_a_unit(reviewer_client, reviewer):
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, products=["teams"])
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(partner_user(), tenant, products=["teams", "intune"])
    free = submitted_claim(partner_user(), tenant, products=["purview"])

    response = reviewer_client.get(reverse("review:queue"))
    flags = {claim.pk: claim.conflict_flag for claim, _sla in response.context["rows"]}
    assert flags == {rival.pk: True, free.pk: False}
    assert b"Conflict" in response.content

    only = reviewer_client.get(reverse("review:queue"), {"conflict": "on"})
    assert queue_ids(only) == [rival.pk]


def test_queue_flags_a_subscription_conflict(reviewer_client, reviewer):
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    holder = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[subscription]
    )
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(
        partner_user(), tenant, role="usage_recognition", subscriptions=[subscription]
    )
    response = reviewer_client.get(reverse("review:queue"), {"conflict": "on"})
    assert queue_ids(response) == [rival.pk]


def test_queue_flags_and_filters_failed_checks(reviewer_client):
    fine = submitted_claim()
    old_poe = submitted_claim(signed_on=timezone.localdate() - datetime.timedelta(days=30))
    # A program admin shortens the PoE age limit after submission: the filter follows.
    Engagement.objects.filter(code="modern_work_security_usage").update(poe_max_age_days=20)
    away = submitted_claim()
    away.location.active = False
    away.location.save()

    response = reviewer_client.get(reverse("review:queue"))
    rows = {claim.pk: claim for claim, _sla in response.context["rows"]}
    assert (rows[fine.pk].poe_flag, rows[fine.pk].location_flag) == (False, False)
    assert rows[old_poe.pk].poe_flag is True
    assert rows[away.pk].location_flag is True
    failed = reviewer_client.get(reverse("review:queue"), {"failed_checks": "on"})
    assert set(queue_ids(failed)) == {old_poe.pk, away.pk}


def test_queue_row_still_flags_a_subscription_changed_after_submission(reviewer_client):
    """The filter reads what was stored at the last check; the row's own flags are
    computed live, so the reviewer still sees an import that ended the subscription."""
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    ended = submitted_claim(
        partner_user(), tenant, role="build_intent_advisor", subscriptions=[subscription]
    )
    subscription.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    subscription.save()
    rows = {c.pk: c for c, _sla in reviewer_client.get(reverse("review:queue")).context["rows"]}
    assert rows[ended.pk].unit_flag is True


def test_queue_filters_by_status_engagement_area_text_and_assignee(reviewer_client, reviewer):
    tenant = customer_tenant()
    subscription = SubscriptionFactory(tenant=tenant)
    workload = submitted_claim(name="Teams rollout at Alpha")
    bizapps = submitted_claim(
        partner_user(),
        tenant,
        role="build_intent_advisor",
        subscriptions=[subscription],
        name="Sales advisory",
    )
    mine = submitted_claim(name="Intune for Beta")
    services.claim_start_review(actor=reviewer, claim=mine)
    url = reverse("review:queue")

    assert queue_ids(reviewer_client.get(url, {"status": "in_review"})) == [mine.pk]
    engagement = bizapps.role.engagement.code
    assert queue_ids(reviewer_client.get(url, {"engagement": engagement})) == [bizapps.pk]
    assert queue_ids(reviewer_client.get(url, {"solution_area": "business_applications"})) == [
        bizapps.pk
    ]
    assert queue_ids(reviewer_client.get(url, {"q": "alpha"})) == [workload.pk]
    assert queue_ids(reviewer_client.get(url, {"q": str(bizapps.pk)})) == [bizapps.pk]
    assert queue_ids(reviewer_client.get(url, {"mine": "on"})) == [mine.pk]


def test_queue_shows_how_close_each_claim_is_to_its_target(reviewer_client):
    claim = submitted_claim()
    long_ago = timezone.now() - datetime.timedelta(days=21)
    type(claim).objects.filter(pk=claim.pk).update(submitted_at=long_ago, updated_at=long_ago)
    fresh = submitted_claim()
    response = reviewer_client.get(reverse("review:queue"))
    clocks = {c.pk: sla for c, sla in response.context["rows"]}
    assert clocks[claim.pk].state == "overdue"
    assert clocks[claim.pk].age == 15
    assert clocks[claim.pk].kind == "pickup"
    assert clocks[fresh.pk].state == "on_track"
    assert b"Overdue" in response.content


@pytest.mark.parametrize("size", [3, 12])
def test_queue_opens_in_a_bounded_number_of_queries(
    reviewer_client, reviewer, django_assert_max_num_queries, size
):
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, products=["teams"])
    services.claim_approve(actor=reviewer, claim=holder)
    for i in range(size):
        claim = submitted_claim(
            partner_user(), tenant if i % 3 == 0 else None, products=["teams", "intune"]
        )
        if i % 2:
            services.claim_start_review(actor=reviewer, claim=claim)
    # session, user, enrolled second factor, the five bounded counts (one statement),
    # filter choices (3: with the reviewers), engagements, the page's rows, settings, the
    # saved filters, the navigation's membership and customer look-ups: the same at any
    # size, on any page. PostgreSQL sets the page's join planning before its rows and
    # resets it after (cpor.keyset).
    planner = 2 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(13 + planner):
        response = reviewer_client.get(reverse("review:queue"), {"q": "", "conflict": ""})
    assert len(response.context["rows"]) == size


def test_queue_pages_by_links_and_counts_exactly_on_demand(reviewer_client, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors, "QUEUE_COUNT_LIMIT", 2)
    claims = [submitted_claim() for _ in range(5)]
    url = reverse("review:queue")
    seen, query = [], "?engagement=modern_work_security_usage"
    while query:
        response = reviewer_client.get(url + query)
        assert response.status_code == 200
        seen += queue_ids(response)
        found = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        query = found and found.group(1).replace("&amp;", "&")
    assert seen == [claim.pk for claim in claims]
    body = reviewer_client.get(url, {"engagement": "modern_work_security_usage"}).content
    assert "More than 2 claims await a decision." in body.decode()
    exact = reviewer_client.get(url, {"engagement": "modern_work_security_usage", "count": "exact"})
    assert "5 claims await a decision." in exact.content.decode()


def test_queue_answers_a_tampered_cursor_with_400_and_the_first_page(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.get(reverse("review:queue"), {"cursor": "WyJiIiwxXQ"})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()
    assert queue_ids(response) == [claim.pk]


def test_assign_to_me_takes_the_claim_into_review(reviewer_client, reviewer):
    claim = submitted_claim()
    response = reviewer_client.post(reverse("review:assign", args=[claim.pk]))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW
    assert claim.assigned_reviewer == reviewer
    again = reviewer_client.post(reverse("review:assign", args=[claim.pk]), follow=True)
    assert b"cannot be taken into review" in again.content


# --- the review screen ---------------------------------------------------------


def test_review_screen_reruns_the_checks_and_shows_history_with_internal_notes(
    reviewer_client, reviewer
):
    claim = submitted_claim()
    services.claim_add_note(actor=reviewer, claim=claim, message="Called the customer.")
    response = reviewer_client.get(reverse("review:claim", args=[claim.pk]))
    assert response.status_code == 200
    screen = response.context["screen"]
    assert {result.code for result in screen.results} >= {"poe", "partner_id", "conflict"}
    assert b"Called the customer." in response.content
    assert b"internal" in response.content
    assert response.context["can_decide"] is True


def test_review_screen_shows_both_sides_of_a_conflict_with_the_newest_poe_marked(
    reviewer_client, reviewer
):
    tenant = customer_tenant()
    today = timezone.localdate()
    holder = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=40))
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=3))
    response = reviewer_client.get(reverse("review:claim", args=[rival.pk]))
    (unit,) = response.context["screen"].units
    assert unit.conflict
    assert unit.holder.claim_id == holder.pk
    assert unit.holder_poe == today - datetime.timedelta(days=40)
    assert unit.claim_poe == today - datetime.timedelta(days=3)
    assert unit.newest == "claim"
    assert b"most recent" in response.content
    assert holder.organisation.name.encode() in response.content


def test_review_screen_lists_other_partners_open_claims_on_the_same_units(reviewer_client):
    tenant = customer_tenant()
    first = submitted_claim(partner_user(), tenant)
    second = submitted_claim(partner_user(), tenant)
    response = reviewer_client.get(reverse("review:claim", args=[first.pk]))
    assert [line.claim_id for line in response.context["screen"].rivals] == [second.pk]


def test_drafts_are_not_found(reviewer_client, partner, tenant):
    from cpor.testing.factories import claim_input

    draft = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    assert reviewer_client.get(reverse("review:claim", args=[draft.pk])).status_code == 404


def test_pdf_poe_is_shown_inline_without_sniffing(reviewer_client):
    claim = submitted_claim()
    proof = claim.proofs.get()
    response = reviewer_client.get(reverse("review:poe", args=[proof.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    download = reviewer_client.get(reverse("review:poe", args=[proof.pk]), {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment")


def test_docx_poe_is_only_downloaded(reviewer_client, partner, tenant):
    from cpor.testing.factories import claim_input

    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    proof = services.poe_add(
        actor=partner,
        claim=claim,
        file=docx_file(),
        poe_type=PoEType.STATEMENT_OF_WORK,
        signed_on=timezone.localdate(),
        signatory="Ana",
    )
    services.claim_submit(actor=partner, claim=claim, confirmed=True)
    response = reviewer_client.get(reverse("review:poe", args=[proof.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


# --- decisions -------------------------------------------------------------------


def test_approve_the_whole_claim(reviewer_client):
    claim = submitted_claim(products=["teams", "intune"])
    response = reviewer_client.post(
        reverse("review:approve", args=[claim.pk]),
        {"line_ids": [line.pk for line in claim.lines.all()], "message": "Well documented."},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert claim.associations.count() == 2


def test_approve_chosen_lines_partially_approves(reviewer_client):
    claim = submitted_claim(products=["teams", "intune"])
    teams = claim.lines.get(product__code="teams")
    response = reviewer_client.post(
        reverse("review:approve", args=[claim.pk]), {"line_ids": [teams.pk]}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PARTIALLY_APPROVED
    assert dict(claim.lines.values_list("product__code", "status")) == {
        "teams": LineStatus.APPROVED,
        "intune": LineStatus.REJECTED,
    }


def test_approve_without_lines_is_refused_and_changes_nothing(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.post(reverse("review:approve", args=[claim.pk]), {})
    assert response.status_code == 400
    assert b"Choose at least one line" in response.content
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_approving_a_conflicting_line_supersedes_the_holder(reviewer_client, reviewer):
    tenant = customer_tenant()
    today = timezone.localdate()
    holder = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=60))
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=2))
    response = reviewer_client.post(
        reverse("review:approve", args=[rival.pk]), {"line_ids": [rival.lines.get().pk]}
    )
    assert response.status_code == 302
    old = holder.associations.get()
    assert old.status == AssociationStatus.ENDED
    assert old.end_reason == EndReason.SUPERSEDED
    assert rival.associations.get().status == AssociationStatus.PENDING_CUSTOMER


def test_approving_against_a_holder_with_newer_poe_is_refused(reviewer_client, reviewer):
    tenant = customer_tenant()
    today = timezone.localdate()
    holder = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=2))
    services.claim_approve(actor=reviewer, claim=holder)
    rival = submitted_claim(partner_user(), tenant, signed_on=today - datetime.timedelta(days=90))
    response = reviewer_client.post(
        reverse("review:approve", args=[rival.pk]), {"line_ids": [rival.lines.get().pk]}
    )
    assert response.status_code == 409
    assert b"as recent or newer" in response.content
    rival.refresh_from_db()
    assert rival.status == ClaimStatus.SUBMITTED
    assert holder.associations.get().status == AssociationStatus.PENDING_CUSTOMER


def test_reject_with_a_reason_code_and_comment(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.post(
        reverse("review:reject", args=[claim.pk]),
        {"reason_code": "insufficient_poe", "message": "The SoW is unsigned."},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    event = claim.events.get(action=EventAction.REJECT)
    assert (event.reason_code, event.message) == ("insufficient_poe", "The SoW is unsigned.")


def test_reject_with_a_reason_outside_the_list_changes_nothing(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.post(
        reverse("review:reject", args=[claim.pk]), {"reason_code": "i_dont_like_it"}
    )
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert not claim.events.filter(action=EventAction.REJECT).exists()


def test_request_information_sends_the_claim_back_to_the_partner(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.post(
        reverse("review:request_info", args=[claim.pk]),
        {"reason_code": "customer_signature_missing", "message": "Please add the signed page."},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACTION_REQUIRED
    assert claim.info_requested_until is not None
    event = claim.events.get(action=EventAction.REQUEST_INFO)
    assert event.internal is False
    assert event.message == "Please add the signed page."


def test_request_information_needs_a_message(reviewer_client):
    claim = submitted_claim()
    response = reviewer_client.post(
        reverse("review:request_info", args=[claim.pk]), {"reason_code": "poe_missing"}
    )
    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_a_rejected_claim_cannot_then_be_approved(reviewer_client, reviewer):
    claim = submitted_claim()
    services.claim_reject(actor=reviewer, claim=claim, reason_code="insufficient_poe")
    response = reviewer_client.post(
        reverse("review:approve", args=[claim.pk]), {"line_ids": [claim.lines.get().pk]}
    )
    # The rejected line is no longer a choice: the form refuses it before the service would.
    assert response.status_code in (400, 409)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    assert not claim.associations.exists()
    assert not claim.events.filter(action=EventAction.APPROVE).exists()


def test_a_decision_on_a_claim_not_awaiting_one_is_a_conflict(reviewer_client, reviewer):
    claim = submitted_claim()
    services.claim_approve(actor=reviewer, claim=claim)
    response = reviewer_client.post(
        reverse("review:reject", args=[claim.pk]), {"reason_code": "insufficient_poe"}
    )
    assert response.status_code == 409
    assert b"cannot be rejected" in response.content
    info = reviewer_client.post(
        reverse("review:request_info", args=[claim.pk]),
        {"reason_code": "poe_missing", "message": "Add it"},
    )
    assert info.status_code == 409
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED


def test_program_admins_see_the_queue_but_do_not_decide(client):
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    client.force_login(admin)
    claim = submitted_claim()
    assert client.get(reverse("review:queue")).status_code == 200
    page = client.get(reverse("review:claim", args=[claim.pk]))
    assert page.status_code == 200
    assert page.context["can_decide"] is False
    response = client.post(
        reverse("review:approve", args=[claim.pk]), {"line_ids": [claim.lines.get().pk]}
    )
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_internal_notes_are_added_and_partners_never_see_them(reviewer_client, reviewer):
    claim = submitted_claim()
    response = reviewer_client.post(
        reverse("review:note", args=[claim.pk]), {"message": "Customer confirmed by phone."}
    )
    assert response.status_code == 302
    note = claim.events.get(action=EventAction.NOTE)
    assert note.internal
    assert note not in claim_history(actor=claim.created_by, claim=claim)
    assert note in claim_history(actor=reviewer, claim=claim)
    empty = reviewer_client.post(reverse("review:note", args=[claim.pk]), {"message": " "})
    assert empty.status_code == 400


def test_another_reviewer_sees_a_note_only_when_it_is_shared(client, reviewer):
    claim = submitted_claim()
    client.force_login(reviewer)
    client.post(reverse("review:note", args=[claim.pk]), {"message": "Private hunch."})
    client.post(
        reverse("review:note", args=[claim.pk]), {"message": "For everyone.", "shared": "on"}
    )
    client.force_login(operator_user())
    page = client.get(reverse("review:claim", args=[claim.pk]))
    assert b"For everyone." in page.content
    assert b"Private hunch." not in page.content
    client.force_login(operator_user(OperatorRole.PROGRAM_ADMIN))
    assert b"Private hunch." in client.get(reverse("review:claim", args=[claim.pk])).content


# --- who may open what -------------------------------------------------------------


def operator_urls(claim, proof) -> list[tuple[str, str]]:
    pk = claim.pk
    org = claim.organisation_id
    return [
        ("get", reverse("review:queue")),
        ("get", reverse("review:claim", args=[pk])),
        ("post", reverse("review:assign", args=[pk])),
        ("post", reverse("review:approve", args=[pk])),
        ("post", reverse("review:reject", args=[pk])),
        ("post", reverse("review:request_info", args=[pk])),
        ("post", reverse("review:note", args=[pk])),
        ("get", reverse("review:poe", args=[proof.pk])),
        ("get", reverse("review:admin_home")),
        ("get", reverse("review:catalog")),
        ("get", reverse("review:settings_edit")),
        ("post", reverse("review:settings_edit")),
        ("get", reverse("review:engagement_edit", args=[claim.role.engagement_id])),
        ("post", reverse("review:engagement_edit", args=[claim.role.engagement_id])),
        ("get", reverse("review:role_edit", args=[claim.role_id])),
        ("post", reverse("review:role_edit", args=[claim.role_id])),
        ("get", reverse("review:product_new")),
        ("post", reverse("review:product_new")),
        ("get", reverse("review:product_edit", args=[claim.lines.get().product_id])),
        ("get", reverse("review:program_new")),
        ("post", reverse("review:program_new")),
        ("get", reverse("review:program_edit", args=[OutOfScopeProgram.objects.first().pk])),
        ("post", reverse("review:program_edit", args=[OutOfScopeProgram.objects.first().pk])),
        ("post", reverse("review:product_edit", args=[claim.lines.get().product_id])),
        ("get", reverse("review:partners")),
        ("get", reverse("review:partner_new")),
        ("post", reverse("review:partner_new")),
        ("get", reverse("review:partner", args=[org])),
        ("post", reverse("review:partner_location_add", args=[org])),
        ("post", reverse("review:partner_invite", args=[org])),
        ("get", reverse("review:import")),
        ("post", reverse("review:import")),
        ("get", reverse("review:legacy_import")),
        ("post", reverse("review:legacy_import")),
        # Reviewer workload
        ("post", reverse("review:assign_to", args=[pk])),
        ("post", reverse("review:bulk")),
        ("get", reverse("review:workload")),
        ("post", reverse("review:reviewer_duty", args=[claim.created_by_id])),
        ("post", reverse("review:saved_filter_create")),
        ("post", reverse("review:saved_filter_delete", args=[1])),
    ]


def test_the_matrix_covers_every_review_url():
    from django.urls import resolve

    from cpor.review import urls

    claim = submitted_claim()
    covered = {resolve(url).url_name for _method, url in operator_urls(claim, claim.proofs.get())}
    assert covered == {pattern.name for pattern in urls.urlpatterns}


def _outsiders(claim):
    from cpor.partners.models import PartnerRoleName

    own = claim.organisation
    customer = UserFactory(email=claim.tenant.admin_contacts.first().email)
    return {
        "partner admin (own claim)": partner_user(PartnerRoleName.PARTNER_ADMIN, own),
        "incentives admin (own claim)": partner_user(PartnerRoleName.INCENTIVES_ADMIN, own),
        "incentives user (own claim)": partner_user(PartnerRoleName.INCENTIVES_USER, own),
        "another partner": partner_user(),
        "customer": customer,
    }


def test_partners_and_customers_get_403_or_404_on_every_reviewer_and_admin_url(client):
    claim = submitted_claim()
    proof = claim.proofs.get()
    urls = operator_urls(claim, proof)
    for who, user in _outsiders(claim).items():
        client.force_login(user)
        for method, url in urls:
            response = getattr(client, method)(url)
            assert response.status_code in (403, 404), (who, method, url, response.status_code)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_anonymous_visitors_are_sent_to_sign_in_from_every_url(client):
    claim = submitted_claim()
    for method, url in operator_urls(claim, claim.proofs.get()):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert "/accounts/login/" in response["Location"]


def test_reviewers_get_403_on_program_admin_urls(reviewer_client):
    claim = submitted_claim()
    admin_urls = [
        (m, u) for m, u in operator_urls(claim, claim.proofs.get()) if "/review/admin/" in u
    ]
    assert len(admin_urls) > 10
    for method, url in admin_urls:
        assert getattr(reviewer_client, method)(url).status_code == 403, url
