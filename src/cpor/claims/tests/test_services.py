"""Every claim transition, legal and illegal, through the service layer."""

import datetime

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.claims import services
from cpor.claims.models import (
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.errors import DomainError
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    SubscriptionFactory,
    add_poe,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def statuses(claim: Claim) -> list[tuple[str, str, str]]:
    return list(claim.events.values_list("action", "from_status", "to_status"))


def test_create_makes_a_draft_with_one_line_per_workload_and_a_history_event(partner, tenant):
    claim = services.claim_create(
        actor=partner, data=claim_input(partner, tenant, products=["teams", "intune"])
    )
    assert claim.status == ClaimStatus.DRAFT
    assert sorted(claim.lines.values_list("product__code", flat=True)) == ["intune", "teams"]
    assert statuses(claim) == [(EventAction.CREATE, "", ClaimStatus.DRAFT)]


def test_business_applications_claim_has_one_line_per_subscription(partner, tenant):
    subs = SubscriptionFactory.create_batch(2, tenant=tenant)
    claim = services.claim_create(
        actor=partner,
        data=claim_input(partner, tenant, role="build_intent_advisor", subscriptions=subs),
    )
    assert set(claim.lines.values_list("subscription_id", flat=True)) == {s.pk for s in subs}


def test_submit_moves_draft_to_submitted_and_records_who(partner, tenant):
    claim = submitted_claim(partner, tenant)
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.submitted_at is not None
    event = claim.events.get(action=EventAction.SUBMIT)
    assert (event.actor, event.from_status, event.to_status) == (
        partner,
        ClaimStatus.DRAFT,
        ClaimStatus.SUBMITTED,
    )


def test_submit_refuses_claim_without_poe(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    with pytest.raises(DomainError) as error:
        services.claim_submit(actor=partner, claim=claim, confirmed=True)
    assert error.value.code == "check_poe"
    assert error.value.field == "poe"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT
    assert not claim.events.filter(action=EventAction.SUBMIT).exists()


def test_submit_refuses_poe_older_than_the_engagement_limit(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    add_poe(partner, claim, signed_on=timezone.localdate() - datetime.timedelta(days=400))
    with pytest.raises(DomainError, match="more than 365 days ago"):
        services.claim_submit(actor=partner, claim=claim, confirmed=True)


def test_submit_requires_the_confirmation(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    add_poe(partner, claim)
    with pytest.raises(DomainError) as error:
        services.claim_submit(actor=partner, claim=claim, confirmed=False)
    assert (error.value.code, error.value.field) == ("confirmation_required", "confirmed")


def test_double_submit_submits_once(partner, tenant):
    claim = submitted_claim(partner, tenant)
    with pytest.raises(DomainError) as error:
        services.claim_submit(actor=partner, claim=claim, confirmed=True)
    assert error.value.code == "illegal_transition"
    assert claim.events.filter(action=EventAction.SUBMIT).count() == 1


def test_submit_refuses_a_second_open_claim_for_the_same_unit(partner, tenant):
    submitted_claim(partner, tenant)
    second = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    add_poe(partner, second)
    with pytest.raises(DomainError) as error:
        services.claim_submit(actor=partner, claim=second, confirmed=True)
    assert error.value.code == "check_open_claim"


def test_incentives_user_cannot_create_or_submit(tenant):
    viewer = partner_user(PartnerRoleName.INCENTIVES_USER)
    with pytest.raises(DomainError) as error:
        services.claim_create(actor=viewer, data=claim_input(viewer, tenant))
    assert error.value.code == "permission_denied"
    assert not Claim.objects.exists()


def test_partner_admin_can_create(tenant):
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    assert services.claim_create(actor=admin, data=claim_input(admin, tenant)).pk


def test_another_partner_cannot_submit_or_withdraw_my_claim(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    add_poe(partner, claim)
    stranger = partner_user()
    for call in (
        lambda: services.claim_submit(actor=stranger, claim=claim, confirmed=True),
        lambda: services.claim_delete(actor=stranger, claim=claim),
        lambda: services.claim_withdraw(actor=stranger, claim=claim),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == "permission_denied"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT


def test_update_replaces_lines_of_a_draft(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    services.claim_update(
        actor=partner, claim=claim, data=claim_input(partner, tenant, products=["intune"])
    )
    assert list(claim.lines.values_list("product__code", flat=True)) == ["intune"]


def test_submitted_claim_cannot_be_updated_or_deleted(partner, tenant):
    claim = submitted_claim(partner, tenant)
    with pytest.raises(DomainError) as error:
        services.claim_update(
            actor=partner, claim=claim, data=claim_input(partner, tenant, name="Renamed")
        )
    assert error.value.code == "illegal_transition"
    with pytest.raises(DomainError):
        services.claim_delete(actor=partner, claim=claim)
    claim.refresh_from_db()
    assert claim.name != "Renamed"


def test_draft_delete_removes_claim_and_its_files(
    partner, tenant, settings, django_capture_on_commit_callbacks
):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    proof = add_poe(partner, claim)
    path = settings.MEDIA_ROOT / proof.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_delete(actor=partner, claim=claim)
    assert not Claim.objects.filter(pk=claim.pk).exists()
    assert not path.exists()


def test_reviewer_approves_whole_claim_into_pending_customer_associations(
    partner, reviewer, tenant
):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    services.claim_start_review(actor=reviewer, claim=claim)
    claim = services.claim_approve(actor=reviewer, claim=claim)
    assert claim.status == ClaimStatus.APPROVED
    assert claim.decided_at is not None
    associations = list(claim.associations.all())
    assert len(associations) == 2
    assert {a.status for a in associations} == {AssociationStatus.PENDING_CUSTOMER}
    assert all(a.notice_ends_at - a.approved_at == datetime.timedelta(days=7) for a in associations)
    assert statuses(claim)[-2:] == [
        (EventAction.START_REVIEW, ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW),
        (EventAction.APPROVE, ClaimStatus.IN_REVIEW, ClaimStatus.APPROVED),
    ]


def test_notice_period_zero_makes_association_active_at_once(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    engagement = claim.role.engagement
    engagement.notice_period_days = 0
    engagement.save()
    services.claim_approve(actor=reviewer, claim=claim)
    association = claim.associations.get()
    assert association.status == AssociationStatus.ACTIVE
    assert association.activated_at is not None


def test_approving_chosen_lines_partially_approves(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    teams = claim.lines.get(product__code="teams")
    claim = services.claim_approve(actor=reviewer, claim=claim, line_ids=[teams.pk])
    assert claim.status == ClaimStatus.PARTIALLY_APPROVED
    assert dict(claim.lines.values_list("product__code", "status")) == {
        "teams": LineStatus.APPROVED,
        "intune": LineStatus.REJECTED,
    }
    assert claim.associations.count() == 1


def test_approve_refuses_lines_of_another_claim(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    other = submitted_claim(partner_user(), customer_tenant())
    with pytest.raises(DomainError) as error:
        services.claim_approve(actor=reviewer, claim=claim, line_ids=[other.lines.get().pk])
    assert error.value.field == "line_ids"
    assert not claim.associations.exists()


def test_only_reviewers_decide(partner, tenant):
    claim = submitted_claim(partner, tenant)
    for actor in (partner, operator_user(OperatorRole.PROGRAM_ADMIN), partner_user()):
        with pytest.raises(DomainError) as error:
            services.claim_approve(actor=actor, claim=claim)
        assert error.value.code == "permission_denied"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_rejected_claim_cannot_then_be_approved(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_reject(
        actor=reviewer, claim=claim, reason_code="insufficient_poe", message="Unsigned."
    )
    with pytest.raises(DomainError) as error:
        services.claim_approve(actor=reviewer, claim=claim)
    assert error.value.code == "illegal_transition"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    assert not claim.associations.exists()
    assert claim.lines.get().status == LineStatus.REJECTED


def test_reject_needs_a_reason_from_the_list(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    with pytest.raises(DomainError) as error:
        services.claim_reject(actor=reviewer, claim=claim, reason_code="because")
    assert (error.value.code, error.value.field) == ("unknown_reason", "reason_code")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_request_info_then_partner_corrects_contacts_and_resubmits(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    claim = services.claim_request_info(
        actor=reviewer,
        claim=claim,
        reason_code="customer_signature_missing",
        message="The SOW has no customer signature.",
    )
    assert claim.status == ClaimStatus.ACTION_REQUIRED
    assert claim.info_requested_until > timezone.now() + datetime.timedelta(days=4)
    corrected = claim_input(partner, tenant, customer_contact_name="Beatriz Lopes")
    services.claim_update(actor=partner, claim=claim, data=corrected)
    add_poe(partner, claim)
    claim = services.claim_reply(actor=partner, claim=claim, message="Signed SOW attached.")
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.customer_contact_name == "Beatriz Lopes"
    assert claim.info_requested_until is None
    assert claim.proofs.count() == 2


def test_action_required_allows_only_contacts_and_partner_id(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="dates_missing", message="Dates?"
    )
    services.claim_update(
        actor=partner,
        claim=claim,
        data=claim_input(partner, tenant, name="Sneaky rename", products=["intune"]),
    )
    claim.refresh_from_db()
    assert claim.name != "Sneaky rename"
    assert list(claim.lines.values_list("product__code", flat=True)) == ["teams"]


def test_withdraw_before_a_decision_but_not_after(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    assert services.claim_withdraw(actor=partner, claim=claim).status == ClaimStatus.WITHDRAWN
    approved = submitted_claim(partner, customer_tenant())
    services.claim_approve(actor=reviewer, claim=approved)
    with pytest.raises(DomainError) as error:
        services.claim_withdraw(actor=partner, claim=approved)
    assert error.value.code == "illegal_transition"


def test_withdrawing_a_draft_is_illegal(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    with pytest.raises(DomainError, match="Draft"):
        services.claim_withdraw(actor=partner, claim=claim)


def test_customer_declines_some_lines_then_all(partner, tenant):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    teams = claim.lines.get(product__code="teams")
    claim = services.claim_decline_lines(claim=claim, line_ids=[teams.pk], actor_label="a@x")
    assert claim.status == ClaimStatus.SUBMITTED
    claim = services.claim_decline_lines(claim=claim, actor_label="a@x")
    assert claim.status == ClaimStatus.DECLINED
    # Declining again is harmless.
    events = claim.events.count()
    with pytest.raises(DomainError):
        services.claim_decline_lines(claim=claim)
    assert claim.events.count() == events


def test_approve_after_partial_decline_approves_the_rest_partially(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    services.claim_decline_lines(claim=claim, line_ids=[claim.lines.get(product__code="teams").pk])
    claim = services.claim_approve(actor=reviewer, claim=claim)
    assert claim.status == ClaimStatus.PARTIALLY_APPROVED
    assert claim.associations.get().product.code == "intune"


def test_dispute_within_window_returns_to_review(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_reject(actor=reviewer, claim=claim, reason_code="insufficient_poe")
    with pytest.raises(DomainError) as error:
        services.claim_dispute(actor=partner, claim=claim, justification="  ")
    assert error.value.field == "justification"
    claim = services.claim_dispute(actor=partner, claim=claim, justification="See page 2.")
    assert claim.status == ClaimStatus.DISPUTED
    claim = services.claim_start_review(actor=reviewer, claim=claim)
    assert claim.status == ClaimStatus.IN_REVIEW


def test_dispute_with_new_poe_needs_no_justification(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_reject(actor=reviewer, claim=claim, reason_code="insufficient_poe")
    add_poe(partner, claim)
    assert services.claim_dispute(actor=partner, claim=claim, justification="").status == (
        ClaimStatus.DISPUTED
    )


def test_dispute_after_30_days_is_refused(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_reject(actor=reviewer, claim=claim, reason_code="insufficient_poe")
    Claim.objects.filter(pk=claim.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=31)
    )
    with pytest.raises(DomainError) as error:
        services.claim_dispute(actor=partner, claim=claim, justification="Late")
    assert error.value.code == "dispute_window_closed"


def test_internal_notes_are_hidden_from_partners_and_private_unless_shared(
    partner, reviewer, tenant
):
    from cpor.claims.selectors import claim_history

    claim = submitted_claim(partner, tenant)
    services.claim_add_note(actor=reviewer, claim=claim, message="Looks like a reseller.")
    services.claim_add_note(actor=reviewer, claim=claim, message="Ask the CIO.", shared=True)
    colleague = operator_user()
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)

    def notes(actor):
        events = claim_history(actor=actor, claim=claim).filter(internal=True)
        return sorted(events.values_list("message", flat=True))

    assert notes(partner) == []
    assert notes(reviewer) == ["Ask the CIO.", "Looks like a reseller."]
    assert notes(colleague) == ["Ask the CIO."]
    assert notes(admin) == ["Ask the CIO.", "Looks like a reseller."]
    with pytest.raises(DomainError):
        services.claim_add_note(actor=partner, claim=claim, message="Hi")


# --- associations -----------------------------------------------------------


def approved_association(partner, reviewer, tenant, **kwargs):
    claim = submitted_claim(partner, tenant, **kwargs)
    services.claim_approve(actor=reviewer, claim=claim)
    return claim.associations.get()


@pytest.mark.parametrize("activate", [False, True])
def test_customer_declines_pending_or_active_association(partner, reviewer, tenant, activate):
    association = approved_association(partner, reviewer, tenant)
    if activate:
        services.associations_activate_due(now=timezone.now() + datetime.timedelta(days=8))
    services.association_decline(association=association, actor_label="cio@customer.example")
    association.refresh_from_db()
    assert (association.status, association.end_reason) == (
        AssociationStatus.ENDED,
        EndReason.DECLINED_BY_CUSTOMER,
    )
    # A second decline changes nothing.
    services.association_decline(association=association)
    assert association.events.filter(action=EventAction.END).count() == 1


def test_partner_disassociates_with_a_mandatory_reason(partner, reviewer, tenant):
    association = approved_association(partner, reviewer, tenant)
    with pytest.raises(DomainError) as error:
        services.association_withdraw(actor=partner, association=association, reason=" ")
    assert error.value.field == "reason"
    services.association_withdraw(actor=partner, association=association, reason="Project over")
    association.refresh_from_db()
    assert association.end_reason == EndReason.WITHDRAWN
    with pytest.raises(DomainError) as error:
        services.association_withdraw(actor=partner, association=association, reason="Again")
    assert error.value.code == "illegal_transition"


def test_program_admin_revokes_but_reviewer_cannot(partner, reviewer, tenant):
    association = approved_association(partner, reviewer, tenant)
    with pytest.raises(DomainError):
        services.association_revoke(actor=reviewer, association=association, reason="x")
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    services.association_revoke(actor=admin, association=association, reason="Fraud")
    association.refresh_from_db()
    assert association.end_reason == EndReason.REVOKED


def test_newcomer_with_newer_poe_supersedes_the_holder(partner, reviewer, tenant):
    today = timezone.localdate()
    holder = approved_association(
        partner, reviewer, tenant, signed_on=today - datetime.timedelta(days=60)
    )
    rival = partner_user()
    claim = submitted_claim(rival, tenant, signed_on=today - datetime.timedelta(days=5))
    services.claim_approve(actor=reviewer, claim=claim)
    holder.refresh_from_db()
    winner = claim.associations.get()
    assert (holder.status, holder.end_reason, holder.superseded_by) == (
        AssociationStatus.ENDED,
        EndReason.SUPERSEDED,
        winner,
    )
    assert holder.claim.events.filter(action=EventAction.END, reason_code="superseded").exists()


def test_newcomer_with_older_poe_cannot_supersede(partner, reviewer, tenant):
    today = timezone.localdate()
    holder = approved_association(
        partner, reviewer, tenant, signed_on=today - datetime.timedelta(days=5)
    )
    rival = partner_user()
    claim = submitted_claim(rival, tenant, signed_on=today - datetime.timedelta(days=60))
    with pytest.raises(DomainError) as error:
        services.claim_approve(actor=reviewer, claim=claim)
    assert error.value.code == "unit_held_with_newer_poe"
    holder.refresh_from_db()
    assert holder.is_held
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert not claim.associations.exists()


def test_holder_protects_association_with_newer_poe(partner, reviewer, tenant):
    today = timezone.localdate()
    holder = approved_association(
        partner, reviewer, tenant, signed_on=today - datetime.timedelta(days=60)
    )
    rival_claim = submitted_claim(
        partner_user(), tenant, signed_on=today - datetime.timedelta(days=20)
    )
    add_poe(partner, holder.claim, signed_on=today - datetime.timedelta(days=1))
    with pytest.raises(DomainError):
        services.claim_approve(actor=reviewer, claim=rival_claim)
    holder.refresh_from_db()
    assert holder.is_held


def test_history_is_written_for_every_transition(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_start_review(actor=reviewer, claim=claim)
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="dates_missing", message="Dates"
    )
    services.claim_reply(actor=partner, claim=claim, message="Added")
    services.claim_approve(actor=reviewer, claim=claim)
    transitions = [(a, f, t) for a, f, t in statuses(claim) if f != t]
    assert [t for _, _, t in transitions] == [
        "draft",
        "submitted",
        "in_review",
        "action_required",
        "submitted",
        "approved",
    ]
    assert ClaimEvent.objects.filter(claim=claim, actor__isnull=True, actor_label="").count() == 0
