"""The one error type of the domain.

Services raise ``DomainError`` with a stable ``code`` (the rule that was broken), a
human message and, where one input is to blame, the ``field``. The API turns it into a
JSON error body and the UI into a form error; nothing else needs to know the rules.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refused operation: nothing was written."""

    # Codes that mean "this cannot happen in the object's current state" (HTTP 409).
    CONFLICT_CODES = frozenset(
        {"illegal_transition", "claim_frozen", "unit_held", "unit_held_with_newer_poe"}
    )

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


class PermissionDenied(DomainError):
    """The actor may not do this to this object."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(
            "permission_denied", message or str(_("You may not do that.")), field=field
        )


def illegal_transition(entity: str, action: str, status: str) -> DomainError:
    return DomainError(
        "illegal_transition",
        _("A %(entity)s in status “%(status)s” cannot be %(action)s.")
        % {"entity": entity, "status": status, "action": action},
        field="status",
    )
