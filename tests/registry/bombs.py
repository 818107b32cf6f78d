"""Hostile roster files (the bomb corpus): small uploads that cost a naive reader seconds, gigabytes
or the whole process. Used by the registry tests and by bench/registry_import.py.

Zips are written by hand so a part can inflate to hundreds of megabytes without this module ever
holding them (a deflate block made with a full flush can be repeated), and so a part can lie about
its size in the central directory.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"'
    b'/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>"
).encode()
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"


@dataclass(frozen=True)
class Entry:
    name: str
    raw: bytes  # the stored bytes (deflated or not)
    method: int  # 0 stored, 8 deflated
    crc: int
    size: int  # the uncompressed size written in the headers (may lie)


def deflated(name: str, data: bytes, *, declared: int | None = None) -> Entry:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = packer.compress(data) + packer.flush()
    return Entry(name, raw, 8, zlib.crc32(data), len(data) if declared is None else declared)


def repeated(
    name: str, head: bytes, unit: bytes, times: int, tail: bytes, *, declared: int | None = None
) -> Entry:
    """head + unit * times + tail, deflated without ever building it (unit is repeated as a
    self-contained deflate block)."""
    per_block = max(1, 65536 // len(unit))  # a block per 64 KB keeps the ratio near deflate's best
    blocks, rest = divmod(times, per_block)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(unit * per_block) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.compress(unit * rest + tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(unit) * times + len(tail)
    return Entry(name, first + block * blocks + last, 8, crc, size if declared is None else declared)


def write_zip(entries: list[Entry]) -> bytes:
    body = bytearray()
    directory = bytearray()
    for entry in entries:
        name = entry.name.encode()
        offset = len(body)
        body += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, entry.method, 0, 0x21, entry.crc, len(entry.raw), entry.size,
            len(name), 0,
        )  # fmt: skip
        body += name + entry.raw
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, entry.method, 0, 0x21, entry.crc, len(entry.raw),
            entry.size, len(name), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        directory += name
    count = min(len(entries), 0xFFFF)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    return bytes(body + directory + end)


def workbook(sheet: Entry, *extra: Entry, sheet_target: str | None = None) -> bytes:
    rels = WORKBOOK_RELS
    if sheet_target is not None:
        rels = rels.replace(b"worksheets/sheet1.xml", sheet_target.encode())
    parts = [
        deflated("[Content_Types].xml", CONTENT_TYPES),
        deflated("_rels/.rels", ROOT_RELS),
        deflated("xl/workbook.xml", WORKBOOK),
        deflated("xl/_rels/workbook.xml.rels", rels),
        sheet,
        *extra,
    ]
    return write_zip(parts)


def sheet_entry(rows_xml: bytes) -> Entry:
    return deflated("xl/worksheets/sheet1.xml", SHEET_HEAD + rows_xml + SHEET_TAIL)


# ---- the corpus ---------------------------------------------------------------------------------


def sparse_cell() -> bytes:
    """Two cells, A1 and XFD1048576: 1.5 KB that make a dense reader allocate 17 billion cells."""
    return workbook(
        sheet_entry(
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>y</t></is></c></row>'
        )
    )


def wide_rows(rows: int = 2000) -> bytes:
    """Every row has a cell in the last column: a reader that pads rows holds 16,384 cells each."""
    unit = b'<row><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c></row>'
    return workbook(repeated("xl/worksheets/sheet1.xml", SHEET_HEAD, unit, rows, SHEET_TAIL))


def inflating_part(megabytes: int = 400, *, declared: int | None = None) -> bytes:
    """One inline string of `megabytes` MB: ~400 KB that inflate to 400 MB (the issue's second file).
    With `declared`, the central directory states that (smaller) size instead."""
    head = SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    unit = b"A" * (1024 * 1024)
    return workbook(
        repeated(
            "xl/worksheets/sheet1.xml", head, unit, megabytes, b"</t></is></c></row>" + SHEET_TAIL,
            declared=declared,
        )
    )  # fmt: skip


def shared_strings(count: int = 4_000_000) -> bytes:
    """Millions of empty shared strings: tens of KB on the wire, a list of millions in memory."""
    table = repeated(
        "xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode(), b"<si><t></t></si>",
        count, b"</sst>",
    )  # fmt: skip
    return workbook(sheet_entry(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), table)


def many_rows(rows: int = 1_000_000) -> bytes:
    """A million one-cell rows (no cell references, each row placed after the last)."""
    unit = b"<row><c><v>1</v></c></row>"
    return workbook(repeated("xl/worksheets/sheet1.xml", SHEET_HEAD, unit, rows, SHEET_TAIL))


def many_entries(entries: int = 100_000) -> bytes:
    """A zip whose central directory lists `entries` empty files besides a valid workbook."""
    base = [
        deflated("[Content_Types].xml", CONTENT_TYPES),
        deflated("_rels/.rels", ROOT_RELS),
        deflated("xl/workbook.xml", WORKBOOK),
        deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        sheet_entry(b'<row r="1"><c r="A1"><v>1</v></c></row>'),
    ]
    empty = [Entry(f"f/{i}", b"", 0, 0, 0) for i in range(entries)]
    return write_zip(base + empty)


def missing_sheet() -> bytes:
    """The workbook names a sheet part that is not in the zip."""
    return workbook(deflated("xl/worksheets/other.xml", SHEET_HEAD + SHEET_TAIL))


def cells_without_references() -> bytes:
    """Cells placed by order only (valid XML, no `r`): readers cannot bound them cheaply."""
    return workbook(sheet_entry(b"<row><c><v>1</v></c><c><v>2</v></c></row>"))


CORPUS: dict[str, Callable[[], bytes]] = {
    "sparse_cell_xfd1048576": sparse_cell,
    "wide_rows_2000x16384": wide_rows,
    "inflating_part_400mb": inflating_part,
    "lying_size_400mb_declared_1kb": lambda: inflating_part(400, declared=1024),
    "shared_strings_4m": shared_strings,
    "many_rows_1m": many_rows,
    "many_entries_100k": many_entries,
    "missing_sheet_part": missing_sheet,
}
