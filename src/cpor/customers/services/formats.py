"""The import's formats, its report and the types every step shares."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

IMPORT_FORMATS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "tenants": (
        ("tenant_id", "name", "country"),
        ("language",),
        gettext_lazy(
            "tenant_id: directory ID (GUID); name; country: two letters or empty; "
            "language (optional): en or pt-pt."
        ),
    ),
    "domains": (
        ("tenant_id", "domain", "verified"),
        (),
        gettext_lazy("tenant_id; domain: a DNS name; verified: true/false (yes/no, 1/0)."),
    ),
    "contacts": (
        ("tenant_id", "name", "email", "language"),
        (),
        gettext_lazy("tenant_id; name; email; language: en or pt-pt (empty: en)."),
    ),
    "subscriptions": (
        (
            "subscription_id",
            "tenant_id",
            "product",
            "channel",
            "seats",
            "starts_on",
            "ends_on",
            "predecessor_id",
        ),
        (),
        gettext_lazy(
            "subscription_id (GUID); tenant_id; product: a catalog code such as "
            "d365_sales; channel: volume_licensing, web_direct or csp; seats: a whole "
            "number; starts_on, ends_on: YYYY-MM-DD; predecessor_id: the GUID of the "
            "subscription this one renews, or empty."
        ),
    ),
}
# Tenants first: the other kinds refer to them; subscriptions may refer to each other.
WRITE_ORDER = ("tenants", "domains", "contacts", "subscriptions")
LANGUAGES = {"": "en", "en": "en", "pt": "pt-pt", "pt-pt": "pt-pt"}
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
LOOKUP_CHUNK = 500  # SQLite allows a limited number of query parameters


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    column: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message} [{self.rule}]"


@dataclass
class ImportFile:
    name: str
    content: bytes


@dataclass
class ParsedFile:
    name: str
    kind: str
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # per kind, rows read
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None
