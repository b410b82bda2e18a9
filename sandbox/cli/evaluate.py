"""Provides `sandbox eval`: evaluate an Entra attribute-mapping expression."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from sandbox.cli.root import (
    SEED,
    cli,
    db_option,
    emit_json,
    settings_for,
)

if TYPE_CHECKING:
    from sandbox.config import Settings

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
    help="The time Now() returns, e.g. 2026-01-31T09:00:00Z (default: the sandbox's "
    "simulated clock, read from --db, as a cycle reads it).",
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
    """Evaluate an Entra attribute-mapping expression against a user, as Entra would; Now()
    is the sandbox's simulated time (--db), as in a cycle, unless --now says otherwise.

    Without --user or --user-file only an expression that reads no attribute is evaluated
    (constants, Now(), Guid()...); one that reads attributes is an error naming them."""
    import random
    from datetime import UTC

    from sandbox.errors import ExpressionError
    from sandbox.expressions import (
        Call,
        EvaluationContext,
        attributes,
        display_value,
        evaluate_text,
        parse,
        to_json,
        walk,
    )

    if user_json is not None and user_file is not None:
        raise click.UsageError("give --user or --user-file, not both")
    from sandbox.text import is_text

    if not is_text(expression):
        at = next(i for i, c in enumerate(expression) if not is_text(c))
        char = ord(expression[at])
        what = f"byte {char - 0xDC00:#04x}" if 0xDC80 <= char <= 0xDCFF else f"\\u{char:04x}"
        raise click.ClickException(f"the expression is not UTF-8 text ({what} at column {at + 1})")
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
    try:
        node = parse(expression)
        if clock is None and any(isinstance(n, Call) and n.name == "Now" for n in walk(node)):
            simulated = _sandbox_now(settings)
            clock = lambda: simulated  # noqa: E731
        context = EvaluationContext(rng=random.Random(settings.seed), tenant_domain=domain)
        if clock is not None:
            context = EvaluationContext(clock=clock, rng=context.rng, tenant_domain=domain)
        if user is None:
            needed = list(dict.fromkeys(f"[{a.name}]" for a in attributes(node)))
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


def _sandbox_now(settings: Settings) -> datetime:
    """The sandbox's simulated time, as a cycle (and `sandbox entra status`) reads it from the
    database; a database that does not exist yet is not made: a new sandbox's clock starts at
    EPOCH, so that is the time."""
    from pathlib import Path

    from sandbox.engine.sync.clock import EPOCH, SimClock
    from sandbox.runtime import open_store

    db_path = settings.db_path
    if not db_path.startswith((":memory:", "file:")) and not Path(db_path).exists():
        return EPOCH
    store = open_store(settings)
    try:
        return SimClock(store).now()
    finally:
        store.close()


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
        user = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise click.ClickException(
            f"the user is not valid JSON: nested too deeply (at most {MAX_USER_DEPTH} levels)"
        ) from None
    except ValueError as exc:
        reason = str(exc)
        if "integer string conversion" in reason:  # Python's limit on an integer's digits
            reason = "a number has more than 4300 digits"
        raise click.ClickException(f"the user is not valid JSON: {reason}") from None
    if not isinstance(user, dict):
        raise click.ClickException("the user must be a JSON object of Entra properties")
    _check_user(user)
    return user


MAX_USER_DEPTH = 100
"""The deepest nesting of arrays and objects a JSON user may have (Entra's are flat, but for
appRoleAssignments; deeper would exhaust Python's stack when the value is printed)."""


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text} is too large for a double")
    return value


def _check_user(user: dict[str, Any]) -> None:
    """Refuse a JSON user nested too deeply, or holding a string UTF-8 cannot carry (a lone
    surrogate such as \\ud800, which could be neither printed nor sent)."""
    from sandbox.text import is_text

    stack: list[tuple[object, str, int]] = [(user, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_USER_DEPTH and isinstance(value, dict | list):
            raise click.ClickException(
                f"the user nests arrays and objects deeper than {MAX_USER_DEPTH} levels"
            )
        if isinstance(value, str) and not is_text(value):
            raise click.ClickException(
                f"the user's {where or 'value'} holds {_escaped(value)}, which is not text "
                "(a lone UTF-16 surrogate, which UTF-8 cannot carry)"
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not is_text(key):
                    raise click.ClickException(
                        f"the user has a property named {_escaped(key)}, which is not text "
                        "(a lone UTF-16 surrogate, which UTF-8 cannot carry)"
                    )
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _escaped(text: str) -> str:
    """`text` as JSON writes it, lone surrogates as \\uXXXX escapes (cut when long)."""
    shown = json.dumps(text)
    return shown if len(shown) <= 60 else shown[:56] + '..."'
