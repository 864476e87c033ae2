"""The clients of the cluster tests: partners, reviewers and customers calling the API
through nginx, each request with an Idempotency-Key, repeated with the same key after a
5xx or a broken connection (what a well-behaved integration does), and every outcome
written down so that the test can hold the database to what each client was told."""

from __future__ import annotations

import datetime
import hashlib
import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

MAX_ATTEMPTS = 12
PRODUCTS = ("teams", "intune", "exchange_online")


@dataclass
class Figures:
    sent: int = 0  # HTTP attempts
    ok: int = 0  # answered 2xx
    retried: int = 0  # attempts that repeated an earlier one (same Idempotency-Key)
    server_errors: int = 0  # answered 5xx (nginx's 502 when a node died mid-request)
    connection_errors: int = 0  # no answer at all
    refused: int = 0  # answered 4xx: the client was told it failed
    by_method: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # what the connection errors were
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str, outcome: str, *, retry: bool) -> None:
        with self.lock:
            self.sent += 1
            self.retried += retry
            setattr(self, outcome, getattr(self, outcome) + 1)
            per = self.by_method.setdefault(method, {})
            per[outcome] = per.get(outcome, 0) + 1

    def line(self) -> str:
        return (
            f"requests sent {self.sent}, 2xx {self.ok}, retried {self.retried}, "
            f"5xx {self.server_errors}, connection errors {self.connection_errors}, "
            f"4xx {self.refused}"
        )


@dataclass
class Outcome:
    """One logical operation: ``ok`` (2xx), ``failed`` (4xx) or ``unknown`` (gave up)."""

    op: str
    key: str
    result: str
    status: int | None
    body: dict | list | None
    attempts: int
    context: dict = field(default_factory=dict)


class Api:
    def __init__(self, base: str, cert: str, token: str, figures: Figures, log: list) -> None:
        self.base, self.figures, self.log = base, figures, log
        self.session = requests.Session()
        self.cert = cert  # per request: REQUESTS_CA_BUNDLE would override Session.verify
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str) -> requests.Response | None:
        """A read: nginx retries it on another node itself; one attempt here."""
        try:
            response = self.session.get(self.base + path, timeout=60, verify=self.cert)
        except requests.RequestException as error:
            self.figures.count("GET", "connection_errors", retry=False)
            self.figures.errors.append(repr(error)[:300])
            return None
        outcome = _classify(response.status_code)
        self.figures.count("GET", outcome, retry=False)
        return response

    def post(self, op: str, path: str, *, context: dict | None = None, **kwargs) -> Outcome:
        """A write, repeated with the same Idempotency-Key until it gets an answer."""
        key = f"{op}-{uuid.uuid4()}"
        headers = {"Idempotency-Key": key}
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self.session.post(
                    self.base + path, headers=headers, timeout=60, verify=self.cert, **kwargs
                )
            except requests.RequestException as error:
                self.figures.count("POST", "connection_errors", retry=attempt > 0)
                self.figures.errors.append(repr(error)[:300])
                time.sleep(min(0.25 * 2**attempt, 3))
                continue
            outcome = _classify(response.status_code)
            self.figures.count("POST", outcome, retry=attempt > 0)
            if outcome == "server_errors":
                time.sleep(min(0.25 * 2**attempt, 3))
                continue
            result = "ok" if outcome == "ok" else "failed"
            try:
                body = response.json()
            except ValueError:
                body = None
            done = Outcome(op, key, result, response.status_code, body, attempt + 1, context or {})
            self.log.append(done)
            return done
        done = Outcome(op, key, "unknown", None, None, MAX_ATTEMPTS, context or {})
        self.log.append(done)
        return done


