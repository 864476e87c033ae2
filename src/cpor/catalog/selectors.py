"""Reads of the catalog. The catalog is public to every signed-in user."""

from django.db.models import Prefetch, QuerySet

from cpor.catalog.models import OutOfScopeProgram, PartnerRole, Product, SolutionArea
from cpor.rowload import RowLoader


def catalog_overview() -> QuerySet[SolutionArea]:
    """Solution areas with their active roles (and engagements) and active products."""
    return SolutionArea.objects.prefetch_related(
        Prefetch(
            "roles",
            queryset=PartnerRole.objects.filter(active=True).select_related("engagement"),
        ),
        Prefetch("products", queryset=Product.objects.filter(active=True)),
    )


# Read by every claim written (``cpor.rowload``: the statement is built once).
_ROLES = RowLoader(PartnerRole, ("engagement", "solution_area"))


def role_by_code(code: str) -> PartnerRole | None:
    """The active role ``code`` names (codes are unique), with its engagement and area."""
    return _ROLES.first("{row}.code = %s AND {row}.active = %s", [code, True])


def coop_programs() -> QuerySet[OutOfScopeProgram]:
    """The programs claimed through co-op claims rather than here (CSP, Surface, hosting,
    managed reseller…), each with the pointer the API answers when one is named as a role."""
    return OutOfScopeProgram.objects.order_by("name")


def out_of_scope_program(code_or_name: str) -> OutOfScopeProgram | None:
    value = code_or_name.strip()
    return (
        OutOfScopeProgram.objects.filter(code__iexact=value).first()
        or OutOfScopeProgram.objects.filter(name__iexact=value).first()
    )
