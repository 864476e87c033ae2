"""The seeded catalog's names and help texts, marked for translation.

The catalog lives in the database (program admins may edit it), so its text is not in
the code. Listing the seeded wording here puts it in the message catalogs; pages show
it with ``{% translate value %}`` / ``gettext(value)``, and an edited name simply shows
as entered."""

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
