"""Dates read one way per language on every page a claim goes through: the locale's
format (``DATE_FORMAT``, ``DATETIME_FORMAT``), never a raw ISO date beside it. ISO stays
only where it is data: ``<time datetime>`` attributes, inputs, CSV and JSON."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from cpor.claims import services
from cpor.testing.factories import submitted_claim

pytestmark = pytest.mark.django_db

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible_text(response) -> str:
    """The page's text as a person reads it: no tags, attributes, scripts or styles."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def signed_on() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=10)


@pytest.fixture
def claim(partner, reviewer, tenant):
    claim = submitted_claim(partner, tenant, signed_on=signed_on())
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code="poe_missing", message="More, please."
    )
    claim.refresh_from_db()
    return claim


@pytest.mark.parametrize("language", ["en", "pt-pt"])
def test_partner_and_reviewer_pages_show_dates_in_the_languages_format(
    client, partner, reviewer, claim, language
):
    client.cookies["django_language"] = language
    with translation.override(language):
        signed = date_format(signed_on())
        due = date_format(timezone.localdate(claim.info_requested_until))

    client.force_login(partner)
    detail = visible_text(client.get(reverse("claims:detail", args=[claim.pk])))
    listing = visible_text(client.get(reverse("claims:list")))
    client.force_login(reviewer)
    review = visible_text(client.get(reverse("review:claim", args=[claim.pk])))
    queue = visible_text(client.get(reverse("review:queue")))

    assert signed in detail and due in detail
    assert signed in review
    with translation.override(language):
        assert date_format(timezone.localdate(claim.created_at)) in listing
    for page in (detail, listing, review, queue):
        assert not ISO_DAY.search(page), ISO_DAY.search(page).group()


def test_the_history_keeps_the_machine_readable_time_in_its_attribute(client, partner, claim):
    client.force_login(partner)
    page = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}T', page)


@pytest.mark.parametrize("language", ["en", "pt-pt"])
def test_why_a_subscription_cannot_be_claimed_gives_its_dates_in_the_locale(language):
    from cpor.claims.selectors import subscription_ineligibility
    from cpor.testing.factories import SubscriptionFactory, role

    today = timezone.localdate()
    ended = SubscriptionFactory(ends_on=today - datetime.timedelta(days=3))
    later = SubscriptionFactory(starts_on=today + datetime.timedelta(days=3))
    advisor = role("build_intent_advisor")
    with translation.override(language):
        reasons = [subscription_ineligibility(s, advisor, today) for s in (ended, later)]
        expected = [date_format(ended.ends_on), date_format(later.starts_on)]
    for reason, day in zip(reasons, expected, strict=True):
        assert day in reason and not ISO_DAY.search(reason)
