"""The Single sign-on page through the API: ``/api/v1/organisation/single-sign-on/``.
The same service and selector as the page (``services.sign_on_update``)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from cpor.accounts.selectors import partner_admin_membership, sign_on_of
from cpor.accounts.services import SignOnInput, sign_on_update
from cpor.api.views.base import ApiView, _parse
from cpor.errors import PermissionDenied

TENANT_ID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
DOMAIN_FIELD_PATTERN = r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"


# The service checks these with messages of its own; the schema declares them so that
# clients (and generated requests) know the rule.
@extend_schema_field({"type": "string", "pattern": TENANT_ID_PATTERN, "maxLength": 64})
class _TenantIdField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": DOMAIN_FIELD_PATTERN, "maxLength": 253})
class _DomainField(serializers.CharField):
    pass


class SignOnSerializer(serializers.Serializer):
    tenant_ids = serializers.ListField(
        child=_TenantIdField(max_length=64),
        max_length=50,
        help_text="Directory (tenant) IDs whose people belong to the organisation.",
    )
    domains = serializers.ListField(
        child=_DomainField(max_length=253),
        max_length=50,
        help_text="E-mail domains, for identity providers that send no tenant.",
    )
    invite_only = serializers.BooleanField(
        help_text="Refuse people the organisation has not invited instead of adding them."
    )
    sso_required = serializers.BooleanField(
        help_text="Refuse password and passkey sign-in to the organisation's users."
    )


def _data(sign_on) -> dict:
    if sign_on is None:
        return {"tenant_ids": [], "domains": [], "invite_only": True, "sso_required": False}
    return {
        "tenant_ids": [str(t.tenant_id) for t in sign_on.tenants.all()],
        "domains": [d.domain for d in sign_on.domains.all()],
        "invite_only": sign_on.invite_only,
        "sso_required": sign_on.sso_required,
    }


class SignOnView(ApiView):
    """The organisation's identity provider links (partner admins only)."""

    input_serializer = SignOnSerializer

    def _membership(self, request):
        membership = partner_admin_membership(request.user)
        if membership is None:
            raise PermissionDenied()
        return membership

    @extend_schema(responses=SignOnSerializer, tags=["organisation"])
    def get(self, request):
        return Response(_data(sign_on_of(self._membership(request).organisation)))

    @extend_schema(request=SignOnSerializer, responses=SignOnSerializer, tags=["organisation"])
    def put(self, request):
        """Replace the links and flags; a tenant or domain left out is unlinked."""
        membership = self._membership(request)
        data = _parse(SignOnSerializer, request).validated_data
        sign_on_update(actor=request.user, data=SignOnInput(**data))
        return Response(_data(sign_on_of(membership.organisation)))
