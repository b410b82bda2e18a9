"""Provides `sandbox entra configure|test-connection|sync|...`: the app's Provisioning blade.

The commands follow the guide's steps 3, 5, 6 and 8: admin credentials and Test connection,
group provisioning off, attribute mappings, start provisioning; plus what the portal shows
(provisioning logs, quarantine, restart, provision on demand) and the simulated clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from sandbox.cli.entra import entra
from sandbox.cli.root import COUNT, SandboxGroup, db_option, emit_json, print_table, settings_for
from sandbox.errors import SandboxError


def _engine() -> Any:
    from sandbox.runtime import open_provisioning

    return open_provisioning(settings_for())


@contextlib.contextmanager
def _running() -> Iterator[Any]:
    """The engine with the local provider served for the command; a line on stderr first when
    the engine holds a token the local provider no longer takes (it would get 401)."""
    from sandbox.runtime import STALE_TOKEN_HINT, engine_token_is_current, running_engine

    with running_engine(settings_for()) as engine:
        if engine_token_is_current(engine) is False:
            click.echo(f"Note: {STALE_TOKEN_HINT}.", err=True)
        yield engine


def _on_off(value: str) -> bool:
    return value.lower() in ("on", "yes", "true", "enabled")


@entra.command("configure")
@db_option
@click.option(
    "--tenant-url",
    default=None,
    help="The SCIM base URL ('local' = this sandbox's provider); add "
    "?aadOptscim062020 for the SCIM 2020 dialect.",
)
@click.option("--secret-token", default=None, help="The SCIM token the provider issued.")
@click.option(
    "--scope",
    type=click.Choice(["assigned", "all"]),
    default=None,
    help="Sync only assigned users and groups, or all of them.",
)
@click.option("--create/--no-create", default=None, help="Target object action: Create.")
@click.option("--update/--no-update", default=None, help="Target object action: Update.")
@click.option("--delete/--no-delete", default=None, help="Target object action: Delete.")
@click.option(
    "--skip-out-of-scope-deletions/--disable-out-of-scope",
    default=None,
    help="Leave users that leave scope enabled in the target (SkipOutOfScopeDeletions).",
)
@click.option(
    "--prevent-accidental-deletions",
    "prevent_deletions",
    is_flag=True,
    help="Turn accidental-deletion prevention on (off by default), at the threshold "
    "--delete-threshold gives or 500.",
)
@click.option(
    "--delete-threshold",
    type=COUNT,
    default=None,
    help="Prevent accidental deletions: most disables+deletes of users and groups per cycle "
    "(turns prevention on).",
)
@click.option(
    "--no-delete-threshold", is_flag=True, help="Turn accidental-deletion prevention off."
)
@click.option(
    "--escrow-threshold",
    type=COUNT,
    default=None,
    help="Failures before the 40 % quarantine rule applies (default 5000).",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 32), default=None, help="Requests sent at once (1-32)."
)
@click.option(
    "--object-minutes-min",
    type=click.FloatRange(0, 60),
    default=None,
    help="Simulated minutes an object costs a cycle, at least (default 0.01).",
)
@click.option(
    "--object-minutes-max",
    type=click.FloatRange(0, 60),
    default=None,
    help="Simulated minutes an object costs a cycle, at most (default 0.08).",
)
@click.option(
    "--create-factor",
    type=click.FloatRange(1, 10),
    default=None,
    help="How many matches a created object costs (default 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def configure(
    tenant_url: str | None,
    secret_token: str | None,
    scope: str | None,
    create: bool | None,
    update: bool | None,
    delete: bool | None,
    skip_out_of_scope_deletions: bool | None,
    prevent_deletions: bool,
    delete_threshold: int | None,
    no_delete_threshold: bool,
    escrow_threshold: int | None,
    concurrency: int | None,
    object_minutes_min: float | None,
    object_minutes_max: float | None,
    create_factor: float | None,
    as_json: bool,
) -> None:
    """Set admin credentials and settings (guide step 3); changing the scope to all forces an
    initial cycle, to assigned waits for a restart."""
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "tenant_url": tenant_url,
            "secret_token": secret_token,
            "scope": scope,
            "create": create,
            "update": update,
            "delete": delete,
            "skip_out_of_scope_deletions": skip_out_of_scope_deletions,
            "delete_threshold": delete_threshold,
            "escrow_threshold": escrow_threshold,
            "max_concurrency": concurrency,
            "object_minutes_min": object_minutes_min,
            "object_minutes_max": object_minutes_max,
            "create_factor": create_factor,
        }.items()
        if v is not None
    }
    if no_delete_threshold:
        if delete_threshold is not None or prevent_deletions:
            raise click.UsageError(
                "--no-delete-threshold turns prevention off: give it without "
                "--delete-threshold or --prevent-accidental-deletions"
            )
        changes["delete_threshold"] = None
    engine = _engine()
    if prevent_deletions and delete_threshold is None:
        from sandbox.engine.sync.job import DEFAULT_DELETE_THRESHOLD

        current = engine.config().delete_threshold
        changes["delete_threshold"] = current or DEFAULT_DELETE_THRESHOLD
    config = engine.configure(**changes) if changes else engine.config()
    data = {
        "tenant_url": config.tenant_url,
        "dialect": "aadOptscim062020" if config.flag else "default",
        "secret_token": "(set)" if config.secret_token else "(none)",
        "scope": config.scope,
        "create": config.create,
        "update": config.update,
        "delete": config.delete,
        "groups_provisioning": config.groups_enabled,
        "skip_out_of_scope_deletions": config.skip_out_of_scope_deletions,
        "delete_threshold": config.delete_threshold,
        "escrow_threshold": config.escrow_threshold,
        "concurrency": config.max_concurrency,
        "object_minutes_min": config.object_minutes_min,
        "object_minutes_max": config.object_minutes_max,
        "create_factor": config.create_factor,
        "mappings": config.mapping_preset,
    }
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key.replace('_', ' ')}: {'off' if value is None else value}")


@entra.command("groups-provisioning")
@db_option
@click.argument("state", type=click.Choice(["on", "off"]))
def groups_provisioning(state: str) -> None:
    """Turn "Provision Microsoft Entra ID Groups" on or off (guide step 5: off for Nulab)."""
    _engine().configure(groups_enabled=_on_off(state))
    click.echo(
        f"Group provisioning {'enabled' if _on_off(state) else 'disabled'}; the next "
        "cycle is initial."
    )


@entra.command("test-connection")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def test_connection(as_json: bool) -> None:
    """Test connection as Entra does: a filter on a random GUID must answer 200 and no users.

    Exits 1, with what was wrong, when the test fails."""
    with _running() as engine:
        result = engine.test_connection()
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "message": result.message,
                "request": result.exchange.request_line if result.exchange else None,
                "status": result.exchange.status if result.exchange else None,
            }
        )
    elif result.ok:
        click.echo(result.message)
    if not result.ok:
        raise click.ClickException(_line(result.message))


# -- mappings -----------------------------------------------------------------------------------


@entra.group("mappings", cls=SandboxGroup)
def mappings() -> None:
    """Attribute mappings of "Provision Microsoft Entra ID Users" (guide step 6)."""


@mappings.command("list")
@db_option
@click.option("--groups", is_flag=True, help="The group mappings instead of the user mappings.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mappings_list(groups: bool, as_json: bool) -> None:
    """List the attribute mappings (target, type, source, matching, apply)."""
    from sandbox.engine.sync.job import _mapping_to_dict

    config = _engine().config()
    rows = config.group_mappings if groups else config.user_mappings
    if as_json:
        emit_json([_mapping_to_dict(m) for m in rows])
        return
    print_table(
        ["target attribute", "type", "source", "matching", "apply", "default"],
        [
            [
                m.target,
                str(m.type),
                m.source,
                m.matching_precedence or "",
                "creation only" if m.create_only else "always",
                m.default,
            ]
            for m in rows
        ],
        title=f"{'Group' if groups else 'User'} mappings ({config.mapping_preset})",
    )


@mappings.command("set")
@db_option
@click.argument("target")
@click.argument("source")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["Direct", "Constant", "Expression", "None"]),
    default=None,
    help="Mapping type (default: Expression when SOURCE has a '(').",
)
@click.option("--default", "default", default=None, help="Default value if null (create only).")
@click.option("--create-only", is_flag=True, help="Apply only during object creation.")
@click.option(
    "--matching", type=click.IntRange(0, 100), default=None, help="Matching precedence (1 = first)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Add TARGET even if the target's schema has no such attribute (a custom one).",
)
def mappings_set(
    target: str,
    source: str,
    kind: str | None,
    default: str | None,
    create_only: bool,
    matching: int | None,
    force: bool,
) -> None:
    """Add or replace the mapping of TARGET, e.g. `userName mail` or
    `'roles[primary eq "True"].value' 'SingleAppRoleAssignment([appRoleAssignments])'`.

    A new TARGET must be an attribute the target publishes at /Schemas (read from the tenant
    URL), or of the default SCIM User schema when it publishes none or cannot be reached; the
    output says which was used. --force adds a custom attribute anyway."""
    from sandbox.engine.mappings.targets import UnknownTargetAttribute
    from sandbox.engine.sync.mapping_edit import set_user_mapping

    with _running() as engine:
        try:
            edit = set_user_mapping(
                engine,
                target,
                source,
                kind=kind,
                default=default,
                create_only=create_only,
                matching=matching,
                force=force,
            )
        except UnknownTargetAttribute as error:
            glue = " " if error.suggestions else "; "
            raise SandboxError(
                f"{error.message}{glue}--force adds it as a custom attribute"
            ) from None
    checked = f" (checked against {edit.checked_against})" if edit.checked_against else ""
    if force and edit.checked_against is None and not edit.replaced:
        checked = " (a custom attribute: not checked against the target's schema)"
    click.echo(
        f"{'Replaced' if edit.replaced else 'Added'} the mapping of {edit.target}{checked}; "
        "the next cycle is initial."
    )


@mappings.command("remove")
@db_option
@click.argument("target")
def mappings_remove(target: str) -> None:
    """Remove the mapping of TARGET (required attributes cannot be removed)."""
    from sandbox.engine.mappings.targets import close_matches

    engine = _engine()
    config = engine.config()
    rows = tuple(m for m in config.user_mappings if m.target.lower() != target.strip().lower())
    if len(rows) == len(config.user_mappings):
        mapped = [m.target for m in config.user_mappings]
        near = close_matches(target, mapped)
        hint = f"; did you mean {', '.join(near)}?" if near else " (`sandbox entra mappings list`)"
        raise SandboxError(f"no mapping targets {target!r}{hint}")
    engine.configure(user_mappings=rows, mapping_preset="custom")
    removed = next(m.target for m in config.user_mappings if m not in rows)
    click.echo(f"Removed the mapping of {removed}; the next cycle is initial.")


@mappings.command("reset")
@db_option
def mappings_reset() -> None:
    """Restore Entra's default mappings (forces a resync of all users)."""
    _preset("default")


