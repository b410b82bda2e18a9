"""Provides `sandbox scenario run|list` and `sandbox transcript export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sandbox.cli.root import SandboxGroup, cli, db_option, emit_json, print_table, settings_for


@cli.group("scenario", cls=SandboxGroup)
def scenario() -> None:
    """Seeded, replayable scenario files: reproduce a situation headless and check it."""


@scenario.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--transcript",
    "transcript",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the HTTP exchanges to this file (.har for HAR 1.2, else JSONL); with "
    "several scenarios each gets its own file named after it.",
)
@click.option(
    "--target",
    "target_url",
    metavar="URL",
    default=None,
    help="Play against this SCIM endpoint instead of the local provider (requests, log, job "
    "and connection expectations apply; member and team expectations are refused).",
)
@click.option("--token", default=None, help="The bearer token of --target.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenario_run(
    files: tuple[str, ...],
    transcript: str | None,
    target_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Run scenario FILES (a path, or the name of a shipped one); exit 1 with a readable diff
    when an expectation fails."""
    from sandbox.scenarios import resolve, run_scenario
    from sandbox.scenarios.external import ExternalTarget

    if (target_url is None) != (token is None):
        raise click.UsageError("--target and --token go together")
    target = None if target_url is None or token is None else ExternalTarget(target_url, token)

    fmt = None
    if transcript:
        fmt = "har" if transcript.lower().endswith(".har") else "jsonl"
        folder = Path(transcript).parent
        if not folder.is_dir():  # said before the scenarios run, not after
            raise click.ClickException(
                f"cannot write {transcript}: the directory {folder} does not exist"
            )
    results = []
    for file in files:
        result = run_scenario(str(resolve(file)), transcript_format=fmt, target=target)
        results.append(result)
        if transcript:
            out = Path(transcript)
            if len(files) > 1:
                out = out.with_name(f"{out.stem}-{Path(file).stem}{out.suffix}")
            out.write_text(result.transcript, encoding="utf-8")
    if as_json:
        emit_json([r.to_dict() for r in results])
    else:
        for result in results:
            mark = "PASS" if result.passed else "FAIL"
            click.echo(
                f"{mark} {result.scenario.path} ({result.scenario.name}): "
                f"{result.steps} steps, {result.checks} checks"
            )
            for failure in result.failures:
                click.echo(f"  - {failure}")
    if not all(r.passed for r in results):
        raise SystemExit(1)


@scenario.command("list")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Where to look (default: the shipped scenarios, installed with the sandbox).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenario_list(directory: str | None, as_json: bool) -> None:
    """Describe the shipped scenarios (run one by its name: `sandbox scenario run happy-path`)."""
    from sandbox.scenarios import ScenarioError, load
    from sandbox.scenarios.catalog import shipped

    folder = Path(directory) if directory else shipped()
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            scenario = load(path)  # checked whole, as `scenario run` checks it
        except ScenarioError as exc:
            rows.append({"file": str(path), "name": path.stem, "description": f"(invalid: {exc})"})
            continue
        rows.append(
            {
                "file": str(path),
                "name": scenario.name,
                "description": " ".join(scenario.description.split()),
                "seed": scenario.seed,
                "steps": len(scenario.steps),
            }
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"No scenarios in {folder}.")
        return
    print_table(
        ["file", "name", "description"],
        [[Path(r["file"]).name, r["name"], r["description"]] for r in rows],
        title="Scenarios",
    )


@cli.group("transcript", cls=SandboxGroup)
def transcript() -> None:
    """The HTTP exchanges of the live sandbox, for browser devtools and API tools."""


@transcript.command("export")
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["har", "jsonl"]), default="har", show_default=True
)
@click.option(
    "--side",
    type=click.Choice(["engine", "provider", "graph", "both", "all"]),
    default="engine",
    show_default=True,
    help="Whose side of the exchanges: the engine's SCIM requests, the provider's record of "
    "them, the Graph calls, both SCIM sides, or all.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file instead of standard output.",
)
def transcript_export(fmt: str, side: str, out: str | None) -> None:
    """Export the request log (Authorization redacted) as HAR 1.2 or JSONL."""
    from sandbox.runtime import open_store
    from sandbox.transcripts import export

    text = export(open_store(settings_for()), fmt, side)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:  # a missing folder, no permission, a full disk...
            raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
        click.echo(f"Wrote {out}.")
    else:
        click.echo(text, nl=False)
