"""Wrong passwords are throttled, never answered with a lock an attacker controls.

Three limits, all in the shared cache, none of which lets a stranger keep a user out of
their own account:

- per source address, whatever the account (allauth's ``login_failed`` ``ip`` rate);
- per account *and* source address (allauth's ``login_failed`` ``key`` rate, its key
  made of the e-mail and the address): an attacker exhausts it for their own address
  only, and the user's successful sign-in clears it for theirs;
- per account from anywhere: past ``SIGN_IN_BACKOFF_AFTER`` failures within the window
  (an attack from many addresses), an address the account has not signed in from
  recently waits a short delay after the account's last failure, doubling with each
  further failure up to ``SIGN_IN_BACKOFF_MAX_SECONDS``. Addresses the user signed in
  from with the right password within ``SIGN_IN_KNOWN_ADDRESS_DAYS`` are exempt.

Every answer is the same for an account that exists and one that does not.
"""

import hashlib
import logging
import math
import time

from allauth.core.internal.ratelimit import cache_lock, get_cache_key, get_ip, get_rates
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cpor.audit.recording import sign_in_throttled

logger = logging.getLogger(__name__)

ACTION = "login_failed"
APP = "allauth.account"


def _account_id(login: str) -> str:
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()


def _failures_key(login: str) -> str:
    return f"cpor:sign-in:failures:{_account_id(login)}"


def _known_address_key(login: str, address: str) -> str:
    return f"cpor:sign-in:known:{_account_id(login)}:{address}"


def _throttled_key(login: str, address: str) -> str:
    return f"cpor:sign-in:throttled:{_account_id(login)}:{address}"


def limit_key(login: str, address: str) -> str:
    """The key of allauth's per-key rate: one account from one address."""
    return f"{login.strip().lower()}:{address}"


def _rate_limit_wait(request: HttpRequest, key: str, now: float) -> float:
    """Seconds until allauth's ``login_failed`` rates would take one more attempt."""
    wait = 0.0
    for rate in get_rates(app=APP, action=ACTION):
        history = cache.get(get_cache_key(request, app=APP, action=ACTION, rate=rate, key=key), [])
        recent = [at for at in history if at > now - rate.duration]
        if len(recent) >= rate.amount:
            wait = max(wait, min(recent) + rate.duration - now)
    return wait


def backoff_delay(failures: int) -> float:
    """The account-wide delay after ``failures`` recent failures (0 below the threshold)."""
    over = failures - settings.SIGN_IN_BACKOFF_AFTER
    if over < 0:
        return 0.0
    return float(
        min(
            settings.SIGN_IN_BACKOFF_SECONDS * 2 ** min(over, 32),
            settings.SIGN_IN_BACKOFF_MAX_SECONDS,
        )
    )


def _recent_failures(login: str, now: float) -> list[float]:
    window = settings.SIGN_IN_BACKOFF_WINDOW_SECONDS
    return [at for at in cache.get(_failures_key(login), []) if at > now - window]


def _backoff_wait(login: str, address: str, now: float) -> float:
    if cache.get(_known_address_key(login, address)):
        return 0.0
    failures = _recent_failures(login, now)
    if not failures:
        return 0.0
    return max(0.0, max(failures) + backoff_delay(len(failures)) - now)


def _wait_text(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def check_attempt_allowed(request: HttpRequest, login: str) -> None:
    """Refuse, saying when to try again, an attempt that a limit does not take now."""
    address = get_ip(request)
    now = time.time()
    rate_wait = _rate_limit_wait(request, limit_key(login, address), now)
    backoff_wait = _backoff_wait(login, address, now)
    wait = max(rate_wait, backoff_wait)
    if wait <= 0:
        return
    logger.info(
        "sign-in throttled",
        extra={"reason": "backoff" if backoff_wait >= rate_wait else "rate", "wait": wait},
    )
    # Into the audit trail once while this wait lasts: a flood of refused attempts is
    # one row per account and address, not one each.
    if cache.add(_throttled_key(login, address), True, math.ceil(wait)):
        sign_in_throttled(request, login, wait_seconds=math.ceil(wait))
    raise ValidationError(
        _("Too many failed sign-in attempts. Try again in %(wait)s.") % {"wait": _wait_text(wait)},
        code="too_many_login_attempts",
    )


def record_failure(login: str) -> None:
    """Count a wrong password against the account, from whatever address."""
    key = _failures_key(login)
    window = settings.SIGN_IN_BACKOFF_WINDOW_SECONDS
    with cache_lock(key) as locked:
        if not locked:
            return  # Counting one failure fewer only makes the backoff gentler.
        now = time.time()
        # Only the most recent failures matter: the threshold and the doubling, which
        # the cap stops long before 64 more. A flood from many addresses stays one
        # small cache value.
        kept = settings.SIGN_IN_BACKOFF_AFTER + 64
        cache.set(key, [*_recent_failures(login, now), now][-kept:], window)


def record_success(request: HttpRequest, login: str) -> None:
    """The right password from this address: clear its per-account limit and remember it.

    Only the (account, address) counter is cleared; the per-address one stays, so an
    attacker cannot reset it by signing in to an account of their own between guesses.
    """
    address = get_ip(request)
    key = limit_key(login, address)
    for rate in get_rates(app=APP, action=ACTION):
        if rate.per != "key":
            continue
        cache_key = get_cache_key(request, app=APP, action=ACTION, rate=rate, key=key)
        with cache_lock(cache_key) as locked:
            if locked:
                cache.delete(cache_key)
    cache.set(
        _known_address_key(login, address),
        True,
        settings.SIGN_IN_KNOWN_ADDRESS_DAYS * 86400,
    )
