"""The partner's claim pages: the list, the Add customer wizard and the claim detail.

Views parse input with a form, call one service or selector, and render. Rules live in
the services; a refusal (``DomainError``) becomes a form error on the field it names.
Anything outside the user's organisation answers 404; read-only users get 403. One
module per page: ``lists``, ``adding`` (the wizard), ``detail``, ``actions``.
"""

from cpor.claims.views.actions import (
    association_withdraw,
    claim_dispute,
    claim_reply,
    claim_submit,
    claim_withdraw,
)
from cpor.claims.views.adding import (
    wizard_start,
    wizard_step,
)
from cpor.claims.views.detail import (
    claim_delete,
    claim_detail,
    claim_edit,
    poe_download,
    poe_template_download,
    poe_upload,
)
from cpor.claims.views.lists import (
    claim_export,
    claim_list,
)

__all__ = [
    "association_withdraw",
    "claim_delete",
    "claim_detail",
    "claim_dispute",
    "claim_edit",
    "claim_export",
    "claim_list",
    "claim_reply",
    "claim_submit",
    "claim_withdraw",
    "poe_download",
    "poe_template_download",
    "poe_upload",
    "wizard_start",
    "wizard_step",
]
