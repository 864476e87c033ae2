"""The Organisation area through the API (users, locations, customer relationships), the
program's PartnerID verification, tenant look-ups under the customer-granted visibility
rules, and the customer's partner invitations. The same services and selectors as the
pages; routed by ``cpor.organisation_urls.api_patterns``."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from cpor.api.errors import error_body
from cpor.api.views.base import ApiView, _parse
from cpor.catalog.models import PartnerRole
from cpor.claims.permissions import require_program_admin
from cpor.claims.selectors import subscription_ineligibility
from cpor.customers import lookup, relationships
from cpor.customers.models import PartnerInvitation, Subscription
from cpor.errors import DomainError
from cpor.partners import selectors, self_service
from cpor.partners.models import PartnerLocation, PartnerRoleName
from cpor.partners.services import AdminInput, LocationInput

# ---------------------------------------------------------------------------
# Serializers


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="membership.pk")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")
    role = serializers.ChoiceField(source="membership.role", choices=PartnerRoleName.choices)
    active = serializers.BooleanField(source="user.is_active")
    invited = serializers.SerializerMethodField()
    last_sign_in = serializers.DateTimeField(source="user.last_login", allow_null=True)
    mfa = serializers.ListField(
        child=serializers.CharField(), help_text="Second factors enrolled: totp, webauthn."
    )

    def get_invited(self, row) -> bool:
        """Invited and has not chosen a password yet."""
        return not row.user.has_usable_password()


class MemberInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=PartnerRoleName.choices)
    language = serializers.ChoiceField(choices=["en", "pt-pt"], default="en")


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=PartnerRoleName.choices)


class MemberActiveSerializer(serializers.Serializer):
    active = serializers.BooleanField()


class OrganisationLocationSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = PartnerLocation
        fields = (
            "id",
            "partner_id",
            "name",
            "country",
            "organisation",
            "active",
            "verification",
            "decision_note",
            "requested_at",
            "decided_at",
        )


class LocationRequestSerializer(serializers.Serializer):
    partner_id = serializers.RegexField(r"^[0-9]{4,12}$", help_text="4 to 12 digits, unique.")
    name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")


class LocationDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["verify", "refuse"])
    note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to refuse.",
    )


class InvitationAcceptSerializer(serializers.Serializer):
    code = serializers.CharField(
        min_length=1, max_length=500, help_text="The code the customer's admin sent."
    )


class RelationshipSerializer(serializers.ModelSerializer):
    tenant_id = serializers.UUIDField(source="tenant.tenant_id")
    customer = serializers.CharField(source="tenant.name")
    active = serializers.SerializerMethodField()

    class Meta:
        model = PartnerInvitation
        fields = ("id", "tenant_id", "customer", "accepted_at", "revoked_at", "active")

    def get_active(self, invitation) -> bool:
        return invitation.revoked_at is None


class CustomerInvitationSerializer(serializers.ModelSerializer):
    partner = serializers.CharField(source="organisation.name", default=None, allow_null=True)
    state = serializers.ChoiceField(choices=["pending", "accepted", "expired", "revoked"])

    class Meta:
        model = PartnerInvitation
        fields = ("id", "note", "created_at", "expires_at", "partner", "accepted_at", "state")


class CustomerInvitationCreatedSerializer(CustomerInvitationSerializer):
    code = serializers.CharField(help_text="Shown only once: send it to the partner's admin.")

    class Meta(CustomerInvitationSerializer.Meta):
        fields = (*CustomerInvitationSerializer.Meta.fields, "code")


class InvitationNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SubscriptionSeenSerializer(serializers.Serializer):
    """What a partner may learn of a subscription: its product and channel."""

    subscription_id = serializers.UUIDField()
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    purchase_channel = serializers.CharField()
    eligible = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class TenantLookupSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    related = serializers.BooleanField(
        help_text="Your organisation holds or held an association with the tenant, or the "
        "customer invited it: only then are its name and subscriptions shown."
    )
    name = serializers.CharField(allow_null=True)
    subscriptions = SubscriptionSeenSerializer(many=True, allow_null=True)


class SubscriptionCheckSerializer(serializers.Serializer):
    subscription_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=100
    )
    role = serializers.CharField(
        max_length=60,
        required=False,
        help_text="A partner role code (see /catalog/): say whether each can be claimed under it.",
    )

    def validate_role(self, value: str) -> str:
        # Checked against the catalog when used: the schema (and check --deploy, which
        # generates it) must not need the database.
        if not PartnerRole.objects.filter(active=True, code=value).exists():
            raise serializers.ValidationError(
                _("Choose a partner role from the list."), code="invalid_choice"
            )
        return value


class SubscriptionCheckResultSerializer(serializers.Serializer):
    subscriptions = SubscriptionSeenSerializer(many=True)
    not_found = serializers.ListField(
        child=serializers.CharField(),
        help_text="IDs that are not subscriptions of this tenant (or not IDs at all).",
    )


def _seen(subscription: Subscription, role: PartnerRole | None, today) -> dict:
    reason = subscription_ineligibility(subscription, role, today) if role else ""
    return {
        "subscription_id": subscription.subscription_id,
        "product": subscription.product,
        "purchase_channel": subscription.purchase_channel,
        "eligible": (not reason) if role else None,
        "reason": reason,
    }


def _limited(error: lookup.LookupLimited) -> Response:
    window = settings.TENANT_LOOKUP_WINDOW_SECONDS
    return Response(
        error_body(error.code, error.message, error.field),
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(window)},
    )


def _lookup(request, tenant_id) -> lookup.TenantLookup | Response:
    """The tenant as the caller may see it; over a limit 429, an unknown tenant 404."""
    try:
        return lookup.tenant_lookup(actor=request.user, tenant_id=tenant_id)
    except lookup.LookupLimited as error:
        return _limited(error)
    except DomainError as error:
        if error.code != "unknown_tenant":
            raise
        return Response(
            error_body(error.code, error.message, error.field), status=status.HTTP_404_NOT_FOUND
        )


# ---------------------------------------------------------------------------
# The partner admin's organisation


class MemberListView(ApiView):
    input_serializer = MemberInviteSerializer
    pagination_class = None

    @extend_schema(responses=MemberSerializer(many=True), tags=["organisation"])
    def get(self, request):
        """Your organisation's users: role, last sign-in, second factors (partner admins)."""
        rows = selectors.organisation_members(actor=request.user)
        return Response(MemberSerializer(rows, many=True).data)

    @extend_schema(
        request=MemberInviteSerializer,
        responses={201: MemberSerializer},
        tags=["organisation"],
    )
    def post(self, request):
        """Invite a person by e-mail with a role; they get a link to choose a password."""
        self_service.require_partner_admin(request.user)
        data = _parse(MemberInviteSerializer, request).validated_data
        self_service.member_invite(
            actor=request.user,
            admin=AdminInput(
                data["email"], data["first_name"], data["last_name"], data["language"]
            ),
            role=data["role"],
        )
        row = next(
            r
            for r in selectors.organisation_members(actor=request.user)
            if r.user.email.lower() == data["email"].lower()
        )
        return Response(MemberSerializer(row).data, status=status.HTTP_201_CREATED)


