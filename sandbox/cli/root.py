"""Provides the root `sandbox` click group and the helpers every command module shares.

Commands are grouped by the side of the guide they act on: `sandbox provider ...` (the
service provider, Nulab's side) and `sandbox entra ...` (the mock Entra ID).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from sandbox import __version__
from sandbox.config import Settings
from sandbox.errors import SandboxError


class SandboxGroup(click.Group):
    """A click group that turns the sandbox's own errors, and a file the user named that
    cannot be read or written, into one-line CLI errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SandboxError as exc:
            raise click.ClickException(exc.message) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            raise click.ClickException(f"{exc.filename}: {exc.strerror or exc}") from None


INT_MAX = 2**31 - 1
"""The largest count, limit or id an option takes (what SQLite and the clock hold safely)."""

COUNT = click.IntRange(0, INT_MAX)
"""A count, limit, offset, sequence number or id: 0 up to INT_MAX (click names a wrong one)."""

SEED = click.IntRange(0, 2**63 - 1)
"""A random seed."""

PORT = click.IntRange(0, 65535)
"""A TCP port (0: any free one)."""


class _Domain(click.ParamType):
    """A DNS domain for generated UPNs and emails (contoso.onmicrosoft.com): the shape a
    tenant user's UPN and mail must have after the @, so seeding cannot make users that
    `users add` would refuse."""

    name = "domain"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        from sandbox.engine.tenant.model import UPN_SHAPE

        text = str(value).strip()
        if not UPN_SHAPE.match(f"user@{text}"):
            self.fail(f"{value!r} is not a domain such as contoso.onmicrosoft.com", param, ctx)
        return text


DOMAIN = _Domain()


_DB = click.option(
    "--db",
    "db_path",
    metavar="PATH",
    default=None,
    help="SQLite file of the sandbox (default ./sandbox.db).",
)
"""The --db option, on the root group and (through db_option) on every command."""


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--db PATH` on a command (it overrides the group's --db and SANDBOX_DB_PATH)."""

    @_DB
    @functools.wraps(command)
    def wrapper(*args: Any, db_path: str | None = None, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if db_path is not None:
            ctx.ensure_object(dict)["db_path"] = db_path
        return command(*args, **kwargs)

    return wrapper


def settings_for(**overrides: Any) -> Settings:
    """Settings from SANDBOX_* variables, the --db given anywhere, and command options."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    given = [obj.get("db_path") for obj in (ctx.obj or {}, root.obj or {})]
    if "" in given:  # an empty --db is a mistake, never the default database
        raise click.BadParameter("the database path is empty", param_hint="'--db'")
    db_path = next((path for path in given if path), None)
    return Settings.from_env(db_path=db_path, **overrides)


def emit_json(data: Any) -> None:
    """Print machine-readable output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(cls=SandboxGroup)
@_DB
@click.version_option(__version__, prog_name="sandbox")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """A local sandbox where SCIM provisioning (Entra ID -> Nulab Pass) can be watched, driven
    and broken on purpose."""
    ctx.ensure_object(dict)
    if db_path is not None:
        ctx.obj["db_path"] = db_path


WIDE = 1_000_000
"""The width tables are laid out in when stdout is not a terminal: wide enough that no cell
is ever cut or wrapped, so piped output keeps every value whole, one row a line."""


def print_table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """A rich table on stdout, every cell, header and title printed as the text it is.

    Values are rich `Text`, never markup: `Join(" ", [givenName], [surname])` or
    `emails[type eq "work"].value` keep their brackets (and `:name:` stays text, not an emoji).
    On a terminal, columns share its width and a value too long for its column folds onto the
    next line rather than being cut; piped or redirected, the table is as wide as its longest
    values, so `grep` and `less` see whole values, with no trailing blanks (`--json` is for
    scripts).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, emoji=False)
    piped = not console.is_terminal
    # SIMPLE_HEAD: no vertical rules, so more columns fit an 80-column terminal
    table = Table(
        title=None if title is None or piped else Text(title),
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in columns:
        table.add_column(Text(column), overflow="fold")
    for row in rows:
        table.add_row(*[Text("-" if v is None else str(v)) for v in row])
    if not piped:
        console.print(table)
        return
    if title is not None:  # above the table, not centred across its full width
        click.echo(title)
    wide = Console(width=WIDE, no_color=True, highlight=False, emoji=False)
    with wide.capture() as captured:
        wide.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))
