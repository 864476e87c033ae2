"""The claims app's models, one module per concern; every name importable from here.

- ``claim``: claims, their lines and proofs of execution (frozen once submitted);
- ``history``: the immutable events and their hash chains;
- ``association``: associations (the invariant: one holder per unit, a partial unique
  index on associations in a held state) and legacy imports;
- ``workload``: reviewers on duty for the automatic assignment.
"""

from cpor.claims.models.association import (
    HELD_STATUSES,
    Association,
    AssociationStatus,
    EndReason,
    LegacyImport,
)
from cpor.claims.models.claim import (
    ACTION_REQUIRED_EDITABLE,
    AWAITING_DECISION,
    FROZEN_FIELDS,
    OPEN_STATUSES,
    Claim,
    ClaimLine,
    ClaimQuerySet,
    ClaimStatus,
    LineStatus,
    PoEType,
    ProofOfExecution,
    claim_frozen_error,
)
from cpor.claims.models.history import (
    ClaimEvent,
    ClaimEventSeal,
    CurrentTransactionId,
    EventAction,
    HistoryCheckpoint,
)
from cpor.claims.models.workload import ReviewerDuty

__all__ = [
    "ACTION_REQUIRED_EDITABLE",
    "AWAITING_DECISION",
    "FROZEN_FIELDS",
    "HELD_STATUSES",
    "OPEN_STATUSES",
    "Association",
    "AssociationStatus",
    "Claim",
    "ClaimEvent",
    "ClaimEventSeal",
    "ClaimLine",
    "ClaimQuerySet",
    "ClaimStatus",
    "CurrentTransactionId",
    "EndReason",
    "EventAction",
    "HistoryCheckpoint",
    "LegacyImport",
    "LineStatus",
    "PoEType",
    "ProofOfExecution",
    "ReviewerDuty",
    "claim_frozen_error",
]
