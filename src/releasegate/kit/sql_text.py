"""Text matching in SQL that behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import string
from typing import Any

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class AsciiLower(FunctionElement[str]):
    """lower() that folds A–Z only, as "ASCII case-insensitive" requires on every backend."""

    type = String()
    name = "ascii_lower"
    inherit_cache = True


@compiles(AsciiLower)
def _ascii_lower_default(element: AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's built-in lower() folds ASCII only.
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(AsciiLower, "postgresql")
def _ascii_lower_postgresql(element: AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    # Under the "C" collation lower() folds ASCII only, whatever the database's locale.
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


def contains_ascii_insensitive(column: Any, needle: str) -> ColumnElement[bool]:
    """`column` contains `needle` literally (`%`, `_`, `\\` escaped), ASCII case-insensitive."""
    escaped = needle.translate(_ASCII_LOWER)
    for special in ("\\", "%", "_"):
        escaped = escaped.replace(special, "\\" + special)
    return AsciiLower(column).like(f"%{escaped}%", escape="\\")
