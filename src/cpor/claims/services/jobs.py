"""The periodic transitions: activation, expiry and renewal, stale drafts, unanswered requests.

Each job is a batch ``Transition`` (``batches.py``): its due rows change and get their
history events batch by batch, in a constant number of statements per batch (one on
PostgreSQL), safe on two workers at once. Like every transition, a job writes its state
and its events and nothing else: e-mails and webhooks follow from the events after
commit. The events' messages are the translated texts the row-by-row code wrote,
assembled in SQL from the same templates.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.catalog.models import ProgramSettings
from cpor.claims.models import (
    AssociationStatus,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.claims.reasons import RejectionReason
from cpor.claims.services.batches import (
    Event,
    Sql,
    Transition,
    day,
    message,
    run_in_batches,
    utc_day,
    uuid_text,
)

BATCH_SIZE = 5000

PENDING = AssociationStatus.PENDING_CUSTOMER
ACTIVE = AssociationStatus.ACTIVE
HELD = "(%s, %s)"
# A renewal another association already holds cannot take this one (one holder per unit).
# (SQL texts here are built from constants and placeholders; every value is a parameter.)
RENEWAL_FREE = f"""NOT EXISTS (
    SELECT 1 FROM claims_association h WHERE h.subscription_id = r.id AND h.status IN {HELD})"""  # noqa: S608


# ---------------------------------------------------------------------------
# Associations


def associations_activate_due(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Pending customer → Active for every association whose notice period has passed
    (``notice_ends_at <= now``); returns how many it activated."""
    now = now or timezone.now()
    activation = Transition(
        table="claims_association",
        pick=Sql(
            "SELECT id, claim_id FROM claims_association"
            " WHERE status = %s AND notice_ends_at <= %s",
            [PENDING, now],
        ),
        columns=("id", "claim_id"),
        lock="claims_association",
        change=Sql("status = %s, activated_at = %s", [ACTIVE, now]),
        event=Event(Sql("due.claim_id"), Sql("due.id"), EventAction.ACTIVATE, PENDING, ACTIVE),
    )
    return run_in_batches(activation, at=now, batch_size=batch_size)


