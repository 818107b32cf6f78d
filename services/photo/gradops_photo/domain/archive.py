"""Reading a bulk-import zip safely. Pure (bytes in, plan out): every hostile entry becomes a reported
outcome, never an exception that stops the job.

What is refused, per entry: path traversal (`..`), absolute paths (`/x`, `C:\\x`, `\\\\server`), symlinks,
encrypted entries, zip bombs (declared size, compression ratio, running total, and a bounded read
that does not trust the header), duplicate names, files in folders, names that are not
`<student_no>.jpg`/`.jpeg`, and corrupt data. Names written by Chinese Windows tools without the
UTF-8 flag are decoded as GBK, so a report shows `照片/张三.jpg`, not mojibake.

Before the directory is parsed at all, its end record is read (22 bytes, or the zip64 record): a zip
that declares more entries than allowed, or a central directory larger than that many entries could
need, is refused at once. Parsing 700,000 entries took seconds; reading their count takes microseconds.
Callers still parse in a worker thread (`asyncio.to_thread`), so even an allowed directory never holds
the event loop.
"""

from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO

STUDENT_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_EOCD_SIZE = 56
# A central-directory entry is 46 bytes plus its name, extra field and comment. Our entries are named
# `<student_no>.jpg`; tools add timestamps and Unicode-path extras. 1 KiB each is generous.
CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 5000
    max_entry_bytes: int = 2 * 1024 * 1024
    max_total_bytes: int = 400 * 1024 * 1024
    max_ratio: float = 100.0


@dataclass(frozen=True)
class EntryPlan:
    position: int
    name: str  # decoded, as the user would see it
    outcome: str | None  # None: to be checked; else "skipped" or "rejected"
    reason: str | None = None
    detail: str | None = None
    student_no: str | None = None
    info: zipfile.ZipInfo | None = None


class NotAZip(ValueError):
    """The upload is not a readable zip at all (the request is refused)."""


class TooManyEntries(ValueError):
    pass


@dataclass(frozen=True)
class Directory:
    """What the end-of-central-directory record declares (read without parsing the directory)."""

    entries: int
    size: int


def read_directory_end(data: bytes) -> Directory:
    """The declared entry count and central-directory size, from the end record (zip64 when the
    classic record overflows). Raises `NotAZip` when there is no end record."""
    tail_start = max(0, len(data) - (_EOCD_SIZE + 0xFFFF))
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or len(data) - at < _EOCD_SIZE:
        raise NotAZip("no end-of-central-directory record")
    entries, size = struct.unpack("<HI", data[at + 10 : at + 16])
    if entries == 0xFFFF or size == 0xFFFFFFFF:
        locator = at - _ZIP64_LOCATOR_SIZE
        if locator < 0 or data[locator : locator + 4] != _ZIP64_LOCATOR:
            raise NotAZip("the zip64 end record is missing")
        (offset,) = struct.unpack("<Q", data[locator + 8 : locator + 16])
        record = data[offset : offset + _ZIP64_EOCD_SIZE]
        if len(record) < _ZIP64_EOCD_SIZE or record[:4] != _ZIP64_EOCD:
            raise NotAZip("the zip64 end record is corrupt")
        entries, size = struct.unpack("<QQ", record[32:48])
    return Directory(entries, size)


def check_directory(data: bytes, limits: ArchiveLimits) -> Directory:
    """Refuses a directory too large to parse, from its end record alone (before any parsing)."""
    directory = read_directory_end(data)
    if directory.entries > limits.max_entries:
        raise TooManyEntries(f"{directory.entries} entries (at most {limits.max_entries})")
    if directory.size > limits.max_entries * CENTRAL_DIRECTORY_BYTES_PER_ENTRY:
        raise TooManyEntries(
            f"a central directory of {directory.size} bytes (at most {limits.max_entries} entries)"
        )
    return directory


def decode_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its author meant it: UTF-8 when flagged, else the bytes zipfile decoded as
    CP437 are re-read as UTF-8 (tools that do not set the flag) or GBK (Chinese Windows)."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("gbk", errors="replace")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _skip(position: int, name: str, reason: str, detail: str, outcome: str = "skipped") -> EntryPlan:
    return EntryPlan(position, name, outcome, reason, detail)


def _classify(position: int, info: zipfile.ZipInfo, name: str, limits: ArchiveLimits) -> EntryPlan:
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return _skip(position, name, "photo_import.absolute_path", "absolute path refused", "rejected")
    if ".." in unified.split("/"):
        return _skip(position, name, "photo_import.path_traversal", "'..' in the path refused", "rejected")
    if _is_symlink(info):
        return _skip(position, name, "photo_import.symlink", "symbolic links are not pictures", "rejected")
    if info.flag_bits & _ENCRYPTED_FLAG:
        return _skip(position, name, "photo_import.encrypted", "encrypted entries cannot be read", "rejected")
    if "/" in unified.strip("/"):
        return _skip(position, name, "photo_import.in_folder", "only pictures at the top level are imported")
    if not unified.lower().endswith((".jpg", ".jpeg")):
        return _skip(position, name, "photo_import.not_jpg", "only .jpg/.jpeg files are matched")
    stem = unified.rsplit(".", 1)[0]
    if not STUDENT_NO.match(stem):
        return _skip(position, name, "photo_import.bad_name", "the file must be named <student_no>.jpg")
    if info.file_size > limits.max_entry_bytes:
        return _skip(
            position, name, "photo_import.zip_bomb", f"inflates to {info.file_size} bytes", "rejected"
        )
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        return _skip(
            position,
            name,
            "photo_import.zip_bomb",
            f"compression ratio {info.file_size / info.compress_size:.0f}:1",
            "rejected",
        )
    return EntryPlan(position, name, None, student_no=stem, info=info)


def plan_archive(data: bytes, limits: ArchiveLimits) -> list[EntryPlan]:
    """One plan per file entry (directories are not files and are left out). CPU-bound on a large
    directory: call it in a worker thread."""
    check_directory(data, limits)
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotAZip(str(exc)) from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > limits.max_entries:
        raise TooManyEntries(f"{len(infos)} entries (at most {limits.max_entries})")
    plans: list[EntryPlan] = []
    seen_names: set[str] = set()
    seen_students: set[str] = set()
    total = 0
    for position, info in enumerate(infos):
        name = decode_name(info)
        plan = _classify(position, info, name, limits)
        if plan.outcome is None:
            total += info.file_size
            key = name.lower()
            student_key = (plan.student_no or "").lower()
            if key in seen_names or student_key in seen_students:
                plan = _skip(
                    position, name, "photo_import.duplicate_name", "another entry already names this student"
                )
            elif total > limits.max_total_bytes:
                plan = _skip(
                    position,
                    name,
                    "photo_import.zip_bomb",
                    f"the archive inflates beyond {limits.max_total_bytes} bytes",
                    "rejected",
                )
            else:
                seen_names.add(key)
                seen_students.add(student_key)
        plans.append(plan)
    return plans


class EntryUnreadable(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def open_archive(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(BytesIO(data))


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits) -> bytes:
    """Reads at most the entry limit (+1 byte to notice a lying header), checking the CRC."""
    try:
        with archive.open(info) as stream:
            content = stream.read(limits.max_entry_bytes + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise EntryUnreadable("photo_import.corrupt_entry", f"the entry cannot be read: {exc}") from exc
    if len(content) > limits.max_entry_bytes:
        raise EntryUnreadable("photo_import.zip_bomb", "inflates beyond its declared size")
    return content
