from django.conf import settings


def program(request) -> dict[str, str]:
    return {"operator_name": settings.CPOR_OPERATOR_NAME}
