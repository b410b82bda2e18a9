"""Provides `sandbox eval`: evaluate an Entra attribute-mapping expression."""

from __future__ import annotations

import json
from typing import Any

import click

from sandbox.cli.root import (
    cli,
    emit_json,
    settings_for,
)

# -- eval ------------------------------------------------------------------------------------


@cli.command("eval")
@click.argument("expression")
@click.option(
    "--user",
    "user_json",
    metavar="JSON",
    default=None,
    help="The source user as a JSON object of Entra properties.",
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
    type=int,
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
    """Evaluate an Entra attribute-mapping expression against a user, as Entra would."""
    import random
    from datetime import UTC, datetime

    from sandbox.errors import ExpressionError
    from sandbox.expressions import EvaluationContext, display_value, evaluate_text, to_json

    if user_json is not None and user_file is not None:
        raise click.UsageError("give --user or --user-file, not both")
    raw = user_json if user_json is not None else (user_file.read() if user_file else "{}")
    try:
        user = json.loads(raw)
    except ValueError as exc:
        raise click.ClickException(f"the user is not valid JSON: {exc}") from None
    if not isinstance(user, dict):
        raise click.ClickException("the user must be a JSON object of Entra properties")
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
        value = evaluate_text(expression, user, context)
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
