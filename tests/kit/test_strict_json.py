import pytest

from releasegate.kit.strict_json import InvalidJSON, parse_strict_json


def test_parses_an_object() -> None:
    assert parse_strict_json(b'{"a": [1, 2.5, "x", true, null]}') == {
        "a": [1, 2.5, "x", True, None]
    }


def test_accepts_surrounding_json_whitespace() -> None:
    assert parse_strict_json(b' \t\r\n{"a": 1}\n ') == {"a": 1}


def test_duplicate_keys_last_occurrence_wins() -> None:
    assert parse_strict_json(b'{"a": 1, "a": 2}') == {"a": 2}


def test_keeps_integers_and_floats_as_parsed() -> None:
    parsed = parse_strict_json(b"[5, 5.0, 1e3]")
    assert isinstance(parsed, list)
    assert parsed == [5, 5.0, 1000.0]
    assert [type(number) for number in parsed] == [int, float, float]


def test_big_integers_survive() -> None:
    assert parse_strict_json(b"123456789012345678901234567890") == 123456789012345678901234567890


def test_decodes_utf8_and_paired_surrogate_escapes() -> None:
    assert parse_strict_json('"é😀\\ud83d\\ude00"'.encode()) == "é😀😀"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b'{"a": NaN}'])
def test_rejects_non_finite_constants(constant: bytes) -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(constant)


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n\t\r "])
def test_rejects_empty_or_whitespace_only_input(raw: bytes) -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(raw)


@pytest.mark.parametrize("raw", [b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"', b'{"a": "\xe9"}'])
def test_rejects_invalid_utf8(raw: bytes) -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(raw)


def test_rejects_a_leading_byte_order_mark() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(b'\xef\xbb\xbf{"a": 1}')


def test_rejects_utf16_input() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json('{"a": 1}'.encode("utf-16"))


@pytest.mark.parametrize("raw", [b'"\\ud800"', b'{"\\udc00": 1}', b'["ok", ["\\ud83dx"]]'])
def test_rejects_unpaired_surrogate_escapes(raw: bytes) -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"{'a': 1}",
        b'{"a": 1,}',
        b"[1, 2,]",
        b'{"a": 1} {"b": 2}',
        b"01",
        b".5",
        b"+1",
        b"0x10",
        b'"tab\there"',
        b"// comment\n{}",
        b"\x0c{}",
        b"{a: 1}",
        b"undefined",
    ],
)
def test_rejects_non_rfc8259_syntax(raw: bytes) -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(raw)


def test_rejects_nesting_deeper_than_the_parser_allows() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(b"[" * 200_000 + b"]" * 200_000)


def test_invalid_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_strict_json(b"{")


def test_integer_beyond_python_digit_limit_is_invalid() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(b"1" * 5000)


def test_number_overflowing_a_float_parses_as_infinity() -> None:
    assert parse_strict_json(b"1e400") == float("inf")


def test_nul_character_in_string_is_rejected() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(b'{"version": "1.0\\u0000"}')