@mappings.command("preset")
@db_option
@click.argument("name", type=click.Choice(["default", "nulab"]))
def mappings_preset(name: str) -> None:
    """Use a ready-made mapping set: `nulab` is the guide's recommended one (userName from mail,
    roles from SingleAppRoleAssignment, time zone from country)."""
    _preset(name)


def _preset(name: str) -> None:
    from sandbox.engine.mappings.presets import PRESETS

    _engine().configure(user_mappings=PRESETS[name].mappings, mapping_preset=name)
    click.echo(f"User mappings set to the {PRESETS[name].title} preset; the next cycle is initial.")


# -- scoping filters ----------------------------------------------------------------------------


@entra.group("scoping", cls=SandboxGroup)
def scoping() -> None:
    """Scoping filters: clauses joined by AND in a filter, filters joined by OR."""


_GROUPS_OPTION = click.option(
    "--groups",
    is_flag=True,
    help="The group scoping filters (on a group's properties) instead of the users'.",
)


@scoping.command("add")
@db_option
@_GROUPS_OPTION
@click.argument("clauses", nargs=-1, required=True)
def scoping_add(groups: bool, clauses: tuple[str, ...]) -> None:
    """Add one filter of CLAUSES (AND), e.g. 'department EQUALS Sales' 'country IS NOT NULL';
    with --groups a group scoping filter, e.g. 'displayName ENDS_WITH -Nulab'."""
    from sandbox.engine.mappings.scoping import parse_clause
    from sandbox.engine.sync.scoping_edit import add_scoping_filter

    new = add_scoping_filter(_engine(), [parse_clause(c) for c in clauses], groups=groups)
    kind = "group scoping filter" if groups else "scoping filter"
    click.echo(f"Added {kind}: {new}; the next cycle is initial.")


