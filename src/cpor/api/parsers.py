"""Request parsers that refuse too-large bodies with 413 before reading them."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import APIException

from cpor.catalog.models import ProgramSettings

# Room for the form fields and multipart boundaries around the PoE file itself.
MULTIPART_OVERHEAD = 256 * 1024


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "body_too_large"
    default_detail = "The request body is too large."


def _refuse_over(request, limit: int) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise BodyTooLarge(
            _("The request body is %(size)d bytes; the limit is %(limit)d bytes.")
            % {"size": length, "limit": limit}
        )


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        _refuse_over(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return super().parse(stream, media_type, parser_context)


class LimitedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        _refuse_over(request, ProgramSettings.load().poe_max_bytes + MULTIPART_OVERHEAD)
        return super().parse(stream, media_type, parser_context)


class CsvParser(parsers.BaseParser):
    """A CSV body, returned as text (the bulk endpoint reads it row by row)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        _refuse_over(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            from rest_framework.exceptions import ParseError

            raise ParseError(_("The CSV must be UTF-8 encoded.")) from None
