"""scim2-tester (a conformance checker no one here wrote) against a live `sandbox serve`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from conftest import free_port, start_serve
from scim2_tester import CheckResult, Status, check_server
from scim_httpx import scim_client

pytestmark = pytest.mark.slow

MIN_SUCCESSES = 114
"""Checks scim2-tester 0.5.2 ran, all successful, when this test was written (User only)."""

# A SKIPPED check is accepted only for a feature ServiceProviderConfig says is not
# supported (RFC 7644 §4): bulk and changePassword are off, and no Group type is served.
UNSUPPORTED_FEATURES = ("bulk", "changepassword", "group")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A `sandbox serve` on a fresh database: (SCIM base URL, token)."""
    db = tmp_path_factory.mktemp("conformance") / "sandbox.db"
    port = free_port()
    proc, token = start_serve(str(db), port)
    try:
        assert token, "sandbox serve did not print a token on a fresh database"
        yield f"http://127.0.0.1:{port}/scim/v2", token
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def _summary(results: list[CheckResult]) -> str:
    counts = Counter(r.status.name for r in results)
    lines = [", ".join(f"{name}={n}" for name, n in sorted(counts.items()))]
    for r in results:
        if r.status is not Status.SUCCESS:
            lines.append(f"  {r.status.name} {r.resource_type or '-'} {r.title}: {r.reason}")
    return "\n".join(lines)


def test_scim2_tester_finds_no_error(live: tuple[str, str]) -> None:
    url, token = live
    http, scim = scim_client(url, token)
    with http:
        scim.discover()
        results = check_server(scim)
        leftovers = http.get("/Users").json()["totalResults"]

    summary = _summary(results)
    print(f"\nscim2-tester: {len(results)} checks: {summary}")
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, summary
    for r in results:
        if r.status is Status.SKIPPED:
            text = f"{r.title} {r.reason}".lower().replace(" ", "")
            assert any(f in text for f in UNSUPPORTED_FEATURES), summary
    successes = sum(r.status is Status.SUCCESS for r in results)
    assert successes >= MIN_SUCCESSES, summary
    # Every discovery endpoint and every CRUD + PATCH family was exercised.
    titles = {r.title for r in results}
    for expected in ("check_add_attribute", "check_replace_attribute", "check_remove_attribute"):
        assert expected in titles, summary
    assert leftovers == 0, "scim2-tester deletes what it creates; the provider kept users"
