"""Writes to a user's own account settings."""

from django.conf import settings
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.errors import DomainError


def user_set_language(*, user: User, language: str) -> User:
    """Remember the language a signed-in user chose, for every device and e-mail."""
    if language not in dict(settings.LANGUAGES):
        raise DomainError(
            "unknown_language", _("Choose a language from the list."), field="language"
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
