"""Version precedence (dev-api-releases.md §4): the stored sort key against a reference
comparator written straight from the spec's rules, by property tests and through the list
endpoint's `sortColumn=version` on both databases."""

from __future__ import annotations

import functools
import random
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from releasegate.releases.version_order import version_sort_key
from releasegate.runtime import Runtime
from tests.fixtures.api import Api

# --- Reference: the spec's rules, one by one ----------------------------------------------------

# Rule 1, with ASCII digits as the spec's (JavaScript) \d means; fullmatch, so no trailing \n.
REFERENCE_SEMVER = re.compile(
    r"[vV]?([0-9]+(?:\.[0-9]+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?"
)


def sign(value: int) -> int:
    return (value > 0) - (value < 0)


def compare_code_points(a: str, b: str) -> int:
    return sign((a > b) - (a < b))  # Python compares str by code points


def compare_identifiers(a: str, b: str) -> int:
    """SemVer 2.0.0 §11.4.1–3: numeric < alphanumeric; numbers numerically; text in ASCII."""
    a_numeric, b_numeric = a.isdigit(), b.isdigit()
    if a_numeric and b_numeric:
        return sign(int(a) - int(b))
    if a_numeric != b_numeric:
        return -1 if a_numeric else 1
    return compare_code_points(a, b)


def compare_prerelease(a: str, b: str) -> int:
    """SemVer 2.0.0 §11.4: identifier by identifier; a shorter equal prefix sorts first."""
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        result = compare_identifiers(x, y)
        if result:
            return result
    return sign(len(left) - len(right))


def reference_compare(a: str, b: str) -> int:
    match_a, match_b = REFERENCE_SEMVER.fullmatch(a), REFERENCE_SEMVER.fullmatch(b)
    # Rule 5: semver-like first; the others among themselves by code points.
    if match_a is None or match_b is None:
        if match_a is not None:
            return -1
        if match_b is not None:
            return 1
        return compare_code_points(a, b)
    # Rule 2: numeric components as integers, missing ones are 0.
    core_a = [int(part) for part in match_a.group(1).split(".")] + [0] * 3
    core_b = [int(part) for part in match_b.group(1).split(".")] + [0] * 3
    if core_a[:4] != core_b[:4]:
        return -1 if core_a[:4] < core_b[:4] else 1
    # Rule 3: a pre-release sorts below the same core; build metadata (group 3) is ignored.
    pre_a, pre_b = match_a.group(2), match_b.group(2)
    if (pre_a is None) != (pre_b is None):
        return 1 if pre_a is None else -1
    if pre_a is not None and pre_b is not None:
        result = compare_prerelease(pre_a, pre_b)
        if result:
            return result
    # Rule 4: remaining ties by code points of the whole string.
    return compare_code_points(a, b)


def reference_sorted(versions: list[str]) -> list[str]:
    return sorted(versions, key=functools.cmp_to_key(reference_compare))


def key_compare(a: str, b: str) -> int:
    return compare_code_points(version_sort_key(a), version_sort_key(b))


# --- Generators ---------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=4)
identifier = st.one_of(
    digits,
    st.text(alphabet="0123456789abcxyzABZ-", min_size=0, max_size=5),
)
semver_like = st.builds(
    lambda prefix, core, pre, build: (
        prefix
        + ".".join(core)
        + ("" if pre is None else "-" + ".".join(pre))
        + ("" if build is None else "+" + ".".join(build))
    ),
    st.sampled_from(["", "", "v", "V"]),
    st.lists(digits, min_size=1, max_size=4),
    st.none() | st.lists(identifier, min_size=1, max_size=4),
    st.none() | st.lists(identifier, min_size=1, max_size=2),
)
# Near misses: the characters of versions in odd orders, five components, stray signs.
near_semver = st.text(alphabet="0123456789.-+vVab", min_size=1, max_size=12)
any_version = st.one_of(semver_like, near_semver, st.text(min_size=1, max_size=12))

# --- Property tests -----------------------------------------------------------------------------


