"""Model instances with their related rows, read by a statement built once per process.

For the reads every transition makes (the claim locked with what its checks and its
answer read, and its lines): the ORM took 3.6 ms of CPU to build, compile and load them,
where the same two statements from a bare cursor take 0.5 ms. A ``RowLoader`` writes the same
SELECT from the models' metadata the first time it runs, and turns the rows into model
instances as ``select_related`` does: the database's values converted by the fields'
own converters, each related instance cached on its parent (None for an empty
nullable link). The caller gives the condition, in SQL on the row (``{row}``)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Field, ForeignKey, Model, OneToOneRel
from django.db.transaction import TransactionManagementError


def placeholders(values: Sequence) -> str:
    """``%s, %s, …``, one per value: an IN list in hand-written SQL."""
    return ", ".join(["%s"] * len(values))


def converters(field: Field, alias: str) -> list[tuple]:
    """What turns the database's value of ``field`` (read as ``alias``) into Python's,
    as the ORM applies it: each converter with the column it is called with."""
    column = field.get_col(alias)
    found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    return [(converter, column) for converter in found]


def _join(link, parent: str, alias: str, *, outer: bool, path: str) -> tuple[str, bool]:
    """The JOIN that reaches ``link``'s model from the table ``parent`` as ``alias``, and
    whether it is an outer one: a link that may be empty, or any link under one (as the
    ORM promotes them, so that a row without the first keeps its place)."""
    qn = connection.ops.quote_name
    if isinstance(link, ForeignKey):  # forward, one-to-one fields included
        outer = outer or link.null
        near, far = link.column, link.target_field.column
    elif isinstance(link, OneToOneRel):  # the other side of a one-to-one field
        outer, near, far = True, link.field.target_field.column, link.field.column
    else:
        raise TypeError(f"{path}: only foreign keys and one-to-one relations are loaded")
    kind = "LEFT OUTER JOIN" if outer else "INNER JOIN"
    table = qn(link.related_model._meta.db_table)
    on = f"{qn(alias)}.{qn(far)} = {qn(parent)}.{qn(near)}"
    return f"{kind} {table} {qn(alias)} ON {on}", outer


@dataclass(frozen=True)
class _Table:
    model: type[Model]
    alias: str
    fields: list[Field]
    parent: int | None  # the table whose relation ``link`` reaches this one
    link: ForeignKey | OneToOneRel | None
    outer: bool = False  # reached by an outer join

    @property
    def names(self) -> list[str]:
        return [field.attname for field in self.fields]


@dataclass(frozen=True)
class _Statement:
    sql: str  # up to the condition, then the order: "… WHERE {where} ORDER BY …"
    tables: list[tuple[_Table, list[str], int]]  # each with its names and its pk's place
    converters: list[tuple[int, list]]  # (column, the field's and backend's converters)


class RowLoader:
    """Rows of ``model`` with the relations named in ``related`` (as ``select_related``
    names them: foreign keys, and one-to-one relations from either side), in ``order``
    (columns of the row)."""

    def __init__(self, model: type[Model], related: Sequence[str] = (), order: Sequence[str] = ()):
        self.model, self.related, self.order = model, tuple(related), tuple(order)
        self._statements: dict[str, _Statement] = {}

    def fetch(
        self,
        where: str,
        params: Sequence = (),
        *,
        lock: bool = False,
        annotate: Mapping[str, tuple[str, Sequence]] | None = None,
    ) -> list[Model]:
        """The rows matching ``where`` (SQL with ``{row}`` for the model's table),
        locked for update when ``lock`` and the database can lock them; ``annotate``
        names SQL expressions (with their parameters) to set on each row."""
        if lock and not connection.in_atomic_block:  # as select_for_update refuses
            raise TransactionManagementError("A row lock lasts only inside a transaction.")
        statement = self._statement()
        alias = connection.ops.quote_name("t0")
        annotate = annotate or {}
        extra = "".join(f", {sql}" for sql, _params in annotate.values())
        sql = statement.sql.replace("{annotations}", extra).replace("{where}", where)
        sql = sql.replace("{row}", alias)
        if lock and connection.features.has_select_for_update_of:
            sql += f" FOR UPDATE OF {alias}"
        values = [value for _sql, extra_params in annotate.values() for value in extra_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, *params])
            rows = cursor.fetchall()
        instances = []
        for row in rows:
            width = len(row) - len(annotate)
            instance = self._instance(statement, list(row[:width]))
            for name, value in zip(annotate, row[width:], strict=True):
                setattr(instance, name, value)
            instances.append(instance)
        return instances

    def first(self, where: str, params: Sequence = (), **options) -> Model | None:
        """The first row ``fetch`` gives, or None."""
        found = self.fetch(where, params, **options)
        return found[0] if found else None

    def _statement(self) -> _Statement:
        # Built per database vendor: the converters are the backend's.
        statement = self._statements.get(connection.vendor)
        if statement is None:
            statement = self._statements[connection.vendor] = self._build()
        return statement

    def _build(self) -> _Statement:
        qn = connection.ops.quote_name
        tables = [_Table(self.model, "t0", list(self.model._meta.concrete_fields), None, None)]
        joins = []
        by_path = {"": 0}
        for path in self.related:
            parent_path = ""
            for name in path.split("__"):
                here = f"{parent_path}__{name}" if parent_path else name
                if here not in by_path:
                    parent = tables[by_path[parent_path]]
                    link = parent.model._meta.get_field(name)
                    alias = f"t{len(tables)}"
                    join, outer = _join(link, parent.alias, alias, outer=parent.outer, path=path)
                    joins.append(join)
                    related = link.related_model
                    by_path[here] = len(tables)
                    fields = list(related._meta.concrete_fields)
                    parent_index = by_path[parent_path]
                    tables.append(_Table(related, alias, fields, parent_index, link, outer))
                parent_path = here
        columns, converters_at = [], []
        for table in tables:
            for field in table.fields:
                found = converters(field, table.alias)
                if found:
                    converters_at.append((len(columns), found))
                columns.append(f"{qn(table.alias)}.{qn(field.column)}")
        # Every name comes from the models' metadata; the values go as parameters.
        table = f"{qn(self.model._meta.db_table)} {qn('t0')}"
        sql = f"SELECT {', '.join(columns)}{{annotations}} FROM {table} "  # noqa: S608
        sql += " ".join(joins) + " WHERE {where}"
        if self.order:
            meta = self.model._meta
            fields = [(name.lstrip("-"), name.startswith("-")) for name in self.order]
            sql += " ORDER BY " + ", ".join(
                f"{qn('t0')}.{qn((meta.pk if name == 'pk' else meta.get_field(name)).column)}"
                + (" DESC" if descending else "")
                for name, descending in fields
            )
        placed = [(t, t.names, t.fields.index(t.model._meta.pk)) for t in tables]
        return _Statement(sql, placed, converters_at)

    def _instance(self, statement: _Statement, values: list) -> Model:
        for index, found in statement.converters:
            value = values[index]
            for converter, column in found:
                value = converter(value, column, connection)
            values[index] = value
        instances: list[Model | None] = []
        start = 0
        for table, names, pk_place in statement.tables:
            row = values[start : start + len(names)]
            start += len(names)
            parent = instances[table.parent] if table.parent is not None else None
            if table.parent is not None and parent is None:
                instances.append(None)  # under an empty nullable link
                continue
            instance = None
            if row[pk_place] is not None:
                instance = table.model.from_db(connection.alias, names, row)
            if table.link is not None:
                table.link.set_cached_value(parent, instance)  # None: known to be absent
                if instance is not None and isinstance(table.link, OneToOneRel):
                    table.link.field.set_cached_value(instance, parent)
            instances.append(instance)
        return instances[0]
