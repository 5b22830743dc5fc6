import re
from datetime import UTC, datetime

import pytest

from releasegate.kit.validation import (
    Array,
    Boolean,
    Enum,
    Field,
    Integer,
    Issue,
    Object,
    String,
    contains_js_whitespace,
    parse_rfc3339,
    utf16_length,
    validate,
)
from releasegate.metadata.schemas import metadata_array

PRODUCT_ID = "0b5c7a52-3f0e-4c1a-9a57-2f5d9a0c1e11"
LICENSE_ID = "7d1f0e1c-5b2a-4f3e-8c9d-0a1b2c3d4e5f"
STATUSES = "'PUBLISHED' | 'DRAFT' | 'DEPRECATED' | 'ARCHIVED'"

# The create-release `data` schema of dev-api-releases.md §2.2.
RELEASE_CREATE = Object(
    {
        "version": Field(String(min_length=3, max_length=255, no_spaces=True)),
        "productId": Field(String(uuid=True)),
        "status": Field(Enum(("PUBLISHED", "DRAFT", "DEPRECATED", "ARCHIVED"))),
        "setAsLatest": Field(Boolean(), required=False, default=False),
        "branchId": Field(String(uuid=True), required=False, default=None, nullable=True),
        "metadata": Field(metadata_array(), required=False, default=[]),
        "licenseIds": Field(Array(String(uuid=True), max_length=30), required=False, default=[]),
        "sha256": Field(String(pattern=re.compile(r"^[0-9a-fA-F]{64}$")), required=False),
    }
)


def _duration_rule(cleaned: dict[str, object]) -> Issue | None:
    if cleaned["expirationType"] == "DURATION" and (
        cleaned["expirationStart"] is None or cleaned["expirationDays"] is None
    ):
        return Issue(
            "expirationStart and expirationDays are required when expirationType is DURATION",
            ("expirationDays",),
        )
    return None


def _never_rule(cleaned: dict[str, object]) -> Issue | None:
    if cleaned["expirationType"] == "NEVER" and (
        cleaned["expirationStart"] is not None or cleaned["expirationDays"] is not None
    ):
        return Issue(
            "expirationStart, expirationDate and expirationDays must be null when "
            "expirationType is NEVER"
        )
    return None


# The expiry part of the license schema of §11.1, with two of its cross-field rules.
LICENSE_EXPIRY = Object(
    {
        "expirationType": Field(Enum(("NEVER", "DATE", "DURATION"))),
        "expirationStart": Field(Enum(("CREATION", "ACTIVATION")), nullable=True),
        "expirationDays": Field(Integer(minimum=1, maximum=1000), nullable=True),
        "hwidLimit": Field(Integer(minimum=1, maximum=1000), nullable=True),
    },
    cross_field_rules=(_duration_rule, _never_rule),
)


def _release(**overrides: object) -> dict[str, object]:
    return {"version": "1.0.0", "productId": PRODUCT_ID, "status": "PUBLISHED", **overrides}


def _license(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "expirationType": "NEVER",
        "expirationStart": None,
        "expirationDays": None,
        "hwidLimit": None,
    }
    return {**base, **overrides}


def _issues(schema: Object, value: object) -> list[dict[str, object]]:
    return [issue.as_json() for issue in validate(schema, value)[1]]


# --- release create: the happy path -------------------------------------------------------


def test_minimal_release_gets_defaults() -> None:
    cleaned, issues = validate(RELEASE_CREATE, _release())
    assert issues == []
    assert cleaned == {
        "version": "1.0.0",
        "productId": PRODUCT_ID,
        "status": "PUBLISHED",
        "setAsLatest": False,
        "branchId": None,
        "metadata": [],
        "licenseIds": [],
    }


def test_defaults_are_fresh_copies() -> None:
    first, _ = validate(RELEASE_CREATE, _release())
    assert first is not None
    metadata = first["metadata"]
    assert isinstance(metadata, list)
    metadata.append("mutated")
    second, _ = validate(RELEASE_CREATE, _release())
    assert second is not None
    assert second["metadata"] == []


