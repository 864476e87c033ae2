"""PostgreSQL only: covering key indexes and a BRIN index on the month.

The dashboard reads every month of a partner's units by key; with the measures in the
key index (``INCLUDE``) PostgreSQL answers from the index alone once the table is
vacuumed. Usage arrives month by month, so rows are physically ordered by month and a
BRIN index (a few pages for millions of rows) serves program-wide monthly scans.
SQLite keeps the plain key indexes.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE usage_workloadusage
    DROP CONSTRAINT usage_workloadusage_pkey,
    ADD CONSTRAINT usage_workloadusage_pkey PRIMARY KEY (tenant_id, product_id, month)
        INCLUDE (active_users, paid_units);
ALTER TABLE usage_subscriptionusage
    DROP CONSTRAINT usage_subscriptionusage_pkey,
    ADD CONSTRAINT usage_subscriptionusage_pkey PRIMARY KEY (subscription_id, month)
        INCLUDE (licensed_units, revenue, currency);
CREATE INDEX usage_workloadusage_month_brin ON usage_workloadusage USING brin (month);
CREATE INDEX usage_subscriptionusage_month_brin ON usage_subscriptionusage USING brin (month);
"""

BACKWARD = """
DROP INDEX usage_subscriptionusage_month_brin;
DROP INDEX usage_workloadusage_month_brin;
ALTER TABLE usage_subscriptionusage
    DROP CONSTRAINT usage_subscriptionusage_pkey,
    ADD CONSTRAINT usage_subscriptionusage_pkey PRIMARY KEY (subscription_id, month);
ALTER TABLE usage_workloadusage
    DROP CONSTRAINT usage_workloadusage_pkey,
    ADD CONSTRAINT usage_workloadusage_pkey PRIMARY KEY (tenant_id, product_id, month);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
