"""Provides the group pass of a cycle (§9): groups matched or created empty, then members
added and removed by PATCH, after the users (§1.2).

A provider without /Groups answers 404 to the first query: that is a SCIM-compliance failure
and the job goes to quarantine although the users were provisioned, which is what the Nulab
guide's step 5 (turn group provisioning off) prevents.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.engine.mappings.mapping import compute, diff
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.scim.wire import group_member_patch, group_patch, group_post
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.logs import LogRecord
from sandbox.scim_names import APP


class GroupProcessor:
    """Provisions the cycle's groups and their memberships."""

    def __init__(self, cycle: Any) -> None:
        self.cycle = cycle
        self.engine = cycle.engine
        self.target = cycle.target
        self.config = cycle.config

    def process(self, group_id: str) -> LogRecord | None:
        """One group: match by displayName or create it, then member PATCHes."""
        started = time.perf_counter()
        with self.target.recording() as seen:
            record = self._process(group_id)
        if record is not None:
            record.exchanges = [e.ref for e in seen]
            record.duration_ms = (time.perf_counter() - started) * 1000
        return record

    def _process(self, group_id: str) -> LogRecord | None:
        directory = self.engine.directory
        group = directory.find_group(group_id)
        link = self.engine.links.get("Group", group_id)
        if group is None:
            if link is None:
                return None
            record = LogRecord(self.cycle.id, self.cycle.now_text(), "Group", group_id,
                               str(link.exported.get("displayName", group_id)), action="Delete")
            if self.config.delete:
                self.cycle.call(lambda: self.target.delete_group(link.target_id))
                self.engine.links.drop("Group", [group_id])
            return record
        record = LogRecord(self.cycle.id, self.cycle.now_text(), "Group", group.id,
                           group.display_name)
        record.step("EntryImport", "import", "success",
                    f"Retrieved Group '{group.display_name}' from Azure Active Directory")
        members = [m for m in directory.members(group.id) if not m.deleted]
        source = {"objectId": group.id, "displayName": group.display_name,
                  "description": getattr(group, "description", None),
                  "mailNickname": group.display_name.replace(" ", ""),
                  "members": [m.id for m in members]}
        flat = compute(self.config.group_mappings, source, context=self.cycle.context)
        flat.pop("members", None)
        try:
            if link is None:
                found = self.cycle.call(lambda: self.target.find_groups(group.display_name))
                record.step("EntryImport", "matching", "success",
                            f"Retrieved {len(found)} group(s) named '{group.display_name}' from {APP}")
                if found:
                    target_id = str(found[0].get("id"))
                    record.action = "Update"
                    exported: dict[str, Any] = {**flat, "members": []}
                else:
                    if not self.config.create:
                        record.status, record.reason = "Skipped", "the Create action is off"
                        return record
                    created = self.cycle.call(lambda: self.target.create_group(
                        group_post(str(flat.get("displayName", group.display_name)),
                                   str(flat.get("externalId", group.id)))))
                    target_id = str(created.get("id"))
                    record.action = "Create"
                    exported = {**flat, "members": []}
            else:
                target_id = link.target_id
                exported = dict(link.exported)
                changes = diff({k: v for k, v in exported.items() if k != "members"}, flat)
                if changes and self.config.update:
                    self.cycle.call(lambda: self.target.patch_group(
                        target_id, group_patch(changes, self.target.dialect)))
                    record.action = "Update"
            record.target_id = target_id
            wanted = self.engine.links.target_ids("User", [m.id for m in members])
            have = set(exported.get("members", []))
            add = sorted(set(wanted.values()) - have)
            remove = sorted(have - set(wanted.values()))
            if (add or remove) and self.config.update:
                # member changes are reference updates (§9): they don't count toward the 40 %
                self.cycle.call(lambda: self.target.patch_group(
                    target_id, group_member_patch(add, remove, self.target.dialect)))
                record.modified.append({"displayName": "members", "oldValue": len(have),
                                        "newValue": len(wanted)})
                record.action = "Update" if record.action == "Other" else record.action
            exported = {**flat, "members": sorted(wanted.values())}
            self.engine.links.save([Link("Group", group.id, target_id, exported)],
                                   self.cycle.clock_now())
            if record.action == "Other":
                record.status = "Skipped"
                record.reason = "The state of the group in both systems already match."
        except TargetError as error:
            record.fail(error.error_code, error.reason)
            self.cycle.group_failed(error)
        return record
