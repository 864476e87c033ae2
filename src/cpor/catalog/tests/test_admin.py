import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.catalog.models import Engagement, ProgramSettings, PurchaseChannel
from cpor.testing.factories import UserFactory, operator_user, partner_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def program_admin():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


def engagement_form_data(engagement: Engagement, **changes) -> dict:
    data = {
        "name": engagement.name,
        "solution_area": engagement.solution_area_id,
        "active": "on" if engagement.active else "",
        "claim_unit": engagement.claim_unit,
        "incentivized": "on" if engagement.incentivized else "",
        "opt_out_allowed": "on" if engagement.opt_out_allowed else "",
        "requires_revenue_details": "on" if engagement.requires_revenue_details else "",
        "allowed_channels": list(engagement.allowed_channels),
        "notice_period_days": engagement.notice_period_days,
        "poe_max_age_days": engagement.poe_max_age_days,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_program_admin_edits_an_engagements_notice_period(client, program_admin):
    engagement = Engagement.objects.get(role__code="use_or_consume")
    client.force_login(program_admin)
    url = reverse("admin:catalog_engagement_change", args=[engagement.pk])

    response = client.post(url, engagement_form_data(engagement, notice_period_days=14))

    assert response.status_code == 302, response.context["adminform"].form.errors
    engagement.refresh_from_db()
    assert engagement.notice_period_days == 14


def test_engagement_channels_are_chosen_from_the_purchase_channels(client, program_admin):
    engagement = Engagement.objects.get(role__code="use_or_consume")
    client.force_login(program_admin)
    url = reverse("admin:catalog_engagement_change", args=[engagement.pk])

    page = client.get(url)
    assert b'type="checkbox" name="allowed_channels" value="web_direct"' in page.content

    channels = [PurchaseChannel.WEB_DIRECT, PurchaseChannel.VOLUME_LICENSING]
    response = client.post(url, engagement_form_data(engagement, allowed_channels=channels))
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.allowed_channels == ["volume_licensing", "web_direct"]


def test_engagement_refuses_an_unknown_channel_and_a_notice_period_over_a_year(
    client, program_admin
):
    engagement = Engagement.objects.get(role__code="use_or_consume")
    before = (engagement.allowed_channels, engagement.notice_period_days)
    client.force_login(program_admin)
    url = reverse("admin:catalog_engagement_change", args=[engagement.pk])

    response = client.post(
        url,
        engagement_form_data(engagement, allowed_channels=["barter"], notice_period_days=400),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"allowed_channels", "notice_period_days"}
    engagement.refresh_from_db()
    assert (engagement.allowed_channels, engagement.notice_period_days) == before


def test_engagement_code_is_fixed_once_created(client, program_admin):
    engagement = Engagement.objects.get(role__code="use_or_consume")
    client.force_login(program_admin)
    url = reverse("admin:catalog_engagement_change", args=[engagement.pk])

    client.post(url, engagement_form_data(engagement, code="renamed"))

    engagement.refresh_from_db()
    assert engagement.code != "renamed"


def test_program_settings_is_one_row_that_cannot_be_added_again_or_deleted(client, program_admin):
    settings_row = ProgramSettings.load()
    client.force_login(program_admin)

    assert client.get(reverse("admin:catalog_programsettings_add")).status_code == 403
    delete_url = reverse("admin:catalog_programsettings_delete", args=[settings_row.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ProgramSettings.objects.count() == 1

    change = client.get(reverse("admin:catalog_programsettings_change", args=[settings_row.pk]))
    assert change.status_code == 200


def test_program_settings_can_be_added_back_as_the_single_row(client, program_admin):
    ProgramSettings.objects.all().delete()
    client.force_login(program_admin)

    response = client.post(
        reverse("admin:catalog_programsettings_add"),
        {
            "poe_max_bytes": 5 * 1024 * 1024,
            "draft_expiry_days": 60,
            "info_request_business_days": 5,
            "pickup_target_business_days": 5,
            "decision_target_business_days": 5,
            "dispute_window_days": 30,
        },
    )

    assert response.status_code == 302
    assert ProgramSettings.load().draft_expiry_days == 60


CATALOG_PAGES = [
    "admin:index",
    "admin:catalog_engagement_changelist",
    "admin:catalog_product_changelist",
    "admin:catalog_programsettings_changelist",
]


@pytest.mark.parametrize("page", CATALOG_PAGES)
@pytest.mark.parametrize(
    "who",
    ["anonymous", "partner", "reviewer_not_staff"],
)
def test_non_staff_are_sent_to_sign_in(client, page, who):
    user = {
        "anonymous": lambda: None,
        "partner": partner_user,
        "reviewer_not_staff": operator_user,
    }[who]()
    if user is not None:
        client.force_login(user)

    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda: partner_user(), id="partner"),
        pytest.param(lambda: operator_user(OperatorRole.REVIEWER), id="reviewer"),
        pytest.param(lambda: UserFactory(), id="no-role"),
    ],
)
def test_staff_without_program_admin_role_cannot_open_or_edit_the_catalog(client, make_user):
    user = make_user()
    user.is_staff = True
    user.save()
    engagement = Engagement.objects.get(role__code="use_or_consume")
    client.force_login(user)

    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert b"/admin/catalog/" not in index.content
    assert client.get(reverse("admin:catalog_engagement_changelist")).status_code == 403
    url = reverse("admin:catalog_engagement_change", args=[engagement.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, engagement_form_data(engagement, notice_period_days=30))
    assert response.status_code == 403
    engagement.refresh_from_db()
    assert engagement.notice_period_days != 30


def test_inactive_program_admin_is_refused(client, program_admin):
    program_admin.is_active = False
    program_admin.save()
    client.force_login(program_admin)

    response = client.get(reverse("admin:catalog_engagement_changelist"))

    assert response.status_code == 302
