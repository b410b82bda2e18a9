"""`sandbox check` against a SCIM server no one here wrote: scim2-server (a dev extra),
started by the test on a loopback port. Each check it fails is named, with its reason: it
refuses the manager as Entra sends it (a plain id, §2.4) and Entra's group POST (the ADSCIM
schema, §9 step 2); everything else passes."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from tests.conftest import free_port
from tests.live_servers import wait_for_port

TOKEN = "s2-check-secret"

pytestmark = pytest.mark.slow


@pytest.fixture
def scim2_server():
    command = shutil.which("scim2-server")
    assert command, "scim2-server is a dev extra: pip install -e '.[dev]'"
    port = free_port()
    proc = subprocess.Popen(
        [command, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_scim2_server_fails_the_manager_and_the_group_post_and_nothing_else(scim2_server):
    result = CliRunner().invoke(cli, ["check", scim2_server, "--token", TOKEN, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["groups"] is True
    failing = {(r["dialect"], r["id"]): r for r in report["results"] if r["status"] == "fail"}
    both = ("legacy", "aadOptscim062020")
    assert set(failing) == {(d, c) for d in both
                            for c in ("user.manager-set", "group.create", "group.delete")}  # fmt: skip
    for dialect in both:
        manager = failing[(dialect, "user.manager-set")]
        assert "validation error for EnterpriseUser" in manager["reason"]
        assert manager["exchange"]["method"] == "PATCH"
        assert ':manager","value":"' in manager["exchange"]["request_body"]
        group = failing[(dialect, "group.create")]
        assert "Unknown extension schemas" in group["reason"]
        assert "ADSCIM" in group["reason"] and group["exchange"]["method"] == "POST"
    assert report["cleanup_failures"] == []
