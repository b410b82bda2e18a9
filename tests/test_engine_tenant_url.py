"""The tenant URL is read in one place (TenantUrl): whether it is "local", the dialect its
?aadOptscim062020 flag asks for, the base the engine sends to, the flag added or removed.
The status, the UI's checkbox and the engine's requests all read the same flag."""

from __future__ import annotations

import pytest

from sandbox.engine.scim.tenant_url import Dialect, TenantUrl
from tests.engine_env import EngineEnv

LEGACY, SCIM2020 = Dialect.LEGACY, Dialect.SCIM062020


@pytest.mark.parametrize(
    ("text", "local", "dialect", "base"),
    [
        ("https://host/scim/v2", False, LEGACY, "https://host/scim/v2"),
        ("https://host/scim/v2/", False, LEGACY, "https://host/scim/v2"),
        ("https://host/scim/v2?aadOptscim062020", False, SCIM2020, "https://host/scim/v2"),
        ("https://host/scim/v2/?aadOptscim062020", False, SCIM2020, "https://host/scim/v2"),
        # The parameter's name is case-insensitive, and a value (even empty) still names it.
        ("https://host/scim/v2?AADOPTSCIM062020", False, SCIM2020, "https://host/scim/v2"),
        ("https://host/scim/v2?aadOptscim062020=", False, SCIM2020, "https://host/scim/v2"),
        ("https://host/scim/v2?aadOptscim062020=1", False, SCIM2020, "https://host/scim/v2"),
        ("https://host/scim/v2?a=1&aadOptscim062020", False, SCIM2020, "https://host/scim/v2"),
        # A parameter whose *value* is the flag's name is not the flag.
        ("http://h/scim?note=aadOptscim062020", False, LEGACY, "http://h/scim"),
        ("http://h/scim?aadOptscim062020x", False, LEGACY, "http://h/scim"),
        ("local", True, LEGACY, "local"),
        ("local/", True, LEGACY, "local"),
        ("local?aadOptscim062020", True, SCIM2020, "local"),
        # "local" is the sandbox's word as typed; LOCAL is no URL the sandbox knows.
        ("LOCAL?aadOptscim062020", False, SCIM2020, "LOCAL"),
    ],
)  # fmt: skip
def test_a_tenant_url_is_read_once(text, local, dialect, base):
    url = TenantUrl.parse(text)
    assert url.is_local is local
    assert url.dialect is dialect
    assert url.flagged is (dialect is SCIM2020)
    assert url.base == base
    assert str(url) == text


@pytest.mark.parametrize(
    ("text", "on", "off"),
    [
        ("https://host/scim/v2", "https://host/scim/v2?aadOptscim062020", "https://host/scim/v2"),
        ("https://host/scim/v2?aadOptscim062020", "https://host/scim/v2?aadOptscim062020",
         "https://host/scim/v2"),
        # Other parameters are kept in order; the flag goes last, once, in Microsoft's spelling.
        ("https://h/v2?a=1&AADOPTSCIM062020=&b=2", "https://h/v2?a=1&b=2&aadOptscim062020",
         "https://h/v2?a=1&b=2"),
        ("http://h/scim?note=aadOptscim062020", "http://h/scim?note=aadOptscim062020&aadOptscim062020",
         "http://h/scim?note=aadOptscim062020"),
        ("local", "local?aadOptscim062020", "local"),
        ("https://host/scim/v2/", "https://host/scim/v2/?aadOptscim062020", "https://host/scim/v2/"),
    ],
)  # fmt: skip
def test_the_flag_is_added_and_removed_by_name(text, on, off):
    url = TenantUrl.parse(text)
    assert str(url.with_flag(True)) == on and url.with_flag(True).dialect is SCIM2020
    assert str(url.with_flag(False)) == off and url.with_flag(False).dialect is LEGACY


def test_local_resolves_to_the_running_provider_with_its_query():
    root = "http://127.0.0.1:8000/scim/v2"
    assert str(TenantUrl.parse("local?aadOptscim062020").resolved(root)) == (
        root + "?aadOptscim062020"
    )
    assert str(TenantUrl.parse("local").resolved(root)) == root
    assert str(TenantUrl.parse("https://host/v2").resolved(root)) == "https://host/v2"


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        ("http://h/scim?note=aadOptscim062020", LEGACY),
        ("http://h/scim?AadOptScim062020=1", SCIM2020),
        ("http://h/scim", LEGACY),
    ],
)
def test_the_status_the_checkbox_and_the_engine_read_the_same_flag(tmp_path, text, dialect):
    env = EngineEnv(tmp_path)
    env.engine.configure(tenant_url=text)
    shown = env.engine.status()["dialect"]  # the CLI's and the UI's status line
    checkbox = env.engine.config().flag  # the Provisioning screen's ?aadOptscim062020 box
    with env.engine.target() as target:  # what the engine sends
        sent = target.dialect
    assert sent is dialect
    assert checkbox is (sent is SCIM2020)
    assert shown == ("aadOptscim062020" if sent is SCIM2020 else "default")
