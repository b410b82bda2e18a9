"""Provides add_scoping_filter and clear_scoping_filters: the scoping editor of the users' or the
groups' attribute mapping (§7), shared by the CLI (`sandbox entra scoping [--groups]`) and the UI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sandbox.engine.mappings.mapping import ENTRA_GROUP_ATTRIBUTES, ENTRA_USER_ATTRIBUTES
from sandbox.engine.mappings.scoping import Clause, ScopingFilter
from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox.engine.sync.job import JobConfig
    from sandbox.engine.sync.service import Provisioning

GROUP_SCOPING_ATTRIBUTES = ENTRA_GROUP_ATTRIBUTES - {"members", "mail"}
"""What a group scoping filter reads of a tenant group (`group_source` in sync/group_steps.py
gives a group no mail, and its members are not a property to scope on)."""


def scoping_attributes(groups: bool = False) -> frozenset[str]:
    """The source attributes a (group) scoping filter's clauses can name."""
    return GROUP_SCOPING_ATTRIBUTES if groups else ENTRA_USER_ATTRIBUTES


def scoping_filters(config: JobConfig, groups: bool = False) -> tuple[ScopingFilter, ...]:
    """The users' (with `groups`, the groups') scoping filters of a job's configuration."""
    return config.group_scoping_filters if groups else config.scoping_filters


def check_source_attribute(name: str, groups: bool = False) -> None:
    """Refuse a scoping attribute a tenant user (or group) does not have (it would leave every
    object out of scope): Entra's scoping editor offers only the source's attributes."""
    known = {a.lower(): a for a in scoping_attributes(groups)}
    if name.lower() in known:
        return
    near = [known[m] for m in difflib.get_close_matches(name.lower(), list(known), 3)]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    if groups:
        hint = hint or f"; a group scoping filter reads {', '.join(sorted(known.values()))}"
    raise SandboxError(f"a tenant {'group' if groups else 'user'} has no attribute {name!r}{hint}")


def add_scoping_filter(
    engine: Provisioning, clauses: Iterable[Clause], *, groups: bool = False
) -> ScopingFilter:
    """Add one filter of `clauses` (joined by AND; filters are joined by OR) to the users' (or,
    with `groups`, the groups') attribute mapping and save it; the next cycle is initial.
    Refused with the reason when it has no clause or a clause names an attribute the tenant's
    users (groups) do not have."""
    new = ScopingFilter(tuple(clauses))
    if not new.clauses:
        raise SandboxError("a scoping filter needs at least one clause")
    for clause in new.clauses:
        check_source_attribute(clause.attribute, groups)
    filters = (*scoping_filters(engine.config(), groups), new)
    if groups:
        engine.configure(group_scoping_filters=filters)
    else:
        engine.configure(scoping_filters=filters)
    return new


def clear_scoping_filters(engine: Provisioning, *, groups: bool = False) -> JobConfig:
    """Remove every scoping filter of the users' (with `groups`, the groups') attribute mapping:
    every assigned user (group) is in scope again."""
    if groups:
        return engine.configure(group_scoping_filters=())
    return engine.configure(scoping_filters=())
