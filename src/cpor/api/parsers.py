"""Request parsers that refuse too-large bodies with 413 before reading them."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import APIException, ParseError

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


# No request body of the API nests deeper than a few levels. Deeper ones are refused
# before any code walks them: the decoder and the idempotency fingerprint both recurse
# once per level, so "[" x 50,000 (or even 500) would end in a RecursionError, a 500.
MAX_JSON_DEPTH = 32


class JsonTooDeep(ParseError):
    default_code = "json_too_deep"


def _too_deep() -> JsonTooDeep:
    return JsonTooDeep(
        _("The JSON body is nested more than %(limit)d levels deep.") % {"limit": MAX_JSON_DEPTH},
        code="json_too_deep",
    )


def _deeper_than(data, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        _refuse_over(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if isinstance(data, dict | list) and _deeper_than(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data


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
            raise ParseError(_("The CSV must be UTF-8 encoded.")) from None
