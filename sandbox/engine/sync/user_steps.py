"""Provides UserProcessor: one directory user through Entra's steps (import, scoping, matching,
export), as an initial or incremental cycle (or provision on demand) does it, and the Outcome
it gives the users pass.

The decision table is §2.7 of docs/entra-behaviour.md: a user assigned, in scope and active
is created (no match) or linked and updated (one match); unassigned, out of scope, soft-deleted or
blocked means `active` false (a Disable) for a linked user; hard-deleted means DELETE when
the Delete action is on; a restore flips `active` back. Disables and deletes are returned
as deferred work, so the users pass can count them against the accidental-deletion threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from sandbox.engine.mappings.mapping import (
    Change,
    FlowType,
    compute,
    diff,
    matching_mappings,
)
from sandbox.engine.mappings.paths import parse_target_path, to_scim_document
from sandbox.engine.mappings.scoping import ScopingError, in_scope
from sandbox.engine.scim.target_errors import DuplicateEntries, TargetError
from sandbox.engine.scim.wire import (
    MANAGER_PATH,
    SINGLE_ROLE_PATH,
    Dialect,
    is_role_target,
    user_patch,
)
from sandbox.engine.sync.job import JobConfig
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleRun, Resource
from sandbox.engine.sync.read_ahead import UserReads
from sandbox.engine.tenant.app import AppRoleAssignment
from sandbox.engine.tenant.model import DirectoryUser
from sandbox.errors import ExpressionError, MappingError
from sandbox.scim_names import APP

UNMANAGED = "_unmanaged"
"""Marks a link whose user was disabled by leaving scope: Entra no longer manages it."""

Source = dict[str, object]
"""What the attribute mappings read for one user: its Entra properties and computed ones."""


@dataclass(frozen=True)
class ScopeFacts:
    """The scoping facts behind IsSoftDeleted (§2.7), shown as the scoping step's details."""

    active: bool
    assigned: bool
    in_scope: bool
    why: str
    """The scoping filters' verdict in Entra's words."""
    soft_deleted: bool
    account_enabled: bool

    def details(self) -> dict[str, object]:
        """The scoping step's details, under Entra's names."""
        return {
            "IsActive": self.active,
            "Assigned": self.assigned,
            "InScope": self.in_scope,
            "ScopeEvaluationResult": self.why,
            "SoftDeleted": self.soft_deleted,
            "AccountEnabled": self.account_enabled,
        }


class Tally(StrEnum):
    """Where an outcome counts in the cycle's report."""

    CREATED = "created"
    UPDATED = "updated"
    DISABLED = "disabled"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"
    STAGED = "staged"
    """Held back by accidental-deletion prevention (§8.3): counted as skipped."""
    UNLOGGED = "none"
    """Nothing to log or count: the link of a user no longer managed is dropped quietly."""

    @property
    def counted(self) -> str:
        """The report's count this outcome adds to."""
        return Tally.SKIPPED.value if self is Tally.STAGED else self.value


@dataclass(frozen=True)
class Outcome:
    """What processing one user produced: its log record, the link to save or drop, and the
    disable or delete that waits for the accidental-deletion check."""

    record: LogRecord
    link: Link | None = None
    drop_link: bool = False
    deferred: Callable[[], None] | None = None
    """A disable or delete waiting for the accidental-deletion check."""
    deferred_action: str | None = None
    counter: Tally = Tally.SKIPPED
    failure: TargetError | None = None
    """The target's error when a request failed (a quarantining one stops the cycle)."""
    escrow: bool = True
    """Whether a failure is escrowed and retried in later cycles (§8.1): not when retrying
    cannot help (the mappings fail, no matching attribute has a value)."""
    manager: str | None = None
    """A created user's manager (its objectId) as the import read it: the users pass sets it
    by a separate PATCH once the manager is in the target (§1.2 step 6)."""