def _member_row(request, pk: int):
    return next(
        r for r in selectors.organisation_members(actor=request.user) if r.membership.pk == pk
    )


class MemberRoleView(ApiView):
    input_serializer = MemberRoleSerializer

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer, tags=["organisation"])
    def post(self, request, pk: int):
        """Change a user's role; the organisation always keeps an active partner admin."""
        self_service.require_partner_admin(request.user)
        data = _parse(MemberRoleSerializer, request).validated_data
        self_service.member_set_role(actor=request.user, member_pk=pk, role=data["role"])
        return Response(MemberSerializer(_member_row(request, pk)).data)


class MemberActiveView(ApiView):
    input_serializer = MemberActiveSerializer

    @extend_schema(
        request=MemberActiveSerializer, responses=MemberSerializer, tags=["organisation"]
    )
    def post(self, request, pk: int):
        """Deactivate a user (no sign-in, no API tokens) or reactivate them."""
        self_service.require_partner_admin(request.user)
        data = _parse(MemberActiveSerializer, request).validated_data
        self_service.member_set_active(actor=request.user, member_pk=pk, active=data["active"])
        return Response(MemberSerializer(_member_row(request, pk)).data)


class OrganisationLocationListView(ApiView):
    input_serializer = LocationRequestSerializer
    pagination_class = None

    @extend_schema(responses=OrganisationLocationSerializer(many=True), tags=["organisation"])
    def get(self, request):
        """Your organisation's locations with their verification state (partner admins)."""
        locations = selectors.organisation_locations(actor=request.user).select_related(
            "organisation"
        )
        return Response(OrganisationLocationSerializer(locations, many=True).data)

    @extend_schema(
        request=LocationRequestSerializer,
        responses={201: OrganisationLocationSerializer},
        tags=["organisation"],
    )
    def post(self, request):
        """Add a PartnerID; the program verifies it before it can be used in a claim."""
        self_service.require_partner_admin(request.user)
        data = _parse(LocationRequestSerializer, request).validated_data
        location = self_service.location_request(
            actor=request.user,
            location=LocationInput(data["partner_id"], data["name"], data["country"]),
        )
        return Response(
            OrganisationLocationSerializer(location).data, status=status.HTTP_201_CREATED
        )


class RelationshipListView(ApiView):
    pagination_class = None

    @extend_schema(responses=RelationshipSerializer(many=True), tags=["organisation"])
    def get(self, request):
        """Customers' invitations your organisation accepted (revoked ones too)."""
        rows = relationships.organisation_relationships(actor=request.user)
        return Response(RelationshipSerializer(rows, many=True).data)


