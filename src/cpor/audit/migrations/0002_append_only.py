"""The audit trail refuses UPDATE (and on PostgreSQL DELETE) in the database itself.

SQLite gets no DELETE trigger: the test runner's flush empties tables with DELETE there
(PostgreSQL truncates, which fires no row trigger). The model refuses deletes on both."""

from django.db import migrations

MESSAGE = "audit_append_only: the audit trail cannot be changed"

SQLITE = f"""
CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS audit_entry_no_update;"

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION cpor_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{MESSAGE}'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
FOR EACH ROW EXECUTE FUNCTION cpor_audit_append_only();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS cpor_audit_append_only();
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
