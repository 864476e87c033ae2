"""Customer-granted visibility: invitations from the customer page, accepted by a
partner admin, revocable by the customer; what counts as a relationship."""

import datetime

import pytest
from django.core import signing
from django.db import connection
from django.utils import timezone

from cpor.audit.models import AuditAction, AuditEntry
from cpor.claims import services as claim_services
from cpor.customers import relationships
from cpor.customers.models import PartnerInvitation
from cpor.errors import DomainError, PermissionDenied
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def related(org, who="partner_admin") -> bool:
    organisation_id = org[who].partner_membership.organisation_id
    return relationships.has_relationship(organisation_id=organisation_id, tenant=org["tenant"])


def test_invitation_accepted_by_the_partner_admin_makes_a_relationship(org):
    assert not related(org)
    invitation, code = relationships.invitation_create(actor=org["customer_admin"], note="Lisbon")
    assert invitation.state == "pending"
    accepted = relationships.invitation_accept(actor=org["partner_admin"], code=code)
    assert accepted.organisation == org["organisation"]
    assert accepted.state == "accepted"
    assert related(org)
    assert not related(org, "other_admin")
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {AuditAction.INVITATION_CREATED, AuditAction.RELATIONSHIP_ACCEPTED} <= actions


def test_accepting_the_same_code_twice_changes_nothing(org):
    _invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    first = relationships.invitation_accept(actor=org["partner_admin"], code=code)
    again = relationships.invitation_accept(actor=org["partner_admin"], code=code)
    assert first.pk == again.pk
    assert AuditEntry.objects.filter(action=AuditAction.RELATIONSHIP_ACCEPTED).count() == 1


def test_a_code_already_accepted_is_refused_to_another_organisation(org):
    _invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    relationships.invitation_accept(actor=org["partner_admin"], code=code)
    with pytest.raises(DomainError) as refused:
        relationships.invitation_accept(actor=org["other_admin"], code=code)
    assert (refused.value.code, refused.value.field) == ("invitation_used", "code")
    assert not related(org, "other_admin")
    # The refusal is in the other organisation's audit trail, not in ours.
    entry = AuditEntry.objects.get(action=AuditAction.INVITATION_REFUSED)
    assert entry.organisation == org["other_admin"].partner_membership.organisation
    assert entry.after == {"reason": "invitation_used"}


def test_an_expired_invitation_is_refused(org):
    invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    PartnerInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    with pytest.raises(DomainError) as refused:
        relationships.invitation_accept(actor=org["partner_admin"], code=code)
    assert refused.value.code == "invitation_expired"
    assert not related(org)


def test_a_revoked_invitation_is_refused(org):
    invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    relationships.invitation_revoke(actor=org["customer_admin"], invitation_pk=invitation.pk)
    with pytest.raises(DomainError) as refused:
        relationships.invitation_accept(actor=org["partner_admin"], code=code)
    assert refused.value.code == "invitation_revoked"
    assert not related(org)


@pytest.mark.parametrize(
    "forge",
    [
        lambda code: code[:-2] + ("AA" if not code.endswith("AA") else "BB"),  # signature
        lambda code: (
            signing.dumps("made-up-nonce", salt="cpor.customers.partner-invitation")[:-1] + "x"
        ),
        lambda code: signing.dumps("made-up-nonce", salt="another-purpose"),
        lambda code: "",
    ],
)
def test_a_forged_or_tampered_code_is_refused(org, forge):
    _invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    with pytest.raises(DomainError) as refused:
        relationships.invitation_accept(actor=org["partner_admin"], code=forge(code))
    assert refused.value.code in ("invitation_invalid", "required")
    assert refused.value.field == "code"
    assert not related(org)


def test_a_correctly_signed_but_unknown_nonce_is_refused(org):
    code = signing.dumps("never-issued", salt=relationships.SALT)
    with pytest.raises(DomainError) as refused:
        relationships.invitation_accept(actor=org["partner_admin"], code=code)
    assert refused.value.code == "invitation_invalid"


@pytest.mark.parametrize(
    "role", ["incentives_admin", "incentives_user", "reviewer", "customer_admin"]
)
def test_only_a_partner_admin_accepts(org, role):
    _invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    with pytest.raises(PermissionDenied):
        relationships.invitation_accept(actor=org[role], code=code)
    assert not related(org)


