"""A transition's own rows written by statements built once per process.

Every transition inserts its history event and updates its claim; an approval also
inserts an association. ``Model.save`` rebuilds and compiles the same INSERT or UPDATE
on every call: about 0.8 ms of CPU each, three times per approval. ``insert`` and
``update`` write the statement ``save`` writes, from the model's metadata, once per
model, database vendor and set of columns, and bind the values as ``save`` prepares
them (``pre_save``, then ``get_db_prep_save``).

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
    sql: str
    slots: list[Field | list]  # in placeholder order: a field's value, or a default's params
    returning: list[tuple[Field, list]]  # each returned field with its converters


_inserts: dict[tuple, _Insert] = {}
_updates: dict[tuple, str] = {}


def _refuse_unsupported(model: type[Model]) -> None:
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise TypeError(f"{model.__name__}: its saves are listened to; save it with save()")
    if model._meta.parents:  # its row spans tables, which save() writes one by one
        raise TypeError(f"{model.__name__}: a child of another model; save it with save()")


def insert(instance: Model) -> None:
    """``instance.save()`` of a new row: sets its primary key, and the values the
    database gave its ``db_default`` fields."""
    model = type(instance)
    _refuse_unsupported(model)
    meta = model._meta
    if instance.pk is not None:
        raise ValueError("insert() writes new rows; their primary key is the database's")
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field and not f.generated]
    defaulted = tuple(isinstance(getattr(instance, f.attname), DatabaseDefault) for f in fields)
    key = (model, connection.vendor, defaulted)
    statement = _inserts.get(key)
    if statement is None:
        statement = _inserts[key] = _build_insert(instance, fields, defaulted)
    values = []
    for slot in statement.slots:
        if isinstance(slot, list):
            values += slot
        else:
            values.append(slot.get_db_prep_save(slot.pre_save(instance, add=True), connection))
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, values)
        row = cursor.fetchone()
    for (field, found), value in zip(statement.returning, row, strict=True):
        for converter, column in found:
            value = converter(value, column, connection)
        setattr(instance, field.attname, value)
    instance._state.adding, instance._state.db = False, connection.alias


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
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(marks)}) RETURNING {', '.join(qn(f.column) for f, _ in returning)}"
    )
    return _Insert(sql, slots, returning)


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
