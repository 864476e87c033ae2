"""The PoE sniffer judges crafted and damaged files with its domain error, never a crash."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpor.claims import filetypes, services
from cpor.claims.models import PoEType, ProofOfExecution
from cpor.errors import DomainError
from cpor.testing.factories import claim_input, docx_file, pdf_file


def crafted_docx() -> bytes:
    """A DOCX whose zip directory holds a name flagged as UTF-8 that is not UTF-8."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/\u00e9.xml", "<x/>")  # non-ASCII: zipfile sets the UTF-8 flag
    return buffer.getvalue().replace("word/\u00e9.xml".encode(), b"word/\xff\xfe.xml")


def _detect(data: bytes) -> filetypes.FileType:
    return filetypes.detect(io.BytesIO(data), len(data))


def test_docx_with_a_non_utf8_name_flagged_utf8_is_not_accepted():
    with pytest.raises(DomainError) as error:
        _detect(crafted_docx())
    assert (error.value.code, error.value.field) == ("poe_type_not_accepted", "file")


def test_docx_needing_an_unknown_zip_version_is_not_accepted():
    data = bytearray(docx_file().read())
    directory = data.index(b"PK\x01\x02")  # the first central directory record
    data[directory + 6 : directory + 8] = b"\xff\x00"  # "version needed to extract": 25.5
    with pytest.raises(DomainError) as error:
        _detect(bytes(data))
    assert error.value.code == "poe_type_not_accepted"


@pytest.mark.django_db
def test_the_upload_form_shows_the_refusal_of_a_crafted_docx(client, partner, tenant):
    draft = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    client.force_login(partner)
    response = client.post(
        reverse("claims:poe_upload", args=[draft.pk]),
        {
            "file": SimpleUploadedFile("poe.docx", crafted_docx()),
            "poe_type": PoEType.STATEMENT_OF_WORK,
            "signed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
            "signatory": "Ana Silva",
        },
    )
    assert response.status_code == 400
    assert "is not a PDF, DOCX, PNG or JPEG" in response.content.decode()
    assert not ProofOfExecution.objects.exists()


# --- Fuzzing: random bytes, and valid files of each accepted type with bytes changed,
# cut short or inserted (the DOCX is small, so its zip directory is often hit).


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(13) + b"\x00\x00\x00\x00IEND"


def _jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


SEEDS = [
    pdf_file().read(),
    docx_file().read(),
    crafted_docx(),
    _png(),
    _jpeg(),
]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _edit in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if kind == "replace" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        else:
            del data[position:]
    return bytes(data)


def _sniff_never_crashes(data: bytes) -> None:
    try:
        assert _detect(data) in filetypes.ACCEPTED
    except DomainError as error:
        assert error.field == "file" and error.code.startswith("poe_")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_answer_a_type_or_the_domain_error(data):
    _sniff_never_crashes(data)


def _magic_then_random(seed: bytes) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=2048).map(lambda tail: seed[:8] + tail)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=2048), st.sampled_from(SEEDS).flatmap(_magic_then_random)))
def test_random_bytes_answer_a_type_or_the_domain_error(data):
    _sniff_never_crashes(data)
