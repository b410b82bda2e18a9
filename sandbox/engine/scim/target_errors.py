"""Provides what the SCIM target reports: Entra's error codes and texts, the exchanges it
made, TargetError and Test connection's result (docs/entra-behaviour.md §2.2, §2.8, §8.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

from sandbox.errors import SandboxError

CONNECTION_OK = "The specified credentials have permission to enable provisioning."
"""Test Connection's success text as the Nulab guide quotes it (Microsoft Learn only
paraphrases it, docs/entra-behaviour.md §2.2)."""
INVALID_CREDENTIALS = (
    "You appear to have entered invalid credentials. Please confirm you are using the correct "
    "information for an administrative account."
)
NOT_FOUND_REASON = (
    "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. "
    "To address this issue, ensure that the tenant URL is correct. The tenant URL is usually in "
    "a format like: https://<>/scim. If this does not resolve the issue, contact the application "
    "developer to ensure their SCIM endpoint conforms with the protocol "
    "https://tools.ietf.org/html/rfc7644#section-3.4.2"
)
"""The quarantine text for a 404 on a query (grokability/snipe-it#11913, #14708)."""
INCOMPATIBLE_REASON = (
    "We are not able to deserialize the resource received from your SCIM endpoint because your "
    "SCIM endpoint is not fully compatible with the Azure Active Directory SCIM client. Here is "
    "the resource we received from your SCIM endpoint: "
)
BAD_REQUEST_REASON = (
    "The SCIM endpoint is not fully compatible with the Azure Active Directory SCIM client. "
    "Please refer to the Azure Active Directory SCIM provisioning documentation and adapt the "
    "SCIM endpoint to be able to process provisioning requests from Azure Active Directory.\n"
)
"""1Password/scim-examples#82; the caller appends "This operation was retried N times...". """
_WEB_RESPONSE = (
    "StatusCode: {name}\nMessage: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details.\nWeb Response: {body}"
)
BODY_CHARS = 1000
"""How much of a response body an error reason or a response summary quotes."""


class ErrorCode:
    """Entra provisioning-log error codes the target raises (§2.8, §8.4)."""

    BAD_REQUEST = "SystemForCrossDomainIdentityManagementBadRequest"
    SERVICE_INCOMPATIBLE = "SystemForCrossDomainIdentityManagementServiceIncompatible"
    MULTIPLE_ENTRIES = "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"
    DUPLICATE_TARGET_ENTRIES = "DuplicateTargetEntries"
    UNAUTHORIZED = "Unauthorized"
    INSUFFICIENT_RIGHTS = "InsufficientRights"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    INVALID_ANCHOR = "InvalidAnchor"
    ENTRY_CONFLICT = "EntryConflict"
    UNPROCESSABLE_ENTITY = "UnprocessableEntity"
    TOO_MANY_REQUESTS = "TooManyRequests"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    TIMEOUT = "Timeout"
    WEB_EXCEPTION = "WebExceptionProtocolError"


@dataclass(frozen=True, slots=True)
class EngineExchange:
    """One request the engine sent and what came back (`status` None: no response)."""

    number: int
    ref: str
    """The note under which the request log keeps it, e.g. ``engine#1a2b3c4d-7``."""
    at: datetime
    method: str
    path: str
    query: str
    status: int | None
    latency_ms: float
    request_body: str | None
    response_body: str | None
    error: str | None = None

    @property
    def request_line(self) -> str:
        """``METHOD /path?query`` as sent."""
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")

    @property
    def response_summary(self) -> str:
        """``HTTP 404 Not Found: <body start>`` or the transport error."""
        if self.status is None:
            return f"no response: {self.error}"
        phrase = status_phrase(self.status)
        body = (self.response_body or "")[:BODY_CHARS]
        return f"HTTP {self.status} {phrase}" + (f": {body}" if body else "")


class TargetError(SandboxError):
    """A SCIM request failed the way Entra's provisioning log would record it."""

    def __init__(
        self,
        error_code: str,
        reason: str,
        *,
        status: int | None = None,
        exchange: EngineExchange | None = None,
        retry_after: float | None = None,
        quarantines: bool = False,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{error_code}: {reason}")
        self.error_code = error_code
        self.reason = reason
        self.status = status
        self.exchange = exchange
        self.retry_after = retry_after
        """Seconds from Retry-After (429/503); the caller waits on its simulated clock."""
        self.quarantines = quarantines
        """Credential or SCIM-compliance failure: quarantines regardless of counts (§8.2)."""
        self.retryable = retryable
        """Resent within the cycle once Retry-After has passed (429, §2.8)."""
        self.exchange_seq: int | None = None
        """The request-log seq of `exchange`, when the target has a request log."""

    @property
    def request(self) -> str:
        """The request line, or "" when the error came from no request."""
        return self.exchange.request_line if self.exchange else ""

    @property
    def response(self) -> str:
        """The response summary (status and body start) or the transport error."""
        return self.exchange.response_summary if self.exchange else ""


class DuplicateEntries(TargetError):
    """Several target objects match where exactly one may be linked (§4)."""

    def __init__(
        self, resource: str, attribute: str, value: str, matches: int, exchange: EngineExchange
    ) -> None:
        reason = (
            f'{matches} {resource.lower()} in the target match {attribute} eq "{value}"; '
            "exactly one is needed to link."
        )
        super().__init__(ErrorCode.DUPLICATE_TARGET_ENTRIES, reason, status=200, exchange=exchange)
        self.matches = matches
        """How many matched."""


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """Test Connection's outcome: the portal message and the exchange behind it."""

    ok: bool
    message: str
    exchange: EngineExchange | None = None
    error: TargetError | None = None


def status_phrase(status: int) -> str:
    """The status's reason phrase ("Not Found"), "" for a status HTTP does not name."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def web_response(status: int, body: str) -> str:
    """The "StatusCode: ... Web Response: <body>" text Entra's reasons quote."""
    name = status_phrase(status).replace(" ", "").replace("-", "") or str(status)
    return _WEB_RESPONSE.format(name=name, body=body[:BODY_CHARS])


@dataclass(frozen=True)
class Listed:
    """A SCIM ListResponse read (RFC 7644 §3.4.2): its totalResults and Resources."""

    total: int
    resources: list[object]


def list_response(body: object) -> Listed | None:
    """`body` read as a SCIM ListResponse, or None when it is not shaped as one."""
    if not isinstance(body, dict):
        return None
    total, resources = body.get("totalResults"), body.get("Resources", [])
    if not isinstance(total, int) or isinstance(total, bool) or not isinstance(resources, list):
        return None
    return Listed(total, resources)
