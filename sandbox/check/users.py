"""Provides the user checks: the lifecycle Microsoft's validation suite runs through Entra
(create, update, disable and re-enable, manager set/change/removal, unassign and reassign,
delete, provision on demand), each provisioned by the engine and read back with GETs."""

from __future__ import annotations

from sandbox.check.model import SILENT, CheckFailed, CheckSkipped
from sandbox.check.readback import kept_as_canonical, leaf_name, same, value_at
from sandbox.check.session import Session
from sandbox.check.steps import Check, State, expect_found, expect_record, read_user
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.tenant.model import DirectoryUser
from sandbox.scim_names import ENTERPRISE_USER_SCHEMA as ENTERPRISE

NOT_COMPARED = ("active", "manager")
"""Attributes the lifecycle checks read back on their own."""

NOTHING_COMPARED = (
    "Entra sends every change of a mapped attribute and logs a success without reading it "
    "back (§2.4): if the endpoint keeps none, accounts stay as they were created. Attributes "
    'it cannot update are mapped "Only during object creation" in Entra; /Schemas should '
    "say readWrite for the others."
)


def _main(state: State) -> DirectoryUser:
    assert state.user is not None  # `needs` runs these after user.create passed
    return state.user


def _target(session: Session, user: DirectoryUser) -> str:
    target_id = session.target_id("User", user.id)
    if target_id is None:
        raise CheckFailed(f"{user.user_principal_name} is not linked to a user on the endpoint")
    return target_id


def _compare(
    state: State, record: LogRecord, resource: dict[str, object], *, update: bool = False
) -> None:
    """Every attribute the record says was sent reads back with the value sent (after an
    update, attributes /Schemas marks immutable or readOnly are not compared); a comparison
    of nothing fails, as it shows nothing."""
    wrong: list[str] = []
    exempt: list[str] = []
    compared = 0
    for change in record.modified:
        path = str(change.get("displayName", ""))
        leaf = leaf_name(path)
        if leaf in NOT_COMPARED:
            continue
        if update and leaf in state.immutable:
            name = path.rpartition(":")[2].split("[")[0].split(".")[0]
            exempt += [name] if name not in exempt else []
            continue
        compared += 1
        sent = change.get("newValue")
        got = value_at(resource, path)
        if same(got, sent) or kept_as_canonical(got, sent, state.canonical.get(leaf, set())):
            continue
        wrong.append(f"{path}: sent {sent!r}, reads back {got!r}")
    if wrong:
        raise CheckFailed("; ".join(wrong), SILENT)
    if not compared:
        why = (
            f"/Schemas marks every attribute sent immutable or readOnly ({', '.join(exempt)})"
            if exempt
            else "the engine's record lists no attribute sent"
        )
        raise CheckFailed(
            f"nothing could be compared: {why}, so whether the endpoint kept any is unknown",
            NOTHING_COMPARED,
        )


def _active(resource: dict[str, object], want: bool, name: str) -> None:
    got = value_at(resource, "active")
    if not same(got, want):
        raise CheckFailed(
            f"{name}: active reads back {got!r}, expected {want}",
            "Entra logs a success and never reads it back: the person keeps (or never "
            "regains) access on the endpoint (§2.5, §2.7).",
        )


