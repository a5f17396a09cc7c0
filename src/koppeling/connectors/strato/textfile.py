"""Reading a text export whatever it was saved as: encoding and CSV dialect detection.

Strato's customer export is chosen as "Codering: Unicode (UTF-8)". In practice the file may have
been re-saved: with or without a UTF-8 byte-order mark, as Windows-1252 by an older Excel, or as
UTF-16 ("Unicode text") with tabs. The rules:

* a UTF-16 BOM -> UTF-16; a UTF-8 BOM -> UTF-8 (the BOM is dropped);
* otherwise the whole file is checked to be valid UTF-8 (streamed in 1 MiB chunks, incrementally,
  so a multi-byte character split across chunks is fine);
* not UTF-8 -> read as Windows-1252 **with a warning** naming the first line that is not UTF-8;
* NUL bytes or a known binary signature (PDF, ZIP/XLSX, images) -> unusable input.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from .issues import UnusableInput

CHUNK = 1 << 20
BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}


@dataclass(frozen=True, slots=True)
class Detected:
    encoding: str
    bom: int  # bytes to skip
    warning: str = ""
    first_bad_line: int | None = None


def binary_kind(head: bytes) -> str | None:
    for sig, kind in BINARY_SIGNATURES.items():
        if head.startswith(sig):
            return kind
    return None


def detect_encoding(stream: BinaryIO, label: str) -> Detected:
    """Inspect ``stream`` (seekable, binary) and rewind it. Raises ``UnusableInput``."""
    stream.seek(0)
    head = stream.read(4096)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UnusableInput(label, "the file is empty")
    kind = binary_kind(head)
    if kind:
        raise UnusableInput(label, f"this is {kind}, not a text export")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        stream.seek(0)
        return Detected("utf-16", 0)
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    stream.seek(bom)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line = 1
    nul_seen = False
    while True:
        chunk = stream.read(CHUNK)
        final = not chunk
        if b"\x00" in chunk:
            nul_seen = True
        try:
            decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            line += chunk[: exc.start].count(b"\n")
            stream.seek(0)
            if nul_seen:
                raise UnusableInput(label, "the file contains NUL bytes; it is not a text export") from None
            return Detected(
                "cp1252",
                bom,
                f"the file is not valid UTF-8 (first at line {line}); it was read as Windows-1252. "
                "Export again with 'Codering: Unicode (UTF-8)' to be sure every character is right.",
                line,
            )
        if final:
            break
        line += chunk.count(b"\n")
    stream.seek(0)
    if nul_seen:
        raise UnusableInput(label, "the file contains NUL bytes; it is not a text export")
    return Detected("utf-8", bom)


def open_text(stream: BinaryIO, detected: Detected) -> io.TextIOWrapper:
    stream.seek(detected.bom)
    return io.TextIOWrapper(stream, encoding=detected.encoding, errors="replace", newline="")


DELIMITERS = ";,\t|"


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV export, judged on its header line (and a few more for ties).

    ``csv.Sniffer`` is tried first; if it fails or picks something exotic, the candidate that occurs
    most often in the header line (outside quotes) and equally often in the next lines wins.
    """
    lines = [ln for ln in sample.splitlines() if ln.strip()][:6]
    if not lines:
        return ";"
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS)
        if dialect.delimiter in DELIMITERS:
            return dialect.delimiter
    except csv.Error:
        pass
    header = _outside_quotes(lines[0])
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] else ";"


def _outside_quotes(line: str) -> str:
    out, quoted = [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            out.append(ch)
    return "".join(out)


def _declared_utf8(head: bytes) -> bool:
    """Whether an XML file is UTF-8 by its declaration (or, without one, by default)."""
    match = re.match(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""", head)
    return match is None or match.group(1).decode("ascii").lower() in ("utf-8", "utf8")


def repair_utf8(stream: BinaryIO) -> tuple[BinaryIO | None, list[int]]:
    """A UTF-8 file with stray Windows-1252 bytes, repaired byte by byte.

    Returns ``(None, [])`` when the file is valid UTF-8 (or declares another encoding): nothing to
    do. Otherwise a temporary file in which each byte that is not part of a valid UTF-8 sequence is
    read as Windows-1252 (``0xE9`` → ``é``, ``0x80`` → ``€``) — the rest of the file is left exactly
    as it was, so one pasted "café" does not re-decode a whole UTF-8 export — and the 1-based lines
    where that happened, for the per-record warnings. Streamed in chunks: memory stays flat.
    """
    stream.seek(0)
    head = stream.read(4096)
    if not _declared_utf8(head):
        stream.seek(0)
        return None, []
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := stream.read(CHUNK):
            pending, _flag = decoder.getstate()
            if pending or not chunk.isascii():  # ASCII after a complete character is valid UTF-8
                decoder.decode(chunk)
        decoder.decode(b"", True)
        stream.seek(0)
        return None, []
    except UnicodeDecodeError:
        stream.seek(0)
    lines: list[int] = []
    state = {"line": 1, "chunk": b""}

    def stray(exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        line = state["line"] + exc.object[: exc.start].count(b"\n")
        if not lines or lines[-1] != line:
            lines.append(line)
        return exc.object[exc.start : exc.start + 1].decode("cp1252", errors="replace"), exc.start + 1

    codecs.register_error("koppeling-cp1252-stray", stray)
    out = tempfile.TemporaryFile()
    repair = codecs.getincrementaldecoder("utf-8")("koppeling-cp1252-stray")
    while chunk := stream.read(CHUNK):
        out.write(repair.decode(chunk).encode("utf-8"))
        state["line"] += chunk.count(b"\n")
    out.write(repair.decode(b"", True).encode("utf-8"))
    out.seek(0)
    stream.seek(0)
    return out, lines
