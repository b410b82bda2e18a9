"""Provides run_checks: the whole suite against one endpoint, each dialect in its own
throwaway tenant and job, the test objects deleted at the end unless kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.check.groups import GROUP_CHECKS
from sandbox.check.model import (
    FAIL,
    PASS,
    SKIPPED,
    CheckFailed,
    CheckReport,
    CheckResult,
    CheckSkipped,
    Exchange,
)
from sandbox.check.protocol import PROTOCOL_CHECKS, SCHEMA_CHECK
from sandbox.check.readback import listed
from sandbox.check.session import DIALECTS, Session, Target
from sandbox.check.steps import Check, State, first_failure
from sandbox.check.users import USER_CHECKS, USER_CHECKS_LAST
from sandbox.engine.mappings.mapping import Mapping
from sandbox.engine.mappings.presets import PRESETS
from sandbox.errors import SandboxError
from sandbox.requestlog import RequestLog
from sandbox.store import Store

if TYPE_CHECKING:
    import httpx

Progress = Callable[[int, int, str], None]
"""progress(done, total, title of the check now running)."""

NO_GROUPS = (
    "groups: not checked, the endpoint has no /Groups ({why}); in Entra turn off "
    '"Provision Microsoft Entra ID Groups", or the first cycle quarantines the job (§9)'
)


@dataclass(frozen=True)
class CheckOptions:
    """What `sandbox check` was asked for."""

    url: str
    token: str
    dialect: str = "both"
    groups: bool | None = None
    """None: when the endpoint says it has groups."""
    mappings: str = "default"
    """A user mapping preset ("default", "nulab") or a mappings file (TOML or JSON)."""
    keep: bool = False
    transport: httpx.BaseTransport | None = None
    """In process (tests, the pytest plugin): the transport to reach the app through."""


def load_mappings(spec: str) -> tuple[tuple[Mapping, ...], str]:
    """The user mappings a preset name or a file gives; (mappings, preset name). A file is
    read by `read_mapping_file` (JSON as `sandbox entra mappings list --json` prints, or TOML
    as in scenarios), every entry checked."""
    if spec in PRESETS and PRESETS[spec].object_type == "User":
        return PRESETS[spec].mappings, spec
    path = Path(spec)
    if not path.is_file():
        users = [k for k, p in PRESETS.items() if p.object_type == "User"]
        raise SandboxError(
            f"--mappings: {spec} is neither a preset ({', '.join(users)}) nor a file"
        )
    from sandbox.engine.sync.mapping_file import read_mapping_file

    return read_mapping_file(path)


def detect_groups(probe_session: Session) -> tuple[bool, str]:
    """Whether the endpoint has groups: /ResourceTypes lists Group, or /Groups answers a
    ListResponse; (has groups, why not)."""
    status, body, _ = probe_session.probe.send("GET", "/ResourceTypes")
    result = listed(body) if status == 200 else None
    if result is not None and result[1]:
        names = {str(r.get("name", r.get("id", ""))).lower() for r in result[1]}
        if "group" in names:
            return True, ""
    status, body, _ = probe_session.probe.send("GET", "/Groups", "count=1")
    if status == 200 and listed(body) is not None:
        return True, ""
    return False, f"GET /Groups answered {status or 'nothing'}"


def _reach(session: Session) -> None:
    """Refuse at once an endpoint that does not answer at all (every check would fail)."""
    status, _, text = session.probe.send("GET", "/ServiceProviderConfig")
    if status == 0:
        raise SandboxError(f"cannot reach {session.target.url}: {text}")
    if status == 401:  # nothing else can pass: said once, as Test Connection says it
        raise SandboxError(
            f"{session.target.url} answers 401 to this token (GET /ServiceProviderConfig): "
            "check --token; Entra's Test Connection would say \"You appear to have entered "
            'invalid credentials"'
        )


def _dialects(dialect: str) -> tuple[str, ...]:
    if dialect == "both":
        return DIALECTS
    if dialect not in DIALECTS:
        raise SandboxError(f"--dialect must be legacy, aadOptscim062020 or both, not {dialect}")
    return (dialect,)


def plan(dialects: tuple[str, ...], groups: bool) -> list[tuple[str, Check]]:
    """(dialect, check) in the order they run."""
    steps: list[tuple[str, Check]] = []
    for nth, dialect in enumerate(dialects):
        if nth == 0:
            steps.append(("any", SCHEMA_CHECK))
        steps += [(dialect, c) for c in USER_CHECKS[:1]]
        if nth == 0:
            steps += [("any", c) for c in PROTOCOL_CHECKS]
        steps += [(dialect, c) for c in USER_CHECKS[1:]]
        if groups:
            steps += [(dialect, c) for c in GROUP_CHECKS]
        steps += [(dialect, c) for c in USER_CHECKS_LAST]
    return steps


def run_checks(options: CheckOptions, progress: Progress | None = None) -> CheckReport:
    """Run the suite (see the module docstring); the report lists every result."""
    dialects = _dialects(options.dialect)
    mappings, preset = load_mappings(options.mappings)
    target = Target(options.url, options.token, options.transport)
    log = RequestLog(Store(":memory:"), limit=1_000_000, background=False)
    report = CheckReport(target=options.url, dialects=dialects, groups=False, kept=options.keep)
    sessions: list[Session] = []
    try:
        first = Session(target, dialects[0], mappings, preset, False, log)
        sessions.append(first)
        _reach(first)
        groups, why = (options.groups, "") if options.groups is not None else (None, "")
        if groups is None:
            groups, why = detect_groups(first)
            if not groups:
                report.groups_note = NO_GROUPS.format(why=why)
        elif not groups:
            report.groups_note = "groups: not checked (--no-groups)"
        report.groups = groups
        first.engine.configure(groups_enabled=groups)
        steps = plan(dialects, groups)
        seen: dict[str, dict[str, CheckResult]] = {}
        states: dict[str, State] = {}
        session = first
        for done, (dialect, check) in enumerate(steps):
            if dialect != "any" and dialect != session.dialect:
                session = Session(target, dialect, mappings, preset, groups, log, first.run_id)
                sessions.append(session)
            if progress:
                progress(done, len(steps), f"{dialect}: {check.title}")
            key = session.dialect
            if key not in states:  # what /Schemas said holds for every dialect
                known = next(iter(states.values()), State())
                states[key] = State(immutable=known.immutable, canonical=known.canonical)
            result = _run_one(session, states[key], check, dialect, seen.setdefault(key, {}))
            report.results.append(result)
        if progress:
            progress(len(steps), len(steps), "done")
    finally:
        for session in sessions:
            if not options.keep:
                report.cleanup_failures += cleanup(session)
            session.close()
    report.exchanges = log.entries(limit=1_000_000)
    log.store.close()
    return report


def _run_one(
    session: Session, state: State, check: Check, dialect: str, seen: dict[str, CheckResult]
) -> CheckResult:
    """Run one check (skipped when a check it needs did not pass); `seen` collects results."""
    result = _judge(session, state, check, dialect, seen)
    seen[check.id] = result
    return result


def _judge(
    session: Session, state: State, check: Check, dialect: str, seen: dict[str, CheckResult]
) -> CheckResult:
    missing = [n for n in check.needs if n not in seen or not seen[n].passed]
    base = CheckResult(
        check.id,
        check.title,
        dialect,
        SKIPPED,
        required=check.required,
    )
    quarantine = session.engine.state().quarantine
    if quarantine is not None and dialect != "any":  # the direct SCIM checks still run
        return _with(
            base,
            SKIPPED,
            reason=f"the job is quarantined ({quarantine.reason}) since an earlier check: "
            "Entra provisions nothing more until the endpoint is fixed and the job restarted",
        )
    if missing:
        before = seen.get(missing[0])
        if before is not None and before.status == SKIPPED:
            return _with(base, SKIPPED, reason=before.reason)
        return _with(base, SKIPPED, reason=f"needs {', '.join(missing)}, which did not pass")
    mark = session.step_mark = session.mark()
    try:
        check.run(session, state)
    except CheckSkipped as skipped:
        return _with(base, SKIPPED, reason=skipped.reason)
    except CheckFailed as failed:
        exchange = failed.exchange or first_failure(session.exchanges_since(mark))
        return _with(
            base, FAIL, reason=failed.reason, entra_next=failed.entra_next, exchange=exchange
        )
    except SandboxError as exc:  # the engine refused (a cycle could not run): the endpoint's
        exchange = first_failure(session.exchanges_since(mark))
        return _with(base, FAIL, reason=exc.message, exchange=exchange)
    return _with(base, PASS)


def _with(
    base: CheckResult,
    status: str,
    *,
    reason: str = "",
    entra_next: str = "",
    exchange: Exchange | None = None,
) -> CheckResult:
    from dataclasses import replace

    return replace(base, status=status, reason=reason, entra_next=entra_next, exchange=exchange)


def cleanup(session: Session) -> list[str]:
    """Delete every object the session provisioned (users last, after the groups); what
    could not be deleted."""
    failures = []
    links = session.engine.links
    for object_type, resource in (("Group", "Groups"), ("User", "Users")):
        for source_id in sorted(links.linked_ids(object_type)):
            target_id = session.target_id(object_type, source_id)
            if target_id is None:
                continue
            status, _, _ = session.probe.send("DELETE", f"/{resource}/{target_id}")
            if status not in (200, 204, 404):
                failures.append(f"DELETE /{resource}/{target_id} answered {status}")
    return failures
