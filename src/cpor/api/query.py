"""Query parameters checked against the API's own OpenAPI document.

The schema says which query parameters an operation takes, their type, range and
choices; ``query_check`` holds every request to exactly that, so the documentation and
the behaviour cannot drift apart: a word where a number belongs, a number out of range
or a value off the list (the empty one included) is a 400 naming the parameter, never
a silent default. Parameters the operation does not declare are left alone.

The document is generated once per process (drf-spectacular, as ``/api/schema/``
serves it) and kept as one matcher per path template.
"""

import functools
import re
import threading
from dataclasses import dataclass

import jsonschema
from django.utils.translation import gettext as _

from cpor.errors import DomainError


@dataclass(frozen=True)
class _Operation:
    pattern: re.Pattern
    literal_parts: int  # more literal segments first: /claims/export/ before /claims/{id}/
    parameters: dict[str, list[dict]]  # method -> its query parameters


_GENERATING = threading.Lock()


def _operations() -> list[_Operation]:
    # drf-spectacular's generator is not thread-safe: the first requests of a threaded
    # worker would build the document at once and fail. One thread builds it, once.
    with _GENERATING:
        return _built_operations()


@functools.cache
def _built_operations() -> list[_Operation]:
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in document.get("paths", {}).items():
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
        shared = [p for p in item.get("parameters", []) if p.get("in") == "query"]
        parameters = {
            method: shared + [p for p in op.get("parameters", []) if p.get("in") == "query"]
            for method, op in item.items()
            if isinstance(op, dict) and "responses" in op
        }
        literal = sum(1 for part in path.split("/") if part and not part.startswith("{"))
        operations.append(_Operation(re.compile(f"{regex}$"), literal, parameters))
    operations.sort(key=lambda operation: -operation.literal_parts)
    return operations


def _coerce(raw: str, schema: dict):
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(raw)
        return value
    if kind == "boolean":  # the spellings the views read (``?dry_run=1``)
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(raw)
        return raw.lower() in ("true", "1", "yes")
    return raw


def _problem(name: str, values: list[str], parameter: dict) -> str | None:
    schema = parameter.get("schema", {})
    many = schema.get("type") == "array"
    if not many and len(values) > 1:
        return _("give it once")
    items = schema.get("items", {}) if many else schema
    try:
        coerced = []
        for raw in values:  # an empty value is a value: "" is no number, and no choice
            coerced.append(_coerce(raw, items))
    except ValueError:
        return _("“%(value)s” is not a valid %(type)s") % {
            "value": raw[:40],
            "type": items.get("type", "value"),
        }
    try:
        jsonschema.validate(coerced if many else coerced[0], schema)
    except jsonschema.ValidationError as error:
        if "enum" in error.schema:
            return _("choose one of %s") % ", ".join(map(str, error.schema["enum"]))
        return error.message[:200]
    return None


def query_check(request) -> None:
    """Refuse a request whose query parameters break what the schema declares."""
    path = request.path
    for operation in _operations():
        if operation.pattern.match(path):
            parameters = operation.parameters.get(request.method.lower(), [])
            break
    else:
        return
    for parameter in parameters:
        name = parameter["name"]
        values = request.query_params.getlist(name)
        if not values:
            if parameter.get("required"):
                raise DomainError("required", _("%s is required.") % name, field=name)
            continue
        if problem := _problem(name, values, parameter):
            raise DomainError(
                "invalid_parameter",
                _("Query parameter %(name)s: %(problem)s.") % {"name": name, "problem": problem},
                field=name,
            )


class QueryChecked:
    """A view mixin: every request's query parameters checked before the view runs."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        query_check(request)
