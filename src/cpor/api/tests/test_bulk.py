import pytest

from cpor.claims.models import Claim

pytestmark = pytest.mark.django_db

BULK = "/api/v1/claims/bulk/"
HEADER = (
    "role,partner_id,tenant_id,name,customer_contact_name,customer_contact_title,"
    "customer_contact_email,partner_contact_name,partner_contact_email,products,incentive_opt_out"
)


def csv_of(user, tenant, rows: list[dict]) -> str:
    partner_id = user.partner_membership.organisation.locations.first().partner_id
    domain = tenant.domains.first().domain
    lines = [HEADER]
    for row in rows:
        values = {
            "role": "use_or_consume",
            "partner_id": partner_id,
            "tenant_id": str(tenant.tenant_id),
            "name": "Bulk claim",
            "customer_contact_name": "Ana Silva",
            "customer_contact_title": "CIO",
            "customer_contact_email": f"ana@{domain}",
            "partner_contact_name": "Rui",
            "partner_contact_email": "rui@partner.example",
            "products": "teams",
            "incentive_opt_out": "false",
        } | row
        lines.append(",".join(values[name] for name in HEADER.split(",")))
    return "\n".join(lines) + "\n"


def post_csv(client, text: str, **params):
    query = "?dry_run=1" if params.get("dry_run") else ""
    return client.generic("POST", BULK + query, text.encode(), content_type="text/csv")


def test_dry_run_validates_every_row_and_writes_nothing(clients, customer):
    client = clients["incentives_admin"]
    text = csv_of(
        client.user,
        customer,
        [{"name": "One"}, {"products": "teams;intune", "name": "Two"}, {"tenant_id": "nope"}],
    )
    response = post_csv(client, text, dry_run=True)
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["dry_run"] is True
    assert (report["valid"], report["invalid"], report["created"]) == (2, 1, 0)
    assert [row["row"] for row in report["rows"]] == [2, 3, 4]
    assert report["rows"][2]["errors"][0]["field"] == "tenant_id"
    assert report["rows"][2]["errors"][0]["code"] == "malformed_guid"
    assert not Claim.objects.exists()


def test_real_run_creates_valid_rows_and_reports_invalid_ones(clients, customer):
    client = clients["incentives_admin"]
    text = csv_of(
        client.user,
        customer,
        [{"name": "One"}, {"incentive_opt_out": "maybe"}, {"customer_contact_email": "x"}],
    )
    report = post_csv(client, text).json()
    assert (report["valid"], report["invalid"], report["created"]) == (1, 2, 1)
    assert report["rows"][0]["ok"] and report["rows"][0]["claim_id"]
    assert report["rows"][1]["errors"][0]["field"] == "incentive_opt_out"
    assert report["rows"][2]["errors"][0]["field"] == "customer_contact_email"
    assert list(Claim.objects.values_list("name", "status")) == [("One", "draft")]


def test_multipart_file_upload_is_accepted(clients, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = clients["incentives_admin"]
    upload = SimpleUploadedFile("claims.csv", csv_of(client.user, customer, [{}]).encode())
    response = client.post(BULK, {"file": upload}, format="multipart")
    assert response.status_code == 200
    assert response.json()["created"] == 1


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("", "required", "file"),
        ("\n", "csv_empty", "file"),
        ("role,colour\nx,y\n", "unknown_column", "colour"),
        ("role,name\nx,y\n", "missing_column", "partner_id"),
    ],
)
def test_malformed_files_are_refused_whole(clients, text, code, field):
    response = post_csv(clients["incentives_admin"], text)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert not Claim.objects.exists()


def test_too_many_rows_are_refused(clients, customer, settings):
    settings.API_BULK_MAX_ROWS = 2
    client = clients["incentives_admin"]
    response = post_csv(client, csv_of(client.user, customer, [{}, {}, {}]))
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_rows"
    assert not Claim.objects.exists()


def test_only_claim_managers_bulk_create(clients, customer):
    text = csv_of(clients["incentives_user"].user, customer, [{}])
    report = post_csv(clients["incentives_user"], text).json()
    assert report["rows"][0]["errors"][0]["code"] == "permission_denied"
    assert post_csv(clients["reviewer"], "role\n").status_code == 403
    assert not Claim.objects.exists()


def test_json_body_is_415(clients):
    response = clients["incentives_admin"].post(BULK, {"rows": []}, format="json")
    assert response.status_code == 415
