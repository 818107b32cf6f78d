"""Hostile and friendly bulk-import zips, built byte by byte where zipfile would not write them."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable

GBK_FOLDER_NAME = "照片/张三.jpg"  # a Chinese Windows tool writes it in GBK without the UTF-8 flag
GBK_TOP_NAME = "张三.jpg"
CORRUPT_MARKER = b"CORRUPT-ME-PLEASE" * 64


def _placeholder(name: str) -> str:
    """An ASCII name with exactly as many bytes as the GBK-encoded `name` (patched in afterwards)."""
    return "Q" * len(name.encode("gbk"))


def build_zip(entries: Iterable[tuple[str, bytes]], *, gbk: Iterable[tuple[str, bytes]] = ()) -> bytes:
    """`entries` written as given (UTF-8 flag for non-ASCII); `gbk` entries with GBK names, no flag."""
    buffer = io.BytesIO()
    patches: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of some tests
        for name, data in entries:
            archive.writestr(name, data)
        for name, data in gbk:
            placeholder = _placeholder(name)
            archive.writestr(placeholder, data)
            patches.append((placeholder.encode(), name.encode("gbk")))
    raw = buffer.getvalue()
    for placeholder_bytes, gbk_bytes in patches:
        raw = raw.replace(placeholder_bytes, gbk_bytes)
    return raw


def attack_zip(good: dict[str, bytes], target_student: str) -> bytes:
    """Every attack the issue lists, next to good pictures; `target_student` names the bombs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, data in good.items():
            archive.writestr(name, data)
        archive.writestr("../../etc/cron.d/evil.jpg", b"x")  # path traversal
        archive.writestr(zipfile.ZipInfo("/etc/passwd.jpg"), b"x")  # absolute path
        archive.writestr(zipfile.ZipInfo("C:/Windows/win.jpg"), b"x")  # absolute (drive letter)
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = (0o120777 << 16) | 0
        archive.writestr(link, b"/etc/passwd")  # symlink
        archive.writestr("locked.jpg", b"encrypted-bytes")  # encrypted entry (flag set below)
        archive.writestr(f"{target_student}x.jpg", b"\0" * (60 * 1024 * 1024))  # inflates to 60 MB
        archive.writestr(f"{target_student}y.jpg", b"\0" * (1536 * 1024))  # ratio ~1000:1
        first = next(iter(good))
        archive.writestr(first.upper(), good[first])  # duplicate (case-insensitive)
        archive.writestr(first, good[first])  # duplicate (exact)
        archive.writestr(f"folder/{first}", good[first])  # in a folder
        archive.writestr("readme.txt", b"hello")  # not a .jpg
        stored = zipfile.ZipInfo(f"{target_student}z.jpg")
        stored.compress_type = zipfile.ZIP_STORED
        archive.writestr(stored, CORRUPT_MARKER)  # corrupt (CRC fails once patched below)
        for name in (GBK_FOLDER_NAME, GBK_TOP_NAME):
            archive.writestr(_placeholder(name), b"x")
    raw = _set_encrypted_flag(buffer.getvalue(), b"locked.jpg")
    raw = raw.replace(CORRUPT_MARKER, CORRUPT_MARKER[::-1])
    for name in (GBK_FOLDER_NAME, GBK_TOP_NAME):
        raw = raw.replace(_placeholder(name).encode(), name.encode("gbk"))
    return raw


def _set_encrypted_flag(raw: bytes, name: bytes) -> bytes:
    """zipfile never writes an encrypted entry: set bit 0 of the flags in both headers of `name`."""
    data = bytearray(raw)
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (local := data.find(signature, start)) >= 0:
            if data[local + name_at : local + name_at + len(name)] == name:
                data[local + flag_at] |= 0x1
            start = local + 4
    return bytes(data)


def many_entries_zip(count: int, *, declared: int | None = None) -> bytes:
    """A zip of `count` empty stored entries, written with struct (zipfile takes seconds for 700,000).
    `declared` makes the end record lie about the count (the directory is the truth zipfile parses)."""
    crc = zlib.crc32(b"")
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for n in range(count):
        name = f"{n:08d}.jpg".encode()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, 0, 0, len(name), 0) + name
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                0,
                0,
                0,
                crc,
                0,
                0,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    total = count if declared is None else declared
    if total > 0xFFFF:
        return b"".join(local) + directory + _zip64_end(total, len(directory), offset)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, total, total, len(directory), offset, 0)
    return b"".join(local) + directory + end


def _zip64_end(entries: int, directory_size: int, directory_offset: int) -> bytes:
    """The zip64 end record, its locator and a classic end record that defers to them."""
    record_offset = directory_offset + directory_size
    record = struct.pack(
        "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, directory_size, directory_offset
    )
    locator = struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return record + locator + end


def declaring(data: bytes, *, entries: int | None = None, directory_size: int | None = None) -> bytes:
    """`data` (a zip without comment) whose classic end record declares other figures."""
    end = data[-22:]
    fields = list(struct.unpack("<IHHHHIIH", end))
    if entries is not None:
        fields[3] = fields[4] = entries
    if directory_size is not None:
        fields[5] = directory_size
    return data[:-22] + struct.pack("<IHHHHIIH", *fields)
