"""Proof of execution: stored after its size and real type are checked."""

import datetime
import hashlib

from django.core.files.base import File
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor import rowwrite
from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims import filetypes
from cpor.claims.models import (
    Claim,
    ClaimStatus,
    EventAction,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.permissions import (
    require_claim_manager,
)
from cpor.claims.poe_storage import poe_atomic, poe_file_save
from cpor.claims.services.history import _lock_claim, _record
from cpor.errors import DomainError, illegal_transition

POE_ALLOWED_STATUSES = frozenset(
    {
        ClaimStatus.DRAFT,
        ClaimStatus.ACTION_REQUIRED,
        ClaimStatus.REJECTED,  # new PoE for a dispute
        ClaimStatus.APPROVED,  # holders protect their associations with newer PoE
        ClaimStatus.PARTIALLY_APPROVED,
    }
)


def poe_add(
    *,
    actor: User,
    claim: Claim,
    file: File,
    poe_type: str,
    signed_on: datetime.date,
    signatory: str,
    description: str = "",
) -> ProofOfExecution:
    """Store a PoE after checking its size and real type; the file goes to private storage
    and is deleted again if the transaction that records it rolls back."""
    with poe_atomic():
        return _poe_add(
            actor=actor,
            claim=_lock_claim(claim),
            file=file,
            poe_type=poe_type,
            signed_on=signed_on,
            signatory=signatory,
            description=description,
        )


def _poe_add(
    *,
    actor: User,
    claim: Claim,
    file: File,
    poe_type: str,
    signed_on: datetime.date,
    signatory: str,
    description: str,
) -> ProofOfExecution:
    """``poe_add`` of a claim its caller locked (or created in this transaction)."""
    require_claim_manager(actor, claim.organisation)
    if claim.status not in POE_ALLOWED_STATUSES:
        raise illegal_transition(_("claim"), _("given a new PoE"), claim.get_status_display())
    if poe_type not in PoEType.values:
        raise DomainError(
            "unknown_poe_type", _("Choose a PoE type from the list."), field="poe_type"
        )
    if signed_on > timezone.localdate():
        raise DomainError(
            "poe_dated_in_future",
            _("The signature date cannot be in the future."),
            field="signed_on",
        )
    signatory = (signatory or "").strip()
    if not signatory:
        raise DomainError("required", _("Name the customer signatory."), field="signatory")
    limit = ProgramSettings.load().poe_max_bytes
    size = file.size or 0
    if size == 0:
        raise DomainError("poe_empty", _("The file is empty."), field="file")
    if size > limit:
        raise DomainError(
            "poe_too_large",
            _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": size / 1_048_576, "limit": limit / 1_048_576},
            field="file",
        )
    file_type = filetypes.detect(file, size)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    stored_name = poe_file_save(file, extension=file_type.extension)
    proof = ProofOfExecution(
        claim=claim,
        file=stored_name,
        original_name=(getattr(file, "name", "") or f"poe.{file_type.extension}")[-255:],
        content_type=file_type.content_type,
        size=size,
        sha256=digest.hexdigest(),
        poe_type=poe_type,
        signed_on=signed_on,
        signatory=signatory[:200],
        description=description.strip(),
        uploaded_by=actor,
    )
    rowwrite.insert(proof)
    if claim.status == ClaimStatus.DRAFT:
        claim.updated_at = timezone.now()
        claim.save_fields(["updated_at"])
    _record(
        claim,
        action=EventAction.ADD_POE,
        actor=actor,
        message=_("%(type)s signed on %(day)s by %(who)s.")
        % {"type": proof.get_poe_type_display(), "day": date_format(signed_on), "who": signatory},
    )
    return proof
