"""Wrong passwords are throttled per address, per account and address, and by a short
account-wide backoff; a stranger can never keep a user out of their own account from
their own address (issue 11, defect 8)."""

import time
from types import SimpleNamespace

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.urls import reverse

from cpor.accounts import sign_in_throttle
from cpor.accounts.sign_in_throttle import backoff_delay
from cpor.audit.models import AuditAction, AuditEntry
from cpor.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
USER_HOME = "198.51.100.7"
REFUSED = "Too many failed sign-in attempts. Try again in"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """A clock the test moves, for allauth's rate limits and ours (nothing else).
    Each reading ticks a millisecond: allauth tells attempts apart by their time."""
    cache.clear()
    now = [time.time()]

    def tick() -> float:
        now[0] += 0.001
        return now[0]

    fake = SimpleNamespace(time=tick, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(allauth_ratelimit, "time", fake)
    monkeypatch.setattr(sign_in_throttle, "time", fake)

    class Clock:
        def advance(self, seconds: float) -> None:
            now[0] += seconds

    yield Clock()
    cache.clear()


def attempt(client, email, password, address, **extra):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def signs_in(client, user, address) -> bool:
    client.logout()
    response = attempt(client, user.email, PASSWORD, address)
    return response.status_code == 302 and client.session.get("_auth_user_id") == str(user.pk)


def test_attacker_failing_from_one_address_cannot_keep_the_user_out_from_another(client):
    user = UserFactory()
    for _ in range(30):
        attempt(client, user.email, "wrong", ATTACKER)

    assert signs_in(client, user, USER_HOME)


def test_attackers_own_address_is_throttled_and_told_when_to_try_again(client, clock):
    user = UserFactory()
    for _ in range(5):
        response = attempt(client, user.email, "wrong", ATTACKER)
        assert REFUSED not in response.content.decode()

    # Even the right password is refused from there now, saying for how long, in the
    # same words as for an address that has no account (nothing to learn from it).
    refused = attempt(client, user.email, PASSWORD, ATTACKER).content.decode()
    assert f"{REFUSED} 5 minutes." in refused and "_auth_user_id" not in client.session
    for _ in range(5):
        attempt(client, "nobody@example.com", "wrong", ATTACKER)
    assert (
        f"{REFUSED} 5 minutes."
        in attempt(client, "nobody@example.com", "x", ATTACKER).content.decode()
    )

    clock.advance(301)
    assert signs_in(client, user, ATTACKER)


def test_refusal_is_in_portuguese(client):
    user = UserFactory()
    for _ in range(5):
        attempt(client, user.email, "wrong", ATTACKER)
    body = attempt(client, user.email, "wrong", ATTACKER, HTTP_ACCEPT_LANGUAGE="pt-PT").content
    assert (
        "Demasiadas tentativas falhadas de início de sessão. Tente novamente dentro de 5 minutos."
        in (body.decode())
    )


def test_per_address_limit_spans_accounts(client):
    for number in range(10):
        attempt(client, f"guess{number}@example.com", "wrong", ATTACKER)

    refused = attempt(client, "guess10@example.com", "wrong", ATTACKER).content.decode()
    assert f"{REFUSED} 60 seconds." in refused
    user = UserFactory()
    assert signs_in(client, user, USER_HOME)  # another address is not affected


def test_a_successful_sign_in_clears_the_users_own_address(client):
    user = UserFactory()
    for _ in range(4):
        attempt(client, user.email, "wrong", USER_HOME)
    assert signs_in(client, user, USER_HOME)
    client.logout()
    for _ in range(4):  # another four typos, not refused: the earlier ones were forgiven
        assert REFUSED not in attempt(client, user.email, "wrong", USER_HOME).content.decode()
    assert signs_in(client, user, USER_HOME)


def test_distributed_attack_meets_a_short_growing_backoff(client, clock):
    user = UserFactory()
    assert signs_in(client, user, USER_HOME)  # the user's usual address
    client.logout()
    for number in range(20):  # twenty bots, one guess each
        attempt(client, user.email, "wrong", f"192.0.2.{number}")

    refused = attempt(client, user.email, "wrong", "192.0.2.200").content.decode()
    assert f"{REFUSED} 1 second." in refused
    clock.advance(1)
    attempt(client, user.email, "wrong", "192.0.2.201")  # the 21st failure
    refused = attempt(client, user.email, "wrong", "192.0.2.202").content.decode()
    assert f"{REFUSED} 2 seconds." in refused
    clock.advance(2)
    attempt(client, user.email, "wrong", "192.0.2.203")
    assert (
        f"{REFUSED} 4 seconds." in attempt(client, user.email, "x", "192.0.2.204").content.decode()
    )

    # The user's own address is not held up, and a new one only waits the seconds said.
    assert signs_in(client, user, USER_HOME)
    assert not signs_in(client, user, "192.0.2.250")
    clock.advance(4)
    assert signs_in(client, user, "192.0.2.250")


def test_backoff_is_capped(settings):
    settings.SIGN_IN_BACKOFF_AFTER = 20
    settings.SIGN_IN_BACKOFF_SECONDS = 1
    settings.SIGN_IN_BACKOFF_MAX_SECONDS = 60
    delays = [backoff_delay(failures) for failures in range(19, 1000)]
    assert delays[:8] == [0, 1, 2, 4, 8, 16, 32, 60]
    assert max(delays) == 60


def test_refused_attempts_reach_the_audit_trail_once_per_account_and_address(client):
    user = UserFactory()
    for _ in range(5):
        attempt(client, user.email, "wrong", ATTACKER)
    for _ in range(6):  # the right password too: refused all the same
        attempt(client, user.email, PASSWORD, ATTACKER)

    refused = AuditEntry.objects.filter(action=AuditAction.SIGN_IN_THROTTLED)
    rows = list(refused.filter(actor_email=user.email))
    assert len(rows) == 1, "a flood of refusals is one row while the wait lasts"
    assert (rows[0].ip, rows[0].actor_id) == (ATTACKER, None)
    assert rows[0].after == {"wait_seconds": 300}
    # The five wrong passwords are each recorded as failed; the refusals are not.
    assert (
        AuditEntry.objects.filter(action=AuditAction.SIGN_IN_FAILED, actor_email=user.email).count()
        == 5
    )
