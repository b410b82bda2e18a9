"""How Entra classifies an HTTP error status: its provisioning-log error code, whether the
request is resent within the cycle, whether the job is quarantined (docs/entra-behaviour.md
§2.8, §8.2), and Retry-After read as seconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.engine.scim.status import classify_status, retry_after_seconds
from sandbox.engine.scim.target_errors import (
    BAD_REQUEST_REASON,
    NOT_FOUND_REASON,
    ErrorCode,
    web_response,
)

SCIM_ERROR = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409"}'

# (status, body, kind, expected code, retryable, quarantines, reads Retry-After)
TABLE = [
    (400, "bad", "create", ErrorCode.BAD_REQUEST, False, False, False),
    (401, "", "query", ErrorCode.UNAUTHORIZED, False, True, False),
    (403, "no", "write", ErrorCode.INSUFFICIENT_RIGHTS, False, False, False),
    (404, "", "read", ErrorCode.INVALID_ANCHOR, False, False, False),
    (404, "", "write", ErrorCode.INVALID_ANCHOR, False, False, False),
    (404, "", "query", ErrorCode.SERVICE_INCOMPATIBLE, False, True, False),
    (404, "", "create", ErrorCode.SERVICE_INCOMPATIBLE, False, True, False),
    (405, "", "write", ErrorCode.METHOD_NOT_ALLOWED, False, False, False),
    (409, SCIM_ERROR, "create", ErrorCode.ENTRY_CONFLICT, False, False, False),
    (422, "", "write", ErrorCode.UNPROCESSABLE_ENTITY, False, False, False),
    (429, "", "query", ErrorCode.TOO_MANY_REQUESTS, True, False, True),
    (500, "boom", "query", ErrorCode.INTERNAL_SERVER_ERROR, False, False, False),
    (502, "", "write", ErrorCode.INTERNAL_SERVER_ERROR, False, False, False),
    (503, "", "write", ErrorCode.INTERNAL_SERVER_ERROR, False, False, True),
    (302, "", "query", ErrorCode.WEB_EXCEPTION, False, False, False),
    (101, "", "query", ErrorCode.WEB_EXCEPTION, False, False, False),
    (418, "", "write", ErrorCode.BAD_REQUEST, False, False, False),
    (499, "", "query", ErrorCode.BAD_REQUEST, False, False, False),
]


@pytest.mark.parametrize(
    ("status", "body", "kind", "code", "retryable", "quarantines", "reads_retry_after"),
    TABLE,
    ids=[f"{row[0]}-{row[2]}" for row in TABLE],
)
def test_a_status_is_classified_as_entra_does(
    status, body, kind, code, retryable, quarantines, reads_retry_after
):
    verdict = classify_status(status, body, kind=kind, path="/scim/v2/Users/42")
    assert verdict.error_code == code
    assert verdict.retryable is retryable
    assert verdict.quarantines is quarantines
    assert verdict.reads_retry_after is reads_retry_after


def test_the_reason_quotes_the_web_response_with_the_body():
    verdict = classify_status(409, SCIM_ERROR, kind="create", path="/scim/v2/Users")
    assert verdict.reason.startswith(
        "The target returned an error response with the HTTP status code 409."
    )
    assert verdict.reason.endswith(web_response(409, SCIM_ERROR))
    assert "StatusCode: Conflict\nMessage: Processing of the HTTP request" in verdict.reason
    assert f"Web Response: {SCIM_ERROR}" in verdict.reason


def test_a_bad_request_says_the_endpoint_is_not_fully_compatible():
    verdict = classify_status(400, "nope", kind="write", path="/scim/v2/Users/1")
    assert verdict.reason == BAD_REQUEST_REASON + web_response(400, "nope")


def test_a_gone_anchor_names_the_path_and_a_404_query_gives_the_quarantine_text():
    gone = classify_status(404, "", kind="read", path="/scim/v2/Users/42")
    assert "(/scim/v2/Users/42) no longer exists: HTTP/404 Not Found" in gone.reason
    assert classify_status(404, "", kind="query", path="/scim/v2/Users").reason == NOT_FOUND_REASON


def test_an_unauthorized_reason_is_the_quarantine_mail_wording():
    verdict = classify_status(401, "denied", kind="query", path="/scim/v2/Users")
    assert verdict.reason.startswith(
        "While attempting to validate our authorization to access your application, we "
        "received this unexpected response: StatusCode: Unauthorized"
    )


def test_the_quoted_body_is_cut_at_a_thousand_characters():
    verdict = classify_status(500, "x" * 5000, kind="query", path="/scim/v2/Users")
    assert verdict.reason.endswith("Web Response: " + "x" * 1000)


NOW = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sun, 01 Mar 2026 09:01:30 GMT", 90.0),
        ("Sun, 01 Mar 2026 08:00:00 GMT", 0.0),  # a date past is now
        ("soon", None),
    ],
)
def test_retry_after_is_delta_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value, lambda: NOW) == seconds


def test_retry_after_reads_the_clock_only_for_a_date():
    def clock() -> datetime:
        raise AssertionError("the clock was read")

    assert retry_after_seconds("30", clock) == 30.0
