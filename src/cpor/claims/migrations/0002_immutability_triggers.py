"""Database triggers that keep submitted claims and the history immutable.

The model layer refuses these writes with a clear error first; the triggers make sure no
other path (raw SQL, a shell, a future bug) can rewrite what a partner submitted.
Both SQLite and PostgreSQL get the same rules.
"""

from django.db import migrations

FROZEN = [
    "organisation_id",
    "role_id",
    "tenant_id",
    "name",
    "incentive_opt_out",
    "seller_name",
    "customer_name",
    "isv_solution_name",
    "created_by_id",
    "created_at",
]
ACTION_REQUIRED_EDITABLE = [
    "location_id",
    "customer_contact_name",
    "customer_contact_title",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
]
LINE_FROZEN = ["claim_id", "product_id", "subscription_id"]


def _changed(columns, distinct):
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns)


def _claim_status(alias):
    return f"(SELECT status FROM claims_claim WHERE id = {alias}.claim_id)"


def sqlite_sql():
    d = "IS NOT"
    return [
        f"""CREATE TRIGGER claims_claim_frozen BEFORE UPDATE ON claims_claim
        WHEN OLD.status <> 'draft' AND (({_changed(FROZEN, d)}) OR
             (OLD.status <> 'action_required' AND ({_changed(ACTION_REQUIRED_EDITABLE, d)})))
        BEGIN SELECT RAISE(ABORT, 'claim_frozen: a submitted claim cannot be edited'); END""",
        f"""CREATE TRIGGER claims_line_frozen_update BEFORE UPDATE ON claims_claimline
        WHEN {_claim_status("OLD")} <> 'draft' AND ({_changed(LINE_FROZEN, d)})
        BEGIN SELECT RAISE(ABORT, 'claim_frozen: lines of a submitted claim cannot change'); END""",
        f"""CREATE TRIGGER claims_line_frozen_insert BEFORE INSERT ON claims_claimline
        WHEN {_claim_status("NEW")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'claim_frozen: lines of a submitted claim cannot change'); END""",
        f"""CREATE TRIGGER claims_line_frozen_delete BEFORE DELETE ON claims_claimline
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'claim_frozen: lines of a submitted claim cannot change'); END""",
        """CREATE TRIGGER claims_event_no_update BEFORE UPDATE ON claims_claimevent
        BEGIN SELECT RAISE(ABORT, 'history_immutable: history events cannot change'); END""",
        f"""CREATE TRIGGER claims_event_no_delete BEFORE DELETE ON claims_claimevent
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'history_immutable: history events cannot change'); END""",
        """CREATE TRIGGER claims_poe_no_update BEFORE UPDATE ON claims_proofofexecution
        BEGIN SELECT RAISE(ABORT, 'poe_immutable: a stored PoE cannot change'); END""",
        f"""CREATE TRIGGER claims_poe_no_delete BEFORE DELETE ON claims_proofofexecution
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'poe_immutable: a stored PoE cannot change'); END""",
    ]


SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "claims_claim_frozen",
        "claims_line_frozen_update",
        "claims_line_frozen_insert",
        "claims_line_frozen_delete",
        "claims_event_no_update",
        "claims_event_no_delete",
        "claims_poe_no_update",
        "claims_poe_no_delete",
    )
]


def _pg_function(name, body):
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
    {body}
    END $$"""


def _pg_raise(message):
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


def postgresql_sql():
    d = "IS DISTINCT FROM"
    frozen_msg = "claim_frozen: a submitted claim cannot be edited"
    line_msg = "claim_frozen: lines of a submitted claim cannot change"
    return [
        _pg_function(
            "cpor_claim_frozen",
            f"""IF OLD.status <> 'draft' AND (({_changed(FROZEN, d)}) OR
                (OLD.status <> 'action_required' AND ({_changed(ACTION_REQUIRED_EDITABLE, d)})))
            THEN {_pg_raise(frozen_msg)} END IF;
            RETURN NEW;""",
        ),
        """CREATE TRIGGER claims_claim_frozen BEFORE UPDATE ON claims_claim
        FOR EACH ROW EXECUTE FUNCTION cpor_claim_frozen()""",
        _pg_function(
            "cpor_line_frozen",
            f"""IF TG_OP = 'INSERT' THEN
                IF {_claim_status("NEW")} <> 'draft' THEN {_pg_raise(line_msg)} END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'DELETE' THEN
                IF {_claim_status("OLD")} <> 'draft' THEN {_pg_raise(line_msg)} END IF;
                RETURN OLD;
            END IF;
            IF {_claim_status("OLD")} <> 'draft' AND ({_changed(LINE_FROZEN, d)})
            THEN {_pg_raise(line_msg)} END IF;
            RETURN NEW;""",
        ),
        """CREATE TRIGGER claims_line_frozen BEFORE INSERT OR UPDATE OR DELETE ON claims_claimline
        FOR EACH ROW EXECUTE FUNCTION cpor_line_frozen()""",
        _pg_function(
            "cpor_event_immutable",
            f"""IF TG_OP = 'UPDATE' OR {_claim_status("OLD")} <> 'draft' THEN
                {_pg_raise("history_immutable: history events cannot change")}
            END IF;
            RETURN OLD;""",
        ),
        """CREATE TRIGGER claims_event_immutable BEFORE UPDATE OR DELETE ON claims_claimevent
        FOR EACH ROW EXECUTE FUNCTION cpor_event_immutable()""",
        _pg_function(
            "cpor_poe_immutable",
            f"""IF TG_OP = 'UPDATE' OR {_claim_status("OLD")} <> 'draft' THEN
                {_pg_raise("poe_immutable: a stored PoE cannot change")}
            END IF;
            RETURN OLD;""",
        ),
        """CREATE TRIGGER claims_poe_immutable BEFORE UPDATE OR DELETE ON claims_proofofexecution
        FOR EACH ROW EXECUTE FUNCTION cpor_poe_immutable()""",
    ]


POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS claims_claim_frozen ON claims_claim",
    "DROP TRIGGER IF EXISTS claims_line_frozen ON claims_claimline",
    "DROP TRIGGER IF EXISTS claims_event_immutable ON claims_claimevent",
    "DROP TRIGGER IF EXISTS claims_poe_immutable ON claims_proofofexecution",
    "DROP FUNCTION IF EXISTS cpor_claim_frozen, cpor_line_frozen, cpor_event_immutable, "
    "cpor_poe_immutable",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"CPOR supports SQLite and PostgreSQL, not {schema_editor.connection.vendor}"
            )
        for statement in statements():
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]
    operations = [
        migrations.RunPython(
            _run({"sqlite": sqlite_sql, "postgresql": postgresql_sql}),
            _run({"sqlite": lambda: SQLITE_DROP, "postgresql": lambda: POSTGRESQL_DROP}),
        )
    ]