def test_the_customer_revokes_a_relationship_and_visibility_ends(org):
    invitation, code = relationships.invitation_create(actor=org["customer_admin"])
    relationships.invitation_accept(actor=org["partner_admin"], code=code)
    relationships.invitation_revoke(actor=org["customer_admin"], invitation_pk=invitation.pk)
    assert not related(org)
    entry = AuditEntry.objects.get(action=AuditAction.RELATIONSHIP_REVOKED)
    assert entry.organisation == org["organisation"]  # the partner reads it in its trail
    assert entry.before == {"state": "accepted"}


def test_another_customer_cannot_revoke_nor_list_our_invitations(org):
    from cpor.consent.models import CustomerAdmin
    from cpor.testing.factories import UserFactory, customer_tenant

    invitation, _code = relationships.invitation_create(actor=org["customer_admin"])
    stranger = UserFactory()
    CustomerAdmin.objects.create(user=stranger, tenant=customer_tenant())
    with pytest.raises(DomainError) as refused:
        relationships.invitation_revoke(actor=stranger, invitation_pk=invitation.pk)
    assert refused.value.code == "not_found"
    assert list(relationships.tenant_invitations(actor=stranger)) == []
    with pytest.raises(PermissionDenied):
        relationships.invitation_create(actor=org["partner_admin"])


def test_an_association_held_or_once_held_is_a_relationship(org):
    manager = partner_user(PartnerRoleName.INCENTIVES_ADMIN, org["organisation"])
    assert not related(org)
    claim = submitted_claim(manager, org["tenant"])
    assert not related(org)  # a claim alone is not a relationship
    claim_services.claim_approve(actor=org["reviewer"], claim=claim)
    assert related(org)
    association = claim.associations.get()
    claim_services.association_revoke(
        actor=org["program_admin"], association=association, reason="test"
    )
    assert related(org)  # held once: still a relationship


def test_the_forms_of_the_rule_agree(org):
    """The relationship rule has four forms, each for the query shape it serves: the
    ids among given tenants (SQL, every list page), the EXISTS column (a list sorted by
    customer), the per-row probe (a search) and the same SQL as a condition on a row (a
    claim locked for a transition). Over every kind of tenant they agree."""
    from cpor.claims.models import Claim
    from cpor.customers.models import Tenant
    from cpor.testing.factories import active_associations, claim_input, customer_tenant

    partner = org["partner_admin"]
    organisation_id = partner.partner_membership.organisation_id

    def invited(tenant, **state):
        invitation, code = relationships.invitation_create(actor=admin_of(tenant))
        relationships.invitation_accept(actor=partner, code=code)
        PartnerInvitation.objects.filter(pk=invitation.pk).update(**state)

    def admin_of(tenant):
        from cpor.consent.models import CustomerAdmin
        from cpor.testing.factories import UserFactory

        user = UserFactory()
        CustomerAdmin.objects.create(user=user, tenant=tenant)
        return user

    tenants = {name: customer_tenant() for name in ("held", "ended", "invited", "revoked")}
    tenants |= {name: customer_tenant() for name in ("pending", "other", "none")}
    active_associations(partner, tenants["held"])
    ended = active_associations(partner, tenants["ended"])
    claim_services.association_decline(actor=admin_of(tenants["ended"]), association=ended[0])
    invited(tenants["invited"])
    invited(tenants["revoked"], revoked_at=timezone.now())
    relationships.invitation_create(actor=admin_of(tenants["pending"]))  # not accepted
    active_associations(org["other_admin"], tenants["other"])  # another organisation's
    expected = {tenants[name].pk for name in ("held", "ended", "invited")}
    for tenant in tenants.values():  # a claim of the partner's on each, for the probe
        claim_services.claim_create(actor=partner, data=claim_input(partner, tenant))

    ids = {tenant.pk for tenant in tenants.values()}
    assert relationships.related_tenant_ids(organisation_id, ids) == expected
    shown = Tenant.objects.filter(pk__in=ids)
    assert (
        set(
            shown.filter(relationships.related_tenant(organisation_id, tenant="pk")).values_list(
                "pk", flat=True
            )
        )
        == expected
    )
    claims = Claim.objects.filter(tenant_id__in=ids, organisation_id=organisation_id)
    assert {
        claim.tenant_id
        for claim in claims.filter(relationships.related_tenant_probe(organisation_id))
    } == expected
    condition, params = relationships.related_tenant_sql(organisation_id, "t.id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id FROM customers_tenant t WHERE {condition}", params)  # noqa: S608
        assert {tenant_id for (tenant_id,) in cursor.fetchall()} & ids == expected
    assert relationships.related_tenant_ids(organisation_id, []) == set()
