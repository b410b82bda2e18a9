"""Provides the expectation checks of scenario files (`action = "expect"`).

- member: the provider's member state (role, active, label, language, timezone, teams, exists)
- team: a team's members and admins
- log: provisioning-log entries (user, action, status, error_code, cycle "last" or N, count/min)
- requests: HTTP exchanges (side, method, path glob, status, body, count / min / max), over the
  whole run or (`since = "expect"`) since the previous expect step
- job: the job (status, quarantined, quarantine_reason, initial_needed, linked_users, running,
  schedule)
- connection: the last test-connection (ok, message contains)

The fields were checked when the file was loaded (`sandbox.scenarios.actions`). A count
expectation without a bound means "at least one", and a log expectation on a cycle that has
not run fails, so no check holds because nothing happened. A member expected not to exist and
a log record's user must be an address or an object the world has had: an absence check on a
typo would hold whatever happened.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from sandbox.errors import NotFoundError
from sandbox.scenarios.actions import EXPECTATIONS


def check(world: Any, step: dict[str, Any], result: Any, where: str) -> None:
    """Check every expectation in an expect step; failures are appended to `result`."""
    for key, checker in (
        ("member", _member),
        ("team", _team),
        ("log", _log),
        ("requests", _requests),
        ("job", _job),
        ("connection", _connection),
    ):
        if key not in step:
            continue
        items = step[key] if isinstance(step[key], list) else [step[key]]
        for item in items:
            result.checks += 1
            failures = checker(world, item)
            result.held += not failures
            result.failures.extend(f"{where}: {failure}" for failure in failures)
    newest = world.log.entries(limit=1)
    world.requests_checked = newest[-1]["seq"] if newest else 0


def _compare(what: str, expected: Any, got: Any, fold: bool = True) -> list[str]:
    """Failures of `got` against `expected`: lists as sets of their texts, a string of a field
    with set values (a role, a status) in any case when `fold`, anything else exactly."""
    if isinstance(expected, list) and isinstance(got, list):
        if sorted(map(str, expected)) != sorted(map(str, got)):
            return [f"{what}: expected {sorted(expected)}, got {sorted(got)}"]
        return []
    if (
        fold
        and isinstance(expected, str)
        and isinstance(got, str)
        and expected.lower() == got.lower()
    ):
        return []
    return [] if expected == got else [f"{what}: expected {expected!r}, got {got!r}"]


def _member(world: Any, item: dict[str, Any]) -> list[str]:
    email = item["email"]
    try:
        member = world.org.member(email)
    except NotFoundError:
        if item.get("exists", True):
            return [f"member {email}: expected to exist, it does not"]
        if not _known_email(world, email):
            return [
                f"member {email}: no tenant user, organization member or request sent has "
                "this email, so its absence holds whatever happened (a typo?)"
            ]
        return []
    if item.get("exists") is False:
        return [f"member {email}: expected not to exist, it does ({member.label})"]
    failures: list[str] = []
    for key in ("role", "active", "label", "language", "timezone", "teams", "kind", "username"):
        if key in item:
            # a stored name is compared as stored: a change of case alone is a change
            fold = key != "username"
            failures += _compare(f"member {email} {key}", item[key], getattr(member, key), fold)
    return failures


def _known_email(world: Any, email: str) -> bool:
    """Whether `email` is an address the scenario's world has had: a tenant user's UPN or mail,
    an organization member's, or one the engine sent in a request body."""
    if world.engine.directory.find_user(email) is not None:
        return True
    folded = email.casefold()
    if any(m.get("email", "").casefold() == folded for m in _declared_members(world)):
        return True
    return any(
        folded in (entry["request_body"] or "").casefold()
        for entry in world.log.entries(limit=1_000_000, side="engine")
    )


def _declared_members(world: Any) -> list[dict[str, Any]]:
    members = world.scenario.organization.get("member", [])
    return members if isinstance(members, list) else [members]


def _team(world: Any, item: dict[str, Any]) -> list[str]:
    team = next((t for t in world.org.teams() if t.name == item["name"]), None)
    if team is None:
        return [f"team {item['name']!r}: no such team"]
    failures: list[str] = []
    for key in ("members", "admins"):
        if key in item:
            failures += _compare(f"team {team.name} {key}", item[key], getattr(team, key))
    return failures


