"""Provides what the checks share: the check definition, the state a run builds up, and the
helpers that judge the engine's provisioning-log records and the endpoint's read-backs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.check.model import ESCROW, QUARANTINE, CheckFailed, Exchange
from sandbox.check.readback import listed, same, value_at
from sandbox.check.session import Session
from sandbox.engine.scim.target_errors import ErrorCode
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.tenant.model import DirectoryUser


@dataclass
class State:
    """What earlier checks left for later ones (the test objects and what the endpoint said)."""

    user: DirectoryUser | None = None
    """The user the lifecycle runs through."""
    managed: DirectoryUser | None = None
    """The user whose manager is set, changed and removed (its own, so that a refused
    manager change, retried by Entra in every cycle, leaves the other checks alone)."""
    managers: list[DirectoryUser] = field(default_factory=list)
    group_id: str = ""
    group_name: str = ""
    immutable: set[str] = field(default_factory=set)
    """Attributes /Schemas marks immutable or readOnly (not compared after an update)."""
    canonical: dict[str, set[str]] = field(default_factory=dict)
    """Attributes /Schemas gives canonicalValues (the value sent, kept as its canonical
    form, reads back as one of them: readback.kept_as_canonical)."""


@dataclass(frozen=True)
class Check:
    """One check: `run` raises CheckFailed or CheckSkipped, or returns when it passed."""

    id: str
    title: str
    run: Callable[[Session, State], None]
    required: bool = True
    needs: tuple[str, ...] = ()
    """Checks that must have passed first (else this one is skipped)."""


def entra_next_for(record: LogRecord, session: Session) -> str:
    """What Entra does after the failure a record shows."""
    report = session.last_report
    if report is not None and report.quarantine is not None:
        return QUARANTINE
    if record.error_code in (ErrorCode.UNAUTHORIZED, ErrorCode.SERVICE_INCOMPATIBLE):
        return QUARANTINE
    return ESCROW


def first_failure(exchanges: list[Exchange]) -> Exchange | None:
    """The first exchange answered with an error (or not answered), else the last one."""
    for exchange in exchanges:
        if not 200 <= exchange.status < 300:
            return exchange
    return exchanges[-1] if exchanges else None


def _failing(session: Session, record: LogRecord) -> Exchange | None:
    """The exchange that failed a record: among its own, else the first failed one of the
    check (a disable is sent after the users pass, under the cycle's own record)."""
    own = session.exchanges_of(record)
    for exchanges in (own, session.exchanges_since(session.step_mark)):
        for exchange in exchanges:
            if not 200 <= exchange.status < 300:
                return exchange
    return first_failure(own)


def _detail(exchange: Exchange | None) -> str:
    """The `detail` of a SCIM error answer (RFC 7644 §3.12), or empty."""
    import json

    if exchange is None or not exchange.response_body or 200 <= exchange.status < 300:
        return ""
    try:
        body = json.loads(exchange.response_body)
    except ValueError:
        return ""
    detail = str(body.get("detail") or "") if isinstance(body, dict) else ""
    return " ".join(detail.split())


def expect_record(session: Session, source_id: str, action: str, name: str) -> LogRecord:
    """The cycle's record of `action` for an object, Successful; else CheckFailed with its
    reason and error code."""
    records = session.records(source_id)
    report = session.last_report
    if report is not None and report.quarantine is not None:
        quarantine = report.quarantine
        raise CheckFailed(
            f"the cycle was quarantined ({quarantine.reason}): {quarantine.error}".rstrip(": "),
            QUARANTINE,
        )
    wanted = [r for r in records if r.action == action] or records
    if not wanted:
        raise CheckFailed(f"the engine logged nothing for {name} (expected {action})")
    record = wanted[-1]
    if record.status == "Failure":
        first_line = (record.reason or "").splitlines()[0] if record.reason else ""
        exchange = _failing(session, record)
        said = _detail(exchange)
        raise CheckFailed(
            f"{action} of {name} failed: {record.error_code}"
            + (f' (the endpoint said "{said}")' if said else f": {first_line}"),
            entra_next_for(record, session),
            exchange,
        )
    if record.status == "Warning":
        raise CheckFailed(
            f"{action} of {name} ended with a warning: {record.reason}",
            exchange=_failing(session, record),
            entra_next="Entra logs a warning and does not retry a failed reference (manager, member) "
            "change (§8.1).",
        )
    if record.action != action:
        raise CheckFailed(
            f"expected the engine to log {action} for {name}, it logged {record.action} "
            f"{record.status}: {record.reason or ''}".rstrip(": ")
        )
    return record


def read_user(session: Session, target_id: str, name: str) -> dict[str, object]:
    """GET /Users/{id}: the resource, or CheckFailed."""
    status, body, _ = session.probe.send("GET", f"/Users/{target_id}")
    if status != 200 or not isinstance(body, dict):
        raise CheckFailed(
            f"GET /Users/{target_id} for {name} answered {status or 'nothing'}, expected 200 "
            "with the user",
            "Entra reads a linked user by id before each update: a 404 is InvalidAnchor "
            "(escrowed; restart to match again), other answers escrow the user (§2.8).",
        )
    return body


def query(session: Session, resource: str, attribute: str, value: str) -> tuple[int, object]:
    """GET /{resource}?filter=attribute eq "value" (the filter Entra sends); (status, body)."""
    from sandbox.engine.scim.wire import encode_query, filter_params

    q = encode_query(filter_params(attribute, value, resource=resource))
    status, body, _ = session.probe.send("GET", f"/{resource}", q)
    return status, body


MATCHING = (
    "Entra matches on this filter: no result creates a duplicate, several fail the object "
    "with DuplicateTargetEntries, another object's answer links the wrong one (§4)."
)


def _listing(
    session: Session, resource: str, attribute: str, value: str
) -> tuple[int, list[dict[str, object]]]:
    """The filter's ListResponse (totalResults, Resources); else CheckFailed."""
    status, body = query(session, resource, attribute, value)
    result = listed(body) if status == 200 else None
    if result is None:
        raise CheckFailed(
            f'GET /{resource}?filter={attribute} eq "{value}" answered {status}, expected 200 '
            "with a ListResponse",
            QUARANTINE if status == 404 else ESCROW,
        )
    return result


def expect_found(
    session: Session, resource: str, attribute: str, value: str, target_id: str | None
) -> None:
    """The filter finds exactly the object with `target_id`, and it has `value` at
    `attribute` (an endpoint that ignores the filter returns an object all the same when it
    holds only one); else CheckFailed."""
    total, items = _listing(session, resource, attribute, value)
    ids = [str(i.get("id")) for i in items]
    if total != 1 or ids != [target_id]:
        raise CheckFailed(
            f'filter {attribute} eq "{value}" returned {total} result(s) {ids}, expected '
            f"exactly the one with id {target_id}",
            MATCHING,
        )
    got = value_at(items[0], attribute)
    if not same(got, value):  # RFC 7644 §3.4.2.2: eq, case-insensitive unless caseExact
        raise CheckFailed(
            f'filter {attribute} eq "{value}" returned {target_id} with {attribute} {got!r}: '
            "the filter was not applied, or the value sent was not kept",
            MATCHING,
        )


def expect_no_match(session: Session, resource: str, attribute: str) -> None:
    """A filter on a value no object has (a fresh GUID) finds nothing; else CheckFailed."""
    import uuid

    guid = str(uuid.uuid4())
    total, items = _listing(session, resource, attribute, guid)
    if total != 0 or items:
        raise CheckFailed(
            f'filter {attribute} eq "{guid}" (no such {resource[:-1].lower()}) returned '
            f"{total} result(s), expected none: the filter is not applied",
            MATCHING,
        )
