from django.conf import settings

from cpor.accounts.selectors import load_roles


def program(request) -> dict[str, str]:
    # The shell names the user's organisation or tenant and lists their sections:
    # their role relations, loaded here in one query if nothing asked for them yet.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        load_roles(user)
    return {"operator_name": settings.CPOR_OPERATOR_NAME}
