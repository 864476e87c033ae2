"""The partner's claim pages in a real browser (Debian's chromium through Playwright)."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cpor.catalog.models import Product, PurchaseChannel
from cpor.claims import services
from cpor.claims.models import Claim, ClaimStatus
from cpor.claims.reasons import InfoRequestReason
from cpor.partners.models import PartnerRoleName
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import (
    SubscriptionFactory,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)
from cpor.testing.organisation import grant_relationship

pytestmark = pytest.mark.browser


PDF = b"%PDF-1.7\nSigned statement of work\n%%EOF\n"


def _partner_admin():
    return partner_user(PartnerRoleName.PARTNER_ADMIN)


def _walk_wizard(
    page, live_server, *, tenant, area, role, units, revenue=False, shots=False, units_shot=None
):
    """From the claim list, through every step of Add customer, to the new Draft."""
    page.goto(f"{live_server.url}/claims/")
    page.get_by_role("link", name=f"Add customer · {area}").click()
    if shots:
        # The solution area step, reached back from the role step.
        page.get_by_role("button", name="Back").click()
        screenshot(page, "claims-2-wizard-solution-area")
        page.get_by_label(area).check()
        page.get_by_role("button", name="Next").click()
        screenshot(page, "claims-3-wizard-partner-role")
    page.get_by_label(role, exact=True).check()
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Claim name").fill(f"{role} for {tenant.name}")
    page.locator("[name=partner_id]").select_option(index=0)
    page.get_by_label("Customer tenant ID").fill(str(tenant.tenant_id))
    if revenue:
        page.get_by_label("Dynamics solution seller name").fill("Marta Dias")
        page.get_by_label("Customer name", exact=False).first.fill(tenant.name)
        page.get_by_label("ISV product or solution name").fill("FieldPro 365")
    if shots:
        screenshot(page, "claims-4-wizard-details")
    page.get_by_role("button", name="Next").click()

    if shots:
        page.get_by_label("Search workloads").fill("defender")
        screenshot(page, "claims-5-wizard-workloads")
        page.get_by_label("Search workloads").fill("")
    if units_shot:
        screenshot(page, units_shot)
    for unit in units:
        page.get_by_label(unit, exact=True).first.check()
    page.get_by_role("button", name="Next").click()

    domain = tenant.domains.first().domain
    page.get_by_label("Customer contact name").fill("Ana Silva")
    page.get_by_label("Customer contact title").fill("CIO")
    page.get_by_label("Customer contact e-mail").fill(f"ana@{domain}")
    page.get_by_label("Partner contact name").fill("Rui Costa")
    page.get_by_label("Partner contact e-mail").fill("rui@partner.example")
    if shots:
        screenshot(page, "claims-6-wizard-contacts")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Review the information")).to_be_visible()
    if shots:
        screenshot(page, "claims-7-wizard-review")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()


def _upload_and_submit(page, *, shots=False):
    page.get_by_label("PoE file").set_input_files(
        {"name": "signed-sow.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    signed = timezone.localdate() - datetime.timedelta(days=5)
    page.get_by_label("Date signed by the customer").fill(signed.isoformat())
    page.get_by_label("Customer signatory").fill("Ana Silva, CIO")
    page.get_by_role("button", name="Upload PoE").click()
    expect(page.get_by_role("link", name="signed-sow.pdf")).to_be_visible()
    if shots:
        screenshot(page, "claims-8-detail-draft")
    page.get_by_label("I confirm the information").check()
    page.get_by_label("I confirm the customer agreed").check()
    page.get_by_role("button", name="Submit claim").dblclick()
    expect(page.get_by_text("The claim was submitted.")).to_be_visible()
    expect(page.get_by_text("Submitted", exact=True).first).to_be_visible()
    # A submitted claim offers no way to change it.
    for name in ("Submit claim", "Upload PoE", "Delete"):
        assert page.get_by_role("button", name=name).count() == 0
    assert page.get_by_role("link", name="Edit").count() == 0
    if shots:
        screenshot(page, "claims-9-detail-submitted")


ROLES = {
    "use_or_consume": ("Modern Work and Security", "Use or consume", ["Microsoft Teams"]),
    "build_intent_advisor": ("Business Applications", "Build intent - Advisor", None),
    "usage_recognition": ("Business Applications", "Usage recognition - Non-incentivized", None),
    "influenced_revenue": (
        "Business Applications",
        "Influenced revenue recognition - Non-incentivized",
        None,
    ),
}


@pytest.mark.parametrize("role_code", ROLES)
def test_partner_admin_adds_a_customer_uploads_poe_and_submits(page, live_server, role_code):
    area, role, units = ROLES[role_code]
    user = _partner_admin()
    tenant = customer_tenant()
    if units is None:
        SubscriptionFactory(tenant=tenant, product=Product.objects.get(code="d365_sales"))
        # Shown disabled, with the reason: bought through CSP.
        SubscriptionFactory(
            tenant=tenant,
            product=Product.objects.get(code="power_apps"),
            purchase_channel=PurchaseChannel.CSP,
        )
        units = ["Dynamics 365 Sales"]
        # The customer invited the partner: the wizard lists its subscriptions.
        grant_relationship(user.partner_membership.organisation, tenant)
    shots = role_code == "use_or_consume"
    if shots:  # a few claims of other states, for the list's screenshot
        _other_claims(user)
    sign_in(page, live_server, user)
    _walk_wizard(
        page,
        live_server,
        tenant=tenant,
        area=area,
        role=role,
        units=units,
        revenue=role_code == "influenced_revenue",
        shots=shots,
        units_shot="claims-5b-wizard-subscriptions"
        if role_code == "build_intent_advisor"
        else None,
    )
    _upload_and_submit(page, shots=shots)
    claim = Claim.objects.get(name__startswith=role)
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.events.filter(action="submit").count() == 1
    assert claim.role.code == role_code
    if shots:
        page.goto(f"{live_server.url}/claims/")
        screenshot(page, "claims-1-list")


def _other_claims(user):
    reviewer = operator_user()
    asked = submitted_claim(user, name="Contoso Security rollout")
    services.claim_request_info(
        actor=reviewer,
        claim=asked,
        reason_code=InfoRequestReason.DATES_MISSING,
        message="Please add the date of the customer's signature.",
    )
    approved = submitted_claim(
        user, name="Fabrikam Teams Phone adoption", products=("teams_phone",)
    )
    services.claim_approve(actor=reviewer, claim=approved)
    services.claim_create(
        actor=user, data=claim_input(user, customer_tenant(), name="Woodgrove Intune (draft)")
    )


def test_incentives_user_finds_no_way_to_create_a_claim(page, live_server):
    user = partner_user(PartnerRoleName.INCENTIVES_USER)
    colleague = partner_user(organisation=user.partner_membership.organisation)
    claim = submitted_claim(colleague)
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/claims/")
    assert page.get_by_role("link", name=claim.name).is_visible()
    assert page.get_by_role("link", name=re.compile("Add customer")).count() == 0
    # The filters apply as soon as they change (htmx), keeping the URL shareable.
    page.get_by_label("Status").select_option("draft")
    expect(page.get_by_text("No claims match.")).to_be_visible()
    assert "status=draft" in page.url
    page.get_by_label("Status").select_option("submitted")
    expect(page.get_by_role("link", name=claim.name)).to_be_visible()
    response = page.goto(f"{live_server.url}/claims/new/")
    assert response.status == 403
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    assert (
        page.get_by_role("button").filter(has_text=re.compile("Submit|Upload|Withdraw")).count()
        == 0
    )


def test_wizard_in_portuguese_on_a_phone_without_javascript(browser, live_server, seeded_catalog):
    """Accept-Language pt-PT, a phone's width, and no JavaScript at all: every step still
    works, from sign-in to submission."""
    context = browser.new_context(
        locale="pt-PT", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        user = _partner_admin()
        tenant = customer_tenant()
        sign_in(page, live_server, user)  # a partner admin: the code of their app too
        page.goto(f"{live_server.url}/claims/")
        assert page.get_by_role("heading", name="Reclamações de clientes").is_visible()
        page.locator("a[href$='?area=modern_work_security']").click()
        page.locator("input[value=use_or_consume]").check()
        page.get_by_role("button", name="Seguinte").click()
        assert page.get_by_label("Nome da reclamação").is_visible()
        page.get_by_label("Nome da reclamação").fill("Adoção do Teams")
        page.get_by_label("ID do inquilino do cliente").fill("isto-não-é-um-guid")
        page.get_by_role("button", name="Seguinte").click()
        assert page.get_by_text("não é um GUID").is_visible()
        page.get_by_label("ID do inquilino do cliente").fill(str(tenant.tenant_id))
        page.get_by_role("button", name="Seguinte").click()
        page.locator("input[value=teams]").check()
        page.get_by_role("button", name="Seguinte").click()
        for name, value in {
            "customer_contact_name": "Ana Silva",
            "customer_contact_title": "Diretora de Sistemas",
            "customer_contact_email": "ana@cliente.example",
            "partner_contact_name": "Rui Costa",
            "partner_contact_email": "rui@parceiro.example",
        }.items():
            page.locator(f"[name={name}]").fill(value)
        page.get_by_role("button", name="Seguinte").click()
        screenshot(page, "claims-10-wizard-review-pt-phone")
        page.get_by_role("button", name="Adicionar cliente").click()
        assert page.get_by_text("Rascunho", exact=True).is_visible()
        assert Claim.objects.get().name == "Adoção do Teams"
        page.get_by_label("Ficheiro da PoE").set_input_files(
            {"name": "sow-assinada.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        signed = timezone.localdate() - datetime.timedelta(days=2)
        page.get_by_label("Data de assinatura pelo cliente").fill(signed.isoformat())
        page.get_by_label("Signatário do cliente").fill("Ana Silva")
        page.get_by_role("button", name="Carregar PoE").click()
        page.get_by_label("Confirmo que as informações").check()
        page.get_by_label("Confirmo que o cliente aceitou").check()
        page.get_by_role("button", name="Submeter reclamação").click()
        assert page.get_by_text("Submetida", exact=True).first.is_visible()
        assert Claim.objects.get().status == ClaimStatus.SUBMITTED
    finally:
        context.close()


def test_main_pages_have_no_serious_accessibility_violations(page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    user = _partner_admin()
    tenant = customer_tenant()
    claim = submitted_claim(user, tenant)
    draft = services.claim_create(actor=user, data=claim_input(user, tenant, name="Draft"))
    problems = []

    def scan():
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    (page.url, violation["id"], [n["html"][:120] for n in violation["nodes"]])
                )

    page.goto(f"{live_server.url}/accounts/login/")
    scan()
    sign_in(page, live_server, user)
    pages = [
        f"{live_server.url}/",
        f"{live_server.url}/claims/",
        f"{live_server.url}/claims/{claim.pk}/",
        f"{live_server.url}/claims/{draft.pk}/",  # upload, checks, confirmations
        f"{live_server.url}/accounts/2fa/",
    ]
    page.goto(f"{live_server.url}/claims/new/?area=modern_work_security")
    pages.append(page.url)  # the partner role step
    page.get_by_label("Use or consume").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()  # the details step, with its errors
    scan()
    page.goto(f"{live_server.url}/claims/{draft.pk}/edit/")  # the review step, then units
    scan()
    page.goto(page.url.replace("/review/", "/units/"))
    scan()
    for url in pages:
        page.goto(url)
        scan()
    assert problems == [], "\n".join(map(str, problems))


def test_partner_answers_a_request_for_information(page, live_server):
    user = _partner_admin()
    claim = submitted_claim(user, name="Contoso Security rollout")
    services.claim_request_info(
        actor=operator_user(),
        claim=claim,
        reason_code=InfoRequestReason.CUSTOMER_SIGNATURE_MISSING,
        message="The statement of work has no customer signature. Please add the signed page.",
    )
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/claims/")
    page.get_by_role("link", name="1 needs your action").click()
    page.get_by_role("link", name="Contoso Security rollout").click()
    expect(
        page.get_by_text("The customer's acknowledgment or signature is missing.")
    ).to_be_visible()
    # Only the contacts and the PartnerID can change; the claim's other fields cannot.
    assert page.get_by_role("link", name="Edit").count() == 0
    page.get_by_label("Customer contact title").fill("Chief Information Officer")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Your corrections were saved.")).to_be_visible()
    page.get_by_label("PoE file").set_input_files(
        {"name": "signed-page.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("Date signed by the customer").fill(
        (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    )
    page.get_by_label("Customer signatory").fill("Ana Silva, CIO")
    page.get_by_role("button", name="Upload PoE").click()
    screenshot(page, "claims-11-detail-action-required")
    page.get_by_label("Your reply to the reviewer").fill("The signed page is attached.")
    page.get_by_role("button", name="Reply and resubmit").click()
    expect(page.get_by_text("Your reply was sent and the claim resubmitted.")).to_be_visible()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.customer_contact_title == "Chief Information Officer"
