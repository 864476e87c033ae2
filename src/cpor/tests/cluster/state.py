"""Run inside the cluster's environment (production settings, the cluster's database):
``python -m cpor.tests.cluster.state seed|inspect``, printing JSON on stdout.

``seed`` makes the people of the load test (partners with API tokens and webhook
endpoints, customer tenants with their admins, a reviewer); ``inspect`` reads back what
the database holds once the load is over, for the test to compare with what its clients
were told."""

import json
import sys


def seed(webhook_base: str, partners: int, tenants: int) -> dict:
    from cpor.accounts.models import OperatorRole
    from cpor.api.services import api_token_create, webhook_endpoint_create
    from cpor.consent.models import CustomerAdmin
    from cpor.testing.factories import UserFactory, customer_tenant, operator_user, partner_user

    def token(user) -> str:
        return api_token_create(actor=user, name="cluster test")[1]

    out = {"partners": [], "tenants": []}
    for number in range(partners):
        user = partner_user()
        endpoint, _secret = webhook_endpoint_create(actor=user, url=f"{webhook_base}/p{number}")
        out["partners"].append(
            {
                "token": token(user),
                "organisation": user.partner_membership.organisation_id,
                "partner_id": user.partner_membership.organisation.locations.first().partner_id,
                "endpoint": endpoint.pk,
            }
        )
    for _ in range(tenants):
        tenant = customer_tenant()
        admin = UserFactory()
        CustomerAdmin.objects.create(user=admin, tenant=tenant)
        out["tenants"].append(
            {
                "tenant_id": str(tenant.tenant_id),
                "domain": tenant.domains.first().domain,
                "token": token(admin),
            }
        )
    out["reviewer"] = token(operator_user(OperatorRole.REVIEWER))
    return out


def inspect() -> dict:
    from django.db import connection
    from django.db.models import Q

    from cpor.api.models import WebhookEndpoint
    from cpor.api.webhooks import NOT_STATE_CHANGES
    from cpor.claims.models import Association, Claim, ClaimEvent, ProofOfExecution
    from cpor.notifications.consumers import CONSUMERS
    from cpor.notifications.models import EventCursor, OutboxMessage
    from cpor.ops.models import PeriodicJobRun

    unconsumed = {}
    for name in CONSUMERS:
        cursor = EventCursor.objects.filter(consumer=name).first()
        after = Q()
        if cursor is not None:
            after = Q(txid__gt=cursor.txid) | Q(txid=cursor.txid, id__gt=cursor.event_id)
        unconsumed[name] = ClaimEvent.objects.filter(after).count()
    with_endpoints = set(
        WebhookEndpoint.objects.filter(active=True).values_list("organisation_id", flat=True)
    )
    events = list(
        ClaimEvent.objects.values(
            "id", "claim_id", "action", "association_id", "internal", "claim__organisation_id"
        )
    )
    with connection.cursor() as cursor:
        # The invariant: at most one held association per unit.
        cursor.execute(
            """
            SELECT tenant_id, product_id, subscription_id, count(*)
            FROM claims_association
            WHERE status IN ('pending_customer', 'active')
            GROUP BY tenant_id, product_id, subscription_id
            HAVING count(*) > 1
            """
        )
        double_holders = cursor.fetchall()
    return {
        "claims": list(Claim.objects.values("id", "name", "status", "organisation_id")),
        "events": [
            {k: e[k] for k in ("id", "claim_id", "action", "association_id")} for e in events
        ],
        "webhook_events": sorted(
            e["id"]
            for e in events
            if not e["internal"]
            and e["action"] not in NOT_STATE_CHANGES
            and e["claim__organisation_id"] in with_endpoints
        ),
        "associations": list(Association.objects.values("id", "claim_id", "status", "end_reason")),
        "proofs": list(ProofOfExecution.objects.values("id", "claim_id", "file", "sha256")),
        "outbox": list(
            OutboxMessage.objects.values("id", "kind", "status", "dedupe_key", "event_id")
        ),
        "unconsumed": unconsumed,
        "double_holders": [list(map(str, row)) for row in double_holders],
        "job_runs": dict(PeriodicJobRun.objects.values_list("job", "runs")),
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "seed":
        result = seed(argv[1], int(argv[2]), int(argv[3]))
    elif argv[0] == "inspect":
        result = inspect()
    else:
        raise SystemExit("usage: state seed WEBHOOK_BASE PARTNERS TENANTS | state inspect")
    # On a line of its own: the settings may log to stdout too.
    sys.stdout.write("\nCPOR-STATE " + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