def _flat_from_resource(resource: Resource, paths: list[str]) -> dict[str, object]:
    """Read a target resource into the flat {target path: value} form the mappings produce."""
    flat: dict[str, object] = {}
    for path in paths:
        try:
            target = parse_target_path(path)
        except MappingError:
            continue
        container = resource.get(target.urn, {}) if target.urn else resource
        value = container.get(target.attribute) if isinstance(container, dict) else None
        if target.filter_attribute is not None:
            wanted = str(target.filter_value).lower()
            entries = value if isinstance(value, list) else []
            value = None
            for entry in entries:
                have = entry.get(target.filter_attribute) if isinstance(entry, dict) else None
                if str(have).lower() == wanted:
                    value = entry.get(target.sub_attribute)
                    break
        elif target.sub_attribute is not None:
            value = value.get(target.sub_attribute) if isinstance(value, dict) else None
        elif isinstance(value, dict) and "value" in value:
            value = value["value"]  # a reference read back: {"value": id, "$ref": ...}
        if isinstance(value, bool):
            value = "True" if value else "False"
        if value not in (None, "", []):
            flat[path] = value
    return flat


def entra_source(
    reads: UserReads, config: JobConfig, user: DirectoryUser
) -> tuple[Source, ScopeFacts]:
    """What the attribute mappings read for one tenant user (its Entra properties plus
    IsSoftDeleted and appRoleAssignments), and the scoping facts behind IsSoftDeleted."""
    assignments = reads.roles(user.id)
    assigned = bool(assignments) if config.scope == "assigned" else True
    source: Source = user.source()
    scoped, why = in_scope(config.scoping_filters, source)
    active = not user.deleted and bool(user.account_enabled)
    source["IsSoftDeleted"] = "False" if (assigned and scoped and active) else "True"
    source["appRoleAssignments"] = [a.to_dict() for a in assignments]
    if source.get("manager"):
        # A reference flows as the referenced user's id in the target, once it is linked
        # there; never as the Entra objectId (§1.2 step 6, §2.4 "271").
        linked = reads.manager_target(user)
        if linked:
            source["manager"] = linked
        else:
            source.pop("manager")
    facts = ScopeFacts(active, assigned, scoped, why, user.deleted, bool(user.account_enabled))
    return source, facts


def user_dialect(run: CycleRun) -> Dialect:
    """The PATCH forms a cycle sends users in: provision on demand ignores the flag (§1.6)."""
    return Dialect.LEGACY if run.on_demand else run.parts.target.dialect


