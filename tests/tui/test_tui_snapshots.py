"""Snapshots of the main screens on a seeded sandbox with the simulated clock stopped (no real
time, port or latency is on these screens)."""

from __future__ import annotations

from sandbox.runtime import Sandbox
from tests.tui.pilot import settle
from tui.app import SandboxApp


def provisioned(sandbox: Sandbox) -> SandboxApp:
    """The guide's setup with two users assigned and two cycles played (initial, incremental)."""
    engine = sandbox.engine
    sandbox.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign("mary.hawkins@contoso.onmicrosoft.com", "ADMIN")
    engine.app.assign("tyler.cole@contoso.onmicrosoft.com", "USER")
    engine.sync(1)
    engine.app.set_role("mary.hawkins@contoso.onmicrosoft.com", "GUEST")
    engine.directory.soft_delete("tyler.cole@contoso.onmicrosoft.com")
    engine.sync(1)
    return SandboxApp(sandbox, scheduler=False)


def showing(mode: str):
    async def run_before(pilot) -> None:
        await pilot.app.switch_mode(mode)
        await settle(pilot)

    return run_before


def test_directory_at_80x24(snap_compare, in_process: Sandbox) -> None:
    app = SandboxApp(in_process, scheduler=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=showing("directory"))


def test_provisioning_after_an_initial_and_an_incremental_cycle(
    snap_compare, in_process: Sandbox
) -> None:
    assert snap_compare(
        provisioned(in_process), terminal_size=(120, 32), run_before=showing("provisioning")
    )


def test_mappings_with_the_nulab_preset(snap_compare, in_process: Sandbox) -> None:
    assert snap_compare(
        provisioned(in_process), terminal_size=(120, 32), run_before=showing("mappings")
    )


def test_provider_after_provisioning(snap_compare, in_process: Sandbox) -> None:
    assert snap_compare(
        provisioned(in_process), terminal_size=(120, 32), run_before=showing("provider")
    )


def test_assignments(snap_compare, in_process: Sandbox) -> None:
    assert snap_compare(
        provisioned(in_process), terminal_size=(100, 24), run_before=showing("assignments")
    )
