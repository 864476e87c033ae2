"""No PoE file outlives the transaction that failed to record it (issue 11, defect 4): a
rollback deletes it at once, and the periodic sweep removes what a crash left."""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cpor.api.models import ApiToken
from cpor.api.services import api_token_create
from cpor.claims import services
from cpor.claims.models import PoEType, ProofOfExecution
from cpor.claims.poe_storage import poe_atomic, poe_orphans_sweep
from cpor.errors import DomainError
from cpor.notifications import periodic
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import claim_input, customer_tenant, partner_user, pdf_file

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent connections"
)


def stored_files(root: Path) -> set[str]:
    """Every file in PoE storage, by its storage name."""
    folder = root / "poe"
    if not folder.exists():
        return set()
    return {str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file()}


def referenced_files() -> set[str]:
    return set(ProofOfExecution.objects.values_list("file", flat=True))


def draft(actor=None):
    actor = actor or partner_user()
    return actor, services.claim_create(actor=actor, data=claim_input(actor, customer_tenant()))


def poe(actor, claim, **overrides):
    values = {
        "actor": actor,
        "claim": claim,
        "file": pdf_file(),
        "poe_type": PoEType.STATEMENT_OF_WORK,
        "signed_on": timezone.localdate() - datetime.timedelta(days=3),
        "signatory": "Ana Silva, CIO",
    }
    return services.poe_add(**(values | overrides))


def age(root: Path, name: str, seconds: int) -> None:
    then = time.time() - seconds
    os.utime(root / name, (then, then))


@pytest.mark.django_db
def test_a_failure_after_the_upload_in_the_same_transaction_deletes_the_file(settings):
    actor, claim = draft()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic(), poe_atomic():
        poe(actor, claim)
        assert len(stored_files(settings.MEDIA_ROOT)) == 1
        raise Boom
    assert stored_files(settings.MEDIA_ROOT) == set()
    assert not ProofOfExecution.objects.exists()


@pytest.mark.django_db
def test_a_refused_upload_stores_nothing(settings):
    actor, claim = draft()
    with pytest.raises(DomainError, match="signatory"):
        poe(actor, claim, signatory=" ")
    assert stored_files(settings.MEDIA_ROOT) == set()


@pytest.mark.django_db
def test_the_sweep_removes_only_old_files_that_no_row_references(settings):
    actor, claim = draft()
    kept = poe(actor, claim).file.name
    root = settings.MEDIA_ROOT
    orphan = default_storage.save("poe/2026/01/orphan.pdf", pdf_file())
    in_flight = default_storage.save("poe/inflight.pdf", pdf_file())
    grace = settings.POE_ORPHAN_GRACE_SECONDS
    age(root, kept, grace + 60)
    age(root, orphan, grace + 60)
    age(root, in_flight, grace - 60)  # younger than the grace period: may still commit
    assert periodic.run_job("sweep_poe_orphans") == 1
    assert stored_files(root) == {kept, in_flight}
    assert poe_orphans_sweep() == 0


@pytest.mark.django_db
def test_the_sweep_copes_with_no_storage_folder_yet():
    assert poe_orphans_sweep(grace_seconds=0) == 0


def post_twice_at_once(url: str, token: str, data: dict, *, key: str) -> list:
    """Two threads, each on its own connection, post the same upload under one key."""
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def post(index: int) -> None:
        close_old_connections()
        try:
            client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
            body = {**data, "file": pdf_file(body=key.encode())}
            barrier.wait()
            responses[index] = client.post(url, body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_catalog")
def test_concurrent_uploads_with_one_idempotency_key_leave_only_the_winners_file(settings):
    """Eight pairs, each two threads posting the same upload under one key at once."""
    actor = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    row, token = api_token_create(actor=actor, name="race")
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    claim = services.claim_create(actor=actor, data=claim_input(actor, customer_tenant()))
    url = f"/api/v1/claims/{claim.pk}/proofs/"
    data = {
        "poe_type": PoEType.STATEMENT_OF_WORK,
        "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "signatory": "Ana",
    }
    statuses = []
    for pair in range(8):
        responses = post_twice_at_once(url, token, data, key=f"race-{pair}")
        statuses += [r.status_code for r in responses]
        assert responses[0].json()["id"] == responses[1].json()["id"]
    assert statuses == [201] * 16
    assert ProofOfExecution.objects.count() == 8
    assert stored_files(settings.MEDIA_ROOT) == referenced_files()


CHILD = """
import os, sys, time
import django
django.setup()
from cpor.claims import services
from cpor.claims.models import Claim
from cpor.accounts.models import User
from cpor.claims import poe_storage
from cpor.testing.factories import pdf_file
import datetime
from django.db import transaction
from django.utils import timezone

real_save = poe_storage.poe_file_save

def save_then_hang(file, *, extension):
    name = real_save(file, extension=extension)
    print("STORED", name, flush=True)
    time.sleep(60)  # killed here: the file written, the row not committed
    return name

poe_storage.poe_file_save = save_then_hang
services.proof.poe_file_save = save_then_hang
services.poe_add(
    actor=User.objects.get(pk=int(sys.argv[1])),
    claim=Claim.objects.get(pk=int(sys.argv[2])),
    file=pdf_file(),
    poe_type="statement_of_work",
    signed_on=timezone.localdate() - datetime.timedelta(days=3),
    signatory="Ana",
)
"""


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_catalog")
def test_a_worker_killed_before_commit_leaves_a_file_the_sweep_removes(settings, tmp_path):
    actor, claim = draft()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpor.settings",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CPOR_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    child = subprocess.Popen(  # noqa: S603 (our own script)
        [sys.executable, "-c", CHILD, str(actor.pk), str(claim.pk)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("STORED"), line
        name = line.split()[1]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    root = settings.MEDIA_ROOT
    assert stored_files(root) == {name}
    assert not ProofOfExecution.objects.exists()
    # Within the grace period it might still be a live upload: kept.
    assert poe_orphans_sweep() == 0
    age(root, name, settings.POE_ORPHAN_GRACE_SECONDS + 1)
    assert poe_orphans_sweep() == 1
    assert stored_files(root) == set()
