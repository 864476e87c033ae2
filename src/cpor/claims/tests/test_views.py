"""The partner's claim pages: permissions, the wizard, the list, the detail and its actions."""

import csv
import datetime
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cpor.catalog.models import ProgramSettings, PurchaseChannel
from cpor.claims import selectors, services, views
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EventAction,
    PoEType,
    ProofOfExecution,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    LocationFactory,
    SubscriptionFactory,
    UserFactory,
    add_poe,
    claim_input,
    customer_tenant,
    partner_user,
    pdf_file,
    submitted_claim,
)
from cpor.testing.organisation import grant_relationship

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(partner, tenant):
    return services.claim_create(actor=partner, data=claim_input(partner, tenant))


@pytest.fixture
def signed_in(client, partner):
    client.force_login(partner)
    return client


def _colleague(partner, role):
    return partner_user(role, organisation=partner.partner_membership.organisation)


# ---------------------------------------------------------------------------
# Permission matrix


def _actors(partner):
    return {
        "partner_admin": _colleague(partner, PartnerRoleName.PARTNER_ADMIN),
        "incentives_admin": partner,
        "incentives_user": _colleague(partner, PartnerRoleName.INCENTIVES_USER),
        "other_partner": partner_user(),
        "customer": UserFactory(),
        "reviewer": UserFactory(operator_role="reviewer"),
    }


# For a draft: what each actor gets from the detail page and from the wizard.
DRAFT_MATRIX = {
    "anonymous": (302, 302),
    "partner_admin": (200, 302),
    "incentives_admin": (200, 302),
    "incentives_user": (200, 403),
    "other_partner": (404, 302),
    "customer": (404, 403),
    "reviewer": (404, 403),  # operators never see drafts
}


@pytest.mark.parametrize("who", DRAFT_MATRIX)
def test_permission_matrix_for_a_draft(client, partner, draft, who):
    if who != "anonymous":
        client.force_login(_actors(partner)[who])
    detail, wizard = DRAFT_MATRIX[who]
    assert client.get(reverse("claims:detail", args=[draft.pk])).status_code == detail
    assert client.get(reverse("claims:new")).status_code == wizard
    submit = client.post(reverse("claims:submit", args=[draft.pk]), {"accurate": "on"})
    assert submit.status_code in {"anonymous": (302,)}.get(who, (302, 400, 403, 404))
    if detail != 200 or who == "incentives_user":
        assert Claim.objects.get(pk=draft.pk).status == ClaimStatus.DRAFT


