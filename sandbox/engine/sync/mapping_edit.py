"""Provides set_user_mapping and remove_user_mapping (and their group counterparts): adding or
replacing a user mapping, its target checked on the
attributes the configured target publishes at /Schemas (read over HTTP through the engine's
target) or on the default SCIM User attributes (`sandbox.engine.mappings.targets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox.engine.mappings.paths import CORE_USER_SCHEMA
from sandbox.engine.mappings.targets import (
    TargetAttributes,
    attributes_from_schemas,
    default_user_attributes,
)
from sandbox.engine.sync.job import JobConfig, with_mapping
from sandbox.errors import MappingError, SandboxError

if TYPE_CHECKING:
    from sandbox.engine.sync.service import Provisioning


def target_user_attributes(engine: Provisioning) -> TargetAttributes:
    """The user attributes the configured target publishes at /Schemas (read over HTTP); the
    default SCIM User attributes when it publishes none or cannot be reached (`origin` says
    which, and why)."""
    where = (
        "the local provider's /Schemas"
        if engine.config().is_local
        else (f"the target's /Schemas at {engine.config().url.base}/Schemas")
    )
    try:
        with engine.target() as target:
            resources = target.schemas()
    except SandboxError as error:  # not configured, not running, or a TargetError
        return default_user_attributes(f"{where} could not be read: {_short(error)}")
    finally:
        engine.request_log.flush()
    found = attributes_from_schemas(resources, where)
    if not any(a.schema.lower() == CORE_USER_SCHEMA.lower() for a in found.attributes):
        return default_user_attributes(f"{where} has no User schema")
    return found


def _short(error: SandboxError) -> str:
    status = getattr(error, "status", None)
    code = getattr(error, "error_code", None)
    if code is not None:
        return f"{code}" + (f", HTTP {status}" if status else "")
    return error.message


@dataclass(frozen=True, slots=True)
class MappingEdit:
    """What adding or replacing a user mapping did."""

    config: JobConfig
    target: str
    """The target as saved (the schema's spelling)."""
    replaced: bool
    checked_against: str | None
    """Where the target attribute was found; None when not checked (an existing mapping's
    target, or forced)."""


def set_user_mapping(
    engine: Provisioning,
    target: str,
    source: str,
    *,
    kind: str | None = None,
    default: str | None = None,
    create_only: bool = False,
    matching: int | None = None,
    replacing: str | None = None,
    force: bool = False,
) -> MappingEdit:
    """Add or replace the user mapping of TARGET and save the set (validated as Entra's
    editor does); the CLI, the UI's mapping dialog and scenario steps all add mappings here.

    A new target must be an attribute of the target (`target_user_attributes`), unless
    `force` (a custom attribute). The mapping already targeting TARGET (case-insensitively)
    is replaced; `replacing` names the target an edited mapping had before."""
    config = engine.config()
    wanted = target.strip()

    def existing(name: str | None) -> str | None:
        if name is None:
            return None
        return next((m.target for m in config.user_mappings
                     if m.target.lower() == name.strip().lower()), None)  # fmt: skip

    old = existing(replacing) or existing(wanted)
    checked = None
    if old is not None and old.lower() == wanted.lower():
        wanted = old  # the mapping's own target: it was offered when it was added
    elif not force:
        attributes = target_user_attributes(engine)
        wanted, checked = attributes.resolve(wanted), attributes.origin
    rows = with_mapping(config.user_mappings, wanted, source, kind=kind, default=default,
                        create_only=create_only, matching=matching, replacing=old)  # fmt: skip
    saved = engine.configure(user_mappings=tuple(rows), mapping_preset="custom")
    return MappingEdit(saved, wanted, old is not None, checked)


def remove_user_mapping(engine: Provisioning, target: str) -> JobConfig:
    """Remove the user mapping of TARGET and save the set; a mapping marked required (the
    preset's userName and active, Nulab's displayName) is refused: Entra's editor lets it be
    edited, not deleted."""
    config = engine.config()
    if any(m.required for m in config.user_mappings if m.target == target):
        raise MappingError(f"{target} is required: it can be edited, not removed")
    rows = tuple(m for m in config.user_mappings if m.target != target)
    return engine.configure(user_mappings=rows, mapping_preset="custom")


GROUP_TARGETS = ("displayName", "externalId", "members")
"""The SCIM Group attributes a group mapping can target (RFC 7643 §4.2, with externalId)."""


def set_group_mapping(
    engine: Provisioning,
    target: str,
    source: str,
    *,
    kind: str | None = None,
    default: str | None = None,
    create_only: bool = False,
    matching: int | None = None,
    replacing: str | None = None,
) -> JobConfig:
    """Add or replace the group mapping of TARGET (one of GROUP_TARGETS, any case) and save
    the set, validated as Entra's editor does; the next cycle is initial."""
    config = engine.config()
    wanted = next((t for t in GROUP_TARGETS if t.lower() == target.strip().lower()), None)
    if wanted is None:
        raise MappingError(
            f"a SCIM Group has no attribute {target.strip()!r}; map one of: "
            + ", ".join(GROUP_TARGETS)
        )
    old = next((m.target for m in config.group_mappings
                if m.target.lower() == (replacing or wanted).lower()), None)  # fmt: skip
    rows = with_mapping(config.group_mappings, wanted, source, kind=kind, default=default,
                        create_only=create_only, matching=matching, replacing=old,
                        object_type="Group")  # fmt: skip
    return engine.configure(group_mappings=tuple(rows))


def remove_group_mapping(engine: Provisioning, target: str) -> JobConfig:
    """Remove the group mapping of TARGET; a required one (displayName) is refused."""
    config = engine.config()
    if any(m.required for m in config.group_mappings if m.target == target):
        raise MappingError(f"{target} is required: it can be edited, not removed")
    rows = tuple(m for m in config.group_mappings if m.target != target)
    return engine.configure(group_mappings=rows)
