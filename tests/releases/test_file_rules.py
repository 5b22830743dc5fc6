"""File name, extension and content type rules (files-and-storage.md §2.3–§2.5)."""

from __future__ import annotations

import pytest

from releasegate.files.names import (
    content_type_of,
    extension_of,
    is_valid_name,
    stored_name,
)

OCTET_STREAM = "application/octet-stream"

# --- stored_name (§2.3 step 2) ----------------------------------------------------------------


def test_stored_name_keeps_plain_name() -> None:
    assert stored_name("plugin.jar") == "plugin.jar"


def test_stored_name_strips_posix_path() -> None:
    assert stored_name("build/libs/plugin.jar") == "plugin.jar"


def test_stored_name_strips_windows_path() -> None:
    assert stored_name("C:\\Users\\dev\\plugin.jar") == "plugin.jar"


def test_stored_name_strips_through_last_separator_of_mixed_path() -> None:
    assert stored_name("a\\b/c\\plugin.jar") == "plugin.jar"


def test_stored_name_strips_through_last_slash_after_backslash() -> None:
    assert stored_name("a/b\\c/plugin.jar") == "plugin.jar"


def test_stored_name_of_trailing_separator_is_empty() -> None:
    assert stored_name("dir/") == ""


def test_stored_name_does_not_otherwise_normalise() -> None:
    assert stored_name("  Plugin  v1 .JAR ") == "  Plugin  v1 .JAR "


def test_stored_name_of_empty_is_empty() -> None:
    assert stored_name("") == ""


# --- is_valid_name (§2.3) ----------------------------------------------------------------------


def test_ordinary_name_is_valid() -> None:
    assert is_valid_name("plugin-1.0.jar") is True


def test_unicode_name_is_valid() -> None:
    assert is_valid_name("plügïn €.jar") is True


@pytest.mark.parametrize("code", [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x1F])
def test_c0_control_character_is_invalid(code: int) -> None:
    assert is_valid_name(f"plug{chr(code)}in.jar") is False


def test_del_is_invalid() -> None:
    assert is_valid_name("plug\x7fin.jar") is False


def test_space_is_valid() -> None:
    assert is_valid_name("my plugin.jar") is True


def test_c1_control_character_is_not_in_the_forbidden_range() -> None:
    # The spec forbids U+0000–U+001F and U+007F only.
    assert is_valid_name("plug\x85in.jar") is True


def test_255_characters_is_valid() -> None:
    assert is_valid_name("a" * 251 + ".jar") is True


def test_256_characters_is_invalid() -> None:
    assert is_valid_name("a" * 252 + ".jar") is False


def test_255_multibyte_characters_is_valid() -> None:
    # The limit counts characters, not UTF-8 bytes.
    assert is_valid_name("é" * 251 + ".jar") is True


def test_invalid_utf8_decoded_with_surrogateescape_is_invalid() -> None:
    name = b"plug\xffin.jar".decode("utf-8", "surrogateescape")
    assert is_valid_name(name) is False


def test_truncated_utf8_sequence_is_invalid() -> None:
    name = b"plugin\xe2\x82.jar".decode("utf-8", "surrogateescape")
    assert is_valid_name(name) is False


def test_lone_surrogate_is_invalid() -> None:
    assert is_valid_name("plug\ud800in.jar") is False


def test_empty_name_passes_name_check() -> None:
    # An empty name is refused by the extension rule (§2.4), not as an invalid name.
    assert is_valid_name("") is True


# --- extension_of (§2.4) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "extension"),
    [
        ("a.jar", "jar"),
        ("a.JAR", "JAR"),
        ("a.tar.gz", "gz"),
        ("plugin-1.0.0.zip", "zip"),
        ("a.7z", "7z"),
        ("a." + "x" * 32, "x" * 32),
        ("..jar", "jar"),
    ],
)
def test_valid_extension(name: str, extension: str) -> None:
    assert extension_of(name) == extension


@pytest.mark.parametrize(
    "name",
    [
        "",
        "jar",
        ".jar",
        "a.",
        "a.b-c",
        "a.b_c",
        "a.b c",
        "a." + "x" * 33,
        "a.jär",
        "a.jar ",
        "a.jar\n",
        "a.١٢",
    ],
    ids=[
        "empty",
        "no-dot",
        "leading-dot-only",
        "trailing-dot",
        "hyphen",
        "underscore",
        "space",
        "33-chars",
        "non-ascii-letter",
        "trailing-space",
        "trailing-newline",
        "arabic-digits",
    ],
)
def test_no_valid_extension(name: str) -> None:
    assert extension_of(name) is None


# --- content_type_of (§2.5) ------------------------------------------------------------------


def test_valid_content_type_is_kept() -> None:
    assert content_type_of("application/java-archive") == "application/java-archive"


def test_content_type_is_lowercased() -> None:
    assert content_type_of("Application/Java-Archive") == "application/java-archive"


def test_content_type_parameters_are_stripped() -> None:
    assert content_type_of("text/plain; charset=UTF-8") == "text/plain"


def test_content_type_surrounding_whitespace_is_stripped() -> None:
    assert content_type_of("  application/zip  ") == "application/zip"


def test_content_type_with_plus_suffix_is_kept() -> None:
    assert content_type_of("application/vnd.api+json") == "application/vnd.api+json"


def test_missing_content_type_is_octet_stream() -> None:
    assert content_type_of(None) == OCTET_STREAM


@pytest.mark.parametrize(
    "header",
    ["", "jar", "text/", "/plain", "text/plain/extra", "text /plain", "te(x)t/plain", "tëxt/plain"],
    ids=[
        "empty",
        "no-slash",
        "no-subtype",
        "no-type",
        "two-slashes",
        "space-in-type",
        "separator-in-type",
        "non-ascii",
    ],
)
def test_invalid_content_type_is_octet_stream(header: str) -> None:
    assert content_type_of(header) == OCTET_STREAM
