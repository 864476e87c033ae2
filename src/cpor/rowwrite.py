"""A transition's own rows written by statements built once per process.

Every transition inserts its history event and updates its claim; an approval also
inserts an association. ``Model.save`` rebuilds and compiles the same INSERT or UPDATE
on every call: about 0.8 ms of CPU each, three times per approval. ``insert`` and
``update`` write the statement ``save`` writes, from the model's metadata, once per
model, database vendor and set of columns, and bind the values as ``save`` prepares
them (``pre_save``, then ``get_db_prep_save``). ``insert_new`` writes many rows at once,
skipping those whose unique value is taken: the outbox's messages, by dedupe key.

They skip what ``save`` adds around the statement, so they take only models that need
none of it: no ``pre_save``/``post_save`` receivers and no parent model (both refused,
not skipped), and no ``save`` override unless its caller applies the override's rules
itself (``Claim.save_fields`` does). Like the ``RowLoader`` statements they run on the
default database."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.models import Field, Model, signals
from django.db.models.expressions import DatabaseDefault
from django.db.models.sql import InsertQuery

from cpor.rowload import converters


@dataclass(frozen=True)
class _Insert:
    head: str  # INSERT INTO … (columns) VALUES
    row: str  # one row's placeholders: "(%s, DEFAULT, …)"
    returning: list[tuple[Field, list]]  # each returned field with its converters
    slots: list[Field | list]  # in placeholder order: a field's value, or a default's params

    def values(self, instance: Model) -> list:
        values = []
        for slot in self.slots:
            if isinstance(slot, list):
                values += slot
            else:
                values.append(slot.get_db_prep_save(slot.pre_save(instance, add=True), connection))
        return values


_inserts: dict[tuple, _Insert] = {}
_updates: dict[tuple, str] = {}

# Rows per INSERT of ``insert_new``: well under SQLite's limit on parameters.
ROWS_PER_STATEMENT = 500


def _refuse_unsupported(model: type[Model]) -> None:
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise TypeError(f"{model.__name__}: its saves are listened to; save it with save()")
    if model._meta.parents:  # its row spans tables, which save() writes one by one
        raise TypeError(f"{model.__name__}: a child of another model; save it with save()")


def insert(instance: Model) -> None:
    """``instance.save()`` of a new row: sets its primary key, and the values the
    database gave its ``db_default`` fields."""
    _insert_rows([instance], unique=None)


def insert_new(instances: Sequence[Model], *, unique: str) -> list[Model]:
    """Insert the rows whose ``unique`` field holds a value not taken yet: ``INSERT … ON
    CONFLICT (…) DO NOTHING``, so a concurrent duplicate inserts nothing and needs no
    savepoint. The instances inserted, their primary keys set, in the order given."""
    inserted = []
    for start in range(0, len(instances), ROWS_PER_STATEMENT):
        chunk = instances[start : start + ROWS_PER_STATEMENT]
        inserted += _insert_rows(chunk, unique=chunk[0]._meta.get_field(unique))
    return inserted


def _insert_rows(instances: Sequence[Model], *, unique: Field | None) -> list[Model]:
    model = type(instances[0])
    _refuse_unsupported(model)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field and not f.generated]

    def defaulted(instance: Model) -> tuple[bool, ...]:
        return tuple(isinstance(getattr(instance, f.attname), DatabaseDefault) for f in fields)

    key = (model, connection.vendor, defaulted(instances[0]))
    statement = _inserts.get(key)
    if statement is None:
        statement = _inserts[key] = _build_insert(instances[0], fields, key[2])
    values = []
    for instance in instances:
        if instance.pk is not None:
            raise ValueError("insert() writes new rows; their primary key is the database's")
        if defaulted(instance) != key[2]:
            raise ValueError("the rows of one INSERT leave the same fields to the database")
        values += statement.values(instance)
    qn = connection.ops.quote_name
    returning = statement.returning
    sql = statement.head + ", ".join([statement.row] * len(instances))
    if unique is not None:
        sql += f" ON CONFLICT ({qn(unique.column)}) DO NOTHING"
        returning = [*returning, (unique, [])]  # which of the rows each returned row is
    sql += f" RETURNING {', '.join(qn(f.column) for f, _ in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if unique is None:
        written = instances
    else:
        by_value: dict = {}
        for instance in instances:  # a value twice in one statement: the first one is written
            by_value.setdefault(getattr(instance, unique.attname), instance)
        written = [by_value[row[-1]] for row in rows]
    for instance, row in zip(written, rows, strict=True):
        for (field, found), value in zip(statement.returning, row, strict=False):
            for converter, column in found:
                value = converter(value, column, connection)
            setattr(instance, field.attname, value)
        instance._state.adding, instance._state.db = False, connection.alias
    order = {id(instance): place for place, instance in enumerate(instances)}
    return sorted(written, key=lambda instance: order[id(instance)])


def _build_insert(instance: Model, fields: list[Field], defaulted: tuple[bool, ...]) -> _Insert:
    meta = type(instance)._meta
    qn = connection.ops.quote_name
    if not connection.features.can_return_columns_from_insert:
        raise TypeError(f"{connection.vendor}: INSERT … RETURNING is needed")
    compiler = InsertQuery(type(instance)).get_compiler(connection=connection)
    marks, slots = [], []
    for field, is_default in zip(fields, defaulted, strict=True):
        if is_default:  # DEFAULT, or the default's own SQL where DEFAULT is not allowed
            value = getattr(instance, field.attname).resolve_expression(
                compiler.query, allow_joins=False, for_save=True
            )
            sql, params = compiler.compile(value)
            marks.append(sql)
            if params:
                slots.append(list(params))
        else:
            marks.append("%s")
            slots.append(field)
    returned = [meta.pk, *(f for f in meta.db_returning_fields if f is not meta.pk)]
    returning = [(f, converters(f, meta.db_table)) for f in returned]
    # Every name comes from the model's metadata; the values go as parameters.
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    return _Insert(head, f"({', '.join(marks)})", returning, slots)


def update(instance: Model, fields: Sequence[str]) -> None:
    """``instance.save(update_fields=fields)``: raises ``DatabaseError`` as ``save`` does
    when the row is gone."""
    model = type(instance)
    _refuse_unsupported(model)
    meta = model._meta
    key = (model, connection.vendor, tuple(fields))
    sql = _updates.get(key)
    targets = [meta.get_field(name) for name in fields]
    if sql is None:
        qn = connection.ops.quote_name
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in targets)
        # Every name comes from the model's metadata; the values go as parameters.
        sql = _updates[key] = (
            f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
        )
    values = [f.get_db_prep_save(f.pre_save(instance, add=False), connection) for f in targets]
    values.append(meta.pk.get_db_prep_value(instance.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
