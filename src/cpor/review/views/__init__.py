"""The operator's pages, one module per concern: the queue, review screen and decisions
(``decisions``), reviewer workload (``workload``), legacy associations (``legacy``).
The view names stay importable from here."""

from cpor.review.views.decisions import (
    claim_approve,
    claim_assign,
    claim_detail,
    claim_note,
    claim_reject,
    claim_request_info,
    proof_file,
    queue,
)
from cpor.review.views.legacy import legacy_import
from cpor.review.views.workload import (
    claim_assign_to,
    queue_bulk,
    reviewer_duty,
    saved_filter_create,
    saved_filter_remove,
    workload,
)

__all__ = [
    "claim_approve",
    "claim_assign",
    "claim_assign_to",
    "claim_detail",
    "claim_note",
    "claim_reject",
    "claim_request_info",
    "legacy_import",
    "proof_file",
    "queue",
    "queue_bulk",
    "reviewer_duty",
    "saved_filter_create",
    "saved_filter_remove",
    "workload",
]