class UserProcessor:
    """Processes users for one cycle, with the cycle's parts."""

    def __init__(self, run: CycleRun, reads: UserReads | None = None) -> None:
        self.run = run
        self.parts = run.parts
        self.reads = reads or UserReads(run.parts.directory, run.parts.app, run.parts.links)
        """Where the users' rows come from (read ahead for a pass)."""
        self.config = run.parts.config
        self.target = run.parts.target
        self.dialect = user_dialect(run)

    # -- the source side ---------------------------------------------------------------

    def _source(self, user: DirectoryUser) -> tuple[Source, ScopeFacts]:
        return entra_source(self.reads, self.config, user)

    def _compute(self, source: Source, on_create: bool) -> dict[str, object]:
        flat = compute(
            self.config.user_mappings, source, context=self.run.context, on_create=on_create
        )
        if self.run.on_demand:
            # "On-demand provisioning of roles isn't supported" (§1.6): provision on demand
            # neither creates nor changes a role; the next cycle sends it.
            return {path: value for path, value in flat.items() if not is_role_target(path)}
        return flat

    # -- one user ----------------------------------------------------------------------

    def process(self, user_id: str) -> Outcome | None:
        """Run one user; None when the user needs no log entry (not ours, nothing to do)."""
        started = time.perf_counter()
        with self.target.recording() as seen:
            outcome = self._process(user_id)
        if outcome is not None:
            outcome.record.exchanges = [e.ref for e in seen]
            outcome.record.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    def _process(self, user_id: str) -> Outcome | None:
        user = self.reads.user(user_id)
        link = self.reads.link(user_id)
        name = (
            user.user_principal_name
            if user
            else (link.exported.get("userName") if link else user_id)
        )
        record = LogRecord(self.run.id, self.run.now_text(), "User", user_id, str(name))
        if user is None:
            if link is None:
                return None
            if link.exported.get(UNMANAGED):
                # no longer managed
                return Outcome(record, drop_link=True, counter=Tally.UNLOGGED)
            record.step(
                "EntryImportDelete",
                "import",
                "success",
                f"Received User '{name}' change of type (Delete) from Azure Active Directory",
            )
            return self._delete(record, link)
        try:
            source, facts = self._source(user)
        except ScopingError as error:
            record.fail("MappingEvaluationFailed", f"The scoping filters failed: {error}")
            return Outcome(record, counter=Tally.FAILED, escrow=False)
        record.step(
            "EntryImport",
            "import",
            "success",
            f"Retrieved User '{name}' from Azure Active Directory",
            **{k: source.get(k) for k in ("userPrincipalName", "mail", "displayName")},
        )
        entitled = source["IsSoftDeleted"] == "False"
        record.step(
            "EntrySynchronizationScoping",
            "scoping",
            "success" if entitled else "skipped",
            "User is in scope" if entitled else "User is not in scope or not active",
            **facts.details(),
        )
        try:
            if link is None:
                if not entitled:
                    if (
                        self.config.scope == "all"
                        or self.run.kind == "initial"
                        or self.run.on_demand
                    ):
                        record.status = "Skipped"
                        record.reason = _skip_reason(facts)
                        record.step("EntrySynchronizationSkip", "export", "skipped", record.reason)
                        return Outcome(record)
                    return None
                return self._match_or_create(record, source, user.manager)
            return self._update_linked(record, source, link, facts)
        except (MappingError, ExpressionError) as error:
            record.fail(
                "AttributeMappingEvaluationFailed"
                if not isinstance(error, MappingError)
                else "MappingEvaluationFailed",
                f"An error occured while evaluating the mappings: {error}",
            )
            return Outcome(record, counter=Tally.FAILED, escrow=False)
        except TargetError as error:
            record.fail(error.error_code, error.reason)
            return Outcome(record, counter=Tally.FAILED, failure=error)

    def _match_or_create(self, record: LogRecord, source: Source, manager: str | None) -> Outcome:
        flat = self._compute(source, on_create=True)
        matched = None
        for mapping in matching_mappings(self.config.user_mappings):
            value = flat.get(mapping.target)
            if value in (None, ""):
                continue
            try:
                matched = self.run.send(partial(self.target.match_user, mapping.target, str(value)))
            except DuplicateEntries as duplicate:
                _matching_step(record, mapping.target, value, duplicate.matches)
                record.fail(
                    duplicate.error_code,
                    f'{duplicate.matches} users in {APP} match {mapping.target} eq "{value}"',
                )
                return Outcome(record, counter=Tally.FAILED)
            _matching_step(record, mapping.target, value, 0 if matched is None else 1)
            if matched is not None:
                break
        else:
            if not any(flat.get(m.target) for m in matching_mappings(self.config.user_mappings)):
                record.fail("ImportSkipped", "the user has no value for any matching attribute")
                return Outcome(record, counter=Tally.FAILED, escrow=False)
        if matched is None:
            if not self.config.create:
                record.status, record.reason = "Skipped", "the Create target object action is off"
                return Outcome(record)
            record.action = "Create"
            record.step(
                "EntrySynchronizationAdd",
                "processing",
                "success",
                f"User will be created in {APP} (User is active and assigned in Azure "
                f"Active Directory, but no matching User was found in {APP})",
            )
            created = self.run.send(lambda: self.target.create_user(to_scim_document(flat)))
            record.target_id = str(created.get("id"))
            record.modified = [
                {"displayName": p, "oldValue": None, "newValue": v} for p, v in flat.items()
            ]
            record.step(
                "EntryExportAdd",
                "export",
                "success",
                f"User '{record.source_name}' was created in {APP}",
            )
            return Outcome(
                record,
                link=Link("User", record.source_id, record.target_id, flat),
                counter=Tally.CREATED,
                manager=manager,
            )
        target_id = str(matched.get("id"))
        record.target_id = target_id
        desired = self._compute(source, on_create=False)
        current = _flat_from_resource(matched, [*desired, MANAGER_PATH])
        changes = diff(current, desired) + self._manager_cleared(record, current, desired)
        return self._export_update(record, target_id, changes, desired, "Update")

    def _update_linked(
        self, record: LogRecord, source: Source, link: Link, facts: ScopeFacts
    ) -> Outcome:
        record.target_id = link.target_id
        resource = self.run.send(lambda: self.target.get_user(link.target_id))  # read by id (§2.4)
        record.step(
            "EntryImport",
            "matching",
            "success",
            f"Retrieved '{record.source_name}' from {APP}",
            targetId=link.target_id,
        )
        desired = self._compute(source, on_create=False)
        if self.run.on_demand:  # the roles stay as last exported (§1.6)
            desired.update({p: v for p, v in link.exported.items() if is_role_target(p)})
        changes = diff(link.exported, desired) + self._manager_cleared(
            record, link.exported, desired
        )
        entitled = source["IsSoftDeleted"] == "False"
        if not entitled and link.exported.get("active") != "False":
            only_scope = facts.active and facts.assigned is not False and not facts.in_scope
            unassigned_only = facts.active and not facts.assigned
            if (only_scope or unassigned_only) and self.config.skip_out_of_scope_deletions:
                record.status = "Skipped"
                record.reason = "SkipOutOfScopeDeletions is on: out-of-scope users are not disabled"
                return Outcome(record)
            # Unassigned or out of scope: the user is no longer managed, and a later hard
            # delete sends nothing (§2.7: an unassigned user is no longer managed).
            unmanaged = facts.active and (not facts.assigned or not facts.in_scope)
            return self._defer(record, link, changes, desired, "Disable", unmanaged)
        if not entitled:  # already disabled: the user is no longer managed (§2.7)
            record.status = "Skipped"
            record.reason = "The user is already disabled in the target; nothing more is done."
            record.step("EntrySynchronizationSkip", "export", "skipped", record.reason)
            return Outcome(record)
        if entitled and link.exported.get("active") == "False":
            return self._export_update(record, link.target_id, changes, desired, "Update")
        if resource is not None and not self.run.incremental:
            current = _flat_from_resource(resource, [*desired, MANAGER_PATH])
            changes = diff(current, desired) + self._manager_cleared(record, current, desired)
            if self.run.on_demand:
                changes = [c for c in changes if not is_role_target(c.path)]
        return self._export_update(record, link.target_id, changes, desired, "Update")

    def _manager_cleared(
        self, record: LogRecord, current: dict[str, object], desired: dict[str, object]
    ) -> list[Change]:
        """The manager's removal when the target has a manager and the directory user has
        none any more: unlike other cleared values, a cleared manager is sent (§2.4; the
        gallery validation suite's manager test removes it and expects the log to show it).
        A manager that is set but not yet in the target is not a removal."""
        if not current.get(MANAGER_PATH) or MANAGER_PATH in desired:
            return []
        if not any(
            m.target == MANAGER_PATH and m.flow is FlowType.ALWAYS
            for m in self.config.user_mappings
        ):
            return []
        user = self.reads.user(record.source_id)
        if user is None or user.manager:
            return []
        return [Change(MANAGER_PATH, current[MANAGER_PATH], None)]

    def _export_update(
        self,
        record: LogRecord,
        target_id: str,
        changes: list[Change],
        desired: dict[str, object],
        action: str,
    ) -> Outcome:
        link = Link("User", record.source_id, target_id, desired)
        if not changes:
            record.status = "Skipped"
            record.reason = (
                "The state of the user in both the source and target systems already match."
            )
            record.step(
                "EntrySynchronizationSkip",
                "export",
                "skipped",
                record.reason,
                SkipReason="RedundantExport",
            )
            return Outcome(record, link=link)
        if not self.config.update:
            record.status, record.reason = "Skipped", "the Update target object action is off"
            return Outcome(record)
        wire = changes
        if any(c.path in (SINGLE_ROLE_PATH, "roles") for c in changes):
            wire = _with_role_ids(changes, self.reads.roles(record.source_id))
        body = user_patch(wire, self.dialect, on_demand=self.run.on_demand)
        if not body["Operations"]:
            record.status, record.reason = "Skipped", "nothing Entra flows changed"
            return Outcome(record, link=link)
        record.action = action
        record.modified = [
            {"displayName": c.path, "oldValue": c.old, "newValue": _logged(c)} for c in changes
        ]
        self.run.send(lambda: self.target.patch_user(target_id, body))
        record.step(
            "EntryExportUpdate",
            "export",
            "success",
            f"User '{record.source_name}' was updated in {APP}",
        )
        return Outcome(record, link=link, counter=Tally.UPDATED)

    def _defer(
        self,
        record: LogRecord,
        link: Link,
        changes: list[Change],
        desired: dict[str, object],
        action: str,
        unmanaged: bool = False,
    ) -> Outcome:
        if not self.config.update:
            record.status, record.reason = "Skipped", "the Update target object action is off"
            return Outcome(record)
        active_changes = [c for c in changes if c.path == "active"] or [
            Change("active", link.exported.get("active"), "False")
        ]
        body = user_patch(active_changes, self.dialect, on_demand=self.run.on_demand)
        record.action = action
        record.modified = [
            {"displayName": c.path, "oldValue": c.old, "newValue": c.new} for c in active_changes
        ]
        exported = {**link.exported, "active": "False"}
        if unmanaged:
            exported[UNMANAGED] = True

        def disable() -> None:
            self.run.send(lambda: self.target.patch_user(link.target_id, body))
            record.step(
                "EntryExportUpdate",
                "export",
                "success",
                f"User '{record.source_name}' was disabled in {APP}",
            )

        return Outcome(
            record,
            link=Link("User", link.source_id, link.target_id, exported),
            counter=Tally.DISABLED,
            deferred=disable,
            deferred_action=action,
        )

    def _delete(self, record: LogRecord, link: Link) -> Outcome:
        record.target_id = link.target_id
        if not self.config.delete:
            record.status, record.reason = "Skipped", "the Delete target object action is off"
            return Outcome(record)
        record.action = "Delete"

        def delete() -> None:
            try:
                self.run.send(lambda: self.target.delete_user(link.target_id))
            except TargetError as error:
                if error.status != 404:  # already gone is what we wanted
                    raise
            record.step(
                "EntryExportDelete",
                "export",
                "success",
                f"User '{record.source_name}' was deleted in {APP}",
            )

        return Outcome(
            record, drop_link=True, counter=Tally.DELETED, deferred=delete, deferred_action="Delete"
        )


