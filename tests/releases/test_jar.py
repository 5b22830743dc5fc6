"""Main-class discovery in JARs (files-and-storage spec §5)."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.files import jar
from releasegate.files.jar import find_main_class
from tests.fixtures.range_readers import BytesRangeReader, FileRangeReader

MIB = 1024 * 1024
MANIFEST = "META-INF/MANIFEST.MF"


# --- Archive builders -------------------------------------------------------------------------


def make_zip(
    entries: dict[str, bytes | str],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        archive.comment = comment
    return buffer.getvalue()


def manifest(main_class: str) -> str:
    return f"Manifest-Version: 1.0\r\nMain-Class: {main_class}\r\n\r\n"


def deflate_raw(content: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(content) + compressor.flush()


@dataclass
class RawEntry:
    """One hand-built entry; the overrides produce archives zipfile refuses to write."""

    name: bytes
    content: bytes
    method: int = 0
    flags: int = 0
    crc: int | None = None
    uncompressed_size: int | None = None
    local_name: bytes | None = None
    local_extra: bytes = b""
    zip64: tuple[str, ...] = ()  # saturated central fields among "usize", "csize", "offset"


def build_zip(entries: list[RawEntry], *, prefix: bytes = b"", zip64_end: bool = False) -> bytes:
    out = bytearray(prefix)
    central = bytearray()
    for entry in entries:
        payload = deflate_raw(entry.content) if entry.method == 8 else entry.content
        crc = zlib.crc32(entry.content) if entry.crc is None else entry.crc
        usize = len(entry.content) if entry.uncompressed_size is None else entry.uncompressed_size
        offset = len(out) - len(prefix)  # offsets ignore the prefix, as stubs are prepended
        local_name = entry.name if entry.local_name is None else entry.local_name
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            entry.flags,
            entry.method,
            0,
            0,
            crc,
            len(payload),
            usize,
            len(local_name),
            len(entry.local_extra),
        )
        out += local_name + entry.local_extra + payload
        values = {"usize": usize, "csize": len(payload), "offset": offset}
        saturated = [values[key] for key in ("usize", "csize", "offset") if key in entry.zip64]
        extra = b""
        if saturated:
            extra = struct.pack("<HH", 1, 8 * len(saturated))
            extra += b"".join(struct.pack("<Q", value) for value in saturated)
        shown = {key: 0xFFFFFFFF if key in entry.zip64 else value for key, value in values.items()}
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            entry.flags,
            entry.method,
            0,
            0,
            crc,
            shown["csize"],
            shown["usize"],
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            0,
            shown["offset"],
        )
        central += entry.name + extra
    cd_offset = len(out) - len(prefix)
    out += central
    count = len(entries)
    if zip64_end:
        record_offset = len(out) - len(prefix)
        out += struct.pack(
            "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), cd_offset
        )
        out += struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    return bytes(out)


class CountingReader(BytesRangeReader):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0
        self.reads: list[tuple[int, int]] = []

    async def read(self, offset: int, length: int) -> bytes:
        data = await super().read(offset, length)
        self.bytes_read += len(data)
        self.reads.append((offset, len(data)))
        return data


async def main_class_of(data: bytes) -> str | None:
    return await find_main_class(BytesRangeReader(data))


# --- Sources ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plugin.yml", "name: Demo\nmain: com.example.Plugin\n"),
        ("paper-plugin.yml", "main: com.example.Plugin\nname: Demo\n"),
        ("bungee.yml", "main: com.example.Plugin\n"),
        ("velocity-plugin.json", json.dumps({"id": "demo", "main": "com.example.Plugin"})),
        (MANIFEST, manifest("com.example.Plugin")),
    ],
)
async def test_each_source_alone_yields_its_main_class(name: str, content: str) -> None:
    assert await main_class_of(make_zip({name: content})) == "com.example.Plugin"


SOURCE_CONTENTS = {
    "plugin.yml": "main: a.Plugin\n",
    "paper-plugin.yml": "main: a.Paper\n",
    "bungee.yml": "main: a.Bungee\n",
    "velocity-plugin.json": '{"main": "a.Velocity"}',
    MANIFEST: manifest("a.Manifest"),
}


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (list(SOURCE_CONTENTS), "a.Plugin"),
        (list(SOURCE_CONTENTS)[1:], "a.Paper"),
        (list(SOURCE_CONTENTS)[2:], "a.Bungee"),
        (list(SOURCE_CONTENTS)[3:], "a.Velocity"),
        (list(SOURCE_CONTENTS)[4:], "a.Manifest"),
    ],
)
async def test_sources_are_tried_in_spec_order(present: list[str], expected: str) -> None:
    # Reverse the archive order so precedence cannot come from entry order.
    entries = {name: SOURCE_CONTENTS[name] for name in reversed(present)}
    assert await main_class_of(make_zip(entries)) == expected


async def test_invalid_plugin_yml_class_falls_through_to_manifest() -> None:
    archive = make_zip({"plugin.yml": "main: com/example/Plugin\n", MANIFEST: manifest("a.B")})
    assert await main_class_of(archive) == "a.B"


async def test_candidate_names_are_exact_and_at_the_root() -> None:
    archive = make_zip({"Plugin.yml": "main: a.B\n", "sub/plugin.yml": "main: a.C\n"})
    assert await main_class_of(archive) is None


async def test_jar_without_any_source_yields_none() -> None:
    assert await main_class_of(make_zip({"a/B.class": b"\xca\xfe\xba\xbe"})) is None


# --- YAML -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "main: a.B # the entry point\n",
        'main: "a.B"\n',
        "main: 'a.B'\n",
        "main: >-\n  a.B\n",
        "main: |\n  a.B\n",
        "\ufeffmain: a.B\n",
        "main: a.B\n---\nmain: c.D\n",
        "main: a.B\n---\n: : [ not yaml\n",
        "name: x\nmain:    a.B   \n",
    ],
    ids=[
        "inline-comment",
        "double-quoted",
        "single-quoted",
        "folded",
        "literal",
        "bom",
        "first-document",
        "later-document-broken",
        "padded",
    ],
)
async def test_plugin_yml_is_parsed_as_yaml(content: str) -> None:
    assert await main_class_of(make_zip({"plugin.yml": content})) == "a.B"


@pytest.mark.parametrize(
    "content",
    [
        b"- main: a.B\n",
        b"main: 42\n",
        b"main: [a.B]\n",
        b"main: a.B\nmain: [\n",
        b"plugin: {main: a.B}\n",
        "main: caf\u00e9.B\n".encode("latin-1"),
        b"",
    ],
    ids=["list", "number", "sequence", "broken", "nested", "not-utf8", "empty"],
)
async def test_unusable_plugin_yml_is_skipped(content: bytes) -> None:
    archive = make_zip({"plugin.yml": content, MANIFEST: manifest("m.Main")})
    assert await main_class_of(archive) == "m.Main"


# --- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ['["a.B"]', '{"main": 5}', '{"main": "a.B"', '{"main": NaN}', "\ufeff{'main': 'a.B'}"],
    ids=["array", "number", "truncated", "nan", "single-quotes"],
)
async def test_unusable_velocity_json_is_skipped(content: str) -> None:
    archive = make_zip({"velocity-plugin.json": content, MANIFEST: manifest("m.Main")})
    assert await main_class_of(archive) == "m.Main"


async def test_velocity_json_with_bom_is_read() -> None:
    archive = make_zip({"velocity-plugin.json": '\ufeff{"main": "a.B"}'})
    assert await main_class_of(archive) == "a.B"


# --- Manifest ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "Manifest-Version: 1.0\nMain-Class: com.exa\n mple.Main\n\n",
        "Manifest-Version: 1.0\r\nMain-Class: com.example\r\n .Main\r\n",
        "Manifest-Version: 1.0\rMain-Class: com.example.Main\r\r",
        "Manifest-Version: 1.0\nmain-class: com.example.Main\n",
        "Manifest-Version: 1.0\nMAIN-CLASS:   com.example.Main   \n",
        "\ufeffMain-Class: com.example.Main",
        "Main-Class: com.example.\n Main\nCreated-By: me\n",
    ],
    ids=["lf-continuation", "crlf", "cr", "lowercase", "upper-padded", "bom", "mid-section"],
)
async def test_manifest_main_section_is_read(content: str) -> None:
    assert await main_class_of(make_zip({MANIFEST: content})) == "com.example.Main"


async def test_manifest_main_class_outside_main_section_is_ignored() -> None:
    content = "Manifest-Version: 1.0\n\nName: a/B.class\nMain-Class: a.B\n"
    assert await main_class_of(make_zip({MANIFEST: content})) is None


async def test_manifest_continuation_removes_exactly_one_space() -> None:
    content = "Main-Class: a.\n  B\n"  # the second space stays: the value is invalid
    assert await main_class_of(make_zip({MANIFEST: content})) is None


# --- Class names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Main",
        "com.example.Main",
        "_a.$b.C1",
        "d\u00e9j\u00e0.\u00dcber",
        "\u65e5\u672c.\u30af\u30e9\u30b9",
        "a.B$Inner",
        "x" * 255,
    ],
)
async def test_valid_class_names_are_accepted(name: str) -> None:
    archive = make_zip({"velocity-plugin.json": json.dumps({"main": name}, ensure_ascii=False)})
    assert await main_class_of(archive) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "com/example/Main",
        "com.example.Main.class",
        "Main.class",
        "a..B",
        ".a.B",
        "a.B.",
        "1a.B",
        "a.1B",
        "a-b.C",
        "a b.C",
        "x" * 256,
        "a.\u0661B",  # an Arabic-Indic digit cannot start a segment
    ],
)
async def test_invalid_class_names_are_rejected(name: str) -> None:
    archive = make_zip({"velocity-plugin.json": json.dumps({"main": name})})
    assert await main_class_of(archive) is None


async def test_class_name_is_trimmed_of_ascii_whitespace() -> None:
    archive = make_zip({"velocity-plugin.json": json.dumps({"main": "\t a.B \n"})})
    assert await main_class_of(archive) == "a.B"


async def test_unicode_digits_may_continue_a_segment() -> None:
    archive = make_zip({"velocity-plugin.json": json.dumps({"main": "a.B\u0661"})})
    assert await main_class_of(archive) == "a.B\u0661"


# --- Not a ZIP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"PK", b"hello world", os.urandom(100_000), b"PK\x05\x06" + b"\x00" * 10],
    ids=["empty", "tiny", "text", "random", "truncated-eocd"],
)
async def test_non_zip_yields_none(data: bytes) -> None:
    assert await main_class_of(data) is None


async def test_truncated_archive_yields_none() -> None:
    archive = make_zip({"plugin.yml": "main: a.B\n"})
    assert await main_class_of(archive[: len(archive) // 2]) is None


async def test_directory_offset_past_the_end_records_yields_none() -> None:
    archive = bytearray(make_zip({"plugin.yml": "main: a.B\n"}))
    eocd = archive.rfind(b"PK\x05\x06")
    struct.pack_into("<I", archive, eocd + 16, eocd + 1)  # negative shift
    assert await main_class_of(bytes(archive)) is None


async def test_corrupt_directory_record_yields_none() -> None:
    archive = bytearray(make_zip({"plugin.yml": "main: a.B\n"}))
    central = archive.find(b"PK\x01\x02")
    archive[central : central + 4] = b"PK\x09\x09"
    assert await main_class_of(bytes(archive)) is None


# --- Locating the archive ---------------------------------------------------------------------


async def test_prepended_launcher_script_is_skipped_by_shift() -> None:
    stub = b'#!/bin/sh\nexec java -jar "$0" "$@"\n' + b"#" * 1000 + b"\n"
    archive = make_zip({"plugin.yml": "main: a.B\n", "filler": b"x" * 5000})
    assert await main_class_of(stub + archive) == "a.B"


async def test_comment_with_fake_eocd_signature_is_ignored() -> None:
    fake = b"PK\x05\x06" + b"\x00" * 16 + b"\x07\x00"  # its comment length does not match
    archive = make_zip({"plugin.yml": "main: a.B\n"}, comment=b"note " + fake + b" end")
    assert await main_class_of(archive) == "a.B"


async def test_maximum_length_comment_is_supported() -> None:
    archive = make_zip({"plugin.yml": "main: a.B\n"}, comment=b"c" * 0xFFFF)
    assert await main_class_of(archive) == "a.B"


# --- ZIP64 ------------------------------------------------------------------------------------


def make_zip64(monkeypatch: pytest.MonkeyPatch, entries: dict[str, str]) -> bytes:
    """zipfile writing ZIP64 extras and end records for a tiny archive."""
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", 1)
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("filler.txt", "x" * 100)
            for name, content in entries.items():
                with archive.open(name, "w", force_zip64=True) as member:
                    member.write(content.encode())
    return buffer.getvalue()


def saturate_eocd(archive: bytes) -> bytes:
    data = bytearray(archive)
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HHII", data, eocd + 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return bytes(data)


async def test_zip64_entry_extras_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_zip64(monkeypatch, {"plugin.yml": "main: a.B\n"})
    central = archive.find(b"plugin.yml", archive.find(b"PK\x01\x02")) - 46
    sizes_and_offset = struct.unpack_from("<II", archive, central + 20), archive[central + 42 :][:4]
    assert sizes_and_offset == ((0xFFFFFFFF, 0xFFFFFFFF), b"\xff" * 4)
    assert await main_class_of(archive) == "a.B"


async def test_saturated_eocd_uses_zip64_record(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = saturate_eocd(make_zip64(monkeypatch, {MANIFEST: manifest("a.B")}))
    assert await main_class_of(archive) == "a.B"


async def test_zip64_archive_with_prepended_data(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = saturate_eocd(make_zip64(monkeypatch, {"plugin.yml": "main: a.B\n"}))
    assert await main_class_of(b"MZ" + b"\x00" * 4096 + archive) == "a.B"


async def test_locator_lookalike_before_plain_eocd_is_ignored() -> None:
    lookalike = struct.pack("<IIQI", 0x07064B50, 0, 0, 1)  # the 20 bytes before the EOCD
    entries = [RawEntry(b"plugin.yml", b"main: a.B\n"), RawEntry(b"z" + lookalike, b"")]
    assert await main_class_of(build_zip(entries)) == "a.B"


async def test_zip64_record_missing_yields_none(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = bytearray(saturate_eocd(make_zip64(monkeypatch, {"plugin.yml": "main: a.B\n"})))
    record = archive.rfind(b"PK\x06\x06")
    archive[record : record + 4] = b"PK\x00\x00"
    assert await main_class_of(bytes(archive)) is None


async def test_hand_built_zip64_end_records_are_used() -> None:
    entries = [RawEntry(b"filler", b"x" * 300), RawEntry(b"plugin.yml", b"main: a.B\n", method=8)]
    assert await main_class_of(build_zip(entries, zip64_end=True)) == "a.B"
    assert await main_class_of(build_zip(entries, prefix=b"#" * 77, zip64_end=True)) == "a.B"


@pytest.mark.parametrize(
    "saturated",
    [("usize",), ("csize",), ("offset",), ("usize", "offset"), ("csize", "offset")],
)
async def test_zip64_extra_holds_only_saturated_fields_in_order(
    saturated: tuple[str, ...],
) -> None:
    entries = [
        RawEntry(b"filler", b"y" * 1000),
        RawEntry(b"plugin.yml", b"main: a.B\n" * 3, method=8, zip64=saturated),
    ]
    assert await main_class_of(build_zip(entries)) == "a.B"


async def test_saturated_offset_without_zip64_extra_is_skipped() -> None:
    entries = [
        RawEntry(b"plugin.yml", b"main: a.B\n", zip64=("offset",)),
        RawEntry(MANIFEST.encode(), manifest("m.Main").encode()),
    ]
    archive = bytearray(build_zip(entries))
    central = archive.find(b"PK\x01\x02")
    struct.pack_into("<H", archive, central + 30, 0)  # drop the extra length
    archive[central + 46 + len(b"plugin.yml") : central + 46 + len(b"plugin.yml") + 12] = b""
    eocd = archive.rfind(b"PK\x05\x06")
    (cd_size,) = struct.unpack_from("<I", archive, eocd + 12)
    struct.pack_into("<I", archive, eocd + 12, cd_size - 12)
    assert await main_class_of(bytes(archive)) == "m.Main"


# --- Candidate entry safety -------------------------------------------------------------------


def with_manifest_fallback(entry: RawEntry) -> bytes:
    return build_zip([entry, RawEntry(MANIFEST.encode(), manifest("m.Main").encode())])


async def test_hand_built_entries_are_read() -> None:
    archive = build_zip([RawEntry(b"plugin.yml", b"main: a.B\n", method=8)])
    assert await main_class_of(archive) == "a.B"


async def test_local_extra_length_is_used_for_data_offset() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", local_extra=b"\xfe\xca\x04\x00abcd")
    assert await main_class_of(build_zip([entry])) == "a.B"


async def test_encrypted_entry_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", flags=0x1)
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_unsupported_method_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", method=12)
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_crc_mismatch_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", crc=0xDEADBEEF)
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_local_header_name_mismatch_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", local_name=b"plugin.ymx")
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_bad_local_header_signature_is_skipped() -> None:
    archive = bytearray(with_manifest_fallback(RawEntry(b"plugin.yml", b"main: a.B\n")))
    archive[0:4] = b"PK\x07\x08"
    assert await main_class_of(bytes(archive)) == "m.Main"


async def test_entry_data_outside_file_is_skipped() -> None:
    archive = build_zip([RawEntry(b"plugin.yml", b"main: a.B\n" * 10)])
    data = bytearray(archive)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 20, len(archive))  # compressed size past the end
    assert await main_class_of(bytes(data)) is None


async def test_declared_uncompressed_size_over_cap_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b"main: a.B\n", uncompressed_size=MIB + 1)
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_compressed_size_over_cap_is_skipped() -> None:
    entry = RawEntry(b"plugin.yml", b" " * (2 * MIB + 1), uncompressed_size=10)
    reader = CountingReader(with_manifest_fallback(entry))
    assert await find_main_class(reader) == "m.Main"
    assert reader.bytes_read < 200_000


async def test_stored_entry_over_one_mib_is_skipped() -> None:
    content = b" " * MIB + b"\nmain: a.B\n"
    entry = RawEntry(b"plugin.yml", content, uncompressed_size=10)
    assert await main_class_of(with_manifest_fallback(entry)) == "m.Main"


async def test_zip_bomb_with_lying_size_stops_inflating_at_cap() -> None:
    bomb = b" " * (64 * MIB) + b"\nmain: a.B\n"
    entry = RawEntry(b"plugin.yml", bomb, method=8, uncompressed_size=100)
    reader = CountingReader(with_manifest_fallback(entry))
    assert await find_main_class(reader) == "m.Main"
    assert reader.bytes_read < 200_000


async def test_honest_large_entry_is_skipped_without_reading_it() -> None:
    archive = make_zip(
        {"plugin.yml": b" " * (2 * MIB) + b"\nmain: a.B\n", MANIFEST: manifest("m.M")}
    )
    assert await main_class_of(archive) == "m.M"


async def test_entry_of_exactly_one_mib_is_read() -> None:
    content = b"main: a.B\n" + b"#" * (MIB - 10)
    assert len(content) == MIB
    assert await main_class_of(make_zip({"plugin.yml": content})) == "a.B"


async def test_first_duplicate_record_wins() -> None:
    entries = [
        RawEntry(b"plugin.yml", b"main: a.First\n"),
        RawEntry(b"plugin.yml", b"main: b.Second\n"),
    ]
    assert await main_class_of(build_zip(entries)) == "a.First"


async def test_unreadable_first_duplicate_is_not_replaced_by_second() -> None:
    entries = [
        RawEntry(b"plugin.yml", b"main: a.First\n", flags=0x1),
        RawEntry(b"plugin.yml", b"main: b.Second\n"),
    ]
    assert await main_class_of(build_zip(entries)) is None


# --- Central directory scanning ---------------------------------------------------------------


async def test_more_records_than_cap_is_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jar, "MAX_DIRECTORY_RECORDS", 3)
    three = make_zip({"a": "", "b": "", "plugin.yml": "main: a.B\n"})
    four = make_zip({"a": "", "b": "", "c": "", "plugin.yml": "main: a.B\n"})
    assert await main_class_of(three) == "a.B"
    assert await main_class_of(four) is None


async def test_records_straddling_small_chunks_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jar, "DIRECTORY_CHUNK", 7)
    entries: dict[str, bytes | str] = {f"dir/file-{index}.txt": "" for index in range(50)}
    entries[MANIFEST] = manifest("a.B")
    assert await main_class_of(make_zip(entries)) == "a.B"


async def test_directory_larger_than_a_chunk_is_read_in_pieces() -> None:
    entries = [
        RawEntry(f"com/example/{'x' * 150}/C{index}.class".encode(), b"") for index in range(8000)
    ]
    entries.append(RawEntry(MANIFEST.encode(), manifest("a.B").encode()))
    archive = build_zip(entries)
    reader = CountingReader(archive)
    assert await find_main_class(reader) == "a.B"
    largest_read = max(length for _, length in reader.reads)
    assert largest_read <= jar.DIRECTORY_CHUNK + 0x10000
    assert reader.bytes_read < len(archive) + MIB


async def test_large_non_candidate_entry_is_never_read() -> None:
    archive = make_zip(
        {"filler.bin": os.urandom(5 * MIB), "plugin.yml": "main: a.B\n"},
        compression=zipfile.ZIP_STORED,
    )
    reader = CountingReader(archive)
    assert await find_main_class(reader) == "a.B"
    assert reader.bytes_read < 100_000


# --- Readers ----------------------------------------------------------------------------------


async def test_file_reader_reads_a_local_archive(tmp_path: Path) -> None:
    path = tmp_path / "plugin.jar"
    path.write_bytes(b"#!/bin/sh\n" + make_zip({"bungee.yml": "main: a.B\n"}))
    assert await find_main_class(FileRangeReader(path)) == "a.B"


async def test_file_reader_clips_to_size(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"0123456789")
    reader = FileRangeReader(path)
    assert reader.size == 10
    assert await reader.read(8, 10) == b"89"
    assert await reader.read(20, 5) == b""


async def test_reader_errors_propagate() -> None:
    class FailingReader(BytesRangeReader):
        async def read(self, offset: int, length: int) -> bytes:
            raise OSError("storage unavailable")

    with pytest.raises(OSError, match="storage unavailable"):
        await find_main_class(FailingReader(make_zip({"plugin.yml": "main: a.B\n"})))
