"""An index for the partner's claim list: newest first within one organisation.

The list's default order is (-created_at, -id) scoped to the organisation; with this
index the first page of a partner with hundreds of thousands of claims is an index
scan of 50 rows instead of a sort of all of them (see bench/bench_claim_list.py).
Plain SQL, the same on SQLite and PostgreSQL, so the model state is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_immutability_triggers")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS claims_claim_org_newest "
            "ON claims_claim (organisation_id, created_at DESC, id DESC)",
            reverse_sql="DROP INDEX IF EXISTS claims_claim_org_newest",
        ),
    ]