def test_full_release_is_cleaned() -> None:
    body = _release(
        productId=PRODUCT_ID.upper(),
        setAsLatest=True,
        branchId=LICENSE_ID.upper(),
        metadata=[{"key": "k", "value": "v"}, {"key": "a", "value": "b", "locked": True}],
        licenseIds=[LICENSE_ID.upper()],
        sha256="A" * 64,
    )
    cleaned, issues = validate(RELEASE_CREATE, body)
    assert issues == []
    assert cleaned == {
        "version": "1.0.0",
        "productId": PRODUCT_ID,
        "status": "PUBLISHED",
        "setAsLatest": True,
        "branchId": LICENSE_ID,
        "metadata": [
            {"key": "k", "value": "v", "locked": False},
            {"key": "a", "value": "b", "locked": True},
        ],
        "licenseIds": [LICENSE_ID],
        "sha256": "A" * 64,
    }


def test_explicit_null_branch_is_accepted() -> None:
    cleaned, issues = validate(RELEASE_CREATE, _release(branchId=None))
    assert issues == []
    assert cleaned is not None
    assert cleaned["branchId"] is None


# --- required, types, enums ---------------------------------------------------------------


def test_empty_object_reports_required_fields_in_schema_order() -> None:
    assert _issues(RELEASE_CREATE, {}) == [
        {"message": "Required", "path": ["version"]},
        {"message": "Required", "path": ["productId"]},
        {"message": "Required", "path": ["status"]},
    ]


def test_failed_validation_returns_no_cleaned_value() -> None:
    cleaned, issues = validate(RELEASE_CREATE, {})
    assert cleaned is None
    assert len(issues) == 3


def test_wrong_types_report_json_type_names_in_schema_order() -> None:
    body = {
        "version": 1.5,
        "productId": True,
        "status": ["PUBLISHED"],
        "setAsLatest": "yes",
        "branchId": 5,
        "metadata": {},
        "licenseIds": "x",
        "sha256": None,
    }
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "Expected string, received number", "path": ["version"]},
        {"message": "Expected string, received boolean", "path": ["productId"]},
        {"message": f"Expected {STATUSES}, received array", "path": ["status"]},
        {"message": "Expected boolean, received string", "path": ["setAsLatest"]},
        {"message": "Expected string, received number", "path": ["branchId"]},
        {"message": "Expected array, received object", "path": ["metadata"]},
        {"message": "Expected array, received string", "path": ["licenseIds"]},
        {"message": "Expected string, received null", "path": ["sha256"]},
    ]


def test_null_on_a_required_field_is_a_type_issue() -> None:
    assert _issues(RELEASE_CREATE, _release(version=None)) == [
        {"message": "Expected string, received null", "path": ["version"]},
    ]


def test_wrong_type_is_a_fields_only_issue() -> None:
    assert _issues(RELEASE_CREATE, _release(version=12)) == [
        {"message": "Expected string, received number", "path": ["version"]},
    ]


def test_enum_with_wrong_type_lists_values() -> None:
    assert _issues(RELEASE_CREATE, _release(status=1)) == [
        {"message": f"Expected {STATUSES}, received number", "path": ["status"]},
    ]


def test_enum_with_unknown_value_quotes_it() -> None:
    assert _issues(RELEASE_CREATE, _release(status="FOO")) == [
        {"message": f"Invalid enum value. Expected {STATUSES}, received 'FOO'", "path": ["status"]},
    ]


def test_enum_values_are_case_sensitive() -> None:
    assert _issues(RELEASE_CREATE, _release(status="published")) == [
        {
            "message": f"Invalid enum value. Expected {STATUSES}, received 'published'",
            "path": ["status"],
        },
    ]


# --- strings ------------------------------------------------------------------------------


def test_short_version_reports_minimum() -> None:
    assert _issues(RELEASE_CREATE, _release(version="ab")) == [
        {"message": "String must contain at least 3 character(s)", "path": ["version"]},
    ]


def test_long_version_reports_maximum() -> None:
    assert _issues(RELEASE_CREATE, _release(version="v" * 256)) == [
        {"message": "String must contain at most 255 character(s)", "path": ["version"]},
    ]


def test_version_of_exactly_255_characters_passes() -> None:
    assert _issues(RELEASE_CREATE, _release(version="v" * 255)) == []


