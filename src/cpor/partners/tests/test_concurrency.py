"""Two partner admins demoting each other at the same instant leave one partner admin:
changes to an organisation's people lock the organisation row first."""

import threading

import pytest
from django.db import close_old_connections, connection

from cpor.accounts.models import User
from cpor.errors import DomainError
from cpor.partners import self_service
from cpor.partners.models import Membership, PartnerRoleName
from cpor.testing.factories import partner_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections"),
]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        close_old_connections()
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(change):
    first = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = first.partner_membership.organisation
    second = partner_user(PartnerRoleName.PARTNER_ADMIN, organisation)

    def remove(actor, target):
        member = target.partner_membership.pk
        if change == "demote":
            return lambda: self_service.member_set_role(
                actor=actor, member_pk=member, role=PartnerRoleName.INCENTIVES_USER
            )
        return lambda: self_service.member_set_active(actor=actor, member_pk=member, active=False)

    for _round in range(3):
        outcomes = _race([remove(first, second), remove(second, first)])
        refused = [o for o in outcomes if isinstance(o, DomainError)]
        assert len(refused) == 1, outcomes
        assert refused[0].code in ("last_partner_admin", "permission_denied")
        admins = Membership.objects.filter(
            organisation=organisation, role=PartnerRoleName.PARTNER_ADMIN, user__is_active=True
        )
        assert admins.count() == 1
        # Put both back for the next round.
        Membership.objects.filter(organisation=organisation).update(
            role=PartnerRoleName.PARTNER_ADMIN
        )
        User.objects.filter(partner_membership__organisation=organisation).update(is_active=True)
