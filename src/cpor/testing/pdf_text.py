"""The text of a PDF as a reader would copy it, for tests of generated documents.

No PDF reader is in the lock, so this reads just what fpdf2 writes: pages whose
contents show strings (``Tj``/``TJ``) in Type0 fonts with a ``ToUnicode`` map, or in
the core fonts (Latin-1). One line of the result per text object (``BT`` … ``ET``)."""

import re
import zlib

_OBJECT = re.compile(
    rb"(\d+) 0 obj\s*(<<.*?>>)\s*(?:stream\r?\n(.*?)\r?\nendstream)?\s*endobj", re.S
)
_TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|\[|\]|/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(body: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    objects = {}
    for match in _OBJECT.finditer(body):
        head, stream = match.group(2), match.group(3)
        if stream is not None and b"/FlateDecode" in head:
            stream = zlib.decompress(stream)
        objects[int(match.group(1))] = (head, stream)
    return objects


def _cmap(stream: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for low, high, start in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                mapping[int(low, 16) + offset] = chr(int(start, 16) + offset)
    return mapping


def _literal(token: bytes) -> bytes:
    """The bytes of a ``(…)`` string, its escapes undone."""
    raw, out, index = token[1:-1], bytearray(), 0
    while index < len(raw):
        byte = raw[index : index + 1]
        if byte != b"\\":
            out += byte
            index += 1
            continue
        following = raw[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            index += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def _decode(data: bytes, mapping: dict[int, str] | None) -> str:
    if mapping is None:  # a core font: one byte per character
        return data.decode("latin-1")
    codes = (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2))
    return "".join(mapping.get(code, "\ufffd") for code in codes)


def pdf_text(body: bytes) -> str:
    objects = _objects(body)
    fonts: dict[bytes, dict[int, str] | None] = {}
    for head, _stream in objects.values():
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", head):
            font_head = objects[int(number)][0]
            unicode_map = re.search(rb"/ToUnicode (\d+) 0 R", font_head)
            fonts[name] = _cmap(objects[int(unicode_map.group(1))][1]) if unicode_map else None
    lines: list[str] = []
    pages = [head for head, _stream in objects.values() if re.search(rb"/Type /Page\b", head)]
    for page in pages:
        for number in re.findall(rb"/Contents (\d+) 0 R", page):
            font, line = None, ""
            operands: list[bytes] = []
            for token in _TOKEN.findall(objects[int(number)][1]):
                if token == b"Tf":
                    font = operands[-2][1:]
                elif token in (b"Tj", b"TJ"):
                    strings = [t for t in operands if t.startswith(b"(")]
                    line += "".join(_decode(_literal(s), fonts.get(font)) for s in strings)
                elif token == b"ET" and line:
                    lines.append(line)
                    line = ""
                if token.isalpha() or token in (b"'", b'"'):
                    operands = []
                else:
                    operands.append(token)
    return "\n".join(lines)