def _classify(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status >= 500:
        return "server_errors"
    return "refused"


def poe_pdf(label: str) -> bytes:
    """A small PDF of its own content (the PoE sniffer reads the magic number)."""
    unique = f"{label} {uuid.uuid4().hex}".encode()
    return (
        b"%PDF-1.4\n% CPOR cluster test PoE " + unique
        + b"\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )  # fmt: skip


class Workload:
    """Partners file claims (create, PoE to S3, submit) while a reviewer approves what is
    submitted and customers decline some of what was approved."""

    def __init__(self, base: str, cert: str, people: dict, *, offset: int = 0) -> None:
        self.base, self.cert, self.people = base, cert, people
        self.offset = offset  # a later workload claims other units than an earlier one
        self.figures = Figures()
        self.log: list[Outcome] = []
        self.uploads: dict[str, str] = {}  # claim id + PoE key -> SHA-256 the client sent
        self.stop = threading.Event()
        self.partners_done = threading.Event()
        self.errors: list[BaseException] = []
        self.submitted = 0
        self.lock = threading.Lock()

    def healthy(self) -> bool:
        """For the test's waits: a client thread that crashed fails the test at once."""
        if self.errors:
            raise AssertionError(f"a client thread failed: {self.errors[0]!r}")
        return True

    def api(self, token: str) -> Api:
        return Api(self.base, self.cert, token, self.figures, self.log)

    def ok_count(self, op: str) -> int:
        return sum(1 for o in list(self.log) if o.op == op and o.result == "ok")

    # --- the actors ---------------------------------------------------------------

    def partner(self, number: int, minimum: int) -> None:
        me = self.people["partners"][number]
        api = self.api(me["token"])
        tenants = self.people["tenants"]
        signed = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
        for i in itertools.count(self.offset):
            if i >= self.offset + minimum and self.stop.is_set():
                return
            tenant = tenants[(i + 4 * number) % len(tenants)]
            product = PRODUCTS[(i // len(tenants)) % len(PRODUCTS)]
            name = f"Cluster p{number} claim {i} {uuid.uuid4().hex[:8]}"
            created = api.post(
                "create",
                "/api/v1/claims/",
                json={
                    "role": "use_or_consume",
                    "partner_id": me["partner_id"],
                    "tenant_id": tenant["tenant_id"],
                    "name": name,
                    "customer_contact_name": "Ana Silva",
                    "customer_contact_title": "CIO",
                    "customer_contact_email": f"ana@{tenant['domain']}",
                    "partner_contact_name": "Rui Costa",
                    "partner_contact_email": f"rui@p{number}.partner.example",
                    "products": [product],
                },
                context={"name": name},
            )
            if created.result != "ok":
                continue
            claim_id = created.body["id"]
            pdf = poe_pdf(name)
            uploaded = api.post(
                "poe",
                f"/api/v1/claims/{claim_id}/proofs/",
                data={
                    "poe_type": "statement_of_work",
                    "signed_on": signed,
                    "signatory": "Ana Silva, CIO",
                },
                files={"file": ("poe.pdf", pdf, "application/pdf")},
                context={"claim_id": claim_id, "sha256": hashlib.sha256(pdf).hexdigest()},
            )
            if uploaded.result != "ok":
                continue
            submitted = api.post(
                "submit",
                f"/api/v1/claims/{claim_id}/submit/",
                json={"confirmed": True},
                context={"claim_id": claim_id},
            )
            if submitted.result == "ok":
                with self.lock:
                    self.submitted += 1

    def reviewer(self) -> None:
        api = self.api(self.people["reviewer"])
        decided: set[int] = set()
        while True:
            finished = self.partners_done.is_set()
            response = api.get("/api/v1/review/queue/?ordering=submitted")
            items = []
            if response is not None and response.status_code == 200:
                body = response.json()
                items = body.get("results", []) if isinstance(body, dict) else body
            fresh = [item for item in items if item["id"] not in decided]
            for item in fresh:
                decided.add(item["id"])
                api.post(
                    "approve",
                    f"/api/v1/claims/{item['id']}/approve/",
                    json={},
                    context={"claim_id": item["id"]},
                )
            if finished and not fresh:
                return
            if not fresh:
                time.sleep(0.3)

    def customers(self) -> None:
        """Each tenant's admin declines every third association it is asked about."""
        apis = [self.api(tenant["token"]) for tenant in self.people["tenants"]]
        seen: set[int] = set()
        quiet_rounds = 0
        while True:
            finished = self.partners_done.is_set()
            acted = False
            for api in apis:
                response = api.get("/api/v1/customer/associations/")
                if response is None or response.status_code != 200:
                    continue
                body = response.json()
                rows = body.get("results", []) if isinstance(body, dict) else body
                for row in rows:
                    if row["id"] in seen or row["status"] != "pending_customer":
                        continue
                    seen.add(row["id"])
                    if row["id"] % 3:
                        continue
                    acted = True
                    api.post(
                        "decline",
                        f"/api/v1/customer/associations/{row['id']}/decline/",
                        json={"reason": "We work with another partner."},
                        context={"association_id": row["id"]},
                    )
            quiet_rounds = 0 if acted else quiet_rounds + 1
            if finished and quiet_rounds >= 2:
                return

    def reader(self) -> None:
        """Reads all the time: the claim list, as a partner's dashboard would."""
        api = self.api(self.people["partners"][0]["token"])
        while not self.stop.is_set():
            api.get("/api/v1/claims/")

    def run_in_threads(
        self, partners: int, minimum: int, *, readers: int = 0
    ) -> list[threading.Thread]:
        def guarded(target, *args):
            def run():
                try:
                    target(*args)
                except BaseException as error:  # reported by the test, not lost in a thread
                    self.errors.append(error)

            return threading.Thread(target=run, daemon=True)

        partner_threads = [guarded(self.partner, n, minimum) for n in range(partners)]
        others = [guarded(self.reviewer), guarded(self.customers)]
        others += [guarded(self.reader) for _ in range(readers)]
        for thread in partner_threads + others:
            thread.start()

        def watch():
            for thread in partner_threads:
                thread.join()
            self.partners_done.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        return [*partner_threads, *others, watcher]
