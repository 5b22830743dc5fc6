"""Human size text, exactly as the reference prints it (files-and-storage.md §3)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MIB = 1024 * 1024
_UNITS = ("Bytes", "KB", "MB", "GB", "TB")


def format_size(n: int) -> str:
    """`10.0 MB` for 10,485,760: one decimal, rounded half up on the exact value."""
    i = 0
    while i < 4 and 1024 ** (i + 1) <= n:
        i += 1
    value = (Decimal(n) / Decimal(1024**i)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value} {_UNITS[i]}"
