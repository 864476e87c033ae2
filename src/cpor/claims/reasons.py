"""Reason codes reviewers pick from, each shown with plain text (SPEC §4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InfoRequestReason(models.TextChoices):
    POE_MISSING = "poe_missing", _("The PoE is missing or is not about this claim.")
    CUSTOMER_SIGNATURE_MISSING = (
        "customer_signature_missing",
        _("The customer's acknowledgment or signature is missing."),
    )
    DATES_MISSING = "dates_missing", _("Dates are missing or too old.")
    SERVICES_DESCRIPTION = (
        "services_description",
        _("The description of the partner's services is missing or too thin."),
    )
    PRODUCT_NOT_IN_POE = "product_not_in_poe", _("A claimed product is not named in the PoE.")


class RejectionReason(models.TextChoices):
    PARTNER_REQUEST = "partner_request", _("Rejected at the partner's request.")
    CUSTOMER_DECLINED = "customer_declined", _("The customer declined the association.")
    INSUFFICIENT_POE = "insufficient_poe", _("The PoE is insufficient.")
    NO_CUSTOMER_CONSENT = "no_customer_consent", _("The PoE shows no customer consent.")
    PRODUCTS_MISSING = "products_missing", _("The claimed products are missing from the PoE.")
    NO_PARTNER_RESPONSE = (
        "no_partner_response",
        _("The partner did not answer the request for information in time."),
    )
    POE_UNAVAILABLE = "poe_unavailable", _("The PoE could not be opened.")
    UNIT_HELD_NEWER_POE = (
        "unit_held_newer_poe",
        _("Another partner holds the unit with a more recent PoE."),
    )
    # The partner already holds what it claims again: the claim closes, the holder stays.
    DUPLICATE_ASSOCIATION = (
        "duplicate_association",
        _("Duplicate of an existing association: the partner already holds the unit."),
    )
