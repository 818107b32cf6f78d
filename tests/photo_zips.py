"""Hostile and friendly bulk-import zips, built byte by byte where zipfile would not write them."""

from __future__ import annotations

import io
import warnings
import zipfile
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