def test_astral_character_counts_as_two_utf16_units_toward_minimum() -> None:
    assert _issues(RELEASE_CREATE, _release(version="😀")) == [
        {"message": "String must contain at least 3 character(s)", "path": ["version"]},
    ]
    assert _issues(RELEASE_CREATE, _release(version="a😀")) == []


def test_astral_characters_count_as_two_utf16_units_toward_maximum() -> None:
    assert _issues(RELEASE_CREATE, _release(version="😀" * 127 + "a")) == []
    assert _issues(RELEASE_CREATE, _release(version="😀" * 128)) == [
        {"message": "String must contain at most 255 character(s)", "path": ["version"]},
    ]


def test_utf16_length_counts_code_units() -> None:
    assert [utf16_length(text) for text in ("", "abc", "é", "😀", "a😀b")] == [0, 3, 1, 2, 4]


def test_version_with_space_is_invalid() -> None:
    assert _issues(RELEASE_CREATE, _release(version="1.0 beta")) == [
        {"message": "Invalid", "path": ["version"]},
    ]


def test_length_issue_precedes_pattern_issue() -> None:
    assert _issues(RELEASE_CREATE, _release(version=" a")) == [
        {"message": "String must contain at least 3 character(s)", "path": ["version"]},
        {"message": "Invalid", "path": ["version"]},
    ]


def test_version_with_non_breaking_space_is_invalid() -> None:
    assert _issues(RELEASE_CREATE, _release(version="1.0\u00a0beta")) == [
        {"message": "Invalid", "path": ["version"]},
    ]


@pytest.mark.parametrize(
    "char",
    [
        *"\t\n\x0b\x0c\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff",
        *(chr(code) for code in range(0x2000, 0x200B)),
    ],
)
def test_js_whitespace_set_members_are_detected(char: str) -> None:
    assert contains_js_whitespace(f"a{char}b")


@pytest.mark.parametrize("char", ["\x1c", "\x1f", "\x85", "\u200b", "\u180e", "_", "-"])
def test_characters_outside_js_whitespace_set_are_not_detected(char: str) -> None:
    assert not contains_js_whitespace(f"a{char}b")


def test_bad_uuid_reports_invalid_uuid() -> None:
    assert _issues(RELEASE_CREATE, _release(productId="not-a-uuid")) == [
        {"message": "Invalid uuid", "path": ["productId"]},
    ]


def test_uuid_version_nibble_is_not_checked() -> None:
    cleaned, issues = validate(
        RELEASE_CREATE, _release(productId="ABCDEF01-2345-0789-ABCD-EF0123456789")
    )
    assert issues == []
    assert cleaned is not None
    assert cleaned["productId"] == "abcdef01-2345-0789-abcd-ef0123456789"


@pytest.mark.parametrize(
    "value",
    [f"{PRODUCT_ID}\n", f" {PRODUCT_ID}", f"{{{PRODUCT_ID}}}", PRODUCT_ID.replace("-", "")],
)
def test_uuid_must_be_the_whole_string(value: str) -> None:
    assert _issues(RELEASE_CREATE, _release(productId=value)) == [
        {"message": "Invalid uuid", "path": ["productId"]},
    ]


def test_pattern_mismatch_reports_invalid() -> None:
    assert _issues(RELEASE_CREATE, _release(sha256="z" * 64)) == [
        {"message": "Invalid", "path": ["sha256"]},
    ]


def test_pattern_does_not_accept_a_trailing_newline() -> None:
    assert _issues(RELEASE_CREATE, _release(sha256="a" * 64 + "\n")) == [
        {"message": "Invalid", "path": ["sha256"]},
    ]