def create(session: Session, state: State) -> None:
    state.managers = [session.new_user(), session.new_user()]
    state.managed = session.new_user()
    user = state.user = session.new_user()
    session.sync()
    record = expect_record(session, user.id, "Create", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _compare(state, record, resource)


def update(session: Session, state: State) -> None:
    user = state.user = session.change_user(_main(state))
    session.sync()
    record = expect_record(session, user.id, "Update", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _compare(state, record, resource, update=True)


def disable(session: Session, state: State) -> None:
    user = session.engine.directory.block(_main(state).id)
    session.sync()
    expect_record(session, user.id, "Disable", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _active(resource, False, user.user_principal_name)


def enable(session: Session, state: State) -> None:
    user = session.engine.directory.block(_main(state).id, blocked=False)
    session.sync()
    expect_record(session, user.id, "Update", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _active(resource, True, user.user_principal_name)


def _manager_value(resource: dict[str, object]) -> object:
    manager = value_at(resource, f"{ENTERPRISE}:manager")
    if isinstance(manager, dict):
        return manager.get("value")
    return manager


def _needs_manager(session: Session) -> None:
    if not session.mapped("manager"):
        raise CheckSkipped("manager is not mapped (add the mapping to check it)")


def _set_manager(session: Session, state: State, manager: DirectoryUser | None) -> None:
    _needs_manager(session)
    user = state.managed
    assert user is not None  # made by user.create
    mark = session.mark()
    state.managed = session.engine.directory.edit_user(
        user.id, manager=manager.id if manager else None
    )
    session.sync()
    own = f"/Users/{_target(session, user)}"
    if manager is None and not [
        e for e in session.exchanges_since(mark) if e.method == "PATCH" and e.path.endswith(own)
    ]:  # Entra sends the removal (docs/entra-behaviour.md §2.4): not sending it is ours
        raise CheckFailed(
            "the engine sent no PATCH for the manager's removal: a sandbox fault, not the "
            "endpoint's (docs/entra-behaviour.md §2.4)"
        )
    expect_record(session, user.id, "Update", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    got = _manager_value(resource)
    want = _target(session, manager) if manager else None
    if not same(got, want):
        raise CheckFailed(
            f"manager reads back {got!r}, expected {want!r}",
            "Entra logs a success (or a Warning, a reference failure it does not retry): the "
            "org chart on the endpoint stays wrong (§2.4, §8.1).",
        )


def manager_set(session: Session, state: State) -> None:
    _set_manager(session, state, state.managers[0])


def manager_change(session: Session, state: State) -> None:
    _set_manager(session, state, state.managers[1])


def manager_remove(session: Session, state: State) -> None:
    _set_manager(session, state, None)


def unassign(session: Session, state: State) -> None:
    user = _main(state)
    session.engine.app.unassign(user.id)
    session.sync()
    expect_record(session, user.id, "Disable", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _active(resource, False, user.user_principal_name)


def reassign(session: Session, state: State) -> None:
    user = _main(state)
    session.engine.app.assign(user.id, "USER")
    session.sync()
    expect_record(session, user.id, "Update", user.user_principal_name)
    resource = read_user(session, _target(session, user), user.user_principal_name)
    _active(resource, True, user.user_principal_name)


def delete(session: Session, state: State) -> None:
    user = _main(state)
    target_id = _target(session, user)
    directory = session.engine.directory
    directory.soft_delete(user.id)
    session.sync()  # the soft delete disables
    directory.hard_delete(user.id)  # a purge from the recycle bin sends DELETE (§2.7)
    session.sync()
    expect_record(session, user.id, "Delete", user.user_principal_name)
    status, _, _ = session.probe.send("GET", f"/Users/{target_id}")
    if status != 404:
        raise CheckFailed(
            f"GET /Users/{target_id} answered {status} after the DELETE, expected 404",
            "Entra has unlinked the user: the account stays on the endpoint, with access, "
            "until someone removes it by hand (§2.6).",
        )


def provision_on_demand(session: Session, state: State) -> None:
    user = session.new_user()
    result = session.engine.provision_on_demand(user.id)
    if result.connection is not None and not result.connection.ok:
        raise CheckFailed(
            f"provision on demand stopped at Test Connection: {result.connection.message}"
        )
    record = result.record
    if record.status != "Success" or record.action != "Create":
        raise CheckFailed(
            f"provision on demand of {user.user_principal_name}: {record.action} "
            f"{record.status} {record.error_code or ''}: {record.reason or ''}",
            "Provision on demand shows the failure in the portal; the next cycle tries the "
            "same request again (§1.6).",
        )
    target_id = _target(session, user)
    expect_found(session, "Users", "userName", _username(session, user), target_id)


def _username(session: Session, user: DirectoryUser) -> str:
    """The userName the mappings give a test user (its mail or its UPN)."""
    source = next((m.source for m in session.mappings if m.target == "userName"), "")
    return user.mail or "" if source == "mail" else user.user_principal_name


USER_CHECKS = (
    Check("user.create", "Create a user (cycle) and read it back", create),
    Check("user.update", "Update every mapped attribute", update, needs=("user.create",)),
    Check("user.disable", "Disable (sign-in blocked) sends active false", disable,
          needs=("user.create",)),
    Check("user.enable", "Re-enable sends active true", enable, needs=("user.disable",)),
    Check("user.manager-set", "Set the manager", manager_set, needs=("user.create",)),
    Check("user.manager-change", "Change the manager", manager_change,
          needs=("user.manager-set",)),
    Check("user.manager-remove", "Remove the manager", manager_remove,
          needs=("user.manager-set",)),
    Check("user.unassign", "Unassign disables the user", unassign, needs=("user.create",)),
    Check("user.reassign", "Reassign enables the user again", reassign,
          needs=("user.unassign",)),
)  # fmt: skip
"""The user lifecycle, in the order it runs (groups come before the delete)."""

USER_CHECKS_LAST = (
    Check("user.delete", "Hard delete sends DELETE; the user is gone", delete,
          required=False, needs=("user.create",)),
    Check("user.provision-on-demand", "Provision on demand creates a user", provision_on_demand),
)  # fmt: skip
