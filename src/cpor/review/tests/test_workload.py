"""Reviewer workload: automatic balancing, named assignment, away and reassignment,
saved filters and bulk decisions, through the services, the pages and the API."""

import datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.claims import services
from cpor.claims.models import Claim, ClaimStatus, EventAction, ReviewerDuty
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import claim_history
from cpor.errors import DomainError, PermissionDenied
from cpor.review.models import SavedQueueFilter
from cpor.testing.factories import (
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def on_duty(*reviewers):
    for reviewer in reviewers:
        ReviewerDuty.objects.update_or_create(reviewer=reviewer, defaults={"on_duty": True})


def assigned(claim) -> int | None:
    return Claim.objects.values_list("assigned_reviewer_id", flat=True).get(pk=claim.pk)


# --- automatic balancing --------------------------------------------------------------


def test_a_submission_goes_to_the_reviewer_on_duty_with_the_fewest_open_claims():
    busy, free, away = operator_user(), operator_user(), operator_user()
    for _ in range(2):
        claim = submitted_claim()
        services.claim_assign(actor=busy, claim=claim, reviewer=busy)
    on_duty(busy, free)
    ReviewerDuty.objects.filter(pk=free.pk).update(last_assigned_at=timezone.now())
    claim = submitted_claim()  # free got a claim more recently, but has the lower load
    assert assigned(claim) == free.pk
    assert away.pk not in {assigned(submitted_claim()) for _ in range(3)}


def test_equal_loads_take_turns_round_robin():
    reviewers = [operator_user() for _ in range(3)]
    on_duty(*reviewers)
    order = [assigned(submitted_claim()) for _ in range(6)]
    assert sorted(order[:3]) == sorted(r.pk for r in reviewers)
    assert order[3:] == order[:3]  # the same turn again: least recently assigned first


def test_decided_claims_no_longer_count_as_load():
    first, second = operator_user(), operator_user()
    on_duty(first, second)
    claim = submitted_claim()
    owner = assigned(claim)
    reviewer = first if owner == first.pk else second
    services.claim_approve(actor=reviewer, claim=claim)
    # Both have no open claim again; the other one was assigned longest ago (never).
    assert assigned(submitted_claim()) != owner


def test_nobody_on_duty_leaves_the_submission_unassigned_in_the_queue():
    operator_user()
    claim = submitted_claim()
    assert assigned(claim) is None
    assert not claim.events.filter(action=EventAction.ASSIGN).exists()


def test_the_assignment_is_an_internal_event_partners_never_see():
    reviewer = operator_user()
    on_duty(reviewer)
    partner = partner_user()
    claim = submitted_claim(partner)
    event = claim.events.get(action=EventAction.ASSIGN)
    assert event.internal and event.shared and event.actor_label == "system"
    assert not claim_history(actor=partner, claim=claim).filter(action=EventAction.ASSIGN)
    assert claim_history(actor=operator_user(), claim=claim).filter(action=EventAction.ASSIGN)


def test_a_reply_goes_back_to_its_reviewer_while_on_duty_and_elsewhere_once_away():
    first, second = operator_user(), operator_user()
    on_duty(first, second)
    partner = partner_user()
    claim = submitted_claim(partner)
    owner = first if assigned(claim) == first.pk else second
    other = second if owner == first else first
    services.claim_request_info(actor=owner, claim=claim, reason_code="poe_missing", message="PoE")
    services.claim_reply(actor=partner, claim=claim, message="Added.")
    assert assigned(claim) == owner.pk
    services.claim_request_info(actor=owner, claim=claim, reason_code="poe_missing", message="PoE")
    services.reviewer_set_duty(actor=owner, reviewer=owner, on_duty=False)
    assert assigned(claim) == other.pk  # reassigned when owner went away
    services.claim_reply(actor=partner, claim=claim, message="Again.")
    assert assigned(claim) == other.pk


# --- named assignment -------------------------------------------------------------------


def test_a_reviewer_assigns_a_claim_to_a_named_reviewer():
    reviewer, colleague = operator_user(), operator_user()
    claim = submitted_claim()
    services.claim_assign(actor=reviewer, claim=claim, reviewer=colleague)
    assert assigned(claim) == colleague.pk
    event = claim.events.get(action=EventAction.ASSIGN)
    assert event.actor == reviewer and colleague.get_full_name() in event.message


def test_assignment_refuses_a_non_reviewer_a_decided_claim_and_a_partner():
    reviewer = operator_user()
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    claim = submitted_claim()
    with pytest.raises(DomainError) as error:
        services.claim_assign(actor=reviewer, claim=claim, reviewer=admin)
    assert error.value.code == "unknown_reviewer" and error.value.field == "reviewer"
    with pytest.raises(PermissionDenied):
        services.claim_assign(actor=partner_user(), claim=claim, reviewer=reviewer)
    services.claim_approve(actor=reviewer, claim=claim)
    with pytest.raises(DomainError) as error:
        services.claim_assign(actor=reviewer, claim=claim, reviewer=operator_user())
    assert error.value.code == "illegal_transition"


# --- away -------------------------------------------------------------------------------


def test_marking_a_reviewer_away_spreads_their_open_claims_over_those_on_duty():
    away, first, second = operator_user(), operator_user(), operator_user()
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    claims = [submitted_claim() for _ in range(4)]
    for claim in claims:
        services.claim_assign(actor=admin, claim=claim, reviewer=away)
    services.claim_start_review(actor=away, claim=claims[0])
    decided = submitted_claim()
    services.claim_assign(actor=admin, claim=decided, reviewer=away)
    services.claim_approve(actor=away, claim=decided)
    on_duty(away, first, second)
    duty = services.reviewer_set_duty(actor=admin, reviewer=away, on_duty=False)
    assert duty.reassigned == 4 and not ReviewerDuty.objects.get(pk=away.pk).on_duty
    owners = [assigned(c) for c in claims]
    assert sorted(owners) == sorted([first.pk, first.pk, second.pk, second.pk])
    assert Claim.objects.get(pk=claims[0].pk).status == ClaimStatus.IN_REVIEW  # state kept
    assert assigned(decided) == away.pk  # decided claims keep their history
    moved = claims[1].events.filter(action=EventAction.ASSIGN).last()
    assert "away" in moved.message and moved.actor == admin


def test_with_nobody_else_on_duty_an_away_reviewers_claims_wait_unassigned():
    away = operator_user()
    on_duty(away)
    claim = submitted_claim()
    assert assigned(claim) == away.pk
    services.reviewer_set_duty(actor=away, reviewer=away, on_duty=False)
    assert assigned(claim) is None


def test_only_a_program_admin_or_the_reviewer_changes_a_duty():
    reviewer, colleague = operator_user(), operator_user()
    with pytest.raises(PermissionDenied):
        services.reviewer_set_duty(actor=colleague, reviewer=reviewer, on_duty=True)
    with pytest.raises(PermissionDenied):
        services.reviewer_set_duty(actor=partner_user(), reviewer=reviewer, on_duty=True)
    services.reviewer_set_duty(actor=reviewer, reviewer=reviewer, on_duty=True)
    services.reviewer_set_duty(
        actor=operator_user(OperatorRole.PROGRAM_ADMIN), reviewer=reviewer, on_duty=False
    )
    assert not ReviewerDuty.objects.get(pk=reviewer.pk).on_duty


def test_workload_page_shows_duty_and_load_and_marks_away(client):
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    away, other = operator_user(), operator_user()
    on_duty(away, other)
    claim = submitted_claim()
    owner = away if assigned(claim) == away.pk else other
    client.force_login(admin)
    page = client.get(reverse("review:workload"))
    assert page.status_code == 200
    assert [row.open for row in page.context["rows"] if row.reviewer == owner] == [1]
    response = client.post(reverse("review:reviewer_duty", args=[owner.pk]), {"on_duty": "0"})
    assert response.status_code == 302
    assert assigned(claim) != owner.pk
    client.force_login(partner_user())
    assert client.get(reverse("review:workload")).status_code == 403


def test_a_reviewer_cannot_mark_a_colleague_away_through_the_page(client):
    reviewer, colleague = operator_user(), operator_user()
    on_duty(colleague)
    client.force_login(reviewer)
    response = client.post(reverse("review:reviewer_duty", args=[colleague.pk]), {"on_duty": "0"})
    assert response.status_code == 403
    assert ReviewerDuty.objects.get(pk=colleague.pk).on_duty


def test_assign_to_form_on_the_review_screen(client):
    reviewer, colleague = operator_user(), operator_user()
    claim = submitted_claim()
    client.force_login(reviewer)
    screen = client.get(reverse("review:claim", args=[claim.pk]))
    assert b'id="assign-form"' in screen.content
    response = client.post(reverse("review:assign_to", args=[claim.pk]), {"reviewer": colleague.pk})
    assert response.status_code == 302 and assigned(claim) == colleague.pk
    bad = client.post(reverse("review:assign_to", args=[claim.pk]), {"reviewer": "999999"})
    assert bad.status_code == 400


# --- saved filters -----------------------------------------------------------------------


def test_saved_filters_are_per_user_named_and_open_the_queue_filtered(client):
    reviewer, colleague = operator_user(), operator_user()
    client.force_login(reviewer)
    response = client.post(
        reverse("review:saved_filter_create"),
        {"name": "My conflicts", "conflict": "on", "engagement": "modern_work_security_usage"},
    )
    saved = SavedQueueFilter.objects.get(owner=reviewer)
    assert saved.query == "engagement=modern_work_security_usage&conflict=on"
    assert response.url.endswith(f"?{saved.query}")
    # The same name in another case replaces it.
    client.post(reverse("review:saved_filter_create"), {"name": "my CONFLICTS", "mine": "on"})
    saved.refresh_from_db()
    assert SavedQueueFilter.objects.filter(owner=reviewer).count() == 1
    assert saved.query == "mine=on"
    page = client.get(reverse("review:queue"))
    assert b"my CONFLICTS" in page.content
    client.force_login(colleague)
    assert b"my CONFLICTS" not in client.get(reverse("review:queue")).content
    response = client.post(reverse("review:saved_filter_delete", args=[saved.pk]))
    assert response.status_code == 404 and SavedQueueFilter.objects.filter(pk=saved.pk).exists()


def test_saving_a_filter_without_a_name_changes_nothing(client):
    client.force_login(operator_user())
    response = client.post(reverse("review:saved_filter_create"), {"name": "  ", "mine": "on"})
    assert response.status_code == 302
    assert not SavedQueueFilter.objects.exists()


# --- bulk decisions ------------------------------------------------------------------------


def held_with_newer_poe(partner=None):
    """A claim for a unit another partner holds with newer PoE: approving it is refused."""
    reviewer = operator_user()
    tenant = customer_tenant()
    holder = submitted_claim(partner_user(), tenant, signed_on=timezone.localdate())
    services.claim_approve(actor=reviewer, claim=holder)
    return submitted_claim(
        partner or partner_user(),
        tenant,
        signed_on=timezone.localdate() - datetime.timedelta(days=30),
    )


def test_bulk_approve_reports_each_claim_and_a_conflict_never_blocks_the_others():
    reviewer, colleague = operator_user(), operator_user()
    fine = submitted_claim()
    conflicting = held_with_newer_poe()
    decided = submitted_claim()
    services.claim_reject(actor=colleague, claim=decided, reason_code="insufficient_poe")
    outcomes = services.claims_bulk_decide(
        actor=reviewer,
        action="approve",
        claim_ids=[decided.pk, conflicting.pk, fine.pk, fine.pk],
        message="Checked.",
    )
    by_claim = {o.claim_id: o for o in outcomes}
    assert len(outcomes) == 3
    assert by_claim[fine.pk].ok and by_claim[fine.pk].status == ClaimStatus.APPROVED
    assert by_claim[conflicting.pk].code == "unit_held_with_newer_poe"
    assert by_claim[decided.pk].code == "illegal_transition"
    assert Claim.objects.get(pk=conflicting.pk).status == ClaimStatus.SUBMITTED
    assert Claim.objects.get(pk=decided.pk).status == ClaimStatus.REJECTED
    assert not conflicting.associations.exists()


def test_bulk_reject_and_request_info_take_one_reason_for_all():
    reviewer = operator_user()
    claims = [submitted_claim() for _ in range(3)]
    ids = [c.pk for c in claims]
    with pytest.raises(DomainError) as error:
        services.claims_bulk_decide(actor=reviewer, action="reject", claim_ids=ids)
    assert error.value.field == "reason_code"
    with pytest.raises(DomainError) as error:
        services.claims_bulk_decide(
            actor=reviewer, action="request_info", claim_ids=ids, reason_code="poe_missing"
        )
    assert error.value.field == "message"
    assert set(Claim.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"submitted"}
    outcomes = services.claims_bulk_decide(
        actor=reviewer,
        action="request_info",
        claim_ids=ids,
        reason_code="poe_missing",
        message="Add the signed SoW.",
    )
    assert all(o.ok and o.status == ClaimStatus.ACTION_REQUIRED for o in outcomes)
    assert all(
        c.events.filter(action=EventAction.REQUEST_INFO, reason_code="poe_missing").exists()
        for c in claims
    )


def test_bulk_start_review_reports_drafts_as_not_found_and_refuses_partners():
    reviewer = operator_user()
    partner = partner_user()
    draft = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    claim = submitted_claim()
    outcomes = services.claims_bulk_decide(
        actor=reviewer, action="start_review", claim_ids=[claim.pk, draft.pk, 99999999]
    )
    assert [(o.claim_id, o.ok, o.code) for o in outcomes] == sorted(
        [(claim.pk, True, ""), (draft.pk, False, "not_found"), (99999999, False, "not_found")]
    )
    assert assigned(claim) == reviewer.pk
    with pytest.raises(PermissionDenied):
        services.claims_bulk_decide(actor=partner, action="start_review", claim_ids=[claim.pk])


def test_bulk_page_shows_each_outcome(client):
    reviewer = operator_user()
    fine, conflicting = submitted_claim(), held_with_newer_poe()
    client.force_login(reviewer)
    queue = client.get(reverse("review:queue"))
    assert f'id="bulk-claim-{fine.pk}"'.encode() in queue.content
    response = client.post(
        reverse("review:bulk"),
        {"claims": [fine.pk, conflicting.pk], "action": "approve", "message": ""},
    )
    assert response.status_code == 200
    rows = {row["claim"]: row for row in response.context["rows"]}
    assert rows[fine.pk]["ok"] and not rows[conflicting.pk]["ok"]
    assert b"unit_held_with_newer_poe" in response.content
    empty = client.post(reverse("review:bulk"), {"action": "approve"})
    assert empty.status_code == 400 and b"Tick at least one claim." in empty.content


@pytest.mark.parametrize(
    ("language", "no_reason", "reject"),
    [("en", "No reason", "Reject"), ("pt-pt", "Sem motivo", "Rejeitar")],
)
def test_the_queue_offers_every_reason_under_its_action(client, language, no_reason, reject):
    reviewer = operator_user()
    reviewer.language = language
    reviewer.save()
    submitted_claim()
    client.force_login(reviewer)
    page = client.get(reverse("review:queue"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    class Reasons(HTMLParser):
        inside, group, found, described_by, help_ids = False, None, [], None, set()

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "select" and attrs.get("name") == "reason_code":
                self.inside, self.described_by = True, attrs.get("aria-describedby")
            elif self.inside and tag == "optgroup":
                self.group = attrs["label"]
            elif self.inside and tag == "option":
                self.found.append((self.group, attrs["value"]))
            if "id" in attrs:
                self.help_ids.add(attrs["id"])

        def handle_endtag(self, tag):
            if tag == "select":
                self.inside = False

    reasons = Reasons()
    reasons.feed(page)
    groups = {group for group, _ in reasons.found}
    assert reasons.found[0] == (None, "")  # no reason chosen until the reviewer picks one
    assert f">{no_reason}</option>" in page and reject in groups and len(groups) == 3
    assert {value for _, value in reasons.found[1:]} == {
        *InfoRequestReason.values,
        *RejectionReason.values,
    }
    assert reasons.described_by in reasons.help_ids  # the help text is announced


def test_bulk_page_in_portuguese(client):
    reviewer = operator_user()
    reviewer.language = "pt-pt"
    reviewer.save()
    claim = submitted_claim()
    client.force_login(reviewer)
    response = client.post(
        reverse("review:bulk"),
        {"claims": [claim.pk], "action": "start_review"},
        HTTP_ACCEPT_LANGUAGE="pt-pt",
    )
    assert response.status_code == 200
    assert "Ação em massa".encode() in response.content