def _with_role_ids(changes: list[Change], held: list[AppRoleAssignment]) -> list[Change]:
    """The changes as the PATCH carries them: a role travels with its app role's id, as
    ``{id, value, displayName}`` (stringified without the flag), which the mappings' values
    lack. SingleAppRoleAssignment returns the bare value (§5.4); AppRoleAssignmentsComplex
    returns the POST's entries, which have no id (§5.5). The roles of
    AssertiveAppRoleAssignmentsComplex (``display``) are sent as they are (§5.5)."""
    by_value = {a.value: a.to_dict() for a in held}

    def with_id(role: object) -> object:
        if not isinstance(role, dict) or "display" in role or role.get("id") is not None:
            return role
        assignment = by_value.get(str(role.get("value")))
        return role if assignment is None else {"id": assignment["id"], **role}

    out: list[Change] = []
    for change in changes:
        if change.path == SINGLE_ROLE_PATH:
            change = change._replace(new=by_value.get(str(change.new), change.new))
        elif change.path == "roles" and isinstance(change.new, list):
            change = change._replace(new=[with_id(role) for role in change.new])
        out.append(change)
    return out


def _logged(change: Change) -> object:
    """A change's new value as the provisioning log shows it: a cleared manager is sent as ""
    and logged with that empty new value (§2.4; the gallery validation suite checks it)."""
    if change.path == MANAGER_PATH and change.new is None:
        return ""
    return change.new


def _matching_step(record: LogRecord, target: str, value: object, matches: int) -> None:
    record.step(
        "EntryImport",
        "matching",
        "success",
        f"Retrieved {matches} '{target} eq {value}' from {APP}",
        attribute=target,
        value=value,
        matches=matches,
    )


def _skip_reason(facts: ScopeFacts) -> str:
    if facts.soft_deleted:
        return "The user is soft-deleted in Azure Active Directory and is not provisioned."
    if not facts.account_enabled:
        return (
            "The user is blocked from signing in (accountEnabled false): it must be active first."
        )
    if not facts.assigned:
        return "The user is not assigned to the application (not effectively entitled)."
    return "The user does not pass the scoping filters."
