"""The page audit: every role crawls what it can reach from the start page, in English and
Portuguese, at desktop and phone width, and every page must pass every check
(page_audit.CHECKS). A page someone adds is audited as soon as a link leads to it."""

import time
from collections import Counter, deque
from pathlib import Path

import axe_playwright_python
import pytest

from cpor.web import demo
from cpor.web.tests.page_audit import (
    AXE_JS,
    LANGUAGES,
    PAGE_CHECKS_JS,
    PER_PATTERN,
    PER_ROLE,
    WIDTHS,
    Results,
    english_strings,
    followable,
    normalised,
    page_key,
)

pytestmark = pytest.mark.browser

ROLES = {
    "partner admin": "admin@lisbon-cloud.example",
    "incentives admin": "incentives@lisbon-cloud.example",
    "incentives user": "viewer@lisbon-cloud.example",
    "reviewer": "reviewer@cpor.example",
    "program admin": "programadmin@cpor.example",
    "customer admin": "it-admin@contoso-retail.example",
    "anonymous": None,
}
AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
MINIMUM_PAGES = 60


class Auditor:
    """One browser context for one role: a breadth-first crawl from the start page in each
    language, each page checked at every width."""

    def __init__(self, browser, base_url: str, role: str, english: list[str]):
        self.base_url, self.role, self.all_english = base_url, role, english
        self.language, self.english = "en", []
        self.context = browser.new_context(
            viewport={"width": WIDTHS[0], "height": 900}, locale="en-GB"
        )
        self.context.add_init_script(path=str(AXE_SCRIPT))
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.http: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _response(self, response) -> None:
        if response.url.startswith(self.base_url) and response.status >= 400:
            self.http.append(f"{response.status} {response.url[len(self.base_url) :]}")

    def sign_in(self, email: str | None) -> None:
        if email:
            _enrol_if_required(email)
            page = self.page
            page.goto(f"{self.base_url}/accounts/login/")
            page.get_by_label("E-mail", exact=True).fill(email)
            page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in", exact=True).click()
            if "/accounts/2fa/authenticate/" in page.url:  # a role that needs MFA
                page.get_by_label("Code", exact=True).fill(_totp_code(email))
                with page.expect_navigation():
                    page.get_by_role("button", name="Verify", exact=True).click()
            assert "/accounts/" not in page.url, f"{email} could not sign in: {page.url}"

    def speak(self, language: str) -> None:
        self.language = language
        self.english = self.all_english if language != "en" else []
        self.context.add_cookies(
            [{"name": "django_language", "value": language, "url": self.base_url}]
        )

    def crawl(self, results: Results, start: list[str]) -> None:
        queue = deque(start)
        visited: set[str] = set()
        per_pattern: Counter[str] = Counter()
        while queue and len(visited) < PER_ROLE:
            url = normalised(queue.popleft())
            key = page_key(url)
            if url in visited or not followable(url) or per_pattern[key] >= PER_PATTERN:
                continue
            visited.add(url)
            landed, links = self.audit(results, url)
            per_pattern[key] += 1
            if landed != url:  # a redirect: the page it led to counts as visited
                visited.add(landed)
                per_pattern[page_key(landed)] += 1
            queue.extend(link for link in links if normalised(link) not in visited)

    def audit(self, results: Results, url: str) -> tuple[str, list[str]]:
        page = self.page
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        self.errors.clear()
        self.http.clear()
        response = page.goto(self.base_url + url, wait_until="load")
        landed = normalised(page.url[len(self.base_url) :])
        links: list[str] = []
        for width in WIDTHS:
            if width != WIDTHS[0]:
                page.set_viewport_size({"width": width, "height": 844})
            outcome = page.evaluate(PAGE_CHECKS_JS, self.english)
            links = links or outcome["links"]
            problems = dict(outcome["problems"])
            if response is None or response.status >= 400 or self.http:
                status = response.status if response else "no response"
                problems["http"] = " ".join([str(status), *self.http])
            if self.errors:
                problems["console"] = " | ".join(self.errors[:3])
            violations = page.evaluate(AXE_JS)
            if violations:
                problems["axe"] = " ; ".join(violations)
            results.record(self.role, landed, f"{self.language}/{width}", problems)
        return landed, links

    def close(self) -> None:
        self.context.close()


def _enrol_if_required(email: str) -> None:
    """Demo users whose role needs MFA get an authenticator app, as real ones would have."""
    from cpor.accounts.models import User
    from cpor.accounts.selectors import mfa_required
    from cpor.testing.factories import enrol_second_factor

    user = User.objects.get(email=email)
    if mfa_required(user):
        enrol_second_factor(user)


def _totp_code(email: str) -> str:
    """The code the demo user's authenticator app shows now, with time left to type it
    (``current_totp_code``: a code typed at the end of its period is refused)."""
    from cpor.accounts.models import User
    from cpor.testing.browser import current_totp_code

    return current_totp_code(User.objects.get(email=email))


def test_every_page_passes_the_audit(browser, live_server, seeded_catalog, capsys):
    demo.seed_demo()
    english = english_strings()
    assert len(english) > 100, "the catalog's English strings were not found"
    results = Results()
    started = time.monotonic()
    for role, email in ROLES.items():
        auditor = Auditor(browser, live_server.url, role, english)
        auditor.sign_in(email)
        for language in LANGUAGES:
            auditor.speak(language)
            auditor.crawl(results, ["/"] if email else ["/", "/accounts/login/"])
        auditor.close()
    pages = {url for _role, url in results.audited}
    with capsys.disabled():
        print("\n" + results.table())
        print(
            f"page audit: {len(results.audited)} pages by role, {len(pages)} distinct pages, "
            f"{sum(len(v) for v in results.audited.values())} page views checked "
            f"in {time.monotonic() - started:.0f} s"
        )
        known = results.report(known=True)
        if known:
            print(f"known problems of other parts ({len(known)}, page_audit.KNOWN):")
            print("\n".join(known))
    failures = results.report()
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
    assert len(pages) >= MINIMUM_PAGES, f"only {len(pages)} distinct pages were audited"
