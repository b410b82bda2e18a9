"""Provides classify_status: what Entra's provisioning log makes of an HTTP error status (its
error code, reason, whether the request is resent in the cycle, whether the job is
quarantined), and retry_after_seconds for the Retry-After header (docs/entra-behaviour.md
§2.8, §8.2).

Pure functions of the status, the body and the request's context; the target sends, these
decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from sandbox.engine.scim.target_errors import (
    BAD_REQUEST_REASON,
    NOT_FOUND_REASON,
    ErrorCode,
    web_response,
)

RequestKind = Literal["query", "read", "write", "create"]
"""What a request was: a filter query, a read or a write by id, or a create."""


@dataclass(frozen=True, slots=True)
class StatusVerdict:
    """How Entra classifies one error status."""

    error_code: str
    reason: str
    retryable: bool = False
    """Resent within the cycle once Retry-After has passed (429 only, §2.8); other failures
    are escrowed and retried in later cycles (§8.1)."""
    quarantines: bool = False
    """Credential or SCIM-compliance failure: quarantines regardless of counts (§8.2)."""
    reads_retry_after: bool = False
    """The response's Retry-After is reported (429 and 503)."""


def classify_status(status: int, body: str, *, kind: RequestKind, path: str) -> StatusVerdict:
    """Entra's verdict on a non-2xx `status` with response `body`, for a request of `kind` to
    `path` (a 404 means a gone object only for a read or write by id)."""
    web = web_response(status, body)
    if status == 400:
        return StatusVerdict(ErrorCode.BAD_REQUEST, BAD_REQUEST_REASON + web)
    if status == 401:
        # The quarantine e-mail's wording (§2.8, grokability/snipe-it#14138).
        reason = (
            "While attempting to validate our authorization to access your application, "
            f"we received this unexpected response: {web}"
        )
        return StatusVerdict(ErrorCode.UNAUTHORIZED, reason, quarantines=True)
    if status == 403:
        return StatusVerdict(ErrorCode.INSUFFICIENT_RIGHTS, web)
    if status == 404 and kind in ("read", "write"):
        # A linked object answered 404: the anchor is gone (§2.8).
        reason = (
            f"The object previously created or matched in the target ({path}) "
            "no longer exists: HTTP/404 Not Found. Restart provisioning to match it again."
        )
        return StatusVerdict(ErrorCode.INVALID_ANCHOR, reason)
    if status == 404:
        # A query (or create) that 404s is a SCIM-compliance failure that quarantines the
        # job with this text (§2.8, §9); the code Entra logs for a non-compliant endpoint.
        return StatusVerdict(ErrorCode.SERVICE_INCOMPATIBLE, NOT_FOUND_REASON, quarantines=True)
    if status == 405:
        return StatusVerdict(ErrorCode.METHOD_NOT_ALLOWED, web)
    if status == 409:
        reason = (
            "The target returned an error response with the HTTP status code 409. This "
            "response indicates that a user or a group already exists with the same name. " + web
        )
        return StatusVerdict(ErrorCode.ENTRY_CONFLICT, reason)
    if status == 422:
        return StatusVerdict(ErrorCode.UNPROCESSABLE_ENTITY, web)
    if status == 429:
        return StatusVerdict(ErrorCode.TOO_MANY_REQUESTS, web, retryable=True,
                             reads_retry_after=True)  # fmt: skip
    if status >= 500:
        return StatusVerdict(ErrorCode.INTERNAL_SERVER_ERROR, web, reads_retry_after=status == 503)
    if status < 400:  # a redirect (not followed) or an informational answer
        return StatusVerdict(ErrorCode.WEB_EXCEPTION, web)
    return StatusVerdict(ErrorCode.BAD_REQUEST, BAD_REQUEST_REASON + web)


def retry_after_seconds(value: str | None, now: Callable[[], datetime]) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date, counted from `now()` (read only
    for a date); None when absent or unreadable (RFC 9110 §10.2.3)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now()).total_seconds())
