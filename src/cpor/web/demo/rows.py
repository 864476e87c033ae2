"""How the generator writes: ids chosen up front, rows COPYed on PostgreSQL, and the
columns it writes per table."""

from collections import Counter
from collections.abc import Sequence

from django.db import connection, models


class _BulkWriter:
    """Inserts rows with ids chosen up front: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: Counter[str] = Counter()

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            table = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        self.counts[model._meta.db_table] += len(rows)
        if not self.postgres:
            model.objects.bulk_create(
                [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=500
            )
            return
        columns = ", ".join(
            connection.ops.quote_name(model._meta.get_field(name).column) for name in fields
        )
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


_CLAIM_FIELDS = (
    "id",
    "organisation_id",
    "location_id",
    "role_id",
    "tenant_id",
    "name",
    "incentive_opt_out",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
    "seller_name",
    "customer_name",
    "isv_solution_name",
    "comments",
    "created_by_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
    "assigned_reviewer_id",
    "info_requested_until",
    "status",
)
_PROOF_FIELDS = (
    "claim_id",
    "file",
    "original_name",
    "content_type",
    "size",
    "sha256",
    "poe_type",
    "signed_on",
    "signatory",
    "description",
    "uploaded_by_id",
    "uploaded_at",
)
_EVENT_FIELDS = (
    "claim_id",
    "association_id",
    "action",
    "from_status",
    "to_status",
    "reason_code",
    "message",
    "internal",
    "actor_id",
    "actor_label",
    "at",
)
_ASSOCIATION_FIELDS = (
    "id",
    "claim_id",
    "line_id",
    "organisation_id",
    "tenant_id",
    "product_id",
    "subscription_id",
    "status",
    "end_reason",
    "end_message",
    "superseded_by_id",
    "approved_at",
    "notice_ends_at",
    "activated_at",
    "ended_at",
    # Not legacy: the column has no database default, so COPY must give it.
    "legacy_source",
)