def test_every_failing_string_rule_is_reported_in_order() -> None:
    schema = Object(
        {"s": Field(String(min_length=5, pattern=re.compile("[a-z]+"), no_spaces=True, uuid=True))}
    )
    assert _issues(schema, {"s": "A b"}) == [
        {"message": "String must contain at least 5 character(s)", "path": ["s"]},
        {"message": "Invalid", "path": ["s"]},
        {"message": "Invalid", "path": ["s"]},
        {"message": "Invalid uuid", "path": ["s"]},
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/path?q=1#frag",
        "HTTPS://EXAMPLE.COM",
        "http://localhost:8080",
        "http://[::1]/",
        "https://user:pw@example.com",
    ],
)
def test_absolute_http_urls_are_valid(url: str) -> None:
    assert _issues(Object({"url": Field(String(url=True))}), {"url": url}) == []


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com",
        "/relative/path",
        "ftp://example.com",
        "javascript:alert(1)",
        "http://",
        "http:///path",
        "https://exa mple.com",
        "https://example.com/\n",
        "http://[::1",
        "http://example.com:99999",
        "http://example.com:port",
    ],
)
def test_other_strings_are_invalid_urls(url: str) -> None:
    assert _issues(Object({"url": Field(String(url=True))}), {"url": url}) == [
        {"message": "Invalid url", "path": ["url"]},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-31", datetime(2030, 1, 31, tzinfo=UTC)),
        ("2030-01-31T12:30:45Z", datetime(2030, 1, 31, 12, 30, 45, tzinfo=UTC)),
        ("2030-01-31t12:30:45z", datetime(2030, 1, 31, 12, 30, 45, tzinfo=UTC)),
        ("2030-01-31T12:30:45.5Z", datetime(2030, 1, 31, 12, 30, 45, 500000, tzinfo=UTC)),
        ("2030-01-31T12:30:45.123456789Z", datetime(2030, 1, 31, 12, 30, 45, 123456, tzinfo=UTC)),
        ("2030-01-31T12:30:45+02:00", datetime(2030, 1, 31, 10, 30, 45, tzinfo=UTC)),
        ("2030-01-31T23:30:00-01:00", datetime(2030, 2, 1, 0, 30, tzinfo=UTC)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_rfc3339_dates_parse_to_utc(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2030-1-31",
        "2030-02-30",
        "2023-02-29",
        "2030-13-01",
        "2030-01-31T12:30Z",
        "2030-01-31T12:30:45",
        "2030-01-31 12:30:45Z",
        "2030-01-31T24:00:00Z",
        "2030-01-31T12:60:00Z",
        "2030-12-31T23:59:60Z",
        "2030-01-31T12:30:45+2:00",
        "2030-01-31T12:30:45+24:00",
        "2030-01-31T12:30:45.Z",
        "0000-01-01",
        "0001-01-01T00:00:00+01:00",
        "２０３０-01-31",
        "2030-01-31\n",
        "tomorrow",
    ],
)
def test_non_rfc3339_strings_are_invalid_dates(text: str) -> None:
    assert parse_rfc3339(text) is None
    assert _issues(Object({"d": Field(String(date=True))}), {"d": text}) == [
        {"message": "Invalid date", "path": ["d"]},
    ]


# --- objects: unknown keys ----------------------------------------------------------------


def test_unknown_keys_come_after_field_issues_in_input_order() -> None:
    body = {"zeta": 1, "version": 1, "alpha": 2, "productId": PRODUCT_ID}
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "Expected string, received number", "path": ["version"]},
        {"message": "Required", "path": ["status"]},
        {"message": "Unrecognized key(s) in object: 'zeta', 'alpha'", "path": []},
    ]


def test_keep_existing_file_is_unknown_on_create() -> None:
    assert _issues(RELEASE_CREATE, _release(keepExistingFile=True)) == [
        {"message": "Unrecognized key(s) in object: 'keepExistingFile'", "path": []},
    ]


# --- arrays and nested objects ------------------------------------------------------------


def test_metadata_issues_carry_nested_paths() -> None:
    body = _release(metadata=[{"key": "ok", "value": "ok"}, {"key": "", "value": 1, "x": True}])
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "String must contain at least 1 character(s)", "path": ["metadata", 1, "key"]},
        {"message": "Expected string, received number", "path": ["metadata", 1, "value"]},
        {"message": "Unrecognized key(s) in object: 'x'", "path": ["metadata", 1]},
    ]


def test_metadata_element_must_be_an_object() -> None:
    body = _release(metadata=[{"key": "k", "value": "v"}, "k=v", None])
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "Expected object, received string", "path": ["metadata", 1]},
        {"message": "Expected object, received null", "path": ["metadata", 2]},
    ]


