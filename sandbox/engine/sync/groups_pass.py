"""Provides run_groups_pass: the group pass of a cycle (§9), groups matched or created empty,
then members added and removed by PATCH, after the users (§1.2).

A provider without /Groups answers 404 to the first query: that is a SCIM-compliance failure
and the job goes to quarantine although the users were provisioned, which is what the Nulab
guide's step 5 (turn group provisioning off) prevents.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from sandbox.engine.mappings.mapping import compute, diff
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.scim.wire import group_member_patch, group_patch, group_post
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleRun, Quarantined
from sandbox.engine.sync.user_steps import Tally
from sandbox.scim_names import APP

_TALLIES = {
    "Create": Tally.CREATED,
    "Update": Tally.UPDATED,
    "Delete": Tally.DELETED,
    "Disable": Tally.DISABLED,
}


def run_groups_pass(run: CycleRun, group_ids: list[str]) -> Iterator[LogRecord]:
    """The groups one after another, each record as it is made; after the record of a group
    whose failure quarantines the job, the pass stops (`Quarantined`)."""
    processor = GroupProcessor(run)
    for group_id in group_ids:
        record, error = processor.process(group_id)
        if record is not None:
            yield record
        if error is not None and error.quarantines:
            raise Quarantined.by(error)


def group_tally(record: LogRecord) -> Tally:
    """Where a group's record counts in the cycle's report."""
    if record.status == "Failure":
        return Tally.FAILED
    return _TALLIES.get(record.action, Tally.SKIPPED)


class GroupProcessor:
    """Provisions the cycle's groups and their memberships."""

    def __init__(self, run: CycleRun) -> None:
        self.run = run
        self.parts = run.parts
        self.target = run.parts.target
        self.config = run.parts.config

    def process(self, group_id: str) -> tuple[LogRecord | None, TargetError | None]:
        """One group: match by displayName or create it, then member PATCHes; its record
        (None when there is nothing to log) and the target's error if a request failed."""
        started = time.perf_counter()
        with self.target.recording() as seen:
            record, error = self._process(group_id)
        if record is not None:
            record.exchanges = [e.ref for e in seen]
            record.duration_ms = (time.perf_counter() - started) * 1000
        return record, error

    def _process(self, group_id: str) -> tuple[LogRecord | None, TargetError | None]:
        directory = self.parts.directory
        links = self.parts.links
        group = directory.find_group(group_id)
        link = links.get("Group", group_id)
        if group is None:
            if link is None:
                return None, None
            record = LogRecord(
                self.run.id,
                self.run.now_text(),
                "Group",
                group_id,
                str(link.exported.get("displayName", group_id)),
                action="Delete",
            )
            if self.config.delete:
                self.run.send(lambda: self.target.delete_group(link.target_id))
                links.drop("Group", [group_id])
            return record, None
        record = LogRecord(self.run.id, self.run.now_text(), "Group", group.id, group.display_name)
        record.step(
            "EntryImport",
            "import",
            "success",
            f"Retrieved Group '{group.display_name}' from Azure Active Directory",
        )
        members = [m for m in directory.members(group.id) if not m.deleted]
        source: dict[str, object] = {
            "objectId": group.id,
            "displayName": group.display_name,
            "description": getattr(group, "description", None),
            "mailNickname": group.display_name.replace(" ", ""),
            "members": [m.id for m in members],
        }
        flat = compute(self.config.group_mappings, source, context=self.run.context)
        flat.pop("members", None)
        try:
            if link is None:
                found = self.run.send(lambda: self.target.find_groups(group.display_name))
                record.step(
                    "EntryImport",
                    "matching",
                    "success",
                    f"Retrieved {len(found)} group(s) named '{group.display_name}' from {APP}",
                )
                if found:
                    target_id = str(found[0].get("id"))
                    record.action = "Update"
                    exported: dict[str, object] = {**flat, "members": []}
                else:
                    if not self.config.create:
                        record.status, record.reason = "Skipped", "the Create action is off"
                        return record, None
                    created = self.run.send(
                        lambda: self.target.create_group(
                            group_post(
                                str(flat.get("displayName", group.display_name)),
                                str(flat.get("externalId", group.id)),
                            )
                        )
                    )
                    target_id = str(created.get("id"))
                    record.action = "Create"
                    exported = {**flat, "members": []}
            else:
                target_id = link.target_id
                exported = dict(link.exported)
                changes = diff({k: v for k, v in exported.items() if k != "members"}, flat)
                if changes and self.config.update:
                    self.run.send(
                        lambda: self.target.patch_group(
                            target_id, group_patch(changes, self.target.dialect)
                        )
                    )
                    record.action = "Update"
            record.target_id = target_id
            wanted = links.target_ids("User", [m.id for m in members])
            have = _members(exported)
            add = sorted(set(wanted.values()) - have)
            remove = sorted(have - set(wanted.values()))
            if (add or remove) and self.config.update:
                # member changes are reference updates (§9): they don't count toward the 40 %
                self.run.send(
                    lambda: self.target.patch_group(
                        target_id, group_member_patch(add, remove, self.target.dialect)
                    )
                )
                record.modified.append(
                    {"displayName": "members", "oldValue": len(have), "newValue": len(wanted)}
                )
                record.action = "Update" if record.action == "Other" else record.action
            exported = {**flat, "members": sorted(wanted.values())}
            links.save([Link("Group", group.id, target_id, exported)], self.run.now())
            if record.action == "Other":
                record.status = "Skipped"
                record.reason = "The state of the group in both systems already match."
        except TargetError as error:
            record.fail(error.error_code, error.reason)
            return record, error
        return record, None


def _members(exported: dict[str, object]) -> set[str]:
    """The target ids of the members a group was exported with."""
    members = exported.get("members", [])
    return {str(m) for m in members} if isinstance(members, list) else set()
