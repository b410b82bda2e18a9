"""The group controls of the Provisioning screen: group scoping filters added, listed and cleared
on screen as `sandbox entra scoping add|list|clear --groups` does, and provision on demand of a
group with up to five of its members chosen, as `sandbox entra pod GROUP --member U` does. The
engine provisions into the SCIM peer with /Groups (the local Nulab provider serves none)."""

from __future__ import annotations

import httpx
from flask import Flask
from textual.widgets import Input, Select, Static

from sandbox.engine.mappings.scoping import ScopingFilter, parse_clause
from sandbox.runtime import Sandbox
from sandbox.scenarios.peer import create_peer_app
from tests.tui.pilot import go, settle
from tui.app import SandboxApp
from tui.screens.dialogs import MessageDialog
from tui.screens.on_demand_dialog import OnDemandDialog
from tui.screens.scoping_clear_dialog import ClearScopingDialog
from tui.screens.scoping_dialog import ScopingDialog
from tui.widgets.pick_list import PickList

PEER_URL = "https://peer.example/scim/v2"
NAOTO = "naoto.sato@contoso.onmicrosoft.com"  # a tenant member the organization does not have


def on_peer(sandbox: Sandbox) -> Flask:
    """Point the sandbox's engine at a fresh SCIM peer with /Groups, group provisioning on."""
    peer = create_peer_app(7)
    sandbox.engine.transport = httpx.WSGITransport(app=peer)
    sandbox.engine.configure(tenant_url=PEER_URL, secret_token="peer-token", groups_enabled=True)
    return peer


def posted_groups(sandbox: Sandbox, after: int = 0) -> list[str]:
    """The displayName of every POST /Groups the engine sent (after request log seq `after`)."""
    entries = sandbox.engine.request_log.entries(10_000, side="engine", after=after)
    return [
        httpx.Response(200, content=e["request_body"]).json()["displayName"]
        for e in entries
        if e["method"] == "POST" and e["path"].endswith("/Groups")
    ]


def last_seq(sandbox: Sandbox) -> int:
    entries = sandbox.engine.request_log.entries(1)
    return int(entries[-1]["seq"]) if entries else 0


