"""API tokens of users who must enrol a second factor are refused until they do: a
token must not be a way around the rule the web enforces (``middleware``)."""

from rest_framework import exceptions

from cpor.accounts.middleware import enrolment_message
from cpor.accounts.selectors import mfa_enrolment_missing
from cpor.api.authentication import ApiTokenAuthentication


class MfaEnrolmentRequired(exceptions.PermissionDenied):
    default_code = "mfa_enrolment_required"


class EnrolledApiTokenAuthentication(ApiTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and mfa_enrolment_missing(result[0]):
            raise MfaEnrolmentRequired(enrolment_message())
        return result