class RelationshipAcceptView(ApiView):
    input_serializer = InvitationAcceptSerializer

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={201: RelationshipSerializer},
        tags=["organisation"],
    )
    def post(self, request):
        """Accept a customer's invitation for your organisation (partner admins)."""
        self_service.require_partner_admin(request.user)
        data = _parse(InvitationAcceptSerializer, request).validated_data
        invitation = relationships.invitation_accept(actor=request.user, code=data["code"])
        return Response(RelationshipSerializer(invitation).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------
# The program's PartnerID verification


class LocationVerificationListView(ApiView):
    pagination_class = None

    @extend_schema(responses=OrganisationLocationSerializer(many=True), tags=["program"])
    def get(self, request):
        """PartnerIDs awaiting verification, oldest first (program admins)."""
        pending = selectors.locations_to_verify(actor=request.user)
        return Response(OrganisationLocationSerializer(pending, many=True).data)


class LocationDecisionView(ApiView):
    input_serializer = LocationDecisionSerializer

    @extend_schema(
        request=LocationDecisionSerializer,
        responses=OrganisationLocationSerializer,
        tags=["program"],
    )
    def post(self, request, pk: int):
        """Verify a pending PartnerID, or refuse it with a reason (program admins)."""
        require_program_admin(request.user)
        data = _parse(LocationDecisionSerializer, request).validated_data
        location = self_service.location_decide(
            actor=request.user,
            location_pk=pk,
            verify=data["decision"] == "verify",
            note=data["note"],
        )
        return Response(OrganisationLocationSerializer(location).data)


# ---------------------------------------------------------------------------
# Tenant look-ups (partners)


class TenantLookupView(ApiView):
    @extend_schema(
        responses={200: TenantLookupSerializer},
        tags=["partner"],
    )
    def get(self, request, tenant_id: str):
        """Look up a customer tenant by its directory ID: counted against the per-user and
        per-organisation limits (429 over them); its name and subscriptions only with a
        relationship."""
        found = _lookup(request, tenant_id)
        if isinstance(found, Response):
            return found
        subscriptions = None
        if found.related:
            today = timezone.localdate()
            subscriptions = [
                _seen(s, None, today)
                for s in found.tenant.subscriptions.select_related("product").order_by(
                    "product__name", "ends_on"
                )
            ]
        return Response(
            TenantLookupSerializer(
                {
                    "tenant_id": found.tenant.tenant_id,
                    "related": found.related,
                    "name": found.name,
                    "subscriptions": subscriptions,
                }
            ).data
        )


class TenantSubscriptionCheckView(ApiView):
    input_serializer = SubscriptionCheckSerializer

    @extend_schema(
        request=SubscriptionCheckSerializer,
        responses={200: SubscriptionCheckResultSerializer},
        tags=["partner"],
    )
    def post(self, request, tenant_id: str):
        """Check subscription IDs the customer gave you: the product and channel of each
        that is the tenant's, and whether it can be claimed under ``role``."""
        data = _parse(SubscriptionCheckSerializer, request).validated_data
        role = None
        if data.get("role"):
            role = PartnerRole.objects.select_related("engagement", "solution_area").get(
                code=data["role"]
            )
        found = _lookup(request, tenant_id)
        if isinstance(found, Response):
            return found
        subscriptions, wrong = lookup.tenant_subscriptions_typed(
            tenant=found.tenant, subscription_ids=data["subscription_ids"]
        )
        today = timezone.localdate()
        return Response(
            SubscriptionCheckResultSerializer(
                {
                    "subscriptions": [_seen(s, role, today) for s in subscriptions],
                    "not_found": wrong,
                }
            ).data
        )


# ---------------------------------------------------------------------------
# The customer's partner invitations


class CustomerInvitationListView(ApiView):
    input_serializer = InvitationNoteSerializer
    pagination_class = None

    @extend_schema(responses=CustomerInvitationSerializer(many=True), tags=["customer"])
    def get(self, request):
        """Your tenant's partner invitations, newest first (customer admins)."""
        invitations = relationships.tenant_invitations(actor=request.user)
        return Response(CustomerInvitationSerializer(invitations, many=True).data)

    @extend_schema(
        request=InvitationNoteSerializer,
        responses={201: CustomerInvitationCreatedSerializer},
        tags=["customer"],
    )
    def post(self, request):
        """Invite a partner: the answer holds the code, shown only this once."""
        data = _parse(InvitationNoteSerializer, request).validated_data
        invitation, code = relationships.invitation_create(actor=request.user, note=data["note"])
        invitation.code = code
        return Response(
            CustomerInvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED
        )


class CustomerInvitationRevokeView(ApiView):
    @extend_schema(request=None, responses=CustomerInvitationSerializer, tags=["customer"])
    def post(self, request, pk: int):
        """Revoke an invitation, or end the relationship it started (customer admins)."""
        invitation = relationships.invitation_revoke(actor=request.user, invitation_pk=pk)
        return Response(CustomerInvitationSerializer(invitation).data)
