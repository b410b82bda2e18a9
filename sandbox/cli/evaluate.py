"""Provides `sandbox eval`: evaluate an Entra attribute-mapping expression."""

from __future__ import annotations

import json
from typing import Any

import click

from sandbox.cli.root import (
    SEED,
    cli,
    db_option,
    emit_json,
    settings_for,
)

# -- eval ------------------------------------------------------------------------------------


@cli.command("eval")
@db_option
@click.argument("expression")
@click.option(
    "--user",
    "user_json",
    metavar="USER|JSON",
    default=None,
    help="The source user: a tenant user's UPN, objectId or mail (read from the sandbox's "
    "directory, --db, as a cycle sees it), or a JSON object of Entra properties.",
)
@click.option(
    "--user-file",
    type=click.File("r"),
    default=None,
    help="Read the source user from a JSON file ('-' for stdin).",
)
@click.option(
    "--seed",
    "seed_value",
    type=SEED,
    default=None,
    help="Seed for Guid() and RandomString() (default SANDBOX_SEED or 1).",
)
@click.option(
    "--now",
    "now_text",
    metavar="ISO",
    default=None,
    help="The time Now() returns, e.g. 2026-01-31T09:00:00Z (default: the real clock).",
)
@click.option(
    "--domain",
    default="contoso.onmicrosoft.com",
    show_default=True,
    help="The tenant domain DefaultDomain() returns.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_command(
    expression: str,
    user_json: str | None,
    user_file: Any,
    seed_value: int | None,
    now_text: str | None,
    domain: str,
    as_json: bool,
) -> None:
    """Evaluate an Entra attribute-mapping expression against a user, as Entra would.

    Without --user or --user-file only an expression that reads no attribute is evaluated
    (constants, Now(), Guid()...); one that reads attributes is an error naming them."""
    import random
    from datetime import UTC, datetime

    from sandbox.errors import ExpressionError
    from sandbox.expressions import (
        EvaluationContext,
        attributes,
        display_value,
        evaluate_text,
        parse,
        to_json,
    )

    if user_json is not None and user_file is not None:
        raise click.UsageError("give --user or --user-file, not both")
    user = _source_user(user_json, user_file)
    clock = None
    if now_text is not None:
        try:
            fixed = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        except ValueError:
            raise click.ClickException(
                f"--now must be an ISO 8601 time, got {now_text!r}"
            ) from None
        fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
        clock = lambda: fixed  # noqa: E731
    settings = settings_for(seed=seed_value)
    context = EvaluationContext(rng=random.Random(settings.seed), tenant_domain=domain)
    if clock is not None:
        context = EvaluationContext(clock=clock, rng=context.rng, tenant_domain=domain)
    try:
        if user is None:
            needed = list(dict.fromkeys(f"[{a.name}]" for a in attributes(parse(expression))))
            if needed:
                raise click.ClickException(
                    f"the expression reads {', '.join(needed)}: give --user (a tenant user's "
                    "UPN, objectId or mail, or a JSON object) or --user-file"
                )
        value = evaluate_text(expression, user or {}, context)
    except ExpressionError as exc:
        if as_json:
            emit_json({"ok": False, "error": exc.message, "column": exc.column})
        else:
            click.echo(exc.caret(), err=True)
        raise SystemExit(1) from None
    if as_json:
        emit_json({"ok": True, "value": to_json(value)})
    else:
        click.echo(display_value(value))


def _source_user(given: str | None, user_file: Any) -> dict[str, Any] | None:
    """The source user of --user / --user-file: a JSON object, or a tenant user looked up by
    UPN, objectId or mail (what a cycle's mappings read for them); None when neither is given."""
    if given is None and user_file is None:
        return None
    if given is not None and not given.lstrip().startswith(("{", "[", '"')):
        from sandbox.runtime import open_provisioning

        source: dict[str, Any] = open_provisioning(settings_for()).mapping_source(given.strip())
        return source
    try:
        raw = given if given is not None else user_file.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{user_file.name} is not UTF-8 text") from None
    try:
        user = json.loads(raw)
    except ValueError as exc:
        raise click.ClickException(f"the user is not valid JSON: {exc}") from None
    if not isinstance(user, dict):
        raise click.ClickException("the user must be a JSON object of Entra properties")
    return user