def test_incentives_user_sees_claims_but_no_controls(client, partner, draft):
    client.force_login(_colleague(partner, PartnerRoleName.INCENTIVES_USER))
    body = client.get(reverse("claims:list")).content.decode()
    assert draft.name in body
    assert "Add customer" not in body
    body = client.get(reverse("claims:detail", args=[draft.pk])).content.decode()
    assert "Submit claim" not in body and "Upload PoE" not in body and "Delete" not in body
    for name in ("edit", "delete", "submit", "poe_upload", "withdraw"):
        assert client.post(reverse(f"claims:{name}", args=[draft.pk])).status_code == 403
    assert Claim.objects.filter(pk=draft.pk).exists()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("claims:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_another_organisations_claim_and_poe_answer_404(client, partner, draft):
    proof = add_poe(partner, draft)
    client.force_login(partner_user())
    assert client.get(reverse("claims:detail", args=[draft.pk])).status_code == 404
    url = reverse("claims:poe_download", args=[draft.pk, proof.pk])
    assert client.get(url).status_code == 404
    assert client.post(reverse("claims:delete", args=[draft.pk])).status_code == 404
    assert Claim.objects.filter(pk=draft.pk).exists()


def test_poe_of_another_claim_under_own_claim_answers_404(signed_in, partner, draft):
    other = submitted_claim()
    proof = other.proofs.get()
    url = reverse("claims:poe_download", args=[draft.pk, proof.pk])
    assert signed_in.get(url).status_code == 404


# ---------------------------------------------------------------------------
# The Add customer wizard


def _walk(client, steps):
    """Post each step's data; returns the final response. Each step must move on."""
    response = client.get(reverse("claims:new"))
    assert response.status_code == 302
    url = response.url
    for data in steps:
        response = client.post(url, data)
        assert response.status_code == 302, _errors(response)
        url = response.url
    return url


def _errors(response) -> str:
    return " | ".join(
        re.findall(
            r'class="[^"]*(?:invalid-feedback|text-danger)[^"]*"[^>]*>([^<]+)',
            response.content.decode(),
        )
    )


def _details(partner, tenant, **extra):
    return {
        "name": "Teams rollout",
        "partner_id": partner.partner_membership.organisation.locations.first().partner_id,
        "tenant_id": str(tenant.tenant_id),
        **extra,
    }


CONTACTS = {
    "customer_contact_name": "Ana Silva",
    "customer_contact_title": "CIO",
    "customer_contact_email": "ana@customer.example",
    "partner_contact_name": "Rui Costa",
    "partner_contact_email": "rui@partner.example",
}


def test_wizard_creates_a_modern_work_draft(signed_in, partner, tenant):
    review = _walk(
        signed_in,
        [
            {"solution_area": "modern_work_security"},
            {"role": "use_or_consume"},
            _details(partner, tenant, incentive_opt_out="on"),
            {"products": ["teams", "intune"]},
            CONTACTS,
        ],
    )
    page = signed_in.get(review)
    body = page.content.decode()
    assert "Review the information" in body and "Microsoft Intune" in body
    assert not Claim.objects.exists()
    response = signed_in.post(review, {"save": "1"})
    claim = Claim.objects.get()
    assert response.url == reverse("claims:detail", args=[claim.pk])
    assert claim.status == ClaimStatus.DRAFT and claim.incentive_opt_out
    assert sorted(claim.lines.values_list("product__code", flat=True)) == ["intune", "teams"]
    # A second "Add customer" (a double click) lands on the claim, creating nothing more.
    assert signed_in.post(review, {"save": "1"}).url == response.url
    assert Claim.objects.count() == 1


def test_wizard_lists_subscriptions_with_why_some_cannot_be_claimed(signed_in, partner, tenant):
    # Listed only because the customer invited the partner (cpor.customers.relationships).
    grant_relationship(partner.partner_membership.organisation, tenant)
    eligible = SubscriptionFactory(tenant=tenant)
    csp = SubscriptionFactory(tenant=tenant, purchase_channel=PurchaseChannel.CSP)
    ended = SubscriptionFactory(
        tenant=tenant,
        starts_on=timezone.localdate() - datetime.timedelta(days=400),
        ends_on=timezone.localdate() - datetime.timedelta(days=5),
    )
    url = _walk(
        signed_in,
        [
            {"solution_area": "business_applications"},
            {"role": "build_intent_advisor"},
            _details(partner, tenant),
        ],
    )
    body = signed_in.get(url).content.decode()
    assert str(eligible.subscription_id) in body
    assert "only Volume Licensing or Web Direct qualify" in body
    assert "Ended on" in body
    disabled = re.findall(r'value="([0-9a-f-]{36})"[^>]*disabled', body)
    assert sorted(disabled) == sorted([str(csp.subscription_id), str(ended.subscription_id)])
    # A tampered post naming an ineligible subscription is refused on the step.
    response = signed_in.post(url, {"subscription_ids": [str(csp.subscription_id)]})
    assert response.status_code == 200 and "cannot be claimed" in response.content.decode()
    response = signed_in.post(url, {"subscription_ids": [str(eligible.subscription_id)]})
    review = signed_in.post(response.url, CONTACTS).url
    signed_in.post(review, {"save": "1"})
    line = ClaimLine.objects.get()
    assert line.subscription == eligible


def test_revenue_role_asks_for_seller_customer_and_isv(signed_in, partner, tenant):
    url = _walk(
        signed_in,
        [{"solution_area": "business_applications"}, {"role": "influenced_revenue"}],
    )
    assert "Dynamics solution seller name" in signed_in.get(url).content.decode()
    response = signed_in.post(url, _details(partner, tenant))
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 3
    response = signed_in.post(
        url,
        _details(
            partner, tenant, seller_name="Marta", customer_name="Contoso", isv_solution_name="X"
        ),
    )
    assert response.status_code == 302


def test_opt_out_is_offered_only_for_modern_work(signed_in, partner, tenant):
    url = _walk(
        signed_in, [{"solution_area": "business_applications"}, {"role": "usage_recognition"}]
    )
    assert "incentive_opt_out" not in signed_in.get(url).content.decode()


@pytest.mark.parametrize(
    ("tenant_id", "message"),
    [
        ("not-a-guid", "is not a GUID"),
        ("00000000-0000-0000-0000-000000000000", "No customer tenant has the ID"),
    ],
)
def test_details_refuse_a_bad_tenant_id(signed_in, partner, tenant, tenant_id, message):
    url = _walk(signed_in, [{"solution_area": "modern_work_security"}, {"role": "use_or_consume"}])
    response = signed_in.post(url, _details(partner, tenant, tenant_id=tenant_id))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_details_refuse_another_organisations_partner_id(signed_in, partner, tenant):
    foreign = LocationFactory()
    url = _walk(signed_in, [{"solution_area": "modern_work_security"}, {"role": "use_or_consume"}])
    response = signed_in.post(url, _details(partner, tenant, partner_id=foreign.partner_id))
    assert "Choose one of your organisation" in response.content.decode()
    assert (
        foreign.partner_id
        not in response.content.decode().split("<select")[1].split("</select>")[0]
    )


def test_workload_from_the_other_solution_area_is_refused(signed_in, partner, tenant):
    url = _walk(
        signed_in,
        [
            {"solution_area": "modern_work_security"},
            {"role": "use_or_consume"},
            _details(partner, tenant),
        ],
    )
    response = signed_in.post(url, {"products": ["d365_sales"]})
    assert response.status_code == 200
    assert "is not a workload of the chosen solution area" in response.content.decode()


def test_role_of_the_other_solution_area_is_refused(signed_in):
    url = _walk(signed_in, [{"solution_area": "modern_work_security"}])
    response = signed_in.post(url, {"role": "build_intent_advisor"})
    assert response.status_code == 200
    assert "Choose a partner role of the chosen solution area." in response.content.decode()


def test_going_back_keeps_what_was_entered(signed_in, partner, tenant):
    url = _walk(signed_in, [{"solution_area": "modern_work_security"}, {"role": "use_or_consume"}])
    response = signed_in.post(url, {"back": "1", "name": "Half typed", "tenant_id": "abc"})
    assert response.url.endswith("/role/")
    body = signed_in.get(url).content.decode()
    assert 'value="Half typed"' in body and 'value="abc"' in body


def test_a_later_step_cannot_be_reached_first(signed_in):
    url = _walk(signed_in, [{"solution_area": "modern_work_security"}])
    contacts = url.replace("/role/", "/contacts/")
    assert signed_in.get(contacts).url == url


def test_service_refusal_on_review_links_back_to_the_step(signed_in, partner, tenant):
    review = _walk(
        signed_in,
        [
            {"solution_area": "modern_work_security"},
            {"role": "use_or_consume"},
            _details(partner, tenant),
            {"products": ["teams"]},
            CONTACTS,
        ],
    )
    location = partner.partner_membership.organisation.locations.get()
    location.active = False
    location.save()
    response = signed_in.post(review, {"save": "1"})
    assert response.status_code == 400
    assert "is not active" in response.content.decode()
    assert not Claim.objects.exists()


def test_edit_a_draft_through_the_wizard(signed_in, draft):
    review = signed_in.get(reverse("claims:edit", args=[draft.pk])).url
    units = review.replace("/review/", "/units/")
    assert 'value="teams"' in signed_in.get(units).content.decode()
    signed_in.post(units, {"products": ["teams", "purview"]})
    signed_in.post(review, {"save": "1"})
    codes = sorted(draft.lines.values_list("product__code", flat=True))
    assert codes == ["purview", "teams"]
    assert draft.events.filter(action=EventAction.EDIT).count() == 1


# ---------------------------------------------------------------------------
# The claim list


def _claims(partner, count):
    tenant = customer_tenant()
    for _ in range(count):
        services.claim_create(
            actor=partner, data=claim_input(partner, tenant, products=("teams", "intune"))
        )


def test_list_runs_a_fixed_number_of_queries(
    signed_in, partner, django_assert_num_queries, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(views.lists, "PAGE_SIZE", 2)
    _claims(partner, 3)
    url = reverse("claims:list")
    signed_in.get(url)  # warm the session and content types
    with django_assert_max_num_queries(15) as small:
        first = signed_in.get(url, {"sort": "created"})
    queries = len(small.captured_queries)
    sql = " ".join(query["sql"] for query in small.captured_queries)
    assert sql.count('FROM "claims_claimline"') == 1  # the lines of every row, at once
    assert "OFFSET" not in sql
    # Oldest first: the claims added now come after the first page.
    _claims(partner, 9)
    deep = signed_in.get(url, {"sort": "created", "cursor": first.context["page"].next_cursor})
    with django_assert_num_queries(queries):
        response = signed_in.get(
            url, {"sort": "created", "cursor": deep.context["page"].next_cursor}
        )
    assert len(response.context["page"].rows) == 2


def test_list_rows_print_what_people_typed_as_text(signed_in, partner, tenant):
    # The rows are rendered by Jinja2 (claims/jinja2/): it must escape as Django does.
    tenant.name = 'Contoso <b>"Bold"</b>'
    tenant.save()
    grant_relationship(partner.partner_membership.organisation, tenant)
    services.claim_create(
        actor=partner,
        data=claim_input(partner, tenant, name="<img src=x onerror=alert(1)> & Co"),
    )

    body = signed_in.get(reverse("claims:list")).content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co</a>" in body
    assert "Contoso &lt;b&gt;&#34;Bold&#34;&lt;/b&gt;" in body
    assert "<img src=x" not in body and "<b>" not in body


def _follow(client, url, params, rel):
    """The href of the page link ``rel`` ("next" or "prev"), or None."""
    body = client.get(url, params).content.decode()
    found = re.search(rf'rel="{rel}" href="([^"]+)"', body)
    return found and found.group(1).replace("&amp;", "&")


def test_list_pages_by_cursor_links_without_gaps_or_repeats(signed_in, partner, monkeypatch):
    monkeypatch.setattr(views.lists, "PAGE_SIZE", 2)
    tenant = customer_tenant()
    for name in ("Same", "Same", "Same", "Other", "Same"):
        services.claim_create(actor=partner, data=claim_input(partner, tenant, name=name))
    submitted_claim(name="Same")  # another partner's
    url = reverse("claims:list")
    seen, pages, query = [], [], "?sort=name&status=draft"
    while query:
        response = signed_in.get(url + query)
        assert response.status_code == 200
        rows = [claim.pk for claim in response.context["page"].rows]
        pages.append((query, rows))
        seen += rows
        found = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        query = found and found.group(1).replace("&amp;", "&")
    mine = Claim.objects.filter(organisation=partner.partner_membership.organisation)
    assert seen == list(mine.order_by("name", "pk").values_list("pk", flat=True))
    assert "sort=name" in pages[1][0] and "status=draft" in pages[1][0]
    # The previous link of the last page leads back to the page before it.
    last = signed_in.get(url + pages[-1][0]).content.decode()
    back = re.search(r'rel="prev" href="([^"]+)"', last).group(1).replace("&amp;", "&")
    assert [c.pk for c in signed_in.get(url + back).context["page"].rows] == pages[-2][1]


def test_list_answers_a_tampered_cursor_with_400_and_the_first_page(signed_in, partner):
    _claims(partner, 2)
    response = signed_in.get(reverse("claims:list"), {"cursor": "eyJub3QiOiJhIGN1cnNvciJ9"})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()
    assert len(response.context["page"].rows) == 2


def test_list_says_more_than_and_counts_exactly_on_demand(signed_in, partner, monkeypatch):
    monkeypatch.setattr(views.lists, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors.lists, "CLAIM_COUNT_LIMIT", 3)
    _claims(partner, 5)
    body = signed_in.get(reverse("claims:list"), {"sort": "name"}).content.decode()
    assert "More than 3 claims (2+ pages)." in body
    link = re.search(r'href="\?([^"]*count=exact)"', body).group(1).replace("&amp;", "&")
    assert link == "sort=name&count=exact"
    body = signed_in.get(reverse("claims:list") + "?" + link).content.decode()
    assert "5 claims" in body and "More than" not in body


def test_a_search_counts_no_further_than_one_page(signed_in, partner, monkeypatch):
    """A search's first page says "more than" from its own rows, without counting; a
    later page counts up to one page; the exact count is there on demand."""
    monkeypatch.setattr(views.lists, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors.lists, "SEARCH_COUNT_LIMIT", 2)
    tenant = customer_tenant()
    for name in ("Harbor one", "Harbor two", "Harbor three", "Other"):
        services.claim_create(actor=partner, data=claim_input(partner, tenant, name=name))
    counted, bounded_count = [], selectors.lists.bounded_count

    def spy(claims, limit):
        if limit == selectors.lists.SEARCH_COUNT_LIMIT:  # not the action-required badge's
            counted.append(limit)
        return bounded_count(claims, limit)

    monkeypatch.setattr(selectors.lists, "bounded_count", spy)
    first = signed_in.get(reverse("claims:list"), {"q": "harbor"})
    body = first.content.decode()
    assert len(first.context["page"].rows) == 2 and counted == []
    assert "More than 2 claims (2+ pages)." in body
    after = re.search(r'rel="next" href="([^"]+)"', body).group(1).replace("&amp;", "&")
    second = signed_in.get(reverse("claims:list") + after)
    assert len(second.context["page"].rows) == 1 and len(counted) == 1
    exact = signed_in.get(reverse("claims:list"), {"q": "harbor", "count": "exact"})
    assert "3 claims" in exact.content.decode()
    assert "More than" not in exact.content.decode()


def test_list_counts_in_portuguese(signed_in, partner, monkeypatch):
    monkeypatch.setattr(views.lists, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors.lists, "CLAIM_COUNT_LIMIT", 3)
    _claims(partner, 5)
    body = signed_in.get(reverse("claims:list"), HTTP_ACCEPT_LANGUAGE="pt-pt").content.decode()
    assert "Mais de 3 reclamações" in body
    assert "Seguinte" in body


def test_list_filters_sorts_and_counts_claims_needing_action(signed_in, partner, tenant, reviewer):
    mine = services.claim_create(actor=partner, data=claim_input(partner, tenant, name="Alpha"))
    asked = submitted_claim(partner, name="Bravo")
    services.claim_request_info(
        actor=reviewer, claim=asked, reason_code=InfoRequestReason.DATES_MISSING, message="Dates?"
    )
    submitted_claim(name="Foreign claim")
    response = signed_in.get(reverse("claims:list"))
    body = response.content.decode()
    assert "Alpha" in body and "Bravo" in body and "Foreign claim" not in body
    assert "1 needs your action" in body
    body = signed_in.get(reverse("claims:list"), {"status": "action_required"}).content.decode()
    assert "Bravo" in body and "Alpha" not in body
    body = signed_in.get(reverse("claims:list"), {"q": "alp"}).content.decode()
    assert "Alpha" in body and "Bravo" not in body
    body = signed_in.get(reverse("claims:list"), {"tenant": str(tenant.tenant_id)}).content.decode()
    assert "Alpha" in body and "Bravo" not in body
    rows = signed_in.get(reverse("claims:list"), {"sort": "name"}).context["page"].rows
    assert [c.name for c in rows] == ["Alpha", "Bravo"]
    rows = signed_in.get(reverse("claims:list"), {"sort": "-name"}).context["page"].rows
    assert [c.name for c in rows] == ["Bravo", "Alpha"]
    assert mine.pk in [c.pk for c in rows]


def test_action_badge_stops_counting_at_its_limit(signed_in, partner, reviewer, monkeypatch):
    monkeypatch.setattr(selectors.lists, "BADGE_LIMIT", 1)
    for _ in range(2):
        services.claim_request_info(
            actor=reviewer,
            claim=submitted_claim(partner),
            reason_code=InfoRequestReason.DATES_MISSING,
            message="Dates?",
        )
    body = signed_in.get(reverse("claims:list")).content.decode()
    assert "1+ need your action" in body


def test_csv_export_streams_the_filtered_list(signed_in, partner, tenant):
    services.claim_create(actor=partner, data=claim_input(partner, tenant, name="=HYPERLINK()"))
    services.claim_create(actor=partner, data=claim_input(partner, tenant, name="Plain"))
    response = signed_in.get(reverse("claims:export"), {"q": "HYPER"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Claim name"
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK()"]
    assert rows[1][6] == "Microsoft Teams"


# ---------------------------------------------------------------------------
# Claim detail: PoE, submission and the later states


def _poe_post(file, **extra):
    return {
        "file": file,
        "poe_type": PoEType.STATEMENT_OF_WORK,
        "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "signatory": "Ana Silva",
        **extra,
    }


def test_upload_and_download_a_poe(signed_in, draft):
    response = signed_in.post(reverse("claims:poe_upload", args=[draft.pk]), _poe_post(pdf_file()))
    assert response.status_code == 302
    proof = ProofOfExecution.objects.get()
    download = signed_in.get(reverse("claims:poe_download", args=[draft.pk, proof.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def _zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/bomb.bin", b"\0" * (120 * 1024 * 1024))
    return SimpleUploadedFile("poe.docx", buffer.getvalue())


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda: pdf_file(body=b"x" * 4096), "the limit is"),
        (lambda: SimpleUploadedFile("poe.pdf", b""), "The file is empty."),
        (
            lambda: SimpleUploadedFile("poe.pdf", b"MZ\x90\x00" + b"\x00" * 200),
            "is not a PDF, DOCX, PNG or JPEG",
        ),
        (_zip_bomb, ""),
    ],
    ids=["too-large", "empty", "exe-renamed-pdf", "zip-bomb-docx"],
)
def test_bad_poe_shows_the_message_on_the_upload_form(signed_in, draft, make_file, message):
    settings = ProgramSettings.load()
    settings.poe_max_bytes = 2048 if message == "the limit is" else settings.poe_max_bytes
    settings.save()
    response = signed_in.post(reverse("claims:poe_upload", args=[draft.pk]), _poe_post(make_file()))
    assert response.status_code == 400
    body = response.content.decode()
    feedback = re.search(r'id="id_file_error"[^>]*>([^<]+)<', body)
    assert feedback, "the error shows on the file field"
    assert message in feedback.group(1)
    assert not ProofOfExecution.objects.exists()


def test_poe_templates_are_prefilled(signed_in, draft):
    pdf = signed_in.get(reverse("claims:poe_template", args=[draft.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    docx = signed_in.get(reverse("claims:poe_template", args=[draft.pk, "docx"]))
    with zipfile.ZipFile(io.BytesIO(docx.content)) as archive:
        document = archive.read("word/document.xml").decode()
    for text in (draft.name, str(draft.tenant.tenant_id), "4. Products or workloads by activity"):
        assert text in document
    assert "Microsoft Teams" in document


def test_submit_needs_the_confirmations(signed_in, draft):
    add_poe(draft.created_by, draft)
    response = signed_in.post(reverse("claims:submit", args=[draft.pk]), {"accurate": "on"})
    assert response.status_code == 400
    assert "Confirm that the customer agreed." in response.content.decode()
    assert Claim.objects.get(pk=draft.pk).status == ClaimStatus.DRAFT


def test_submit_without_poe_shows_the_failed_check(signed_in, draft):
    response = signed_in.post(
        reverse("claims:submit", args=[draft.pk]),
        {"accurate": "on", "customer_agreed": "on"},
        follow=True,
    )
    assert "Upload a proof of execution" in response.content.decode()
    assert Claim.objects.get(pk=draft.pk).status == ClaimStatus.DRAFT


def test_double_clicked_submit_submits_once(signed_in, draft):
    add_poe(draft.created_by, draft)
    url = reverse("claims:submit", args=[draft.pk])
    data = {"accurate": "on", "customer_agreed": "on", "comments": "Signed SOW attached"}
    first, second = signed_in.post(url, data), signed_in.post(url, data)
    assert first.status_code == second.status_code == 302
    claim = Claim.objects.get(pk=draft.pk)
    assert claim.status == ClaimStatus.SUBMITTED and claim.comments == "Signed SOW attached"
    assert claim.events.filter(action=EventAction.SUBMIT).count() == 1


def test_submitted_claim_shows_no_edit_controls_and_refuses_edits(signed_in, partner):
    claim = submitted_claim(partner)
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Submitted" in body
    for control in ("Submit claim", "Upload PoE", 'id="draft-actions"', "/edit/"):
        assert control not in body
    assert signed_in.get(reverse("claims:edit", args=[claim.pk])).status_code == 302
    signed_in.post(reverse("claims:delete", args=[claim.pk]))
    signed_in.post(reverse("claims:poe_upload", args=[claim.pk]), _poe_post(pdf_file()))
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED
    assert claim.proofs.count() == 1


def test_action_required_shows_the_request_and_allows_only_corrections(
    signed_in, partner, reviewer
):
    claim = submitted_claim(partner)
    services.claim_request_info(
        actor=reviewer,
        claim=claim,
        reason_code=InfoRequestReason.CUSTOMER_SIGNATURE_MISSING,
        message="Please add the signed page.",
    )
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Please add the signed page." in body
    assert "The customer&#x27;s acknowledgment or signature is missing." in body
    assert "Submit claim" not in body and "Reply and resubmit" in body
    second = LocationFactory(organisation=partner.partner_membership.organisation)
    response = signed_in.post(
        reverse("claims:edit", args=[claim.pk]),
        {
            "partner_id": second.partner_id,
            "customer_contact_name": "Joana Reis",
            "customer_contact_title": "CTO",
            "customer_contact_email": claim.customer_contact_email,
            "partner_contact_name": "Rui Costa",
            "partner_contact_email": "rui@partner.example",
        },
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.customer_contact_name == "Joana Reis" and claim.location == second
    response = signed_in.post(reverse("claims:reply", args=[claim.pk]), {"message": ""})
    assert response.status_code == 400
    signed_in.post(reverse("claims:reply", args=[claim.pk]), {"message": "Added it."})
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_withdraw_before_a_decision(signed_in, partner):
    claim = submitted_claim(partner)
    signed_in.post(
        reverse("claims:withdraw", args=[claim.pk]), {"message": "Duplicate", "confirm": "1"}
    )
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.WITHDRAWN


def test_dispute_a_rejection(signed_in, partner, reviewer):
    claim = submitted_claim(partner)
    services.claim_reject(actor=reviewer, claim=claim, reason_code=RejectionReason.INSUFFICIENT_POE)
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "The PoE is insufficient." in body and "Dispute the rejection" in body
    response = signed_in.post(reverse("claims:dispute", args=[claim.pk]), {"message": ""})
    assert response.status_code == 400
    signed_in.post(reverse("claims:dispute", args=[claim.pk]), {"message": "It is signed."})
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.DISPUTED


def test_approved_claim_shows_associations_newer_poe_and_disassociate(signed_in, partner, reviewer):
    claim = submitted_claim(partner)
    services.claim_approve(actor=reviewer, claim=claim)
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Pending customer" in body and "Add newer PoE" in body
    association = Association.objects.get()
    url = reverse("claims:association_withdraw", args=[claim.pk, association.pk])
    signed_in.post(url, {"reason": ""})
    assert Association.objects.get().is_held
    signed_in.post(url, {"reason": "Customer moved to another partner", "confirm": "1"})
    assert not Association.objects.get().is_held


def test_history_hides_internal_notes(signed_in, partner, reviewer):
    claim = submitted_claim(partner)
    services.claim_add_note(actor=reviewer, claim=claim, message="Secret reviewer note")
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Secret reviewer note" not in body
    assert ClaimEvent.objects.filter(internal=True).exists()


def test_refusals_about_the_claim_show_as_a_message(signed_in, partner):
    claim = submitted_claim(partner)
    response = signed_in.post(
        reverse("claims:poe_upload", args=[claim.pk]), _poe_post(pdf_file()), follow=True
    )
    assert "cannot be given a new PoE" in response.content.decode()
    response = signed_in.post(reverse("claims:dispute", args=[claim.pk]), {"message": "x"})
    assert response.status_code == 302
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_reply_that_fails_the_checks_says_why(signed_in, partner, reviewer):
    claim = submitted_claim(partner)
    services.claim_request_info(
        actor=reviewer, claim=claim, reason_code=InfoRequestReason.POE_MISSING, message="PoE?"
    )
    location = claim.location
    location.active = False
    location.save()
    response = signed_in.post(
        reverse("claims:reply", args=[claim.pk]), {"message": "Here."}, follow=True
    )
    assert "is not active" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.ACTION_REQUIRED


def test_going_back_from_the_units_keeps_only_offered_choices(signed_in, partner, tenant):
    url = _walk(
        signed_in,
        [
            {"solution_area": "modern_work_security"},
            {"role": "use_or_consume"},
            _details(partner, tenant),
        ],
    )
    signed_in.post(url, {"back": "1", "products": ["teams", "d365_sales", "nonsense"]})
    review = url.replace("/units/", "/review/")
    assert signed_in.get(review).url == url.replace("/units/", "/contacts/")
    body = signed_in.get(url).content.decode()
    assert re.search(r'value="teams"[^>]*checked', body)


def test_reviewer_may_open_a_submitted_claims_poe_but_not_change_it(client, partner, reviewer):
    claim = submitted_claim(partner)
    proof = claim.proofs.get()
    client.force_login(reviewer)
    assert client.get(reverse("claims:poe_download", args=[claim.pk, proof.pk])).status_code == 200
    body = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "Withdraw" not in body
    assert client.post(reverse("claims:withdraw", args=[claim.pk])).status_code == 403


def test_csv_export_holds_only_the_organisations_claims(signed_in, partner, tenant):
    services.claim_create(actor=partner, data=claim_input(partner, tenant, name="Mine"))
    submitted_claim(name="Theirs")
    response = signed_in.get(reverse("claims:export"))
    names = [
        row[0] for row in csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    ]
    assert names[1:] == ["Mine"]
