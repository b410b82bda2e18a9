"""Provides the group checks (docs/entra-behaviour.md §9): create, rename, member add and
removal, unassign and delete, each through the engine and read back with GETs."""

from __future__ import annotations

from sandbox.check.model import SILENT, CheckFailed
from sandbox.check.session import Session
from sandbox.check.steps import Check, State, expect_found, expect_no_match, expect_record
from sandbox.check.users import _main, _target


def _group_target(session: Session, state: State) -> str:
    target_id = session.target_id("Group", state.group_id)
    if target_id is None:
        raise CheckFailed(f"group {state.group_name} is not linked to a group on the endpoint")
    return target_id


def _members(session: Session, target_id: str) -> list[str]:
    """GET /Groups/{id} with its members (the validation suite reads them back; Entra never
    does): their ids."""
    status, body, _ = session.probe.send("GET", f"/Groups/{target_id}")
    if status != 200 or not isinstance(body, dict):
        raise CheckFailed(f"GET /Groups/{target_id} answered {status}, expected 200 with the group")
    members = body.get("members") or []
    return [str(m.get("value")) for m in members if isinstance(m, dict)]


def create(session: Session, state: State) -> None:
    group = session.engine.directory.add_group(f"scimcheck-{session.run_id}-{session.dialect}")
    state.group_id, state.group_name = group.id, group.display_name
    session.engine.app.assign(group.id)
    session.sync()
    expect_record(session, group.id, "Create", group.display_name)
    expect_found(
        session, "Groups", "displayName", group.display_name, _group_target(session, state)
    )
    expect_no_match(session, "Groups", "displayName")  # the one group here is no proof


def rename(session: Session, state: State) -> None:
    name = state.group_name + "-renamed"
    session.rename_group(state.group_id, name)
    session.sync()
    expect_record(session, state.group_id, "Update", name)
    state.group_name = name
    expect_found(session, "Groups", "displayName", name, _group_target(session, state))


def member_add(session: Session, state: State) -> None:
    user = _main(state)
    session.engine.directory.add_member(state.group_id, user.id)
    session.sync()
    expect_record(session, state.group_id, "Update", state.group_name)
    members = _members(session, _group_target(session, state))
    if _target(session, user) not in members:
        raise CheckFailed(
            f"the group's members read back {members}, without {_target(session, user)}",
            SILENT,
        )


def member_remove(session: Session, state: State) -> None:
    user = _main(state)
    session.engine.directory.remove_member(state.group_id, user.id)
    session.sync()
    expect_record(session, state.group_id, "Update", state.group_name)
    members = _members(session, _group_target(session, state))
    if _target(session, user) in members:
        raise CheckFailed(
            f"the group's members still include {_target(session, user)} after the removal",
            "Entra logs a success: the person keeps the group's access on the endpoint (§9).",
        )


def _gone(session: Session, target_id: str, mark: int, what: str, feature: str) -> None:
    own = f"/Groups/{target_id}"
    deletes = [
        e for e in session.exchanges_since(mark) if e.method == "DELETE" and e.path.endswith(own)
    ]
    if not deletes:
        raise CheckFailed(
            f"the engine sent no DELETE when the group was {what} ({feature}): a sandbox "
            "fault, not the endpoint's"
        )
    status, _, _ = session.probe.send("GET", f"/Groups/{target_id}")
    if status != 404:
        raise CheckFailed(
            f"GET /Groups/{target_id} answered {status} after the DELETE, expected 404",
            "Entra has unlinked the group: it stays on the endpoint, with its access, until "
            "someone removes it by hand (§9).",
        )


def unassign(session: Session, state: State) -> None:
    target_id = _group_target(session, state)
    mark = session.mark()
    session.engine.app.unassign(state.group_id)
    session.sync()
    _gone(session, target_id, mark, "unassigned", "group deprovisioning, §9 step 7")
    expect_record(session, state.group_id, "Delete", state.group_name)


def delete(session: Session, state: State) -> None:
    directory = session.engine.directory
    group = directory.add_group(f"scimcheck-{session.run_id}-{session.dialect}-deleted")
    session.engine.app.assign(group.id)
    session.sync()
    expect_record(session, group.id, "Create", group.display_name)
    target_id = session.target_id("Group", group.id)
    assert target_id is not None
    mark = session.mark()
    directory.delete_group(group.id)
    session.sync()
    _gone(session, target_id, mark, "deleted", "group deprovisioning, §9 step 7")


GROUP_CHECKS = (
    Check("group.create", "Create a group and find it by displayName", create),
    Check("group.rename", "Rename a group", rename, needs=("group.create",)),
    Check("group.member-add", "Add a member", member_add,
          needs=("group.rename", "user.create")),  # a failed rename is retried with it
    Check("group.member-remove", "Remove a member", member_remove, needs=("group.member-add",)),
    Check("group.unassign", "Unassign deletes the group", unassign, required=False,
          needs=("group.create",)),
    Check("group.delete", "Delete in Entra deletes the group", delete, required=False),
)  # fmt: skip