def _log(world: Any, item: dict[str, Any]) -> list[str]:
    want = {
        k: item[k]
        for k in ("user", "action", "status", "error_code", "cycle", "reason")
        if k in item
    }
    cycle = item.get("cycle")
    last = world.engine.state().last_cycle_id
    if cycle == "last":
        if last is None:
            return [f"log {want}: no cycle has run yet"]
        cycle = last
    elif cycle is not None and not world.store.scalar(
        "SELECT count(*) FROM cycles WHERE id = ?", [cycle]
    ):
        return [f"log {want}: cycle {cycle} has not run (last cycle: {last or 'none'})"]
    source = item.get("user")
    if source is not None:
        source = _log_source(world, source)
        if source is None:
            return [
                f"log {want}: no tenant user or group has this objectId, UPN, mail or name, "
                "and no record names it, so the check holds whatever happened (a typo?)"
            ]
    records = world.engine.logs.query(cycle_id=cycle, source=source, limit=100_000)
    matching = [
        r
        for r in records
        if all(
            str(getattr(r, k) or "").lower() == str(item[k]).lower()
            for k in ("action", "status", "error_code")
            if k in item
        )
        and ("reason" not in item or item["reason"].lower() in (r.reason or "").lower())
    ]
    if "count" in item and len(matching) != item["count"]:
        return [
            f"log {want}: expected {item['count']} record(s), found {len(matching)}"
            + _seen(records)
        ]
    least = item.get("min", 1)
    if "count" not in item and len(matching) < least:
        return [
            f"log {want}: expected at least {least} record(s), found {len(matching)}"
            + _seen(records)
        ]
    return []


def _log_source(world: Any, key: str) -> str | None:
    """What the log's records are looked up by for a `user` of a log expectation: the objectId
    of the tenant user (by objectId, UPN or mail) or group (by id or name) it names, else `key`
    itself when a record names it (an object since deleted), else None."""
    found = world.engine.directory.find_user(key) or world.engine.directory.find_group(key)
    if found is not None:
        return str(found.id)
    return key if world.engine.logs.query(source=key, limit=1) else None


def _seen(records: list[Any]) -> str:
    if not records:
        return " (no records)"
    shown = ", ".join(
        f"{r.source_name} {r.action}/{r.status}" + (f"/{r.error_code}" if r.error_code else "")
        for r in records[-5:]
    )
    return f" (last records: {shown})"


def _requests(world: Any, item: dict[str, Any]) -> list[str]:
    after = world.requests_checked if item.get("since") == "expect" else 0
    entries = world.log.entries(limit=1_000_000, side=item.get("side", "engine"), after=after)
    base = world.settings.base_path
    matching = []
    for entry in entries:
        path = entry["path"][len(base) :] if entry["path"].startswith(base) else entry["path"]
        if "method" in item and entry["method"] != item["method"].upper():
            continue
        if "path" in item and not fnmatch.fnmatchcase(path, item["path"]):
            continue
        if "status" in item and entry["status"] != item["status"]:
            continue
        if "body" in item and item["body"] not in (entry["request_body"] or ""):
            continue
        matching.append(entry)
    want = {k: item[k] for k in ("side", "method", "path", "status", "body", "since") if k in item}
    n = len(matching)
    if "count" in item:
        return [] if n == item["count"] else [f"requests {want}: expected {item['count']}, got {n}"]
    least = item.get("min", 0 if "max" in item else 1)  # no bound at all: at least one
    if n < least:
        return [f"requests {want}: expected at least {least}, got {n}"]
    if "max" in item and n > item["max"]:
        return [f"requests {want}: expected at most {item['max']}, got {n}"]
    return []


def _job(world: Any, item: dict[str, Any]) -> list[str]:
    status = world.engine.status()
    quarantine = status["quarantine"]
    failures: list[str] = []
    if "status" in item:
        failures += _compare("job status", item["status"], status["status"])
    if "quarantined" in item:
        failures += _compare("job quarantined", item["quarantined"], quarantine is not None)
    if "quarantine_reason" in item:
        failures += _compare(
            "job quarantine reason",
            item["quarantine_reason"],
            quarantine["reason"] if quarantine else None,
        )
    if "initial_needed" in item:
        failures += _compare("job initial_needed", item["initial_needed"], status["initial_needed"])
    if "linked_users" in item:
        failures += _compare("job linked_users", item["linked_users"], status["linked_users"])
    if "running" in item:
        failures += _compare("job running", item["running"], status["running"])
    if "schedule" in item:
        failures += _compare("job schedule", item["schedule"], status["schedule"])
    return failures


def _connection(world: Any, item: dict[str, Any]) -> list[str]:
    last = getattr(world, "last_connection", None)
    if last is None:
        return ["connection: no test-connection step ran before this expectation"]
    failures: list[str] = []
    if "ok" in item:
        failures += _compare("connection ok", item["ok"], last.ok)
    if "message" in item and item["message"] not in last.message:
        failures.append(
            f"connection message: expected it to contain {item['message']!r}, got {last.message!r}"
        )
    return failures


__all__ = ["EXPECTATIONS", "check"]
