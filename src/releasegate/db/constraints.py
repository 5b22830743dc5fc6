"""Which constraint a failed write broke, by name, on both databases.

Services recognise a concurrent writer by the constraint it tripped (`uq_releases_version`...),
never by the driver's wording. PostgreSQL names the constraint. SQLite names an index, a CHECK,
or only the columns of a UNIQUE constraint, and no foreign key at all; those are resolved here
through the schema (db/base.py's naming convention names every constraint).
"""

from __future__ import annotations

import re

from sqlalchemy import Index, MetaData, Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from releasegate.db.base import Base

_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)$")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")
_STATEMENT_TABLE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


def violated_constraints(exc: IntegrityError, metadata: MetaData = Base.metadata) -> frozenset[str]:
    """The names of the constraints `exc` may stand for: exactly one on PostgreSQL; on SQLite
    a foreign-key failure yields every foreign key the statement's table could have broken."""
    cause = getattr(exc.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)  # asyncpg
    if isinstance(name, str):
        return frozenset({name})
    message = str(exc.orig)
    for pattern in (_SQLITE_INDEX, _SQLITE_CHECK):
        match = pattern.search(message)
        if match:
            return frozenset({match.group(1)})
    match = _SQLITE_COLUMNS.search(message)
    if match:
        return _unique_by_columns(metadata, match.group(1).split(", "))
    if "FOREIGN KEY constraint failed" in message:
        return _foreign_keys_of_statement(metadata, exc.statement or "")
    return frozenset()


def is_violation(exc: IntegrityError, name: str) -> bool:
    """Whether `exc` may be the violation of the constraint called `name`."""
    return name in violated_constraints(exc)


def _unique_by_columns(metadata: MetaData, qualified: list[str]) -> frozenset[str]:
    table_name = qualified[0].split(".", 1)[0]
    columns = tuple(column.split(".", 1)[1] for column in qualified)
    table = metadata.tables.get(table_name)
    if table is None:
        return frozenset()
    names: set[str] = set()
    if tuple(column.name for column in table.primary_key.columns) == columns:
        names.add(str(table.primary_key.name))
    unique: list[UniqueConstraint | Index] = [
        item for item in table.constraints if isinstance(item, UniqueConstraint)
    ]
    unique += [index for index in table.indexes if index.unique]
    for item in unique:
        if tuple(getattr(c, "name", None) for c in item.columns) == columns:
            names.add(str(item.name))
    return frozenset(names)


def _foreign_keys_of_statement(metadata: MetaData, statement: str) -> frozenset[str]:
    """An insert or update can break its table's foreign keys; a delete or update, the keys
    of other tables that refer to its rows."""
    match = _STATEMENT_TABLE.match(statement)
    if match is None:
        return frozenset()
    verb, table_name = match.group(1).upper(), match.group(2)
    table = metadata.tables.get(table_name)
    if table is None:
        return frozenset()
    names: set[str] = set()
    if verb != "DELETE FROM":
        names.update(str(fk.name) for fk in table.foreign_key_constraints)
    if verb != "INSERT INTO":
        names.update(_referring_keys(metadata, table))
    return frozenset(names)


def _referring_keys(metadata: MetaData, table: Table) -> set[str]:
    return {
        str(fk.name)
        for other in metadata.tables.values()
        for fk in other.foreign_key_constraints
        if fk.referred_table is table
    }
