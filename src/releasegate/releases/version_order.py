"""Version precedence as a sortable key (dev-api-releases.md §4, "Version precedence").

The key is ASCII and compares byte-wise (`COLLATE "C"` on PostgreSQL), so the database orders
releases by precedence with an index instead of Python sorting rows.
"""

from __future__ import annotations

import re

# [0-9], not \d: Python's \d also matches non-ASCII digits, the spec's pattern does not.
SEMVER_LIKE = re.compile(
    r"[vV]?([0-9]+(?:\.[0-9]+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?"
)
_CORE_PARTS = 4


def _number(digits: str) -> str:
    """Length-prefixed digits: shorter numbers sort first, then digit by digit.

    Works on the digit string (no int()), so any length a version can hold is exact.
    """
    digits = digits.lstrip("0") or "0"
    return f"{len(digits):03d}{digits}"


def _code_points(text: str) -> str:
    """UTF-8 hex: preserves code-point order (and prefix order) in ASCII."""
    return text.encode("utf-8").hex()


def _prerelease(identifiers: str) -> str:
    # SemVer §11: numeric identifiers sort below alphanumeric ones; numbers numerically;
    # a shorter list of equal prefix sorts first ("," ends the list and sorts below ".").
    # Alphanumeric identifiers end with "0", below every hex digit their characters start with.
    parts = []
    for identifier in identifiers.split("."):
        if identifier.isdigit():
            parts.append("1" + _number(identifier))
        else:
            parts.append("2" + _code_points(identifier) + "0")
    return ".".join(parts)


def version_sort_key(version: str) -> str:
    """Ascending key: semver-like versions (by precedence) before all others (by code points).

    Among semver-like versions: the core padded to four numbers, then a pre-release below the
    same core, then (build metadata ignored until here) the code points of the whole string.
    """
    match = SEMVER_LIKE.fullmatch(version)
    if match is None:
        return "1" + _code_points(version)
    core = match.group(1).split(".")
    core += ["0"] * (_CORE_PARTS - len(core))
    key = "0" + "".join(_number(part) for part in core)
    pre = match.group(2)
    # A pre-release sorts below the same core: "0" marks pre-release, "1" a release.
    key += ("0" + _prerelease(pre) + ",") if pre else "1"
    return key + "|" + _code_points(version)