def refusals(app: SandboxApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def press_button(pilot, selector: str) -> None:
    """Press a button of the settings panel from the keyboard (it scrolls into view)."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def test_a_group_scoping_filter_added_on_screen_keeps_a_group_out_of_the_next_cycle(
    in_process: Sandbox,
) -> None:
    engine = in_process.engine
    peer = on_peer(in_process)
    engine.app.assign("Contractors")
    engine.app.assign("Nulab Pass Admins")
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await press_button(pilot, "#add-filter")
        dialog = app.screen
        assert isinstance(dialog, ScopingDialog)
        dialog.query_one("#objects", Select).value = "groups"
        await pilot.pause()
        assert dialog.query_one("#attribute-0", Input).placeholder == "e.g. displayName"
        dialog.query_one("#attribute-0", Input).value = "displayName"
        dialog.query_one("#operator-0", Select).value = "ENDS_WITH"
        dialog.query_one("#value-0", Input).value = "Admins"
        await pilot.click("#ok")
        await settle(pilot)
        # what `sandbox entra scoping add --groups 'displayName ENDS_WITH Admins'` saves
        wanted = ScopingFilter((parse_clause("displayName ENDS_WITH Admins"),))
        assert engine.config().group_scoping_filters == (wanted,)
        assert engine.config().scoping_filters == ()  # the users' untouched
        listed = str(app.screen.query_one("#group-scoping", Static).render())
        assert listed == "1. displayName ENDS_WITH 'Admins'"
        assert "every assigned user" in str(app.screen.query_one("#scoping", Static).render())
        await pilot.press("n")
        await settle(pilot)
        assert posted_groups(in_process) == ["Nulab Pass Admins"]  # Contractors is out of scope
        names = {g["displayName"] for g in peer.extensions["peer"]["Groups"].values()}
        assert names == {"Nulab Pass Admins"}

        await press_button(pilot, "#clear-filters")
        dialog = app.screen
        assert isinstance(dialog, ClearScopingDialog)
        # the users' mapping has none: the groups' is offered, with what Remove takes
        assert dialog.query_one("#objects", Select).value == "groups"
        assert "1. displayName ENDS_WITH 'Admins'" in str(dialog.query_one("#removed").render())
        seq = last_seq(in_process)
        await pilot.click("#ok")
        await settle(pilot)
        assert engine.config().group_scoping_filters == ()  # as `scoping clear --groups`
        assert str(app.screen.query_one("#group-scoping", Static).render()) == (
            "none: every assigned group is in scope"
        )
        await pilot.press("n")  # initial: every assigned group in scope again
        await settle(pilot)
        assert posted_groups(in_process, after=seq) == ["Contractors"]


async def test_a_group_scoping_clause_on_an_attribute_groups_lack_is_refused(
    in_process: Sandbox,
) -> None:
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await press_button(pilot, "#add-filter")
        dialog = app.screen
        dialog.query_one("#objects", Select).value = "groups"
        dialog.query_one("#attribute-0", Input).value = "department"  # a user's attribute
        dialog.query_one("#value-0", Input).value = "Sales"
        await pilot.click("#ok")
        await settle(pilot)
        assert any(
            "a tenant group has no attribute 'department'; a group scoping filter reads "
            "description, displayName, mailNickname, objectId" in m
            for m in refusals(app)
        )
        assert in_process.engine.config().group_scoping_filters == ()
        assert in_process.engine.config().scoping_filters == ()


async def open_on_demand(pilot, name: str) -> OnDemandDialog:
    """`o` on Provisioning, `name` typed and entered: the dialog (listing a group's members)."""
    await pilot.press("o")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, OnDemandDialog)
    dialog.query_one("#principal", Input).value = name
    await pilot.press("enter")
    await settle(pilot)
    return dialog


def picked(dialog: OnDemandDialog) -> list[str]:
    return list(dialog.query_one("#members", PickList).selected)


async def test_a_group_provisioned_on_demand_with_two_members_picked_creates_them_on_the_peer(
    in_process: Sandbox,
) -> None:
    engine = in_process.engine
    peer = on_peer(in_process)
    engine.app.assign("Contractors")
    group = engine.directory.get_group("Contractors")
    members = engine.directory.members(group.id)  # four, all selectable
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        dialog = await open_on_demand(pilot, "Contractors")
        # five or fewer: every one is picked, as `sandbox entra pod Contractors` takes them
        assert picked(dialog) == [m.id for m in members]
        assert "Members of Contractors: 4 of at most 5 picked" in str(
            dialog.query_one("#members-label").render()
        )
        await pilot.press("space", "down", "down", "space")  # unpick the first and the third
        keep = [members[1], members[3]]
        assert picked(dialog) == [m.id for m in keep]
        await pilot.click("#ok")
        await settle(pilot)
        # as `sandbox entra pod Contractors --member <second> --member <fourth>`
        groups = list(peer.extensions["peer"]["Groups"].values())
        users = peer.extensions["peer"]["Users"]
        assert [g["displayName"] for g in groups] == ["Contractors"]
        member_names = sorted(users[m["value"]]["userName"] for m in groups[0]["members"])
        assert member_names == sorted(m.user_principal_name for m in keep)
        assert sorted(u["userName"] for u in users.values()) == member_names
        shown = app.screen
        assert isinstance(shown, MessageDialog)
        # each record as `sandbox entra pod` prints it: the members first, then the group
        heads = [block.splitlines()[0] for block in shown.text.split("\n\n")]
        assert heads == [
            f"{keep[0].user_principal_name}: Create Success",
            f"{keep[1].user_principal_name}: Create Success",
            "Contractors: Create Success",
        ]


async def test_provision_on_demand_refuses_bad_groups_and_a_sixth_member_with_a_notification(
    in_process: Sandbox,
) -> None:
    engine = in_process.engine
    engine.directory.add_group("Empty Group")
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        dialog = await open_on_demand(pilot, "Nobody Here")
        assert app.screen is dialog
        assert refusals(app)[-1] == (
            "no user (objectId, UPN or mail) or group (id or name) 'Nobody Here'"
        )
        dialog.query_one("#principal", Input).value = "Empty Group"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and "group 'Empty Group' has no members" in refusals(app)[-1]

        dialog.query_one("#principal", Input).value = "Nulab Pass Users"
        await pilot.press("enter")
        await settle(pilot)
        picks = dialog.query_one("#members", PickList)
        assert picks.option_count == 18 and picked(dialog) == []  # 17 selectable: none taken
        blocked = [i for i in range(18) if picks.get_option_at_index(i).disabled]
        assert len(blocked) == 1
        await pilot.press("space")  # the first one picked
        for _ in range(5):  # four more, then a sixth, skipping the one that cannot be picked
            await pilot.press("down")
            if picks.highlighted in blocked:
                await pilot.press("down")
            await pilot.press("space")
            await settle(pilot)
        assert len(picked(dialog)) == 5
        assert refusals(app)[-1] == (
            "provision on demand takes at most 5 members of a group at a time: unpick one first"
        )
        picks.deselect_all()
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog
        assert refusals(app)[-1] == "pick one to 5 members of Nulab Pass Users to provision with it"
        await pilot.press("escape")
        await pilot.click("#groups-on")  # group provisioning off
        await settle(pilot)
        assert engine.config().groups_enabled is False
        dialog = await open_on_demand(pilot, "Contractors")
        assert app.screen is dialog and refusals(app)[-1].startswith(
            "Contractors is a group and group provisioning is off"
        )
    assert all(c["kind"] != "pod" for c in engine.cycles(5))  # nothing ran


async def test_a_user_provisioned_on_demand_shows_its_steps(in_process: Sandbox) -> None:
    engine = in_process.engine
    in_process.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign(NAOTO, "USER")
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await open_on_demand(pilot, NAOTO)
        shown = app.screen
        assert isinstance(shown, MessageDialog)
        assert shown.text.splitlines()[0] == f"{NAOTO}: Create Success"
        assert NAOTO in {m.email for m in in_process.org.members(limit=1000)}
