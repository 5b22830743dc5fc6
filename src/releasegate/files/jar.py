"""Find the main class of an uploaded JAR by ranged reads (files-and-storage.md §5).

Only the end records, the central directory (sequentially, in bounded chunks) and the
candidate entries are read, so the archive is never held in memory. Malformed archives yield
`None`; exceptions raised by the `RangeReader` itself (storage errors) propagate.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import yaml

__all__ = ["RangeReader", "find_main_class"]

EOCD_SIGNATURE = 0x06054B50
ZIP64_LOCATOR_SIGNATURE = 0x07064B50
ZIP64_EOCD_SIGNATURE = 0x06064B50
CENTRAL_SIGNATURE = 0x02014B50
LOCAL_SIGNATURE = 0x04034B50
ZIP64_EXTRA_ID = 0x0001

EOCD_SIZE = 22
MAX_COMMENT = 0xFFFF
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD_SIZE = 56
CENTRAL_HEADER_SIZE = 46
LOCAL_HEADER_SIZE = 30

MAX_DIRECTORY_RECORDS = 1_000_000
MAX_UNCOMPRESSED = 1024 * 1024
MAX_COMPRESSED = 2 * 1024 * 1024
DIRECTORY_CHUNK = 1024 * 1024
MAX_CLASS_NAME = 255

_EOCD = struct.Struct("<IHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_EXTRA_HEADER = struct.Struct("<HH")
_U64 = struct.Struct("<Q")


class RangeReader(Protocol):
    """Random access to a staged object of known size."""

    @property
    def size(self) -> int: ...

    async def read(self, offset: int, length: int) -> bytes:
        """Return the bytes in [offset, offset + length), clipped to `size`."""
        ...


class _Malformed(Exception):
    """The archive (or one entry of it) cannot be read under the §5.4 rules."""


@dataclass(frozen=True, slots=True)
class _Directory:
    start: int  # absolute position of the first central record
    end: int  # absolute position just past the directory
    shift: int  # prepended bytes, added to every recorded offset


@dataclass(frozen=True, slots=True)
class _EndValues:
    position: int  # of the EOCD or ZIP64 EOCD record: the directory ends here
    count: int
    size: int
    offset: int  # as recorded, before the shift


@dataclass(frozen=True, slots=True)
class _Entry:
    flags: int
    method: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    local_offset: int


def _unpack(layout: struct.Struct, buffer: bytes, offset: int = 0) -> tuple[Any, ...]:
    try:
        return layout.unpack_from(buffer, offset)
    except struct.error as exc:
        raise _Malformed(str(exc)) from exc


async def _read_exact(reader: RangeReader, offset: int, length: int) -> bytes:
    """Read a range that must lie entirely inside the file."""
    if offset < 0 or length < 0 or offset + length > reader.size:
        raise _Malformed("range outside the file")
    data = await reader.read(offset, length)
    if len(data) != length:
        raise _Malformed("short read")
    return data


# --- Locating the archive -------------------------------------------------------------------


async def _locate_directory(reader: RangeReader) -> _Directory:
    tail_start = max(0, reader.size - (EOCD_SIZE + MAX_COMMENT))
    tail = await _read_exact(reader, tail_start, reader.size - tail_start)
    eocd_index = _find_eocd(tail)
    eocd_pos = tail_start + eocd_index
    fields = _unpack(_EOCD, tail, eocd_index)
    end = _EndValues(position=eocd_pos, count=fields[4], size=fields[5], offset=fields[6])
    # Saturated fields require ZIP64; like Java, a consistent ZIP64 record is also honoured
    # when nothing is saturated, since the shift must be measured from it.
    zip64 = await _read_zip64_eocd(reader, end)
    if zip64 is not None:
        end = zip64
    shift = end.position - (end.offset + end.size)
    if shift < 0:
        raise _Malformed("directory extends past the end records")
    if end.count > MAX_DIRECTORY_RECORDS:
        raise _Malformed("too many directory records")
    return _Directory(start=end.position - end.size, end=end.position, shift=shift)


def _find_eocd(tail: bytes) -> int:
    """Index of the last EOCD whose comment length matches the bytes after it."""
    signature = struct.pack("<I", EOCD_SIGNATURE)
    index = len(tail) - EOCD_SIZE
    while index >= 0:
        index = tail.rfind(signature, 0, index + len(signature))
        if index < 0:
            break
        (comment_length,) = struct.unpack_from("<H", tail, index + 20)
        if index + EOCD_SIZE + comment_length == len(tail):
            return index
        index -= 1
    raise _Malformed("no end of central directory record")


async def _read_zip64_eocd(reader: RangeReader, eocd: _EndValues) -> _EndValues | None:
    """The ZIP64 end values, or None when there is no usable ZIP64 record."""
    locator_pos = eocd.position - ZIP64_LOCATOR_SIZE
    if locator_pos < 0:
        return None
    locator = await _read_exact(reader, locator_pos, ZIP64_LOCATOR_SIZE)
    signature, _disk, declared_pos, _disks = _unpack(_ZIP64_LOCATOR, locator)
    if signature != ZIP64_LOCATOR_SIGNATURE:
        return None
    # The declared position ignores prepended data; a record of the standard size sits
    # right before the locator, which covers shifted archives.
    for record_pos in dict.fromkeys((declared_pos, locator_pos - ZIP64_EOCD_SIZE)):
        if not 0 <= record_pos <= locator_pos - ZIP64_EOCD_SIZE:
            continue
        record = await _read_exact(reader, record_pos, ZIP64_EOCD_SIZE)
        fields = _unpack(_ZIP64_EOCD, record)
        if fields[0] != ZIP64_EOCD_SIGNATURE or record_pos + 12 + fields[1] != locator_pos:
            continue
        zip64 = _EndValues(position=record_pos, count=fields[7], size=fields[8], offset=fields[9])
        if _agrees(eocd.count, zip64.count, 0xFFFF) and all(
            _agrees(value, value64, 0xFFFFFFFF)
            for value, value64 in ((eocd.size, zip64.size), (eocd.offset, zip64.offset))
        ):
            return zip64
    return None


def _agrees(value: int, value64: int, saturated: int) -> bool:
    return value in (saturated, value64)


# --- Scanning the central directory ---------------------------------------------------------


class _ChunkedBuffer:
    """Sequential access to a region of the file, read at most one chunk ahead."""

    def __init__(self, reader: RangeReader, start: int, end: int) -> None:
        self._reader = reader
        self._end = end  # reads stop here unless a record runs past it
        self._start = start  # absolute position of self._data[0]
        self._data = b""

    async def take(self, position: int, length: int) -> bytes:
        end = self._start + len(self._data)
        if position + length > end:
            if position + length > self._reader.size:
                raise _Malformed("directory record outside the file")
            keep = self._data[position - self._start :] if position < end else b""
            read_from = max(position, end)
            wanted = max(DIRECTORY_CHUNK, position + length - read_from)
            wanted = min(wanted, max(self._end, position + length) - read_from)
            self._data = keep + await _read_exact(self._reader, read_from, wanted)
            self._start = position
        offset = position - self._start
        return self._data[offset : offset + length]


async def _scan_directory(
    reader: RangeReader, directory: _Directory, wanted: frozenset[bytes]
) -> dict[bytes, _Entry | None]:
    """Central records of the wanted names (None when one is unusable); first record wins."""
    found: dict[bytes, _Entry | None] = {}
    buffer = _ChunkedBuffer(reader, directory.start, directory.end)
    position = directory.start
    records = 0
    while position < directory.end:
        records += 1
        if records > MAX_DIRECTORY_RECORDS:
            raise _Malformed("too many directory records")
        header = await buffer.take(position, CENTRAL_HEADER_SIZE)
        fields = _unpack(_CENTRAL, header)
        if fields[0] != CENTRAL_SIGNATURE:
            raise _Malformed("bad central record signature")
        name_length, extra_length, comment_length = fields[10:13]
        name = await buffer.take(position + CENTRAL_HEADER_SIZE, name_length)
        extra_pos = position + CENTRAL_HEADER_SIZE + name_length
        record_end = extra_pos + extra_length + comment_length
        if record_end > reader.size:
            raise _Malformed("central record outside the file")
        if name in wanted and name not in found:
            extra = await buffer.take(extra_pos, extra_length)
            found[name] = _parse_central_entry(fields, extra)
        position = record_end
    return found


def _parse_central_entry(fields: tuple[Any, ...], extra: bytes) -> _Entry | None:
    flags, method = fields[3], fields[4]
    crc, compressed, uncompressed = fields[7:10]
    local_offset = fields[16]
    if 0xFFFFFFFF in (uncompressed, compressed, local_offset):
        zip64 = _zip64_extra(extra)
        if zip64 is None:
            return None
        # Only the saturated fields are present, always in this order.
        values = iter(zip64)
        try:
            if uncompressed == 0xFFFFFFFF:
                uncompressed = next(values)
            if compressed == 0xFFFFFFFF:
                compressed = next(values)
            if local_offset == 0xFFFFFFFF:
                local_offset = next(values)
        except StopIteration:
            return None
    return _Entry(flags, method, crc, compressed, uncompressed, local_offset)


def _zip64_extra(extra: bytes) -> list[int] | None:
    position = 0
    while position + _EXTRA_HEADER.size <= len(extra):
        header_id, size = _EXTRA_HEADER.unpack_from(extra, position)
        body = extra[position + _EXTRA_HEADER.size : position + _EXTRA_HEADER.size + size]
        if header_id == ZIP64_EXTRA_ID:
            return [_U64.unpack_from(body, at)[0] for at in range(0, len(body) - 7, 8)]
        position += _EXTRA_HEADER.size + size
    return None


# --- Reading a candidate entry ----------------------------------------------------------------


async def _read_entry_data(
    reader: RangeReader, name: bytes, entry: _Entry, shift: int
) -> bytes | None:
    """The stored (possibly deflated) bytes of a candidate, or None if it must be skipped."""
    if entry.flags & 0x1 or entry.method not in (0, 8):
        return None
    if entry.uncompressed_size > MAX_UNCOMPRESSED or entry.compressed_size > MAX_COMPRESSED:
        return None
    header_pos = entry.local_offset + shift
    header_length = LOCAL_HEADER_SIZE + len(name)
    if header_pos + header_length > reader.size:
        return None
    header = await _read_exact(reader, header_pos, header_length)
    fields = _unpack(_LOCAL, header)
    if fields[0] != LOCAL_SIGNATURE or fields[9] != len(name) or header[LOCAL_HEADER_SIZE:] != name:
        return None
    data_pos = header_pos + header_length + fields[10]
    if data_pos + entry.compressed_size > reader.size:
        return None
    return await _read_exact(reader, data_pos, entry.compressed_size)


def _decode_entry(entry: _Entry, raw: bytes) -> bytes | None:
    """Inflate (capped at 1 MiB) and check the CRC-32."""
    if entry.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(raw, MAX_UNCOMPRESSED + 1)
        except zlib.error:
            return None
        if not inflater.eof:
            return None  # truncated stream, or stopped at the cap
    else:
        content = raw
    if len(content) > MAX_UNCOMPRESSED:
        return None
    if zlib.crc32(content) != entry.crc:
        return None
    return content


# --- Parsing the sources --------------------------------------------------------------------


def _decode_text(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.removeprefix("\ufeff")


def _main_from_yaml(content: bytes) -> str | None:
    text = _decode_text(content)
    if text is None:
        return None
    try:
        document = next(iter(yaml.safe_load_all(text)), None)
    except Exception:  # the loader fails in more ways than YAMLError (e.g. deep nesting)
        return None
    return _main_field(document)


def _reject_constant(token: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {token}")


def _main_from_json(content: bytes) -> str | None:
    text = _decode_text(content)
    if text is None:
        return None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return _main_field(document)


def _main_field(document: object) -> str | None:
    if isinstance(document, dict):
        main = document.get("main")
        if isinstance(main, str):
            return main
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _main_from_manifest(content: bytes) -> str | None:
    text = _decode_text(content)
    if text is None:
        return None
    headers: list[str] = []
    for line in _LINE_BREAK.split(text):
        if not line:
            break  # end of the main section
        if line.startswith(" "):
            if headers:
                headers[-1] += line[1:]
            continue
        headers.append(line)
    main_class = None
    for header in headers:
        name, colon, value = header.partition(":")
        if colon and name.lower() == "main-class":
            main_class = value.strip(" ")  # a repeated header replaces the earlier one, as in Java
    return main_class


_SOURCES: tuple[tuple[bytes, Callable[[bytes], str | None]], ...] = (
    (b"plugin.yml", _main_from_yaml),
    (b"paper-plugin.yml", _main_from_yaml),
    (b"bungee.yml", _main_from_yaml),
    (b"velocity-plugin.json", _main_from_json),
    (b"META-INF/MANIFEST.MF", _main_from_manifest),
)

_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"


def _valid_class_name(value: str) -> str | None:
    """The trimmed name if it is a valid Java class name under §5.3, else None."""
    name = value.strip(_ASCII_WHITESPACE)
    if not 1 <= len(name) <= MAX_CLASS_NAME or "/" in name or name.endswith(".class"):
        return None
    for segment in name.split("."):
        if not segment or not (segment[0].isalpha() or segment[0] in "_$"):
            return None
        if not all(char.isalpha() or char.isdecimal() or char in "_$" for char in segment[1:]):
            return None
    return name


def _class_from_source(
    parse: Callable[[bytes], str | None], entry: _Entry, raw: bytes
) -> str | None:
    content = _decode_entry(entry, raw)
    if content is None:
        return None
    value = parse(content)
    return None if value is None else _valid_class_name(value)


# --- Entry point ----------------------------------------------------------------------------


async def find_main_class(reader: RangeReader) -> str | None:
    """Return the JAR's main class from the first source of §5.1 that names a valid one.

    Returns None when the bytes are not a readable ZIP or no source yields a valid class
    name. Errors raised by `reader` propagate unchanged.
    """
    try:
        directory = await _locate_directory(reader)
        entries = await _scan_directory(reader, directory, frozenset(name for name, _ in _SOURCES))
    except _Malformed:
        return None
    for name, parse in _SOURCES:
        entry = entries.get(name)
        if entry is None:
            continue
        try:
            raw = await _read_entry_data(reader, name, entry, directory.shift)
        except _Malformed:
            continue
        if raw is None:
            continue
        # Inflating and parsing up to 1 MiB of YAML is CPU work: keep it off the event loop.
        main_class = await asyncio.to_thread(_class_from_source, parse, entry, raw)
        if main_class is not None:
            return main_class
    return None
