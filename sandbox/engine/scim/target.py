"""Provides ScimTarget: the SCIM client half of the mock Entra engine, speaking HTTP via httpx.

Every request goes over HTTP (STYLE rule 1), carries ``Authorization: Bearer <token>``,
``Accept: application/scim+json`` and, with a body, ``Content-Type: application/scim+json``,
and no User-Agent (Entra sends none, kortix-ai/suna#7297). Failures become `TargetError` with
Entra's provisioning-log error code (docs/entra-behaviour.md §2.8).

Exchanges: each request is an `EngineExchange` numbered by the target (1, 2, ...) and appended
to the request log (side "engine", Authorization redacted by the log) with the note
`EngineExchange.ref`. The caller gets them three ways: ``with target.recording() as seen:``
collects the exchanges made *by the calling thread* inside the block (the way to attach them
to one provisioning-log entry while other workers run); ``target.exchanges_since(marker)``
returns every exchange after ``marker = target.marker()``; a `TargetError` carries its
`exchange`. The request-log ``seq`` of an exchange is found with `log_seq` (flushes the log);
a `TargetError` gets it eagerly as `exchange_seq` when a request log is attached.

Transport: requests go straight to an httpx transport (`over_http`: the engine's keep-alive
transport, sandbox/engine/scim/transport.py; tests and scenarios: httpx's WSGI or mock transport).
Entra keeps no cookies, follows no redirects and adds no headers of its own, so httpx.Client's
layer (cookie jar, redirects, auth, default headers) is not between the engine and the wire.

Concurrency: one ScimTarget may be used from up to `max_concurrency` threads at once; further
callers wait on a semaphore (each thread keeps its own keep-alive connection). `Retry-After` is only reported (`TargetError.retry_after`);
the target never sleeps.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import httpx

from sandbox import jsontext
from sandbox.engine.scim.status import RequestKind, classify_status, retry_after_seconds
from sandbox.engine.scim.target_errors import (
    BODY_CHARS,
    CONNECTION_OK,
    INCOMPATIBLE_REASON,
    INVALID_CREDENTIALS,
    ConnectionResult,
    DuplicateEntries,
    EngineExchange,
    ErrorCode,
    TargetError,
    list_response,
    status_phrase,
)
from sandbox.engine.scim.tenant_url import TenantUrl
from sandbox.engine.scim.transport import (
    KeepAliveTransport,
    WireResponse,
    header_ok,
    proxy_for,
    request_head,
)
from sandbox.engine.scim.wire import encode_query, filter_params
from sandbox.requestlog import Exchange, RequestLog
from sandbox.scim_names import SCIM_JSON

_JOURNAL = 10_000
_NAME = random.Random(0).getrandbits(32)


class _HasNow(Protocol):
    def now(self) -> datetime: ...


Response = httpx.Response | WireResponse
"""A response as the target reads it: httpx's (any httpx transport) or the engine transport's."""

SCIM_JSON_BYTES = SCIM_JSON.encode()

_PLAIN = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]]|%[0-9A-Fa-f]{2})*")
"""A path that httpx sends as it is: no character it would percent-encode."""
_PLAIN_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]]|%[0-9A-Fa-f]{2})*")
"""A query that httpx sends as it is ("?" allowed as well)."""


def _raw_target(base: bytes, path: str, query: str) -> bytes | None:
    """The request target httpx would send for base + path (+ ?query), or None where it
    would change them (percent-encode a character, remove a dot segment): then httpx's own
    URL is used."""
    if not _PLAIN.fullmatch(path) or "/." in path or (query and not _PLAIN_QUERY.fullmatch(query)):
        return None
    target = base + path.encode("ascii")
    return target + b"?" + query.encode("ascii") if query else target


def _text(response: Response) -> str:
    """The response body as text. SCIM bodies are UTF-8 JSON (RFC 7644 §3.8): decoded as such
    unless the Content-Type names another charset (httpx's charset lookup, which parses the
    header with the email package, is then used)."""
    content_type = response.headers.get("content-type") or ""
    if "charset" in content_type.lower() and "utf-8" not in content_type.lower():
        return response.text
    return response.content.decode("utf-8", "replace")


class ScimTarget:
    """Entra's SCIM client for one tenant URL and Secret Token (see the module docstring)."""

    def __init__(
        self,
        transport: httpx.BaseTransport,
        tenant_url: str,
        token: str,
        *,
        request_log: RequestLog | None = None,
        clock: Callable[[], datetime] | _HasNow | None = None,
        timeout: float = 30.0,
        max_concurrency: int = 4,
        rng: random.Random | None = None,
        owns_transport: bool = False,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.transport = transport
        self.tenant_url = tenant_url
        self.base_url = TenantUrl.parse(tenant_url).base
        self.dialect = TenantUrl.parse(tenant_url).dialect
        self.request_log = request_log
        # A callable or a clock object with now() (the engine's SimClock): stamps the log.
        if clock is None:
            self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        elif callable(clock):
            self.clock = clock
        else:
            self.clock = clock.now
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.rng = rng or random.Random(0)
        self._token = token
        self._owns_transport = owns_transport
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        # The exchanges' name prefix does not draw from `rng`: it is the same for every target
        # (as transcripts record it), while `rng` gives each Test connection its GUID.
        self._name = f"engine#{_NAME:08x}"
        # Concurrency slots as tokens in a queue written in C: a BoundedSemaphore (Python,
        # over a Condition) cost about 1.3 us a request each way, a token 0.07.
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(max_concurrency):
            self._slots.put(None)
        self._lock = threading.Lock()
        self._count = 0
        self._journal: deque[EngineExchange] = deque(maxlen=_JOURNAL)
        self._local = threading.local()
        self._wire = self._wire_path()

    @classmethod
    def over_http(
        cls,
        tenant_url: str,
        token: str,
        *,
        request_log: RequestLog | None = None,
        clock: Callable[[], datetime] | _HasNow | None = None,
        timeout: float = 30.0,
        max_concurrency: int = 4,
        rng: random.Random | None = None,
    ) -> ScimTarget:
        """A target with its own transport: a keep-alive connection per thread, `timeout`
        seconds per request, redirects not followed (through the environment's proxy, with
        httpx's transport, when one is set for the URL). Close it with `close()`."""
        proxy = proxy_for(tenant_url)
        transport: httpx.BaseTransport = (
            KeepAliveTransport() if proxy is None else httpx.HTTPTransport(proxy=proxy)
        )
        return cls(
            transport,
            tenant_url,
            token,
            request_log=request_log,
            clock=clock,
            timeout=timeout,
            max_concurrency=max_concurrency,
            rng=rng,
            owns_transport=True,
        )

    def _wire_path(self) -> tuple[KeepAliveTransport, httpx.URL, bytes, bytes] | None:
        """With the engine's own transport: (transport, base URL, its raw path, Host), what
        `_send` needs to write requests as bytes without httpx's models (their URL parsing and
        headers cost about a third of the engine's CPU in an initial cycle). None for other
        transports (WSGI, mock, a proxy) and for a token that cannot be sent as a header."""
        if not isinstance(self.transport, KeepAliveTransport):
            return None
        if not header_ok(b"Authorization", f"Bearer {self._token}".encode()):
            return None  # httpx's path refuses it with its own error
        if "/." in self.base_url or "?" in self.base_url or "#" in self.base_url:
            return None  # httpx would rewrite it (dot segments) or it ends early
        try:
            probe = httpx.Request("GET", self.base_url + "/x")  # the path as httpx joins it
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return None
        host = probe.headers.raw[0]
        if host[0] != b"Host" or not probe.url.raw_path.endswith(b"/x"):
            return None
        return self.transport, probe.url, probe.url.raw_path[:-2], host[1]

    def close(self) -> None:
        """Close the transport if this target created it."""
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> ScimTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- exchanges ---------------------------------------------------------------------------

    def marker(self) -> int:
        """The number of the latest exchange (0 before any): pass it to `exchanges_since`."""
        return self._count

    def exchanges_since(self, marker: int) -> list[EngineExchange]:
        """Every exchange numbered after `marker`, all threads, oldest first (last 10,000)."""
        with self._lock:
            return [e for e in self._journal if e.number > marker]

    @contextmanager
    def recording(self) -> Iterator[list[EngineExchange]]:
        """Collect the exchanges the calling thread makes inside the block (nests)."""
        stack = self._local.__dict__.setdefault("stack", [])
        seen: list[EngineExchange] = []
        stack.append(seen)
        try:
            yield seen
        finally:
            stack.remove(seen)

    def log_seq(self, exchange: EngineExchange) -> int | None:
        """The request-log seq of `exchange` (flushes the log); None without a log or once
        trimmed. Proposed: RequestLog.append returning the seq would make this a lookup-free call."""
        if self.request_log is None:
            return None
        self.request_log.flush()
        rows = self.request_log.store.query(
            "SELECT seq FROM request_log WHERE side = 'engine' AND notes LIKE ?"
            " ORDER BY seq DESC LIMIT 1",
            [f'["{exchange.ref}"%'],
        )
        return int(rows[0]["seq"]) if rows else None

    def _record(self, exchange: EngineExchange) -> None:
        with self._lock:
            self._journal.append(exchange)
        for seen in getattr(self._local, "stack", ()):
            seen.append(exchange)

    # -- the request loop --------------------------------------------------------------------

    def _send(
        self, method: str, path: str, query: str = "", body: dict[str, object] | None = None
    ) -> tuple[Response | None, EngineExchange, Exception | None]:
        content = None
        if body is not None:
            # Compact JSON, as Entra's captured bodies are written.
            content = jsontext.dumps_bytes(body)
        wire = self._wire
        target = None if wire is None else _raw_target(wire[2], path, query)
        if wire is None or target is None:
            return self._send_httpx(method, path, query, content)
        transport, url, _, host = wire
        # The headers httpx writes for the same request, in its order (Host first).
        headers = [
            (b"Host", host),
            (b"Authorization", b"Bearer " + self._token.encode()),
            (b"Accept", SCIM_JSON_BYTES),
        ]
        if content is not None:
            headers += [(b"Content-Type", SCIM_JSON_BYTES),
                        (b"Content-Length", str(len(content)).encode())]  # fmt: skip
        head = request_head(method, target, headers)
        timed = self._timed(lambda: transport.send(url, method, head, content or b"",
                                                   self._timeouts))  # fmt: skip
        sent_path, _, sent_query = target.decode("ascii").partition("?")
        logged = [(name.decode().lower(), value.decode()) for name, value in headers]
        return self._exchanged(method, *timed, sent_path, sent_query, logged, content)

    def _send_httpx(
        self, method: str, path: str, query: str, content: bytes | None
    ) -> tuple[Response | None, EngineExchange, Exception | None]:
        """`_send` through any httpx transport (WSGI, mock, a proxy's), with httpx's models."""
        url = self.base_url + path + (f"?{query}" if query else "")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": SCIM_JSON}
        if content is not None:
            headers["Content-Type"] = SCIM_JSON
        request = httpx.Request(
            method, url, headers=headers, content=content,
            extensions={"timeout": self._timeouts},
        )  # fmt: skip

        def send() -> Response:
            response = self.transport.handle_request(request)
            response.read()
            return response

        timed = self._timed(send)
        sent_path, _, sent_query = request.url.raw_path.decode("ascii").partition("?")
        return self._exchanged(method, *timed, sent_path, sent_query,
                               list(request.headers.items()), content)  # fmt: skip

    def _timed(
        self, send: Callable[[], Response]
    ) -> tuple[int, datetime, int, float, Response | None, Exception | None]:
        """Number the exchange, then send it within the concurrency slots: (number, at,
        sent_ns, latency_ms, response, failure), a transport error being the failure."""
        with self._lock:
            self._count += 1
            number = self._count
        at = self.clock()
        response: Response | None = None
        failure: Exception | None = None
        started = time.perf_counter()
        slots = self._slots
        slots.get()  # a free slot (blocks while max_concurrency requests are out)
        try:
            sent_ns = time.time_ns()  # before the provider stamps its record of it
            try:
                response = send()
            except httpx.TransportError as exc:
                failure = exc
        finally:
            slots.put(None)
        return number, at, sent_ns, (time.perf_counter() - started) * 1000, response, failure

    def _exchanged(
        self,
        method: str,
        number: int,
        at: datetime,
        sent_ns: int,
        latency: float,
        response: Response | None,
        failure: Exception | None,
        sent_path: str,
        sent_query: str,
        request_headers: list[tuple[str, str]],
        content: bytes | None,
    ) -> tuple[Response | None, EngineExchange, Exception | None]:
        """One exchange recorded: the journal, the calling thread's recordings, the log."""
        exchange = EngineExchange(
            number=number,
            ref=f"{self._name}-{number}",
            at=at,
            method=method,
            path=sent_path,
            query=sent_query,
            status=response.status_code if response is not None else None,
            latency_ms=latency,
            request_body=content.decode() if content else None,
            response_body=_text(response) if response is not None else None,
            error=f"{type(failure).__name__}: {failure}" if failure else None,
        )
        self._record(exchange)
        if self.request_log is not None:
            notes = [exchange.ref] + ([exchange.error] if exchange.error else [])
            self.request_log.append(
                Exchange(
                    at=at,
                    side="engine",
                    method=method,
                    path=exchange.path,
                    query=exchange.query,
                    status=exchange.status or 0,
                    latency_ms=latency,
                    request_headers=request_headers,
                    request_body=content,
                    response_headers=list(response.headers.items()) if response else [],
                    response_body=response.content if response is not None else None,
                    notes=notes,
                    ord=sent_ns,
                )
            )
        return response, exchange, failure

    def _fail(self, error: TargetError) -> TargetError:
        if error.exchange is not None:
            error.exchange_seq = self.log_seq(error.exchange)
        return error

    def _request(
        self, kind: RequestKind, method: str, path: str, query: str = "", body: dict | None = None
    ) -> tuple[Response, EngineExchange]:
        """Send and classify: `kind` is "query", "read" (by id), "write" (by id) or "create"."""
        response, exchange, failure = self._send(method, path, query, body)
        if response is None:
            assert failure is not None
            if isinstance(failure, httpx.TimeoutException):
                reason = f"The request timed out after {self.timeout:g} seconds ({failure})."
                raise self._fail(TargetError(ErrorCode.TIMEOUT, reason, exchange=exchange))
            reason = (
                f"An HTTP protocol error occurred while connecting to {self.base_url}: {failure}"
            )
            raise self._fail(TargetError(ErrorCode.WEB_EXCEPTION, reason, exchange=exchange))
        if response.is_success:
            return response, exchange
        raise self._fail(self._status_error(kind, response, exchange))

    def _status_error(
        self, kind: RequestKind, response: Response, exchange: EngineExchange
    ) -> TargetError:
        verdict = classify_status(response.status_code, response.text, kind=kind,
                                  path=exchange.path)  # fmt: skip
        retry_after = (
            retry_after_seconds(response.headers.get("Retry-After"), self.clock)
            if verdict.reads_retry_after
            else None
        )
        return TargetError(
            verdict.error_code,
            verdict.reason,
            status=response.status_code,
            exchange=exchange,
            retry_after=retry_after,
            quarantines=verdict.quarantines,
            retryable=verdict.retryable,
        )

    def _json(self, response: Response, exchange: EngineExchange) -> object:
        try:
            return response.json()
        except ValueError:
            raise self._incompatible(response, exchange) from None

    def _incompatible(self, response: Response, exchange: EngineExchange) -> TargetError:
        reason = INCOMPATIBLE_REASON + response.text[:BODY_CHARS]
        return self._fail(
            TargetError(
                ErrorCode.SERVICE_INCOMPATIBLE,
                reason,
                status=response.status_code,
                exchange=exchange,
            )
        )

    # -- resources ---------------------------------------------------------------------------

    def _query(
        self, resource: str, attribute: str, value: str
    ) -> tuple[list[dict[str, object]], EngineExchange]:
        query = encode_query(filter_params(attribute, value, resource=resource))
        response, exchange = self._request("query", "GET", f"/{resource}", query)
        listed = list_response(self._json(response, exchange))
        if listed is None:
            raise self._incompatible(response, exchange)
        resources = [r for r in listed.resources if isinstance(r, dict)]
        if len(resources) < min(listed.total, 1) or len(resources) != len(listed.resources):
            raise self._incompatible(response, exchange)
        return resources, exchange

    def _read(self, path: str, query: str = "") -> dict[str, object]:
        response, exchange = self._request("read", "GET", path, query)
        body = self._json(response, exchange)
        listed = list_response(body)
        if listed is not None:
            resources = listed.resources
            if len(resources) > 1 or listed.total > 1:
                reason = f"Expected one object from {exchange.path}, received {len(resources)}."
                raise self._fail(
                    TargetError(ErrorCode.MULTIPLE_ENTRIES, reason, status=200, exchange=exchange)
                )
            body = resources[0] if resources else None
        if not isinstance(body, dict) or not body.get("id"):
            raise self._incompatible(response, exchange)
        return body

    def _create(self, resource: str, doc: dict[str, object]) -> dict[str, object]:
        response, exchange = self._request("create", "POST", f"/{resource}", body=doc)
        body = self._json(response, exchange)
        if not isinstance(body, dict) or not body.get("id"):
            raise self._incompatible(response, exchange)  # §2.3: 201 + body with "id"
        return body

    def _patch(self, path: str, body: dict[str, object]) -> dict[str, object] | None:
        response, _ = self._request("write", "PATCH", path, body=body)
        if response.status_code == 204 or not response.content:
            return None
        try:
            parsed = response.json()
        except ValueError:
            return None  # a PATCH response body is not required (§2.4)
        return parsed if isinstance(parsed, dict) else None

    def test_connection(self, matching_attribute: str = "userName") -> ConnectionResult:
        """Entra's Test Connection: query a random GUID (a new one each call, drawn from the
        target's `rng`, which the service seeds per target), expect 200 + an empty
        ListResponse (§2.2). Never raises: a failure is a result whose message says what was
        wrong."""
        guid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        try:
            found, exchange = self._query("Users", matching_attribute, guid)
        except TargetError as error:
            return ConnectionResult(False, self._connection_message(error), error.exchange, error)
        if found:
            message = (
                f'The query for a user that cannot exist ({matching_attribute} eq "{guid}") '
                f"returned {len(found)} result(s); the SCIM endpoint must answer 200 OK with an "
                "empty ListResponse (totalResults 0)."
            )
            return ConnectionResult(False, message, exchange)
        return ConnectionResult(True, CONNECTION_OK, exchange)

    def _connection_message(self, error: TargetError) -> str:
        if error.error_code == ErrorCode.UNAUTHORIZED:
            return INVALID_CREDENTIALS  # MicrosoftDocs/azure-docs#54231
        if error.status == 404 or error.error_code == ErrorCode.SERVICE_INCOMPATIBLE:
            return error.reason
        if error.status is None:
            return f"Unable to connect to the Tenant URL {self.base_url}: {error.reason}"
        return (
            f"An HTTP/{error.status} {status_phrase(error.status)} response was returned rather than "
            f"the expected HTTP/200 OK response ({error.error_code}). {error.reason}"
        )

    def find_users(self, attribute: str, value: str) -> list[dict[str, object]]:
        """``GET /Users?filter=<attribute> eq "<value>"``: the matching users (§4)."""
        return self._query("Users", attribute, value)[0]

    def match_user(self, attribute: str, value: str) -> dict[str, object] | None:
        """The one user matching, None for none; several raise DuplicateEntries (the
        DuplicateTargetEntries code, §4): how Entra matches a user to link."""
        return self._match("Users", attribute, value)

    def get_user(self, user_id: str) -> dict[str, object]:
        """``GET /Users/{id}`` of a linked user; 404 raises InvalidAnchor (§2.4, §2.8)."""
        return self._read(f"/Users/{quote(user_id, safe='')}")

    def create_user(self, doc: dict[str, object]) -> dict[str, object]:
        """``POST /Users``; the created user with its target ``id`` (§2.3)."""
        return self._create("Users", doc)

    def patch_user(self, user_id: str, body: dict[str, object]) -> dict[str, object] | None:
        """``PATCH /Users/{id}``: the returned resource on 200 with a body, else None."""
        return self._patch(f"/Users/{quote(user_id, safe='')}", body)

    def delete_user(self, user_id: str) -> None:
        """``DELETE /Users/{id}`` (204, §2.6)."""
        self._request("write", "DELETE", f"/Users/{quote(user_id, safe='')}")

    def find_groups(self, display_name: str) -> list[dict[str, object]]:
        """``GET /Groups?excludedAttributes=members&filter=displayName eq "<name>"`` (§9)."""
        return self._query("Groups", "displayName", display_name)[0]

    def match_group(self, display_name: str) -> dict[str, object] | None:
        """The one group of that name, None for none; several raise DuplicateEntries."""
        return self._match("Groups", "displayName", display_name)

    def get_group(self, group_id: str) -> dict[str, object]:
        """``GET /Groups/{id}?excludedAttributes=members``: retrieval never asks for members."""
        return self._read(f"/Groups/{quote(group_id, safe='')}", "excludedAttributes=members")

    def create_group(self, body: dict[str, object]) -> dict[str, object]:
        """``POST /Groups`` (body from `wire.group_post`): the group with its ``id``."""
        return self._create("Groups", body)

    def patch_group(self, group_id: str, body: dict[str, object]) -> dict[str, object] | None:
        """``PATCH /Groups/{id}`` (204 expected, 200 accepted)."""
        return self._patch(f"/Groups/{quote(group_id, safe='')}", body)

    def delete_group(self, group_id: str) -> None:
        """``DELETE /Groups/{id}`` (204)."""
        self._request("write", "DELETE", f"/Groups/{quote(group_id, safe='')}")

    def schemas(self) -> list[dict[str, object]]:
        """``GET /Schemas``: the schema resources the target publishes (RFC 7644 §4), read
        when a mapping is added so only the target's attributes are offered."""
        response, exchange = self._request("query", "GET", "/Schemas")
        listed = list_response(self._json(response, exchange))
        if listed is None:
            raise self._incompatible(response, exchange)
        return [r for r in listed.resources if isinstance(r, dict)]

    def _match(self, resource: str, attribute: str, value: str) -> dict[str, object] | None:
        found, exchange = self._query(resource, attribute, value)
        if len(found) > 1:
            raise self._fail(DuplicateEntries(resource, attribute, value, len(found), exchange))
        return found[0] if found else None
