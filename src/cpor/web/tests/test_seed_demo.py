"""manage.py seed_demo: the demo story, its idempotency and the bulk generator."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from cpor.accounts.models import OperatorRole, User
from cpor.claims import services
from cpor.claims.models import (
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    EventAction,
)
from cpor.partners.models import PartnerOrganisation, PartnerRoleName
from cpor.web import demo

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "partners", "customers", "claims", "consent"}
    }


def test_seed_demo_twice_creates_everything_once():
    seed()
    first = row_counts()
    assert "nothing new" in seed()
    assert row_counts() == first
    assert PartnerOrganisation.objects.count() == 2
    assert first["claims.Claim"] > 0


def test_seed_demo_has_every_claim_status_and_association_state():
    seed()
    assert set(Claim.objects.values_list("status", flat=True)) == set(ClaimStatus.values)
    held = set(
        Association.objects.exclude(status=AssociationStatus.ENDED).values_list("status", flat=True)
    )
    assert held == {AssociationStatus.PENDING_CUSTOMER, AssociationStatus.ACTIVE}
    reasons = set(
        Association.objects.filter(status=AssociationStatus.ENDED).values_list(
            "end_reason", flat=True
        )
    )
    assert reasons == set(EndReason.values)
    # The history is real: every claim starts with a create event (a legacy import's with
    # its import event), and a renewal carried an association over.
    assert not Claim.objects.exclude(
        events__action__in=[EventAction.CREATE, EventAction.LEGACY_IMPORT]
    ).exists()
    assert Association.objects.filter(legacy=True, status=AssociationStatus.ACTIVE).exists()
    assert ClaimEvent.objects.filter(action=EventAction.CARRY_OVER).exists()


def test_the_disputed_demo_claim_can_be_decided_again():
    seed()
    reviewer = User.objects.get(username="reviewer@cpor.example")
    claim = Claim.objects.get(status=ClaimStatus.DISPUTED)
    claim = services.claim_start_review(actor=reviewer, claim=claim)
    claim = services.claim_approve(actor=reviewer, claim=claim)
    assert claim.status == ClaimStatus.APPROVED
    assert claim.associations.get().status == AssociationStatus.PENDING_CUSTOMER


def test_seed_demo_users_can_sign_in_with_the_demo_password():
    seed()
    for email, role in [
        ("admin@lisbon-cloud.example", PartnerRoleName.PARTNER_ADMIN),
        ("incentives@lisbon-cloud.example", PartnerRoleName.INCENTIVES_ADMIN),
        ("viewer@northwind-advisory.example", PartnerRoleName.INCENTIVES_USER),
    ]:
        user = User.objects.get(username=email)
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.partner_membership.role == role
    admin = User.objects.get(username="programadmin@cpor.example")
    assert (admin.operator_role, admin.is_staff) == (OperatorRole.PROGRAM_ADMIN, True)
    assert User.objects.get(username="reviewer@cpor.example").is_reviewer
    customer = User.objects.get(username="it-admin@contoso-retail.example")
    assert customer.check_password(demo.DEMO_PASSWORD)
    assert customer.customer_admin.tenant.name.startswith("Contoso")


def test_if_empty_does_nothing_when_a_partner_exists():
    PartnerOrganisation.objects.create(name="Someone Else Ltd")
    output = seed("--if-empty")
    assert "nothing seeded" in output
    assert PartnerOrganisation.objects.count() == 1
    assert not Claim.objects.exists()


def test_if_empty_seeds_an_empty_database():
    seed("--if-empty")
    assert Claim.objects.exists()


def test_generated_claims_keep_one_holder_per_unit():
    seed()
    before = Claim.objects.count()
    seed("--claims", "200", "--random-seed", "7")
    assert Claim.objects.count() == before + 200
    assert demo.held_units_with_two_holders() == []
    generated = Claim.objects.order_by("-pk")[:200]
    for claim in Claim.objects.filter(pk__in=[c.pk for c in generated]).prefetch_related(
        "events", "lines"
    ):
        actions = {event.action for event in claim.events.all()}
        assert EventAction.CREATE in actions
        assert claim.lines.all()
        if claim.status not in (ClaimStatus.DRAFT, ClaimStatus.EXPIRED):
            assert EventAction.SUBMIT in actions
