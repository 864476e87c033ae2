"""CSV import of tenants, domains, admin contacts and subscriptions: all or nothing."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.customers.models import Subscription, Tenant, TenantAdminContact, TenantDomain
from cpor.customers.services import ImportFile, customers_import
from cpor.testing.factories import SubscriptionFactory, TenantFactory, operator_user

pytestmark = pytest.mark.django_db

T1 = "72f988bf-86f1-41af-91ab-2d7cd011db47"
T2 = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
S1 = "11111111-2222-4333-8444-555555555555"
S2 = "66666666-7777-4888-9999-aaaaaaaaaaaa"

TENANTS = f"tenant_id,name,country\n{T1},Contoso Retail,PT\n{T2},Fabrikam,de\n"
DOMAINS = f"tenant_id,domain,verified\n{T1},contoso.example,true\n{T2},fabrikam.example,no\n"
CONTACTS = f"tenant_id,name,email,language\n{T1},Joana Pereira,joana@contoso.example,pt\n"
SUBSCRIPTIONS = (
    "subscription_id,tenant_id,product,channel,seats,starts_on,ends_on,predecessor_id\n"
    f"{S1},{T1},d365_sales,volume_licensing,50,2025-01-01,2025-12-31,\n"
    f"{S2},{T1},d365_sales,volume_licensing,60,2026-01-01,2026-12-31,{S1}\n"
)


def files(**contents: str | bytes) -> list[ImportFile]:
    return [
        ImportFile(f"{name}.csv", value if isinstance(value, bytes) else value.encode())
        for name, value in contents.items()
    ]


@pytest.fixture
def admin():
    return operator_user(OperatorRole.PROGRAM_ADMIN)


def test_imports_tenants_with_their_domains_contacts_and_subscriptions(admin):
    report = customers_import(
        actor=admin,
        files=files(
            subscriptions=SUBSCRIPTIONS, contacts=CONTACTS, domains=DOMAINS, tenants=TENANTS
        ),
    )
    assert report.ok, report.errors
    assert report.created == {"tenants": 2, "domains": 2, "contacts": 1, "subscriptions": 2}
    contoso = Tenant.objects.get(tenant_id=T1)
    assert (contoso.name, contoso.country) == ("Contoso Retail", "PT")
    assert Tenant.objects.get(tenant_id=T2).country == "DE"
    assert TenantDomain.objects.get(domain="contoso.example").verified
    assert not TenantDomain.objects.get(domain="fabrikam.example").verified
    assert TenantAdminContact.objects.get(tenant=contoso).language == "pt-pt"
    renewal = Subscription.objects.get(subscription_id=S2)
    assert renewal.predecessor.subscription_id == uuid.UUID(S1)
    assert renewal.tenant == contoso


def test_importing_the_same_files_again_updates_instead_of_duplicating(admin):
    customers_import(actor=admin, files=files(tenants=TENANTS, subscriptions=SUBSCRIPTIONS))
    changed = TENANTS.replace("Contoso Retail", "Contoso Retail SA")
    report = customers_import(
        actor=admin, files=files(tenants=changed, subscriptions=SUBSCRIPTIONS)
    )
    assert report.ok, report.errors
    assert report.updated == {"tenants": 2, "domains": 0, "contacts": 0, "subscriptions": 2}
    assert Tenant.objects.count() == 2
    assert Tenant.objects.get(tenant_id=T1).name == "Contoso Retail SA"


def test_rows_may_refer_to_tenants_already_known(admin):
    TenantFactory(tenant_id=T1)
    report = customers_import(
        actor=admin, files=files(domains=f"tenant_id,domain,verified\n{T1},x.example,1\n")
    )
    assert report.ok, report.errors
    assert TenantDomain.objects.get().tenant.tenant_id == uuid.UUID(T1)


def test_bad_guids_duplicates_and_unknown_products_are_reported_per_row_and_nothing_written(
    admin,
):
    tenants = TENANTS + f"not-a-guid,Broken,PT\n{T1},Contoso again,PT\n"
    subscriptions = SUBSCRIPTIONS + (
        f"{uuid.uuid4()},{T1},dynamics_unknown,volume_licensing,5,2025-01-01,2025-12-31,\n"
        f"{uuid.uuid4()},{T1},d365_sales,reseller,x,2025-13-01,2025-12-31,\n"
    )
    report = customers_import(
        actor=admin, files=files(tenants=tenants, subscriptions=subscriptions)
    )
    problems = {(e.file, e.row, e.column, e.rule) for e in report.errors}
    assert problems == {
        ("tenants.csv", 4, "tenant_id", "guid"),
        ("tenants.csv", 5, "tenant_id", "duplicate"),
        ("subscriptions.csv", 4, "product", "unknown_product"),
        ("subscriptions.csv", 5, "channel", "channel"),
        ("subscriptions.csv", 5, "seats", "seats"),
        ("subscriptions.csv", 5, "starts_on", "date"),
    }
    assert not Tenant.objects.exists()
    assert not Subscription.objects.exists()


def test_wrong_encoding_is_a_clear_error(admin):
    latin1 = f"tenant_id,name,country\n{T1},Café Lisboa,PT\n".encode("latin-1")
    report = customers_import(actor=admin, files=files(tenants=latin1))
    (error,) = report.errors
    assert (error.row, error.rule) == (2, "encoding")
    assert "UTF-8" in error.message
    assert not Tenant.objects.exists()


def test_a_utf8_byte_order_mark_is_accepted(admin):
    content = "\ufefftenant_id,name,country\n" + f"{T1},Café Lisboa,PT\n"
    report = customers_import(actor=admin, files=files(tenants=content.encode("utf-8")))
    assert report.ok, report.errors
    assert Tenant.objects.get().name == "Café Lisboa"


def test_unknown_header_and_wrong_column_counts_are_reported(admin):
    report = customers_import(
        actor=admin,
        files=files(
            typo="tenant_id,nmae,country\n",
            short=f"tenant_id,name,country\n{T1},Contoso\n",
        ),
    )
    assert {(e.file, e.row, e.rule) for e in report.errors} == {
        ("typo.csv", 1, "unknown_header"),
        ("short.csv", 2, "column_count"),
    }


def test_references_to_unknown_tenants_and_predecessors_are_errors(admin):
    report = customers_import(
        actor=admin,
        files=files(
            subscriptions=(
                "subscription_id,tenant_id,product,channel,seats,starts_on,ends_on,predecessor_id\n"
                f"{S1},{T2},d365_sales,csp,1,2025-01-01,2025-12-31,{S2}\n"
            )
        ),
    )
    assert {(e.column, e.rule) for e in report.errors} == {
        ("tenant_id", "unknown_tenant"),
        ("predecessor_id", "unknown_predecessor"),
    }


def test_a_subscription_cannot_move_to_another_tenant(admin):
    existing = SubscriptionFactory()
    TenantFactory(tenant_id=T1)
    report = customers_import(
        actor=admin,
        files=files(
            subscriptions=(
                "subscription_id,tenant_id,product,channel,seats,starts_on,ends_on,predecessor_id\n"
                f"{existing.subscription_id},{T1},d365_sales,csp,1,2025-01-01,2025-12-31,\n"
            )
        ),
    )
    assert [e.rule for e in report.errors] == ["subscription_other_tenant"]


def test_dry_run_checks_and_writes_nothing(admin):
    report = customers_import(actor=admin, files=files(tenants=TENANTS), dry_run=True)
    assert report.ok
    assert report.total_rows == 2
    assert not Tenant.objects.exists()


def test_command_imports_and_prints_progress(tmp_path, capsys):
    (tmp_path / "tenants.csv").write_text(TENANTS, encoding="utf-8")
    (tmp_path / "subscriptions.csv").write_text(SUBSCRIPTIONS, encoding="utf-8")
    call_command(
        "import_customers", str(tmp_path / "tenants.csv"), str(tmp_path / "subscriptions.csv")
    )
    out, err = capsys.readouterr()
    assert "tenants: 2 created, 0 updated" in out
    assert "subscriptions: 2 created" in out
    assert "validate: 4/4 rows" in err
    assert Subscription.objects.count() == 2


def test_command_lists_every_problem_and_fails(tmp_path, capsys):
    (tmp_path / "tenants.csv").write_text(TENANTS + "bad,Broken,PT\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing written"):
        call_command("import_customers", str(tmp_path / "tenants.csv"))
    out, _err = capsys.readouterr()
    assert "tenants.csv, row 4, column tenant_id" in out
    assert not Tenant.objects.exists()


def test_command_handles_a_long_file(tmp_path, capsys):
    rows = "".join(f"{uuid.uuid4()},Tenant {i},PT\n" for i in range(2500))
    (tmp_path / "tenants.csv").write_text("tenant_id,name,country\n" + rows, encoding="utf-8")
    call_command("import_customers", str(tmp_path / "tenants.csv"))
    _out, err = capsys.readouterr()
    assert "validate: 1,000/2,500" in err
    assert Tenant.objects.count() == 2500


def test_upload_page_imports_and_reports_errors(client, admin):
    client.force_login(admin)
    ok = client.post(
        reverse("review:import"),
        {
            "files": [
                SimpleUploadedFile("tenants.csv", TENANTS.encode()),
                SimpleUploadedFile("domains.csv", DOMAINS.encode()),
            ]
        },
    )
    assert ok.status_code == 200
    assert b"4 rows imported" in ok.content
    assert TenantDomain.objects.count() == 2
    bad = client.post(
        reverse("review:import"),
        {"files": [SimpleUploadedFile("t.csv", b"tenant_id,name,country\nnope,X,PT\n")]},
    )
    assert bad.status_code == 400
    assert b"nothing was written" in bad.content
    assert b"<code>guid</code>" in bad.content
    page = client.get(reverse("review:import"))
    assert b"subscription_id,tenant_id,product,channel" in page.content