@given(any_version, any_version)
@settings(max_examples=3000)
@example("1.10.0-rc.1", "1.10")
@example("1.9", "1.10")
@example("1.10", "1.10.0")
@example("1.0.0-alpha", "1.0.0-alpha.1")
@example("1.0.0-alpha.beta", "1.0.0-alpha.1")
@example("1.0.0-rc.2", "1.0.0-rc.10")
@example("1.0.0+build.2", "1.0.0+build.10")
@example("1.0.0-rc..1", "1.0.0-rc.0")
@example("1.2.3.4.5", "1.2.3")
@example("١.٢", "1.3")
@example("1.0.0-a", "1.0.0-a-")
@example("01.0", "1.0")
def test_key_order_matches_the_reference(a: str, b: str) -> None:
    assert key_compare(a, b) == reference_compare(a, b)


@given(st.lists(any_version, min_size=2, max_size=20))
def test_sorting_by_key_matches_the_reference(versions: list[str]) -> None:
    assert sorted(versions, key=version_sort_key) == reference_sorted(versions)


@given(any_version, any_version)
def test_only_identical_versions_have_equal_keys(a: str, b: str) -> None:
    assert (version_sort_key(a) == version_sort_key(b)) == (a == b)


@given(any_version)
def test_key_is_ascii(version: str) -> None:
    assert version_sort_key(version).isascii()


@pytest.mark.parametrize(
    "version",
    [
        "é" * 255,  # non-semver: three UTF-8 bytes per character, hex-encoded
        "1-" + ".".join(["1"] * 127),  # 127 one-digit numeric pre-release identifiers
        "1-" + ".".join(["a"] * 127),  # 127 one-letter pre-release identifiers
        "1.1.1.1-" + ".".join(["a"] * 123) + "+b",
        "9" * 255,
    ],
)
def test_longest_versions_fit_the_key_column(version: str) -> None:
    assert len(version) <= 255
    assert len(version_sort_key(version)) <= 2048


# --- Through the database: the list endpoint's sortColumn=version --------------------------------

DB_VERSIONS = [
    "1.9",
    "1.10",
    "1.10.0",
    "v1.10",
    "1.10.0-rc.1",
    "1.10.0-rc.2",
    "1.10.0-rc.10",
    "1.10.0-beta",
    "1.10.0-alpha.1",
    "1.10.0-alpha.beta",
    "1.10.0+build.5",
    "1.10.0.1",
    "1.2.3.4.5",
    "2.0.0",
    "10.0",
    "١.٢.٣",
    "nightly-2024",
    "Zeta",
    "abc",
    "élan",
    "0.0.1",
]


@pytest.fixture
async def product_with_versions(api: Api, runtime: Runtime) -> str:
    product_id = await api.create_product()
    for version in random.sample(DB_VERSIONS, len(DB_VERSIONS)):
        response = await api.create_release(
            {"version": version, "productId": product_id, "status": "PUBLISHED"}
        )
        assert response.status_code == 201, response.text
    return product_id


async def listed_versions(api: Api, product_id: str, direction: str) -> list[str]:
    response = await api.client.get(
        f"{api.base}/releases",
        params={
            "productId": product_id,
            "sortColumn": "version",
            "sortDirection": direction,
            "pageSize": "100",
        },
        headers=api.team.headers,
    )
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    assert payload["result"]["details"] == "Releases found"
    assert payload["data"]["totalResults"] == len(DB_VERSIONS)
    return [release["version"] for release in payload["data"]["releases"]]


def test_reference_order_of_the_database_versions() -> None:
    """The reference itself, spelled out, so a wrong reference cannot pass silently."""
    assert reference_sorted(DB_VERSIONS) == [
        "0.0.1",
        "1.9",
        "1.10.0-alpha.1",
        "1.10.0-alpha.beta",
        "1.10.0-beta",
        "1.10.0-rc.1",
        "1.10.0-rc.2",
        "1.10.0-rc.10",
        "1.10",
        "1.10.0",
        "1.10.0+build.5",
        "v1.10",
        "1.10.0.1",
        "2.0.0",
        "10.0",
        "1.2.3.4.5",
        "Zeta",
        "abc",
        "nightly-2024",
        "élan",
        "١.٢.٣",
    ]


async def test_version_ascending_matches_the_reference(
    api: Api, product_with_versions: str
) -> None:
    assert await listed_versions(api, product_with_versions, "asc") == reference_sorted(DB_VERSIONS)


async def test_version_descending_is_the_reverse_of_the_reference(
    api: Api, product_with_versions: str
) -> None:
    assert await listed_versions(api, product_with_versions, "desc") == list(
        reversed(reference_sorted(DB_VERSIONS))
    )
