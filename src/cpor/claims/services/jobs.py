"""The periodic transitions: activation, expiry and renewal, stale drafts, unanswered requests."""

import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.catalog.models import ProgramSettings
from cpor.claims.models import (
    HELD_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimStatus,
    EndReason,
    EventAction,
)
from cpor.claims.reasons import RejectionReason
from cpor.claims.services.association import _end, _lock_association
from cpor.claims.services.history import _lock_claim, _move, _record
from cpor.claims.services.review import _reject
from cpor.customers.models import Subscription
from cpor.notifications.notices import draft_expiry_warning_notify


def association_activate(*, association: Association, now: datetime.datetime | None = None) -> bool:
    """Pending customer → Active once the notice period passed without a decline.

    A conditional write: safe to run on two workers at once; returns whether it acted."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Association.objects.filter(
            pk=association.pk,
            status=AssociationStatus.PENDING_CUSTOMER,
            notice_ends_at__lte=now,
        ).update(status=AssociationStatus.ACTIVE, activated_at=now)
        if changed:
            _record_activation(association, now)
    return bool(changed)


def _record_activation(association: Association, now: datetime.datetime) -> None:
    association.status = AssociationStatus.ACTIVE
    association.activated_at = now
    _record(
        association.claim,
        action=EventAction.ACTIVATE,
        actor=None,
        association=association,
        from_status=AssociationStatus.PENDING_CUSTOMER,
        to_status=AssociationStatus.ACTIVE,
        at=now,
    )


def associations_activate_due(
    *, now: datetime.datetime | None = None, batch_size: int = 500
) -> int:
    """The periodic job: activate every association whose notice period has passed.

    Batch by batch, each in one transaction: the batch's rows are locked (skipping rows
    another worker holds, on PostgreSQL), switched with one conditional UPDATE, and
    each gets its history event and notification. Two workers never act on the same
    association; a worker stops when what is left is held by the other."""
    now = now or timezone.now()
    due_filter = {"status": AssociationStatus.PENDING_CUSTOMER, "notice_ends_at__lte": now}
    skip_locked = connection.features.has_select_for_update_skip_locked
    activated = 0
    while True:
        with transaction.atomic():
            batch = list(
                Association.objects.select_for_update(of=("self",), skip_locked=skip_locked)
                .filter(**due_filter)
                .select_related("claim__tenant", "product", "subscription", "tenant")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return activated
            changed = Association.objects.filter(pk__in=[a.pk for a in batch], **due_filter).update(
                status=AssociationStatus.ACTIVE, activated_at=now
            )
            if changed != len(batch):  # cannot happen under the row locks; never half-act
                raise RuntimeError("activation batch changed under its lock")
            for association in batch:
                _record_activation(association, now)
            activated += changed


@transaction.atomic
def association_expire_or_renew(
    *, association: Association, today: datetime.date | None = None
) -> Association:
    """A subscription association whose subscription ended: carry it over to the renewal
    (a subscription recording this one as predecessor), or end it as expired."""
    today = today or timezone.localdate()
    association = _lock_association(association)
    subscription = association.subscription
    if not association.is_held or subscription is None or subscription.ends_on >= today:
        return association
    renewal = Subscription.objects.filter(predecessor=subscription, ends_on__gte=today).first()
    if renewal is not None:
        try:
            with transaction.atomic():
                Association.objects.filter(pk=association.pk).update(subscription=renewal)
        except IntegrityError:
            renewal = None  # someone else already holds the renewal: this one simply expires
        else:
            association.subscription = renewal
            _record(
                association.claim,
                action=EventAction.CARRY_OVER,
                actor=None,
                association=association,
                from_status=association.status,
                to_status=association.status,
                message=_("Carried over from %(old)s to renewal %(new)s.")
                % {"old": subscription.subscription_id, "new": renewal.subscription_id},
            )
            return association
    return _end(
        association,
        reason=EndReason.EXPIRED,
        actor=None,
        now=timezone.now(),
        message=_("Subscription %(id)s ended on %(day)s.")
        % {"id": subscription.subscription_id, "day": subscription.ends_on.isoformat()},
    )


def associations_expire_ended_subscriptions(*, today: datetime.date | None = None) -> int:
    """The periodic job for the Dynamics 365 rule: associations last as long as the
    subscription; returns how many associations it ended or carried over."""
    today = today or timezone.localdate()
    due = Association.objects.filter(
        status__in=HELD_STATUSES, subscription__ends_on__lt=today
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        association_expire_or_renew(association=pk, today=today)
        count += 1
    return count


# ---------------------------------------------------------------------------
# Claim periodic transitions


def claims_warn_stale_drafts(*, now: datetime.datetime | None = None) -> int:
    """E-mail the author of each draft that will expire within ``CPOR_DRAFT_WARNING_DAYS``,
    once per period of inactivity (a conditional write of ``draft_warned_at``)."""
    now = now or timezone.now()
    expiry = datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    warn_before = datetime.timedelta(days=settings.CPOR_DRAFT_WARNING_DAYS)
    cutoff = now - max(expiry - warn_before, datetime.timedelta(0))
    unwarned = Q(draft_warned_at__isnull=True) | Q(draft_warned_at__lt=F("updated_at"))
    warned = 0
    due = Claim.objects.filter(unwarned, status=ClaimStatus.DRAFT, updated_at__lt=cutoff)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not Claim.objects.filter(
                unwarned, pk=pk, status=ClaimStatus.DRAFT, updated_at__lt=cutoff
            ).update(draft_warned_at=now):
                continue  # edited, or warned by another worker meanwhile
            claim = Claim.objects.select_related("created_by", "tenant").get(pk=pk)
            draft_expiry_warning_notify(claim=claim, expires_on=(claim.updated_at + expiry).date())
            warned += 1
    return warned


def claims_expire_stale_drafts(*, now: datetime.datetime | None = None) -> int:
    """Expire drafts untouched for the program's draft expiry period."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    expired = 0
    for pk in Claim.objects.filter(status=ClaimStatus.DRAFT, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            claim = _lock_claim(pk)
            if claim.status != ClaimStatus.DRAFT or claim.updated_at >= cutoff:
                continue  # edited or expired by another worker meanwhile
            _move(
                claim,
                ClaimStatus.EXPIRED,
                action=EventAction.EXPIRE,
                actor=None,
                allowed_from=[ClaimStatus.DRAFT],
                verb=_("expired"),
                message=_("Untouched since %s.") % claim.updated_at.date().isoformat(),
            )
            expired += 1
    return expired


def claims_reject_unanswered(*, now: datetime.datetime | None = None) -> int:
    """Reject claims whose request for information passed its deadline unanswered."""
    now = now or timezone.now()
    rejected = 0
    for pk in Claim.objects.filter(
        status=ClaimStatus.ACTION_REQUIRED, info_requested_until__lt=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            claim = _lock_claim(pk)
            if claim.status != ClaimStatus.ACTION_REQUIRED or claim.info_requested_until >= now:
                continue  # answered, or handled by another worker, meanwhile
            _reject(
                claim,
                actor=None,
                reason_code=RejectionReason.NO_PARTNER_RESPONSE,
                message=_("No answer by the deadline."),
            )
            rejected += 1
    return rejected