def test_metadata_element_missing_fields_are_required() -> None:
    body = _release(metadata=[{"locked": "no"}])
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "Required", "path": ["metadata", 0, "key"]},
        {"message": "Required", "path": ["metadata", 0, "value"]},
        {"message": "Expected boolean, received string", "path": ["metadata", 0, "locked"]},
    ]


def test_metadata_value_length_is_limited() -> None:
    body = _release(metadata=[{"key": "k", "value": "v" * 256}])
    assert _issues(RELEASE_CREATE, body) == [
        {
            "message": "String must contain at most 255 character(s)",
            "path": ["metadata", 0, "value"],
        },
    ]


def test_array_length_issue_precedes_element_issues() -> None:
    elements: list[object] = [{"key": "k", "value": "v"} for _ in range(21)]
    elements[0] = {"key": "k"}
    elements[20] = 7
    assert _issues(RELEASE_CREATE, _release(metadata=elements)) == [
        {"message": "Array must contain at most 20 element(s)", "path": ["metadata"]},
        {"message": "Required", "path": ["metadata", 0, "value"]},
        {"message": "Expected object, received number", "path": ["metadata", 20]},
    ]


def test_twenty_metadata_elements_pass() -> None:
    metadata = [{"key": f"k{index}", "value": "v"} for index in range(20)]
    assert _issues(RELEASE_CREATE, _release(metadata=metadata)) == []


def test_license_ids_are_limited_to_thirty() -> None:
    assert _issues(RELEASE_CREATE, _release(licenseIds=[LICENSE_ID] * 31)) == [
        {"message": "Array must contain at most 30 element(s)", "path": ["licenseIds"]},
    ]


def test_license_id_elements_must_be_uuid_strings() -> None:
    body = _release(licenseIds=[LICENSE_ID, "nope", 3])
    assert _issues(RELEASE_CREATE, body) == [
        {"message": "Invalid uuid", "path": ["licenseIds", 1]},
        {"message": "Expected string, received number", "path": ["licenseIds", 2]},
    ]


# --- the root -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ([], "array"),
        ("x", "string"),
        (None, "null"),
        (1, "number"),
        (1.5, "number"),
        (True, "boolean"),
    ],
)
def test_root_that_is_not_an_object_gives_a_single_issue(value: object, type_name: str) -> None:
    assert _issues(RELEASE_CREATE, value) == [
        {"message": f"Expected object, received {type_name}", "path": []},
    ]


# --- integers -----------------------------------------------------------------------------


def test_integral_float_counts_as_an_integer() -> None:
    cleaned, issues = validate(LICENSE_EXPIRY, _license(hwidLimit=5.0))
    assert issues == []
    assert cleaned is not None
    assert cleaned["hwidLimit"] == 5
    assert type(cleaned["hwidLimit"]) is int


def test_fractional_number_is_not_an_integer() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=5.5)) == [
        {"message": "Expected integer, received float", "path": ["hwidLimit"]},
    ]


def test_boolean_is_not_a_number() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=True)) == [
        {"message": "Expected number, received boolean", "path": ["hwidLimit"]},
    ]


def test_numeric_string_is_not_a_number() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit="5")) == [
        {"message": "Expected number, received string", "path": ["hwidLimit"]},
    ]


def test_number_below_minimum() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=0)) == [
        {"message": "Number must be greater than or equal to 1", "path": ["hwidLimit"]},
    ]


def test_number_above_maximum() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=1001)) == [
        {"message": "Number must be less than or equal to 1000", "path": ["hwidLimit"]},
    ]


def test_range_bounds_are_inclusive() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=1)) == []
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=1000)) == []


def test_fraction_below_minimum_reports_range_before_integrality() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=0.5)) == [
        {"message": "Number must be greater than or equal to 1", "path": ["hwidLimit"]},
        {"message": "Expected integer, received float", "path": ["hwidLimit"]},
    ]


def test_huge_integer_is_above_maximum() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=10**40)) == [
        {"message": "Number must be less than or equal to 1000", "path": ["hwidLimit"]},
    ]


