"""The API reference pages (Swagger UI and ReDoc) say which language they are written in
and load nothing from another host: ReDoc's Google Fonts failed to load offline and
left a console error on every visit, and so did the browser's request for an icon."""

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/redoc/"])
def test_the_docs_declare_english_and_load_only_local_files(path):
    body = APIClient().get(path).content.decode()

    assert '<html lang="en">' in body
    # The site's own icon: without one the browser asks for /favicon.ico, a 404.
    assert 'rel="icon" href="/static/web/favicon.svg"' in body
    hosts = re.findall(r'(?:href|src)="(https?://[^"/]+)', body)
    assert hosts == []


# ReDoc's bundle fetches its own logo from its CDN (the "API docs by Redocly" link); the
# only request that leaves the site, which the page audit lists in KNOWN.
REDOC_LOGO = "https://cdn.redoc.ly/"


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/redoc/"])
def test_the_docs_load_without_console_errors(browser, live_server, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-PT")
    page = context.new_page()
    errors, failed = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    context.close()
    outside = [url for url in failed if url.startswith(REDOC_LOGO)]
    assert [url for url in failed if url not in outside] == []
    assert errors == ["Failed to load resource: net::ERR_NAME_NOT_RESOLVED"] * len(outside)
