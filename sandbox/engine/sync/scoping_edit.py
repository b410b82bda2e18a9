"""Provides add_scoping_filter and clear_scoping_filters: the scoping editor of the users'
attribute mapping (§7), shared by the CLI (`sandbox entra scoping`) and the UI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sandbox.engine.mappings.mapping import ENTRA_USER_ATTRIBUTES
from sandbox.engine.mappings.scoping import Clause, ScopingFilter
from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox.engine.sync.job import JobConfig
    from sandbox.engine.sync.service import Provisioning


def check_source_attribute(name: str) -> None:
    """Refuse a scoping attribute a tenant user does not have (it would leave every user out
    of scope): Entra's scoping editor offers only the source's attributes."""
    known = {a.lower(): a for a in ENTRA_USER_ATTRIBUTES}
    if name.lower() in known:
        return
    near = [known[m] for m in difflib.get_close_matches(name.lower(), list(known), 3)]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise SandboxError(f"a tenant user has no attribute {name!r}{hint}")


def add_scoping_filter(engine: Provisioning, clauses: Iterable[Clause]) -> ScopingFilter:
    """Add one filter of `clauses` (joined by AND; filters are joined by OR) and save it; the
    next cycle is initial. Refused with the reason when it has no clause or a clause names
    an attribute tenant users do not have."""
    new = ScopingFilter(tuple(clauses))
    if not new.clauses:
        raise SandboxError("a scoping filter needs at least one clause")
    for clause in new.clauses:
        check_source_attribute(clause.attribute)
    engine.configure(scoping_filters=(*engine.config().scoping_filters, new))
    return new


def clear_scoping_filters(engine: Provisioning) -> JobConfig:
    """Remove every scoping filter (every assigned user is in scope again)."""
    return engine.configure(scoping_filters=())