def test_infinite_float_is_above_maximum_and_not_an_integer() -> None:
    assert _issues(LICENSE_EXPIRY, _license(hwidLimit=float("inf"))) == [
        {"message": "Number must be less than or equal to 1000", "path": ["hwidLimit"]},
        {"message": "Expected integer, received float", "path": ["hwidLimit"]},
    ]


# --- nullable fields ----------------------------------------------------------------------


def test_required_nullable_field_still_needs_the_key() -> None:
    body = _license()
    del body["expirationStart"]
    assert _issues(LICENSE_EXPIRY, body) == [
        {"message": "Required", "path": ["expirationStart"]},
    ]


def test_nullable_enum_wrong_type_names_the_values() -> None:
    assert _issues(LICENSE_EXPIRY, _license(expirationStart=3)) == [
        {
            "message": "Expected 'CREATION' | 'ACTIVATION', received number",
            "path": ["expirationStart"],
        },
    ]


def test_nullable_integer_wrong_type_names_number() -> None:
    assert _issues(LICENSE_EXPIRY, _license(expirationDays="30")) == [
        {"message": "Expected number, received string", "path": ["expirationDays"]},
    ]


# --- cross-field rules --------------------------------------------------------------------


def test_duration_without_days_fails_the_cross_field_rule() -> None:
    body = _license(expirationType="DURATION", expirationStart="CREATION")
    assert _issues(LICENSE_EXPIRY, body) == [
        {
            "message": "expirationStart and expirationDays are required when expirationType is "
            "DURATION",
            "path": ["expirationDays"],
        },
    ]


def test_complete_duration_passes_the_cross_field_rule() -> None:
    body = _license(expirationType="DURATION", expirationStart="ACTIVATION", expirationDays=30)
    cleaned, issues = validate(LICENSE_EXPIRY, body)
    assert issues == []
    assert cleaned == body


def test_never_with_values_reports_at_the_root() -> None:
    assert _issues(LICENSE_EXPIRY, _license(expirationDays=30)) == [
        {
            "message": "expirationStart, expirationDate and expirationDays must be null when "
            "expirationType is NEVER",
            "path": [],
        },
    ]


def test_cross_field_rules_are_skipped_when_a_field_rule_fails() -> None:
    body = _license(expirationType="DURATION", hwidLimit=0)
    assert _issues(LICENSE_EXPIRY, body) == [
        {"message": "Number must be greater than or equal to 1", "path": ["hwidLimit"]},
    ]


def test_cross_field_rules_are_skipped_when_a_key_is_unknown() -> None:
    body = _license(expirationType="DURATION", extra=1)
    assert _issues(LICENSE_EXPIRY, body) == [
        {"message": "Unrecognized key(s) in object: 'extra'", "path": []},
    ]


def test_cross_field_rules_report_in_declared_order() -> None:
    def first(cleaned: dict[str, object]) -> Issue:
        return Issue("first", ("a",))

    def second(cleaned: dict[str, object]) -> Issue:
        return Issue("second")

    schema = Object({"a": Field(Boolean())}, cross_field_rules=(first, second))
    assert _issues(schema, {"a": True}) == [
        {"message": "first", "path": ["a"]},
        {"message": "second", "path": []},
    ]


def test_cross_field_issue_path_is_relative_to_its_object() -> None:
    def inner_rule(cleaned: dict[str, object]) -> Issue:
        return Issue("bad pair", ("b",))

    inner = Object({"b": Field(Boolean())}, cross_field_rules=(inner_rule,))
    schema = Object({"items": Field(Array(inner))})
    assert _issues(schema, {"items": [{"b": True}]}) == [
        {"message": "bad pair", "path": ["items", 0, "b"]},
    ]


# --- the pieces ---------------------------------------------------------------------------


def test_optional_field_without_default_is_omitted() -> None:
    schema = Object({"a": Field(Boolean(), required=False)})
    assert validate(schema, {}) == ({}, [])


def test_required_field_with_default_is_rejected() -> None:
    with pytest.raises(ValueError, match="required field"):
        Field(Boolean(), default=False)


def test_issue_as_json_lists_the_path() -> None:
    assert Issue("Required", ("metadata", 0, "key")).as_json() == {
        "message": "Required",
        "path": ["metadata", 0, "key"],
    }
