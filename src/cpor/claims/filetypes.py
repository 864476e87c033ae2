"""Tell a PoE's real type from its content, never from its name."""

import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

from cpor.errors import DomainError

# A DOCX is a zip: refuse archives that would inflate past these (zip bombs).
MAX_DOCX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_DOCX_RATIO = 200
MAX_DOCX_ENTRIES = 2000


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str


PDF = FileType("application/pdf", "pdf", "PDF")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "DOCX"
)
PNG = FileType("image/png", "png", "PNG")
JPEG = FileType("image/jpeg", "jpg", "JPEG")
ACCEPTED = (PDF, DOCX, PNG, JPEG)


def _not_accepted() -> DomainError:
    return DomainError(
        "poe_type_not_accepted",
        _("The file is not a PDF, DOCX, PNG or JPEG document (judged by its content)."),
        field="file",
    )


def detect(stream: BinaryIO, size: int) -> FileType:
    """Return the file's type, or raise a DomainError naming the rule it breaks."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        _check_docx(stream, size)
        return DOCX
    raise _not_accepted()


def _check_docx(stream: BinaryIO, size: int) -> None:
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or "word/document.xml" not in names:
                raise _not_accepted()
            total = sum(entry.file_size for entry in entries)
            if (
                len(entries) > MAX_DOCX_ENTRIES
                or total > MAX_DOCX_UNCOMPRESSED
                or total > max(size, 1) * MAX_DOCX_RATIO
            ):
                raise DomainError(
                    "poe_archive_too_large",
                    _("The DOCX would expand far beyond its size; it looks like a zip bomb."),
                    field="file",
                )
            if any(entry.flag_bits & 0x1 for entry in entries):
                raise DomainError(
                    "poe_encrypted", _("Encrypted documents cannot be reviewed."), field="file"
                )
    # A crafted or damaged zip fails in many ways while its directory is read: a name
    # flagged as UTF-8 that is not (UnicodeDecodeError, a ValueError), offsets past the
    # end (OSError, EOFError), short records (struct.error), an unknown zip version
    # (NotImplementedError). None of them is a DOCX.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        struct.error,
        NotImplementedError,
    ):
        raise _not_accepted() from None
    finally:
        stream.seek(0)
