"""Database triggers that keep submitted claims, their lines, stored PoE, the history and
its seals and checkpoints immutable, on SQLite and PostgreSQL alike.

The model layer refuses these writes first with a clear error (``Claim.save``,
``ClaimQuerySet.update``); the triggers make sure no other path (raw SQL, a shell, a
future bug) can rewrite what a partner submitted. They are (re)installed after every
``migrate`` from the current model definitions, because SQLite drops a table's
triggers whenever a migration rebuilds the table.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from cpor.claims.models import ACTION_REQUIRED_EDITABLE, FROZEN_FIELDS, Claim, ClaimLine

LINE_FROZEN = ("claim", "product", "subscription")
FROZEN_MESSAGE = "claim_frozen: a submitted claim cannot be edited"
LINE_MESSAGE = "claim_frozen: lines of a submitted claim cannot change"
HISTORY_MESSAGE = "history_immutable: history events cannot change"
POE_MESSAGE = "poe_immutable: a stored PoE cannot change"
SEAL_MESSAGE = "history_immutable: history seals and checkpoints cannot change"

SQLITE_TRIGGERS = (
    ("claims_claim_frozen", "claims_claim"),
    ("claims_line_frozen_update", "claims_claimline"),
    ("claims_line_frozen_insert", "claims_claimline"),
    ("claims_line_frozen_delete", "claims_claimline"),
    ("claims_event_no_update", "claims_claimevent"),
    ("claims_event_no_delete", "claims_claimevent"),
    ("claims_poe_no_update", "claims_proofofexecution"),
    ("claims_poe_no_delete", "claims_proofofexecution"),
    ("claims_seal_no_update", "claims_claimeventseal"),
    ("claims_seal_no_delete", "claims_claimeventseal"),
    ("claims_checkpoint_no_update", "claims_historycheckpoint"),
    ("claims_checkpoint_no_delete", "claims_historycheckpoint"),
)
POSTGRESQL_TRIGGERS = (
    ("claims_claim_frozen", "claims_claim", "cpor_claim_frozen"),
    ("claims_line_frozen", "claims_claimline", "cpor_line_frozen"),
    ("claims_event_immutable", "claims_claimevent", "cpor_event_immutable"),
    ("claims_poe_immutable", "claims_proofofexecution", "cpor_poe_immutable"),
    ("claims_seal_immutable", "claims_claimeventseal", "cpor_seal_immutable"),
    ("claims_checkpoint_immutable", "claims_historycheckpoint", "cpor_seal_immutable"),
)


def _columns(model, names) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _changed(columns, distinct: str) -> str:
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns)


def _claim_status(row: str) -> str:
    return f"(SELECT status FROM claims_claim WHERE id = {row}.claim_id)"  # noqa: S608 - DDL from constants


def _checkpoint_claim_status() -> str:
    # The status of the claim whose event a checkpoint's head seal chains.
    return (
        "(SELECT c.status FROM claims_claimeventseal s JOIN claims_claim c "
        "ON c.id = s.claim_id WHERE s.seq = OLD.seq)"
    )


def _sqlite_statements() -> list[str]:
    d = "IS NOT"
    frozen = _changed(_columns(Claim, FROZEN_FIELDS), d)
    correctable = _changed(_columns(Claim, ACTION_REQUIRED_EDITABLE), d)
    line = _changed(_columns(ClaimLine, LINE_FROZEN), d)
    drops = [f"DROP TRIGGER IF EXISTS {name}" for name, _table in SQLITE_TRIGGERS]
    return [
        *drops,
        f"""CREATE TRIGGER claims_claim_frozen BEFORE UPDATE ON claims_claim
        WHEN OLD.status <> 'draft' AND (({frozen}) OR
             (OLD.status <> 'action_required' AND ({correctable})))
        BEGIN SELECT RAISE(ABORT, '{FROZEN_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_line_frozen_update BEFORE UPDATE ON claims_claimline
        WHEN {_claim_status("OLD")} <> 'draft' AND ({line})
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_line_frozen_insert BEFORE INSERT ON claims_claimline
        WHEN {_claim_status("NEW")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_line_frozen_delete BEFORE DELETE ON claims_claimline
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_event_no_update BEFORE UPDATE ON claims_claimevent
        BEGIN SELECT RAISE(ABORT, '{HISTORY_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_event_no_delete BEFORE DELETE ON claims_claimevent
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{HISTORY_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_poe_no_update BEFORE UPDATE ON claims_proofofexecution
        BEGIN SELECT RAISE(ABORT, '{POE_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_poe_no_delete BEFORE DELETE ON claims_proofofexecution
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{POE_MESSAGE}'); END""",
        # Seals and checkpoints are refused deletion as the events are: SQLite flushes a
        # test database with DELETE (see conftest.seeded_catalog). PostgreSQL refuses all.
        f"""CREATE TRIGGER claims_seal_no_update BEFORE UPDATE ON claims_claimeventseal
        BEGIN SELECT RAISE(ABORT, '{SEAL_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_seal_no_delete BEFORE DELETE ON claims_claimeventseal
        WHEN {_claim_status("OLD")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{SEAL_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_checkpoint_no_update BEFORE UPDATE ON claims_historycheckpoint
        BEGIN SELECT RAISE(ABORT, '{SEAL_MESSAGE}'); END""",
        f"""CREATE TRIGGER claims_checkpoint_no_delete BEFORE DELETE ON claims_historycheckpoint
        WHEN {_checkpoint_claim_status()} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{SEAL_MESSAGE}'); END""",
    ]


def _pg_function(name: str, body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
    {body}
    END $$"""


def _pg_raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


def _postgresql_statements() -> list[str]:
    d = "IS DISTINCT FROM"
    frozen = _changed(_columns(Claim, FROZEN_FIELDS), d)
    correctable = _changed(_columns(Claim, ACTION_REQUIRED_EDITABLE), d)
    line = _changed(_columns(ClaimLine, LINE_FROZEN), d)
    functions = [
        _pg_function(
            "cpor_claim_frozen",
            f"""IF OLD.status <> 'draft' AND (({frozen}) OR
                (OLD.status <> 'action_required' AND ({correctable})))
            THEN {_pg_raise(FROZEN_MESSAGE)} END IF;
            RETURN NEW;""",
        ),
        _pg_function(
            "cpor_line_frozen",
            f"""IF TG_OP = 'INSERT' THEN
                IF {_claim_status("NEW")} <> 'draft' THEN {_pg_raise(LINE_MESSAGE)} END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'DELETE' THEN
                IF {_claim_status("OLD")} <> 'draft' THEN {_pg_raise(LINE_MESSAGE)} END IF;
                RETURN OLD;
            END IF;
            IF {_claim_status("OLD")} <> 'draft' AND ({line})
            THEN {_pg_raise(LINE_MESSAGE)} END IF;
            RETURN NEW;""",
        ),
        _pg_function(
            "cpor_event_immutable",
            f"""IF TG_OP = 'UPDATE' OR {_claim_status("OLD")} <> 'draft' THEN
                {_pg_raise(HISTORY_MESSAGE)}
            END IF;
            RETURN OLD;""",
        ),
        _pg_function("cpor_seal_immutable", _pg_raise(SEAL_MESSAGE)),
        _pg_function(
            "cpor_poe_immutable",
            f"""IF TG_OP = 'UPDATE' OR {_claim_status("OLD")} <> 'draft' THEN
                {_pg_raise(POE_MESSAGE)}
            END IF;
            RETURN OLD;""",
        ),
    ]
    events = {
        "claims_claim_frozen": "BEFORE UPDATE",
        "claims_line_frozen": "BEFORE INSERT OR UPDATE OR DELETE",
        "claims_event_immutable": "BEFORE UPDATE OR DELETE",
        "claims_poe_immutable": "BEFORE UPDATE OR DELETE",
        "claims_seal_immutable": "BEFORE UPDATE OR DELETE",
        "claims_checkpoint_immutable": "BEFORE UPDATE OR DELETE",
    }
    triggers = []
    for name, table, function in POSTGRESQL_TRIGGERS:
        triggers += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} {events[name]} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]
    return functions + triggers


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) every trigger; idempotent."""
    builders = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}
    if connection.vendor not in builders:
        raise RuntimeError(f"CPOR supports SQLite and PostgreSQL, not {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in builders[connection.vendor]():
            cursor.execute(statement)


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """Names of the immutability triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {row[0] for row in cursor.fetchall()}
    expected = {t[0] for t in SQLITE_TRIGGERS} | {t[0] for t in POSTGRESQL_TRIGGERS}
    return names & expected
