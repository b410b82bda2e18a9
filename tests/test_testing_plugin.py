"""The pytest plugin (sandbox/testing.py): registered as a pytest11 entry point, its tenant
reaches an app in process (WSGI, ASGI, from inside a running event loop too) or at a URL.
The examples' own tests (examples/*/test_app.py) use it as a developer would."""

from __future__ import annotations

from importlib.metadata import entry_points

from examples.fastapi_scim.app import create_app as fastapi_app
from sandbox.server import EmbeddedServer
from sandbox.testing import ASGIBridge, EntraTenant, transport_for
from tests.check_endpoints import TOKEN, broken_app
from tests.live_servers import stop_embedded


def test_the_plugin_is_a_pytest11_entry_point():
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins["sandbox"] == "sandbox.testing"


def test_an_asgi_app_gets_the_bridge_and_a_wsgi_app_the_wsgi_transport():
    assert isinstance(transport_for(fastapi_app("t")), ASGIBridge)
    assert type(transport_for(broken_app(None))).__name__ == "WSGITransport"


async def test_the_asgi_bridge_works_inside_a_running_event_loop():
    tenant = EntraTenant(token="t", app=fastapi_app("t"))
    try:
        user = tenant.add_user(assign=True)
        tenant.sync()
        assert tenant.log(user).action == "Create"
    finally:
        tenant.close()


def test_at_a_url_the_engine_sends_real_http(tmp_path):
    server = EmbeddedServer(broken_app(None), log_path=str(tmp_path / "server.log")).start()
    tenant = EntraTenant(server.url + "/scim/v2?aadOptscim062020", TOKEN)
    try:
        user = tenant.add_user(assign=True)
        tenant.sync()
        tenant.directory.block(user.id)
        tenant.sync()
        assert tenant.log(user).action == "Disable"
        assert tenant.exchanges("PATCH")[-1].request_body.endswith(
            '"op":"replace","path":"active","value":false}]}'
        )
    finally:
        tenant.close()
        stop_embedded(server)


def test_the_examples_run_with_pytest_alone_as_docs_check_says():
    """docs/check.md: `pytest examples` needs pytest and the web framework, not the dev extras.
    Without pytest-asyncio and xdist, the project's own settings (asyncio_mode under
    filterwarnings = error) stopped the run before any test: the examples have their own."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:asyncio", "-p", "no:xdist"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
