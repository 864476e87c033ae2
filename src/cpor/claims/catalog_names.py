"""The seeded catalog's English names and help texts, kept in the message catalogs.

Pages no longer translate database text with gettext: each catalog entry carries its own
pt-PT wording (``display_name``, filled for the seeded rows by catalog migration 0004).
These msgids stay so the page audit knows the seeded English as UI text that must not
show on a Portuguese page."""

from django.utils.translation import gettext_noop

SEEDED = (
    gettext_noop("Modern Work and Security"),
    gettext_noop("Business Applications"),
    gettext_noop("Use or consume"),
    gettext_noop("Build intent - Advisor"),
    gettext_noop("Usage recognition - Non-incentivized"),
    gettext_noop("Influenced revenue recognition - Non-incentivized"),
    gettext_noop(
        "Choose it if you drive adoption and usage of a qualifying workload and want to apply "
        "for usage incentives and/or usage and competency attainment."
    ),
    gettext_noop(
        "Choose it if you influenced the purchase of an eligible product and want to apply for "
        "presales incentives. Only if the customer bought the products through Volume Licensing "
        "or Web Direct."
    ),
    gettext_noop(
        "Choose it if you drive adoption and usage of a qualifying workload. Only if the "
        "customer bought the products through Volume Licensing or Web Direct."
    ),
    gettext_noop(
        "Choose it if you influenced the selection of an eligible product as a business "
        "influencer. Revenue association only, no incentive payments. Only if the customer "
        "bought the products through Volume Licensing or Web Direct."
    ),
)