@scoping.command("list")
@db_option
@_GROUPS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scoping_list(groups: bool, as_json: bool) -> None:
    """List the scoping filters (--groups: the group scoping filters)."""
    from sandbox.engine.sync.scoping_edit import scoping_filters

    filters = scoping_filters(_engine().config(), groups)
    if as_json:
        emit_json([f.to_dict() for f in filters])
        return
    if not filters:
        kind = "group" if groups else "user"
        click.echo(
            f"No {'group ' if groups else ''}scoping filters: every assigned {kind} is in scope."
        )
    for number, scoping_filter in enumerate(filters, 1):
        click.echo(f"{number}. {scoping_filter}")


@scoping.command("clear")
@db_option
@_GROUPS_OPTION
def scoping_clear(groups: bool) -> None:
    """Remove every scoping filter (--groups: every group scoping filter)."""
    from sandbox.engine.sync.scoping_edit import clear_scoping_filters

    clear_scoping_filters(_engine(), groups=groups)
    kind = "Group scoping" if groups else "Scoping"
    click.echo(f"{kind} filters removed; the next cycle is initial.")


# -- running ------------------------------------------------------------------------------------


def _summary(reports: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    for r in reports:
        d = r.to_dict()
        c = d["counts"]
        quarantine = d["quarantine"]["reason"] if d["quarantine"] else None
        click.echo(
            f"Cycle #{d['id']} ({d['kind']}): created {c['created']}, updated {c['updated']}, "
            f"disabled {c['disabled']}, deleted {c['deleted']}, skipped {c['skipped']}"
            + (f" ({d['staged']} held back as staged deletes)" if d["staged"] else "")
            + f", failed {c['failed']}; {d['requests']} requests in "
            f"{d['wall_ms'] / 1000:.1f} s; {d['objects']} object{'' if d['objects'] == 1 else 's'} "
            f"in {d['simulated_minutes']:.2f} simulated minutes"
            + (f"; quarantined ({quarantine})" if quarantine else "")
        )


def _line(text: str) -> str:
    """`text` on one line (an error on stderr is one line)."""
    return " ".join(text.split())


def _trouble(reports: list[Any]) -> str | None:
    """Why `sync` exits 1 though its cycles ran: the job ended quarantined, or objects failed
    (escrowed, retried by later cycles); None when nothing failed."""
    quarantine = reports[-1].quarantine if reports else None
    failed = [(r.id, r.counts["failed"]) for r in reports if r.counts["failed"]]
    # each cycle's own count: an object still failing is counted again by every cycle that
    # retries it, so the counts are not added up
    failures = ", ".join(
        f"{count} object{'s' if count != 1 else ''} failed in cycle #{cycle}"
        for cycle, count in failed
    )
    if quarantine is not None:
        error = _line(quarantine.error.strip().splitlines()[0]) if quarantine.error.strip() else ""
        return (
            f"the job is quarantined ({quarantine.reason}"
            + (f": {error}" if error else "")
            + ")"
            + (f"; {failures}" if failed else "")
            + "; `sandbox entra status` says more"
        )
    if failed:
        return f"{failures} (escrowed, retried later); `sandbox entra logs --status Failure --details` says why"
    return None


@entra.command("sync")
@db_option
@click.option(
    "--cycles",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Cycles to run back to back.",
)
@click.option("--until-idle", is_flag=True, help="Run cycles until one changes nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sync(cycles: int, until_idle: bool, as_json: bool) -> None:
    """Run provisioning cycles now, moving the simulated clock 40 minutes between them.

    Exits 1 when an object failed or the job ends quarantined, or when a cycle of this job
    is already running (here or in another process)."""
    from rich.progress import Progress

    with _running() as engine:
        if as_json:
            reports = engine.sync(cycles, until_idle=until_idle)
        else:
            with Progress(transient=True) as bar:
                task = bar.add_task("cycle", total=None)

                def progress(done: int, total: int, phase: str) -> None:
                    bar.update(task, completed=done, total=total, description=phase)

                reports = engine.sync(cycles, until_idle=until_idle, progress=progress)
    _summary(reports, as_json)
    trouble = _trouble(reports)
    if trouble is not None:
        raise click.ClickException(trouble)


@entra.command("status")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """The provisioning job: status, quarantine and why, last and next cycle, escrows."""
    data = _engine().status()
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key == "quarantine" and value:
            click.echo(
                f"quarantine: {value['reason']} since {value['series_began']} "
                f"(next attempt {value['next_attempt'] or 'none: the job is disabled'}): "
                f"{value['error']}"
            )
            continue
        if key == "last_cycle_minutes" and value is not None:
            value = f"{value:.2f} simulated minutes"
        if key == "next_cycle_estimate":
            value = estimate_text(value)
        if key == "synchronized_entries":
            value = f"{value['User']} users, {value['Group']} groups (deletes do not lower it)"
        click.echo(f"{key.replace('_', ' ')}: {'-' if value is None else value}")


def estimate_text(estimate: dict[str, Any]) -> str:
    """The next cycle's estimate in a line: its size, Microsoft's range and the engine's
    figure at the job's pace (§1.5)."""
    return (
        f"{estimate['kind']}, {estimate['objects']} objects ({estimate['new']} new): "
        f"{estimate['min_minutes']:g}-{estimate['max_minutes']:g} simulated minutes, about "
        f"{estimate['expected_minutes']:g} at this job's pace"
    )


@entra.command("start")
@db_option
def start() -> None:
    """Start provisioning (Overview > Start provisioning); a quarantined job has its
    quarantine cleared, as Graph's start does."""
    _engine().start()
    click.echo("Provisioning started: run `sandbox entra sync` to play the cycles.")


@entra.command("stop")
@db_option
def stop() -> None:
    """Stop provisioning."""
    _engine().stop()
    click.echo("Provisioning stopped.")


@entra.command("restart")
@db_option
@click.option(
    "--reset",
    "reset_scope",
    default="",
    help="Graph resetScope, a comma list of: Escrows (stop retrying failures), Watermark "
    "(evaluate every object), QuarantineState (lift quarantine), ConnectorDataStore (forget "
    "the links: every object is matched again), Full (all four), ForceDeletes (send staged "
    "deletions), None (reset nothing). Default: the portal's Restart provisioning "
    "(Escrows, Watermark, QuarantineState).",
)
def restart(reset_scope: str) -> None:
    """Restart provisioning: by default clears the watermark, escrows and quarantine and keeps
    the links; starts the job (stopped or disabled) with its next cycle now; applies a scope
    switch that waits for a restart."""
    state = _engine().restart(reset_scope)
    click.echo(
        "Provisioning restarted: the next cycle is "
        + ("initial." if state.initial_needed else "incremental.")
    )


@entra.command("allow-deletes")
@db_option
def allow_deletes() -> None:
    """Let the deletions held back by accidental-deletion prevention go through."""
    _engine().allow_deletes()
    click.echo("Deletes allowed: the next cycle pushes the staged deletions through.")


@entra.command("pod")
@db_option
@click.argument("user")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="USER",
    help="For a group: a direct member to provision with it (at most 5; repeat the option).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pod(user: str, members: tuple[str, ...], as_json: bool) -> None:
    """Provision on demand: one user, or one group with at most 5 members (USER names a
    group; --member picks up to 5 of a larger group's members), now, with its steps (ignores
    ?aadOptscim062020).

    Exits 1 when it fails, or when a cycle of this job is running."""
    from sandbox.engine.sync.service import TooManyMembers

    with _running() as engine:
        try:
            result = engine.provision_on_demand(user, members)
        except TooManyMembers as many:
            raise SandboxError(f"{many.message}, with --member") from None
    record = result.record
    if as_json:
        data = record.to_dict()
        if record.object_type == "Group":
            data["members"] = [m.to_dict() for m in result.members]
        emit_json(data)
    else:
        for shown in (*result.members, record):
            head, *rest = shown.describe()
            click.echo(head)
            for line in rest:
                click.echo(f"  {line}")
    failed = [m for m in result.members if m.status == "Failure"]
    if failed and record.status != "Failure":
        raise click.ClickException(
            f"provisioning {failed[0].source_name} failed"
            + (f" ({failed[0].error_code})" if failed[0].error_code else "")
        )
    if record.status == "Failure":
        raise click.ClickException(
            f"provisioning {record.source_name} failed"
            + (f" ({record.error_code})" if record.error_code else "")
            + (f": {_line(record.reason)}" if record.reason else "")
        )


@entra.command("logs")
@db_option
@click.option("--cycle", "cycle_id", type=COUNT, default=None, help="Only this cycle.")
@click.option(
    "--user",
    "source",
    default=None,
    help="Only this user (objectId, UPN or mail) or group (id or name).",
)
@click.option(
    "--status", type=click.Choice(["Success", "Failure", "Skipped", "Warning"]), default=None
)
@click.option(
    "--action",
    type=click.Choice(["Create", "Update", "Disable", "Delete", "StagedDelete", "Other"]),
    default=None,
)
@click.option("--limit", type=COUNT, default=50, show_default=True)
@click.option(
    "--details",
    is_flag=True,
    help="Each record in full: reason, steps, modified properties, exchanges.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: Graph provisioningObjectSummary records."
)
def logs(
    cycle_id: int | None,
    source: str | None,
    status: str | None,
    action: str | None,
    limit: int,
    details: bool,
    as_json: bool,
) -> None:
    """Provisioning logs: per object and cycle, action, status, error, modified properties.

    --json prints each record as Graph's provisioningObjectSummary (jobId, cycleId,
    changeId, initiatedBy, sourceSystem, targetSystem, provisioningStatusInfo...).

    --user names a tenant user (objectId, UPN or mail) or group (id or name), or an object
    only the logs still know (hard-deleted since); --cycle a cycle that ran. Anything else is
    an error, not an empty table."""
    engine = _engine()
    if cycle_id is not None:
        _check_cycle(engine, cycle_id)
    records = engine.logs.query(
        cycle_id=cycle_id,
        status=status,
        action=action,
        limit=limit,
        source=None if source is None else _log_source(engine, source),
    )
    if as_json:
        from sandbox.engine.sync.graph_log import provisioning_object_summary

        domain = engine.tenant_domain
        emit_json([provisioning_object_summary(r, domain) for r in records])
        return
    if details:
        for record in records:
            _print_record(record)
        return
    print_table(
        ["cycle", "time", "identity", "action", "status", "error", "modified"],
        [
            [
                r.cycle_id,
                r.at,
                r.source_name,
                r.action,
                r.status,
                r.error_code or "",
                _modified(r.modified),
            ]
            for r in records
        ],
        title="Provisioning logs",
    )


def _print_record(record: Any) -> None:
    """One provisioning log record as the portal's detail pane shows it."""
    head, *rest = record.describe()
    click.echo(f"cycle {record.cycle_id}  {record.at}  {record.object_type} {head}")
    if record.target_id:
        click.echo(f"  target id: {record.target_id}")
    for line in rest:
        click.echo(f"  {line}")
    if record.exchanges:
        refs = ", ".join(f"#{ref}" for ref in record.exchanges)
        click.echo(f"  exchanges: {refs} (Activity, or `sandbox transcript export`)")
    click.echo("")


def _check_cycle(engine: Any, cycle_id: int) -> None:
    """Refuse a cycle number no cycle (or provision on demand) ever had."""
    if engine.store.scalar("SELECT count(*) FROM cycles WHERE id = ?", [cycle_id]):
        return
    last = engine.store.scalar("SELECT max(id) FROM cycles")
    ran = f"the last cycle is #{last}" if last else "no cycle has run yet"
    raise SandboxError(f"no cycle #{cycle_id} ({ran})")


def _log_source(engine: Any, key: str) -> str:
    """What the logs are filtered on for --user KEY: the objectId of the tenant user or group
    KEY names, or KEY itself when only log records name it (a hard-deleted object)."""
    found = engine.directory.find_user(key) or engine.directory.find_group(key)
    if found is not None:
        return str(found.id)
    ids = {
        row["source_id"]
        for row in engine.store.query(
            "SELECT DISTINCT source_id FROM provisioning_log WHERE source_id = ? OR "
            "lower(source_name) = lower(?)",
            [key, key],
        )
    }
    if len(ids) == 1:  # one object: all its records, under whichever name each was written
        return str(ids.pop())
    if ids:
        return key
    raise SandboxError(
        f"no tenant user or group {key!r} (objectId, UPN, mail or group name), and no "
        "provisioning log names it"
    )


def _modified(modified: list[dict[str, Any]]) -> str:
    names = [m["displayName"] for m in modified]
    return ", ".join(names) if len(names) <= 3 else f"{len(names)} attributes"


@entra.command("clock")
@db_option
@click.option(
    "--advance",
    default=None,
    metavar="DURATION",
    help="Move simulated time forward, e.g. 40m, 6h, 30d.",
)
@click.option("--speed", type=float, default=None, help="Simulated seconds per real second.")
def clock(advance: str | None, speed: float | None) -> None:
    """Show or move the simulated clock."""
    from sandbox.engine.sync.clock import parse_duration

    engine = _engine()
    if advance:
        engine.clock.advance(parse_duration(advance))
    if speed is not None:
        engine.clock.set_speed(speed)
    click.echo(
        f"simulated time: {engine.clock.now().isoformat(timespec='seconds')} "
        f"(speed {engine.clock.speed:g})"
    )
