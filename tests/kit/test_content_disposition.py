"""Content-Disposition parameters of multipart parts (files-and-storage.md §2.2–§2.3)."""

from __future__ import annotations

from releasegate.kit.content_disposition import parse_disposition


def test_name_and_filename() -> None:
    parsed = parse_disposition(b'form-data; name="file"; filename="plugin.jar"')
    assert (parsed.name, parsed.filename) == ("file", b"plugin.jar")


def test_part_with_filename_is_a_file_part() -> None:
    assert parse_disposition(b'form-data; name="file"; filename="plugin.jar"').is_file is True


def test_part_without_filename_is_a_text_part() -> None:
    parsed = parse_disposition(b'form-data; name="data"')
    assert (parsed.name, parsed.filename, parsed.is_file) == ("data", None, False)


def test_empty_filename_is_still_a_file_part() -> None:
    parsed = parse_disposition(b'form-data; name="file"; filename=""')
    assert (parsed.filename, parsed.is_file) == (b"", True)


def test_empty_filename_star_is_still_a_file_part() -> None:
    parsed = parse_disposition(b"form-data; name=\"file\"; filename*=UTF-8''")
    assert (parsed.filename, parsed.is_file) == (b"", True)


def test_unquoted_values() -> None:
    parsed = parse_disposition(b"form-data; name=file; filename=plugin.jar")
    assert (parsed.name, parsed.filename) == ("file", b"plugin.jar")


def test_quoted_value_with_escaped_quote() -> None:
    parsed = parse_disposition(b'form-data; name="file"; filename="say \\"hi\\".jar"')
    assert parsed.filename == b'say "hi".jar'


def test_quoted_value_with_escaped_backslash() -> None:
    parsed = parse_disposition(b'form-data; name="file"; filename="a\\\\b.jar"')
    assert parsed.filename == b"a\\b.jar"


def test_semicolon_inside_quotes_is_part_of_the_value() -> None:
    parsed = parse_disposition(b'form-data; name="file"; filename="a;b.jar"')
    assert parsed.filename == b"a;b.jar"


def test_filename_star_is_percent_decoded_utf8() -> None:
    parsed = parse_disposition(b"form-data; name=\"file\"; filename*=UTF-8''%E2%82%AC%20rates.jar")
    assert parsed.filename == "€ rates.jar".encode()


def test_filename_star_charset_is_case_insensitive() -> None:
    parsed = parse_disposition(b"form-data; name=\"file\"; filename*=utf-8''caf%C3%A9.jar")
    assert parsed.filename == "café.jar".encode()


def test_filename_star_with_language_tag() -> None:
    parsed = parse_disposition(b"form-data; name=\"file\"; filename*=UTF-8'en'a%20b.jar")
    assert parsed.filename == b"a b.jar"


def test_filename_star_takes_precedence_over_later_filename() -> None:
    header = b'form-data; name="file"; filename*=UTF-8\'\'real.jar; filename="fallback.jar"'
    assert parse_disposition(header).filename == b"real.jar"


def test_filename_star_takes_precedence_over_earlier_filename() -> None:
    header = b'form-data; name="file"; filename="fallback.jar"; filename*=UTF-8\'\'real.jar'
    assert parse_disposition(header).filename == b"real.jar"


def test_first_name_wins() -> None:
    assert parse_disposition(b'form-data; name="data"; name="file"').name == "data"


def test_first_filename_wins() -> None:
    header = b'form-data; name="file"; filename="first.jar"; filename="second.jar"'
    assert parse_disposition(header).filename == b"first.jar"


def test_parameter_names_are_case_insensitive() -> None:
    parsed = parse_disposition(b'form-data; NAME="file"; FileName="plugin.jar"')
    assert (parsed.name, parsed.filename) == ("file", b"plugin.jar")


def test_filename_bytes_are_returned_undecoded() -> None:
    parsed = parse_disposition('form-data; name="file"; filename="añb.jar"'.encode())
    assert parsed.filename == "añb.jar".encode()


def test_part_without_name() -> None:
    parsed = parse_disposition(b'form-data; filename="plugin.jar"')
    assert (parsed.name, parsed.filename) == (None, b"plugin.jar")


def test_whitespace_around_parameters_is_ignored() -> None:
    parsed = parse_disposition(b'form-data ;  name="file" ;\tfilename="plugin.jar"  ')
    assert (parsed.name, parsed.filename) == ("file", b"plugin.jar")
