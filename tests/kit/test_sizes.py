"""Human size text (files-and-storage.md §3)."""

from __future__ import annotations

import pytest

from releasegate.kit.sizes import format_size

KIB = 1024
MIB = 1024 * 1024
GIB = 1024 * 1024 * 1024
TIB = 1024**4


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (10_485_760, "10.0 MB"),
        (31_457_280, "30.0 MB"),
        (1_310_720, "1.3 MB"),
        (1_073_741_824, "1.0 GB"),
        (500, "500.0 Bytes"),
    ],
)
def test_spec_examples(n: int, text: str) -> None:
    assert format_size(n) == text


def test_zero_is_bytes() -> None:
    assert format_size(0) == "0.0 Bytes"


def test_one_byte() -> None:
    assert format_size(1) == "1.0 Bytes"


def test_largest_byte_count_below_one_kib() -> None:
    assert format_size(1023) == "1023.0 Bytes"


def test_exactly_one_kib() -> None:
    assert format_size(KIB) == "1.0 KB"


def test_exact_half_rounds_up_not_to_even() -> None:
    # 1280 / 1024 = 1.25 exactly; banker's rounding (or %.1f) would give 1.2.
    assert format_size(1280) == "1.3 KB"


def test_exact_half_above_even_digit_rounds_up() -> None:
    # 2304 / 1024 = 2.25 exactly.
    assert format_size(2304) == "2.3 KB"


def test_just_below_half_rounds_down() -> None:
    # 1075 / 1024 = 1.0498...
    assert format_size(1075) == "1.0 KB"


def test_just_above_half_rounds_up() -> None:
    # 1076 / 1024 = 1.0507...
    assert format_size(1076) == "1.1 KB"


def test_exact_half_in_megabytes_rounds_up() -> None:
    assert format_size(MIB * 9 // 4) == "2.3 MB"  # 2.25 MiB


def test_value_rounding_to_1024_keeps_the_smaller_unit() -> None:
    # i is chosen from n (1024^1 <= n < 1024^2), not from the rounded value.
    assert format_size(MIB - 1) == "1024.0 KB"


def test_exactly_one_mib() -> None:
    assert format_size(MIB) == "1.0 MB"


def test_exactly_one_tib() -> None:
    assert format_size(TIB) == "1.0 TB"


def test_beyond_terabytes_stays_in_terabytes() -> None:
    assert format_size(1024 * TIB) == "1024.0 TB"


def test_large_gigabyte_value_has_one_decimal() -> None:
    assert format_size(GIB * 5 + GIB // 2) == "5.5 GB"