def associations_expire_ended_subscriptions(
    *, today: datetime.date | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """The Dynamics 365 rule: an association lasts as long as its subscription.

    A held association whose subscription ended (``ends_on < today``) moves to the
    renewal, the subscription naming it as predecessor, unless another association
    already holds that renewal; otherwise it ends as expired. A legacy association
    (made before CPOR) is never carried over: it ends with its subscription, and
    ``CPOR_LEGACY_NOTICE_DAYS`` before that its partner is told to claim again
    (``legacy_warn_reassociation``). Returns how many it warned, carried over or ended."""
    today = today or timezone.localdate()
    now = timezone.now()
    warned = legacy_warn_reassociation(today=today, now=now, batch_size=batch_size)
    carry_over = Transition(
        table="claims_association",
        pick=Sql(
            f"""SELECT a.id, a.claim_id, a.status, r.id, s.subscription_id, r.subscription_id
            FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            JOIN customers_subscription r ON r.predecessor_id = s.id
            WHERE a.status IN {HELD} AND s.ends_on < %s AND r.ends_on >= %s
              AND a.legacy = %s AND {RENEWAL_FREE}""",  # noqa: S608 - constants
            [PENDING, ACTIVE, today, today, False, PENDING, ACTIVE],
        ),
        columns=("id", "claim_id", "status", "renewal_id", "old_uuid", "new_uuid"),
        lock="a",
        change=Sql("subscription_id = due.renewal_id"),
        event=Event(
            Sql("due.claim_id"),
            Sql("due.id"),
            EventAction.CARRY_OVER,
            Sql("due.status"),
            Sql("due.status"),
            message=message(
                _("Carried over from %(old)s to renewal %(new)s."),
                old=uuid_text("due.old_uuid"),
                new=uuid_text("due.new_uuid"),
            ),
        ),
    )
    ended = message(
        _("Subscription %(id)s ended on %(day)s."),
        id=uuid_text("due.subscription_uuid"),
        day=day("due.ends_on"),
    )
    expiry = Transition(
        table="claims_association",
        pick=Sql(
            f"""SELECT a.id, a.claim_id, a.status, s.subscription_id, s.ends_on
            FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            WHERE a.status IN {HELD} AND s.ends_on < %s AND (a.legacy = %s OR NOT EXISTS (
                SELECT 1 FROM customers_subscription r
                WHERE r.predecessor_id = s.id AND r.ends_on >= %s AND {RENEWAL_FREE}
            ))""",  # noqa: S608 - constants
            [PENDING, ACTIVE, today, True, today, PENDING, ACTIVE],
        ),
        columns=("id", "claim_id", "status", "subscription_uuid", "ends_on"),
        lock="a",
        change=Sql(
            f"status = %s, end_reason = %s, ended_at = %s, end_message = {ended.text}",
            [AssociationStatus.ENDED, EndReason.EXPIRED, now, *ended.params],
        ),
        event=Event(
            Sql("due.claim_id"),
            Sql("due.id"),
            EventAction.END,
            Sql("due.status"),
            AssociationStatus.ENDED,
            EndReason.EXPIRED,
            ended,
        ),
    )
    # A claim approved at the same moment may take a renewal a batch moves an association
    # to: the unique index makes the batch wait for it, then refuses the batch. Picked
    # again, that renewal is held, and the association is left to expire.
    return (
        warned
        + run_in_batches(carry_over, at=now, batch_size=batch_size, retries=3)
        + run_in_batches(expiry, at=now, batch_size=batch_size)
    )


def legacy_notice_days() -> int:
    return int(getattr(settings, "CPOR_LEGACY_NOTICE_DAYS", 30))


def legacy_warn_reassociation(
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Tell each partner whose legacy association's subscription ends within
    ``CPOR_LEGACY_NOTICE_DAYS`` (default 30) that it must claim the unit again: a
    ``warn_reassociate`` event, from which the e-mail follows. Once per association
    (``reassociation_warned_at``)."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    horizon = today + datetime.timedelta(days=legacy_notice_days())
    ends = message(
        _("Subscription %(id)s ends on %(day)s: submit a claim for it to stay partner of record."),
        id=uuid_text("due.subscription_uuid"),
        day=day("due.ends_on"),
    )
    warning = Transition(
        table="claims_association",
        pick=Sql(
            f"""SELECT a.id, a.claim_id, a.status, s.subscription_id, s.ends_on
            FROM claims_association a
            JOIN customers_subscription s ON s.id = a.subscription_id
            WHERE a.legacy = %s AND a.reassociation_warned_at IS NULL
              AND a.status IN {HELD} AND s.ends_on >= %s AND s.ends_on <= %s""",  # noqa: S608
            [True, PENDING, ACTIVE, today, horizon],
        ),
        columns=("id", "claim_id", "status", "subscription_uuid", "ends_on"),
        lock="a",
        change=Sql("reassociation_warned_at = %s", [now]),
        event=Event(
            Sql("due.claim_id"),
            Sql("due.id"),
            EventAction.WARN_REASSOCIATE,
            Sql("due.status"),
            Sql("due.status"),
            message=ends,
        ),
    )
    return run_in_batches(warning, at=now, batch_size=batch_size)


# ---------------------------------------------------------------------------
# Claims


def claims_warn_stale_drafts(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Warn about each draft that will expire within ``CPOR_DRAFT_WARNING_DAYS``: a
    ``warn_expiry`` event naming the day, from which the author's e-mail follows.

    Once per period of inactivity: ``draft_warned_at`` is set, and a draft is warned
    again only after an edit moved its ``updated_at`` past that."""
    now = now or timezone.now()
    expiry = datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    warn_before = datetime.timedelta(days=settings.CPOR_DRAFT_WARNING_DAYS)
    cutoff = now - max(expiry - warn_before, datetime.timedelta(0))
    warning = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id, updated_at FROM claims_claim"
            " WHERE status = %s AND updated_at < %s"
            " AND (draft_warned_at IS NULL OR draft_warned_at < updated_at)",
            [ClaimStatus.DRAFT, cutoff],
        ),
        columns=("id", "updated_at"),
        lock="claims_claim",
        change=Sql("draft_warned_at = %s", [now]),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.WARN_EXPIRY,
            message=message(
                _("Expires on %s unless edited."), utc_day("due.updated_at", plus=expiry)
            ),
        ),
    )
    return run_in_batches(warning, at=now, batch_size=batch_size)


def claims_expire_stale_drafts(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Expire drafts untouched for the program's draft expiry period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    expiry = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id, updated_at FROM claims_claim WHERE status = %s AND updated_at < %s",
            [ClaimStatus.DRAFT, cutoff],
        ),
        columns=("id", "updated_at"),
        lock="claims_claim",
        change=Sql("status = %s, updated_at = %s", [ClaimStatus.EXPIRED, now]),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.EXPIRE,
            ClaimStatus.DRAFT,
            ClaimStatus.EXPIRED,
            message=message(_("Untouched since %s."), utc_day("due.updated_at")),
        ),
    )
    return run_in_batches(expiry, at=now, batch_size=batch_size)


def claims_reject_unanswered(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Reject claims whose request for information passed its deadline unanswered
    (``info_requested_until < now``), with their pending lines."""
    now = now or timezone.now()
    rejection = Transition(
        table="claims_claim",
        pick=Sql(
            "SELECT id FROM claims_claim WHERE status = %s AND info_requested_until < %s",
            [ClaimStatus.ACTION_REQUIRED, now],
        ),
        columns=("id",),
        lock="claims_claim",
        change=Sql(
            "status = %s, updated_at = %s, decided_at = %s, info_requested_until = NULL",
            [ClaimStatus.REJECTED, now, now],
        ),
        also=(
            Sql(
                "UPDATE claims_claimline SET status = %s"
                " WHERE status = %s AND claim_id IN (SELECT id FROM due)",
                [LineStatus.REJECTED, LineStatus.PENDING],
            ),
        ),
        event=Event(
            Sql("due.id"),
            None,
            EventAction.REJECT,
            ClaimStatus.ACTION_REQUIRED,
            ClaimStatus.REJECTED,
            RejectionReason.NO_PARTNER_RESPONSE,
            _("No answer by the deadline."),
        ),
    )
    return run_in_batches(rejection, at=now, batch_size=batch_size)
