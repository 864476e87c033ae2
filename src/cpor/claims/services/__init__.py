"""Every write to claims and associations (SPEC §4), one module per concern.

One function per transition. Each runs in one transaction, locks the row it changes,
checks the current state, writes the change and its history event together, and raises
``DomainError`` (nothing written) when the rule is broken. The public names stay
importable from here: ``from cpor.claims import services; services.claim_submit(...)``.
"""

from cpor.claims.services.assignment import (
    claim_assign,
    reviewer_open_loads,
    reviewer_reassign_open_claims,
    reviewer_set_duty,
)
from cpor.claims.services.association import (
    association_decline,
    association_revoke,
    association_withdraw,
    claim_decline_lines,
)
from cpor.claims.services.bulk import (
    BULK_ACTIONS,
    MAX_BULK_CLAIMS,
    BulkOutcome,
    claims_bulk_decide,
)
from cpor.claims.services.drafting import (
    ClaimInput,
    claim_create,
    claim_delete,
    claim_update,
)
from cpor.claims.services.history import (
    SYSTEM,
    ValidationFailed,
)
from cpor.claims.services.jobs import (
    associations_activate_due,
    associations_expire_ended_subscriptions,
    claims_expire_stale_drafts,
    claims_reject_unanswered,
    claims_warn_stale_drafts,
    legacy_notice_days,
    legacy_warn_reassociation,
)
from cpor.claims.services.legacy import (
    LEGACY_COLUMNS,
    LEGACY_OPTIONAL_COLUMNS,
    LegacyReport,
    legacy_associations_import,
)
from cpor.claims.services.partner import (
    claim_dispute,
    claim_file,
    claim_reply,
    claim_submit,
    claim_withdraw,
)
from cpor.claims.services.proof import (
    POE_ALLOWED_STATUSES,
    poe_add,
)
from cpor.claims.services.review import (
    REJECTABLE,
    claim_add_note,
    claim_approve,
    claim_reject,
    claim_request_info,
    claim_start_review,
)

__all__ = [
    "BULK_ACTIONS",
    "LEGACY_COLUMNS",
    "LEGACY_OPTIONAL_COLUMNS",
    "MAX_BULK_CLAIMS",
    "POE_ALLOWED_STATUSES",
    "REJECTABLE",
    "SYSTEM",
    "BulkOutcome",
    "ClaimInput",
    "LegacyReport",
    "ValidationFailed",
    "association_decline",
    "association_revoke",
    "association_withdraw",
    "associations_activate_due",
    "associations_expire_ended_subscriptions",
    "claim_add_note",
    "claim_approve",
    "claim_assign",
    "claim_create",
    "claim_decline_lines",
    "claim_delete",
    "claim_dispute",
    "claim_file",
    "claim_reject",
    "claim_reply",
    "claim_request_info",
    "claim_start_review",
    "claim_submit",
    "claim_update",
    "claim_withdraw",
    "claims_bulk_decide",
    "claims_expire_stale_drafts",
    "claims_reject_unanswered",
    "claims_warn_stale_drafts",
    "legacy_associations_import",
    "legacy_notice_days",
    "legacy_warn_reassociation",
    "poe_add",
    "reviewer_open_loads",
    "reviewer_reassign_open_claims",
    "reviewer_set_duty",
]
