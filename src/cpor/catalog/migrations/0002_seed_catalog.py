"""Seed the catalog with the source page's engagements, roles and out-of-scope programs."""

from django.db import migrations

AREAS = [
    ("modern_work_security", "Modern Work and Security", 1),
    ("business_applications", "Business Applications", 2),
]

VL_WD = ["volume_licensing", "web_direct"]

# code, name, area, incentivized, unit, channels, opt-out, revenue details
ENGAGEMENTS = [
    (
        "mci_bizapps_presales_advisor",
        "MCI BizApps Presales Advisor",
        "business_applications",
        True,
        "subscription",
        VL_WD,
        False,
        False,
    ),
    (
        "modern_work_security_usage",
        "Modern Work and Security Usage",
        "modern_work_security",
        True,
        "workload",
        [],
        True,
        False,
    ),
    (
        "usage_recognition_bizapps",
        "Usage Recognition - Biz Apps",
        "business_applications",
        False,
        "subscription",
        VL_WD,
        False,
        False,
    ),
    (
        "bizapps_revenue",
        "Microsoft Business Applications Revenue",
        "business_applications",
        False,
        "subscription",
        VL_WD,
        False,
        True,
    ),
]

# code, name, area, engagement, position, help text
ROLES = [
    (
        "use_or_consume",
        "Use or consume",
        "modern_work_security",
        "modern_work_security_usage",
        1,
        "Choose it if you drive adoption and usage of a qualifying workload and want to apply for "
        "usage incentives and/or usage and competency attainment.",
    ),
    (
        "build_intent_advisor",
        "Build intent - Advisor",
        "business_applications",
        "mci_bizapps_presales_advisor",
        1,
        "Choose it if you influenced the purchase of an eligible product and want to apply for "
        "presales incentives. Only if the customer bought the products through Volume Licensing "
        "or Web Direct.",
    ),
    (
        "usage_recognition",
        "Usage recognition - Non-incentivized",
        "business_applications",
        "usage_recognition_bizapps",
        2,
        "Choose it if you drive adoption and usage of a qualifying workload. Only if the customer "
        "bought the products through Volume Licensing or Web Direct.",
    ),
    (
        "influenced_revenue",
        "Influenced revenue recognition - Non-incentivized",
        "business_applications",
        "bizapps_revenue",
        3,
        "Choose it if you influenced the selection of an eligible product as a business "
        "influencer. Revenue association only, no incentive payments. Only if the customer bought "
        "the products through Volume Licensing or Web Direct.",
    ),
]

PRODUCTS = {
    "modern_work_security": [
        ("exchange_online", "Exchange Online"),
        ("sharepoint_online", "SharePoint Online"),
        ("onedrive", "OneDrive"),
        ("teams", "Microsoft Teams"),
        ("teams_phone", "Teams Phone"),
        ("teams_rooms", "Teams Rooms"),
        ("m365_apps", "Microsoft 365 Apps"),
        ("intune", "Microsoft Intune"),
        ("entra_id_p1", "Microsoft Entra ID P1"),
        ("entra_id_p2", "Microsoft Entra ID P2"),
        ("defender_endpoint", "Microsoft Defender for Endpoint"),
        ("defender_office365", "Microsoft Defender for Office 365"),
        ("defender_identity", "Microsoft Defender for Identity"),
        ("defender_cloud_apps", "Microsoft Defender for Cloud Apps"),
        ("purview", "Microsoft Purview"),
        ("windows_365", "Windows 365"),
        ("m365_copilot", "Microsoft 365 Copilot"),
    ],
    "business_applications": [
        ("d365_sales", "Dynamics 365 Sales"),
        ("d365_customer_service", "Dynamics 365 Customer Service"),
        ("d365_field_service", "Dynamics 365 Field Service"),
        ("d365_finance", "Dynamics 365 Finance"),
        ("d365_supply_chain", "Dynamics 365 Supply Chain Management"),
        ("d365_business_central", "Dynamics 365 Business Central"),
        ("power_apps", "Power Apps"),
        ("power_automate", "Power Automate"),
        ("power_pages", "Power Pages"),
        ("copilot_studio", "Microsoft Copilot Studio"),
    ],
}

COOP = (
    "Claims for the {name} program are not customer association (CPOR) claims. Submit them "
    "through the co-op claims process described in “Earn cooperative marketing funds”."
)
OUT_OF_SCOPE = [
    ("csp", "Cloud Solution Provider (CSP)"),
    ("managed_reseller", "Managed Reseller"),
    ("hosting", "Hosting"),
    ("surface", "Surface"),
]


def seed(apps, schema_editor):
    SolutionArea = apps.get_model("catalog", "SolutionArea")
    Engagement = apps.get_model("catalog", "Engagement")
    PartnerRole = apps.get_model("catalog", "PartnerRole")
    Product = apps.get_model("catalog", "Product")
    OutOfScopeProgram = apps.get_model("catalog", "OutOfScopeProgram")
    ProgramSettings = apps.get_model("catalog", "ProgramSettings")

    areas = {}
    for code, name, position in AREAS:
        areas[code], _ = SolutionArea.objects.get_or_create(
            code=code, defaults={"name": name, "position": position}
        )
    engagements = {}
    for code, name, area, incentivized, unit, channels, opt_out, revenue in ENGAGEMENTS:
        engagements[code], _ = Engagement.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "solution_area": areas[area],
                "incentivized": incentivized,
                "claim_unit": unit,
                "allowed_channels": channels,
                "opt_out_allowed": opt_out,
                "requires_revenue_details": revenue,
            },
        )
    for code, name, area, engagement, position, help_text in ROLES:
        PartnerRole.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "solution_area": areas[area],
                "engagement": engagements[engagement],
                "position": position,
                "help_text": help_text,
            },
        )
    for area, products in PRODUCTS.items():
        for code, name in products:
            Product.objects.get_or_create(
                code=code, defaults={"name": name, "solution_area": areas[area]}
            )
    for code, name in OUT_OF_SCOPE:
        OutOfScopeProgram.objects.get_or_create(
            code=code, defaults={"name": name, "message": COOP.format(name=name)}
        )
    ProgramSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
