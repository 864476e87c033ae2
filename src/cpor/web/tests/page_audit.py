"""The page audit's parts: the crawl's rules, the checks run on every page, the English
strings that must not show through in Portuguese, and the results table."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

SRC = Path(__file__).resolve().parents[2]
CHECKS = ("http", "console", "ids", "labels", "overflow", "axe", "english")
WIDTHS = (1366, 390)
LANGUAGES = ("en", "pt-pt")

# Never followed: links that sign out or act (a decline page, withdraw, delete, revoke…),
# files rather than pages, the Django admin, and the API's machine endpoints.
SKIPPED = re.compile(
    r"/accounts/logout/|/(decline|withdraw|disassociate|delete|revoke|assign)(/|$)|"
    r"\.(csv|pdf|docx|xlsx|parquet|json|yaml|png|svg)$|/poe/|/poe-template|/export|"
    r"^/admin/|^/api/(v1|schema)/|^/static/|^/i18n/|^/health/|/reauthenticate/"
)
# Query parameters that only move within a list (its page, its count) or re-sort it.
PAGING = {"cursor", "count", "sort", "page"}
PER_PATTERN = 2  # object pages sampled per URL pattern (/claims/<n>/ and the like)
PER_ROLE = 40  # pages per role and language at most

# Failures found by the audit in pages other helpers own, reported to the lead and shown in
# the table as "known" until fixed: (path pattern, check, what the detail says). Remove an
# entry once its page passes; an entry that no longer matches anything is reported too.
KNOWN = [
    # Third-party, in the API reference pages (our templates around drf-spectacular's
    # sidecar files): Swagger UI's rendered markup (buttons nested in its operation
    # summaries, its grey version stamps), and ReDoc's bundle fetching its own logo from
    # cdn.redoc.ly (api/tests/test_docs_pages.py checks nothing else fails to load).
    (
        r"^/api/docs/$",
        "axe",
        r"^(?:(?:color-contrast|nested-interactive) \(serious\)[^;]*(?: ; |$))+$",
    ),
    (
        r"^/api/docs/redoc/$",
        "console",
        r"^(?:Failed to load resource: net::ERR_NAME_NOT_RESOLVED(?: \| |$))+$",
    ),
    # The API reference is the OpenAPI document, written for developers in English only,
    # like the API's codes and field names: not part of the translated user interface.
    (r"^/api/docs/", "english", r"."),
]


def page_key(url: str) -> str:
    """What a URL stands for: numbers and tokens in its path become placeholders and its
    query is left out, so /claims/12/, /claims/13/ and /claims/?status=draft are sampled
    (PER_PATTERN of each), not all visited."""
    path = urlsplit(url).path
    path = re.sub(r"/\d+(?=/|$|\.)", "/<n>", path)
    path = re.sub(r"/(?=[a-z0-9]*\d)[a-f0-9]{8,}(?=/|$)", "/<token>", path)
    return re.sub(r"/[A-Za-z0-9_:.-]{20,}(?=/|$)", "/<token>", path)


def normalised(url: str) -> str:
    """The URL to visit: path and query without the fragment, parameters sorted, paging
    dropped (a list's next page is the same page again)."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in PAGING)
    return parts.path + (("?" + urlencode(query)) if query else "")


def followable(path: str) -> bool:
    return not SKIPPED.search(urlsplit(path).path)


def _po_entries(path: Path):
    """(msgid, msgstr) pairs of a .po file, fuzzy and obsolete entries left out."""
    entry: dict[str, list[str]] = {}
    current = None
    fuzzy = False

    def flush():
        if entry.get("msgid") and not fuzzy:
            msgid = "".join(entry["msgid"])
            strings = [v for k, v in entry.items() if k.startswith("msgstr")]
            yield msgid, ["".join(s) for s in strings]
            if entry.get("msgid_plural"):
                yield "".join(entry["msgid_plural"]), ["".join(s) for s in strings]

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            yield from flush()
            entry, current, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"') and current:
            entry[current].append(_unquote(line))
        else:
            key, _, value = line.partition(" ")
            current = key
            entry[current] = [_unquote(value)]
    yield from flush()


def _unquote(value: str) -> str:
    return value.strip()[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{[^}]*\}|<[^>]+>|\n")


def english_strings() -> list[str]:
    """English UI text that must not be seen on a Portuguese page: the catalogs' msgids
    whose translation differs, cut at their placeholders; fragments shorter than three
    words or 16 characters are left out ("Status", "E-mail", "Microsoft Teams"…), as are
    those the translation itself contains (names kept as they are)."""
    found: set[str] = set()
    for po in sorted(SRC.glob("**/locale/pt_PT/LC_MESSAGES/django.po")):
        for msgid, msgstrs in _po_entries(po):
            translated = " ".join(msgstrs)
            if not translated.strip() or translated == msgid:
                continue
            for fragment in PLACEHOLDER.split(msgid):
                fragment = " ".join(fragment.split()).strip(" .,:;·()")
                if len(fragment) < 16 or len(fragment.split()) < 3 or fragment in translated:
                    continue
                found.add(fragment)
    return sorted(found)


@dataclass
class Results:
    """Failures per page and check, and what each page was audited in."""

    failures: dict[tuple[str, str], dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    audited: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    known: dict[tuple[str, str], dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    def record(self, role: str, url: str, variant: str, problems: dict[str, str]) -> None:
        self.audited[role, url].add(variant)
        path = urlsplit(url).path
        for check, detail in problems.items():
            is_known = any(
                check == known_check and re.search(pattern, path) and re.search(says, detail)
                for pattern, known_check, says in KNOWN
            )
            target = self.known if is_known else self.failures
            target[role, url][check].append(f"{variant}: {detail}")

    def table(self) -> str:
        width = min(70, max(len(f"{r} {u}") for r, u in self.audited))
        lines = [f"{'page (role url)':<{width}} " + " ".join(f"{c:>8}" for c in CHECKS)]
        for role, url in sorted(self.audited):
            name = f"{role} {url}"
            name = name if len(name) <= width else name[: width - 1] + "…"
            failed = self.failures.get((role, url), {})
            known = self.known.get((role, url), {})
            cells = ["FAIL" if failed.get(c) else "known" if known.get(c) else "ok" for c in CHECKS]
            lines.append(f"{name:<{width}} " + " ".join(f"{c:>8}" for c in cells))
        return "\n".join(lines)

    def report(self, known: bool = False) -> list[str]:
        return [
            f"{role} {url} [{check}] {detail}"
            for (role, url), checks in sorted((self.known if known else self.failures).items())
            for check, details in checks.items()
            for detail in details
        ]


# Run in the page: every check but HTTP, console and axe, in one round trip.
PAGE_CHECKS_JS = """(englishStrings) => {
  const problems = {};
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) ids[el.id] = (ids[el.id] || 0) + 1;
  const dup = Object.keys(ids).filter(id => ids[id] > 1);
  if (dup.length) problems.ids = dup.join(', ');
  const unlabelled = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || el.getAttribute('title');
    if (!named) unlabelled.push(el.name || el.id || el.outerHTML.slice(0, 60));
  }
  if (unlabelled.length) problems.labels = unlabelled.join(', ');
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > root.clientWidth + 1 && getComputedStyle(el).position !== 'fixed'
          && !el.closest('.table-responsive, .overflow-auto, .offcanvas-lg')) {
        const cls = typeof el.className === 'string' ? el.className.trim() : '';
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
          + (cls ? '.' + cls.split(' ').join('.') : ''));
      }
      if (wide.length > 3) break;
    }
    problems.overflow = `${root.scrollWidth}px > ${root.clientWidth}px: ${wide.join(' ')}`;
  }
  if (englishStrings.length) {
    // Text marked as written in another language (an e-mail as sent, in its recipient's
    // language) is content, not the page's interface: left out of the check.
    const pageLanguage = (root.lang || '').toLowerCase().split('-')[0];
    const foreign = [...document.body.querySelectorAll('[lang]')]
      .filter(el => el.lang.toLowerCase().split('-')[0] !== pageLanguage);
    const shown = foreign.map(el => el.style.display);
    foreign.forEach(el => { el.style.display = 'none'; });
    const text = document.body.innerText.replace(/\\s+/g, ' ');
    foreign.forEach((el, i) => { el.style.display = shown[i]; });
    const seen = englishStrings.filter(s => text.includes(s));
    if (seen.length) problems.english = seen.slice(0, 5).map(s => JSON.stringify(s)).join(', ');
  }
  const links = [];
  for (const a of document.querySelectorAll('a[href]')) {
    if ((a.getAttribute('rel') || '').includes('nofollow') || a.hasAttribute('download')) continue;
    const url = new URL(a.href, location.href);
    if (url.origin === location.origin) links.push(url.pathname + url.search);
  }
  return {problems, links};
}"""

AXE_JS = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id} (${v.impact}): `
    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""
