"""Provides GroupProcessor: one directory group through Entra's steps (import, scoping,
matching, export, members), as a cycle or provision on demand does it (§9).

A group assigned (or every group under "Sync all") that passes the group scoping filters (§7)
is matched by displayName or created empty, then its members are added and removed by PATCH.
A linked group that is deleted, unassigned or leaves scope is deprovisioned as a user is:
DELETE /Groups/{id} when the Delete target object action is on, not for leaving scope when
SkipOutOfScopeDeletions is on, and only through the cycle's accidental-deletion gate (§8.3);
the link is dropped. A member restored from the recycle bin is not added back to the groups it
was removed from until provisioning restarts (§2.7).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.engine.mappings.mapping import compute, diff
from sandbox.engine.mappings.scoping import ScopingError, in_scope
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.scim.wire import group_member_patch, group_patch, group_post
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleRun
from sandbox.engine.sync.user_steps import Source, user_dialect
from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser
from sandbox.scim_names import APP

HELD = "_held_members"
"""In a group's link: the members removed from the target group because they were
soft-deleted. Restored, they stay out of the target group until an initial cycle (§2.7)."""


@dataclass
class GroupWork:
    """What processing one group produced: its record (None: nothing to log), the target's
    error if a request failed, and a DELETE waiting for the accidental-deletion gate."""

    record: LogRecord | None
    error: TargetError | None = None
    deferred: Callable[[], None] | None = None
    exchanges: list[str] = field(default_factory=list)


def group_source(group: DirectoryGroup, members: list[DirectoryUser]) -> Source:
    """What the group mappings and group scoping filters read for one tenant group."""
    return {
        "objectId": group.id,
        "displayName": group.display_name,
        "description": group.description or None,
        "mailNickname": group.display_name.replace(" ", ""),
        "members": [m.id for m in members],
    }


class GroupProcessor:
    """Provisions the cycle's groups and their memberships; `only_members` (provision on
    demand) limits the member changes to those users."""

    def __init__(self, run: CycleRun, only_members: frozenset[str] | None = None) -> None:
        self.run = run
        self.parts = run.parts
        self.target = run.parts.target
        self.config = run.parts.config
        self.dialect = user_dialect(run)  # provision on demand ignores the flag (§1.6)
        self.only_members = only_members
        self._assigned: set[str] | None = None

    # -- scope ---------------------------------------------------------------------------

    def _entitled(self, group: DirectoryGroup) -> tuple[bool, str]:
        """Whether the group is in scope (assigned, or Sync all; and the group scoping
        filters), with the reason in Entra's words."""
        if self.config.scope == "assigned":
            if self._assigned is None:
                self._assigned = set(self.parts.app.assigned_group_ids())
            if group.id not in self._assigned:
                return False, "The group is not assigned to the application."
        source = group_source(group, [])
        scoped, why = in_scope(self.config.group_scoping_filters, source)
        if not scoped:
            return False, f"The group does not pass the group scoping filters ({why})."
        return True, why

    def leaving(self, group_id: str) -> bool:
        """Whether processing this group sends its DELETE (it is linked, and deleted or out of
        scope, and nothing keeps it): what the accidental-deletion gate counts."""
        if self.parts.links.get("Group", group_id) is None or not self.config.delete:
            return False
        group = self.parts.directory.find_group(group_id)
        if group is None:
            return True
        try:
            entitled = self._entitled(group)[0]
        except ScopingError:
            return False  # it fails its step; nothing is deleted for it
        return not entitled and not self.config.skip_out_of_scope_deletions

    # -- one group -----------------------------------------------------------------------

    def process(self, group_id: str) -> GroupWork:
        """One group, its exchanges on its record."""
        started = time.perf_counter()
        with self.target.recording() as seen:
            work = self._process(group_id)
        if work.record is not None:
            work.record.exchanges = [e.ref for e in seen]
            work.record.duration_ms = (time.perf_counter() - started) * 1000
        return work

    def _process(self, group_id: str) -> GroupWork:
        run = self.run
        group = self.parts.directory.find_group(group_id)
        link = self.parts.links.get("Group", group_id)
        if group is None:
            if link is None:
                return GroupWork(None)
            name = str(link.exported.get("displayName", group_id))
            record = LogRecord(run.id, run.now_text(), "Group", group_id, name)
            record.step(
                "EntryImportDelete",
                "import",
                "success",
                f"Received Group '{name}' change of type (Delete) from Azure Active Directory",
            )
            return self._delete(record, link)
        record = LogRecord(run.id, run.now_text(), "Group", group.id, group.display_name)
        record.step(
            "EntryImport",
            "import",
            "success",
            f"Retrieved Group '{group.display_name}' from Azure Active Directory",
        )
        try:
            entitled, why = self._entitled(group)
        except ScopingError as error:
            record.fail("MappingEvaluationFailed", f"The group scoping filters failed: {error}")
            return GroupWork(record)
        record.step(
            "EntrySynchronizationScoping",
            "scoping",
            "success" if entitled else "skipped",
            "Group is in scope" if entitled else why,
        )
        if not entitled:
            if link is not None:
                if self.config.skip_out_of_scope_deletions:
                    record.status = "Skipped"
                    record.reason = (
                        "SkipOutOfScopeDeletions is on: out-of-scope groups are not deleted"
                    )
                    return GroupWork(record)
                return self._delete(record, link)
            if self.config.scope == "all" or run.kind == "initial" or run.on_demand:
                record.status, record.reason = "Skipped", why
                return GroupWork(record)
            return GroupWork(None)
        try:
            self._provision(record, group, link)
        except TargetError as error:
            record.fail(error.error_code, error.reason)
            return GroupWork(record, error)
        return GroupWork(record)

    def _delete(self, record: LogRecord, link: Link) -> GroupWork:
        """DELETE /Groups/{id} (§9 step 7), waiting for the accidental-deletion gate."""
        record.target_id = link.target_id
        if not self.config.delete:
            record.status, record.reason = "Skipped", "the Delete target object action is off"
            return GroupWork(record)
        record.action = "Delete"

        def delete() -> None:
            try:
                self.run.send(lambda: self.target.delete_group(link.target_id))
            except TargetError as error:
                if error.status != 404:  # already gone is what we wanted
                    raise
            self.parts.links.drop("Group", [link.source_id])
            record.step(
                "EntryExportDelete",
                "export",
                "success",
                f"Group '{record.source_name}' was deleted in {APP}",
            )

        return GroupWork(record, deferred=delete)

    def _provision(self, record: LogRecord, group: DirectoryGroup, link: Link | None) -> None:
        """Match or create the group, update it, then its members (§9 steps 1-6)."""
        run, links = self.run, self.parts.links
        members = self.parts.directory.members(group.id)
        source = group_source(group, [m for m in members if not m.deleted])
        flat = compute(self.config.group_mappings, source, context=run.context)
        flat.pop("members", None)
        if link is None:
            found = run.send(lambda: self.target.find_groups(group.display_name))
            record.step(
                "EntryImport",
                "matching",
                "success",
                f"Retrieved {len(found)} group(s) named '{group.display_name}' from {APP}",
            )
            if found:
                target_id = str(found[0].get("id"))
                record.action = "Update"
            else:
                if not self.config.create:
                    record.status, record.reason = "Skipped", "the Create action is off"
                    return
                body = group_post(
                    str(flat.get("displayName", group.display_name)),
                    str(flat.get("externalId", group.id)),
                )
                target_id = str(run.send(lambda: self.target.create_group(body)).get("id"))
                record.action = "Create"
            exported: dict[str, object] = {**flat, "members": []}
        else:
            target_id = link.target_id
            exported = dict(link.exported)
            changes = diff({k: v for k, v in exported.items() if k not in ("members", HELD)}, flat)
            if changes and self.config.update:
                body = group_patch(changes, self.dialect)
                run.send(lambda: self.target.patch_group(target_id, body))
                record.action = "Update"
        record.target_id = target_id
        have = _listed(exported, "members")
        linked = links.target_ids("User", [m.id for m in members])
        # Soft-deleted members leave the target group; restored, they are not added back
        # automatically: an initial cycle (a restart) does it (§2.7).
        held = set() if run.kind == "initial" else _listed(exported, HELD)
        held |= {m.id for m in members if m.deleted and linked.get(m.id) in have}
        held &= {m.id for m in members}
        wanted = {
            linked[m.id] for m in members if not m.deleted and m.id in linked and m.id not in held
        }
        add, remove = wanted - have, have - wanted
        if self.only_members is not None:  # on demand: only the chosen members change
            chosen = {linked[m] for m in self.only_members if m in linked}
            add, remove = add & chosen, remove & chosen
        if (add or remove) and self.config.update:
            # member changes are reference updates (§9): they don't count toward the 40 %
            body = group_member_patch(sorted(add), sorted(remove), self.dialect)
            run.send(lambda: self.target.patch_group(target_id, body))
            record.modified.append(
                {
                    "displayName": "members",
                    "oldValue": len(have),
                    "newValue": len(have) - len(remove) + len(add),
                }
            )
            record.action = "Update" if record.action == "Other" else record.action
            have = (have - remove) | add
        exported = {**flat, "members": sorted(have)}
        if held:
            exported[HELD] = sorted(held)
        links.save([Link("Group", group.id, target_id, exported)], run.now())
        if record.action == "Other":
            record.status = "Skipped"
            record.reason = "The state of the group in both systems already match."


def _listed(exported: dict[str, object], key: str) -> set[str]:
    """A list kept in a group's link (its members' target ids, its held members)."""
    values = exported.get(key, [])
    return {str(v) for v in values} if isinstance(values, list) else set()
