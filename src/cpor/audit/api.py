"""The audit trail through the API: GET /api/v1/audit/ (the same scope and filters as the
page; the CSV export is the page's)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from cpor.api.views.base import ApiView
from cpor.audit import selectors
from cpor.audit.models import AuditAction, AuditEntry
from cpor.errors import PermissionDenied


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_email", help_text="The actor's e-mail.")
    organisation = serializers.CharField(source="organisation.name", default=None, allow_null=True)
    organisation_id = serializers.IntegerField(allow_null=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "at",
            "actor",
            "organisation_id",
            "organisation",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
        )


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    actor = serializers.CharField(
        required=False, min_length=1, max_length=254, help_text="Part of the e-mail."
    )
    organisation = serializers.IntegerField(
        required=False, min_value=1, help_text="Program staff only: one organisation's rows."
    )
    since = serializers.DateField(required=False, help_text="From this day (inclusive).")
    until = serializers.DateField(
        required=False, help_text="To this day (inclusive); before ``since``: no rows."
    )


class AuditListView(ApiView):
    @extend_schema(
        parameters=[AuditFilterSerializer],
        responses=AuditEntrySerializer(many=True),
        tags=["audit"],
    )
    def get(self, request):
        """The audit trail, newest first: a partner admin's own organisation; program
        staff every organisation."""
        if not selectors.may_read_audit(request.user):
            raise PermissionDenied(
                _("Only a partner admin or program staff can read the audit trail.")
            )
        params = AuditFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        entries = selectors.audit_list(
            actor=request.user, filters=selectors.AuditFilters(**params.validated_data)
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)
