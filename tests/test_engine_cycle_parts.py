"""A cycle on hand-built parts: run_cycle takes its collaborators (an sqlite store, the
provider through httpx's WSGI transport) and returns its report with the job state it ends
with, without a provisioning service; one throttled send serves users and groups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from sandbox.engine.scim.target import ScimTarget
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.sync.changes import ChangeFeed
from sandbox.engine.sync.clock import SimClock
from sandbox.engine.sync.cycle import run_cycle
from sandbox.engine.sync.job import JobStore
from sandbox.engine.sync.links import LinkStore
from sandbox.engine.sync.logs import ProvisioningLogs
from sandbox.engine.sync.parts import CycleParts, send_throttled
from sandbox.engine.sync.service import SecretStore
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.provider.faults import Faults
from sandbox.store import Store
from tests.engine_env import DOMAIN, EngineEnv


@pytest.fixture
def env(tmp_path):
    environment = EngineEnv(tmp_path, rules="core")
    yield environment
    environment.close()


def hand_built_parts(store: Store, env: EngineEnv, target: ScimTarget) -> CycleParts:
    """The parts a cycle runs with, each built from the store alone."""
    clock = SimClock(store)
    directory = Directory(store, clock.now)
    jobs = JobStore(store)
    return CycleParts(
        clock=clock,
        seed=1,
        tenant_domain=DOMAIN,
        directory=directory,
        app=EnterpriseApp(store, directory),
        links=LinkStore(store),
        logs=ProvisioningLogs(store, 1),
        changes=ChangeFeed(store, directory),
        target=target,
        config=jobs.config(),
        state=jobs.state(),
    )


def wsgi_target(env: EngineEnv) -> ScimTarget:
    token = SecretStore(env.settings.db_path).get("secret_token")
    url = "http://sandbox.local" + env.settings.base_path
    return ScimTarget(httpx.WSGITransport(app=env.provider), url, token)


def test_a_cycle_on_hand_built_parts_returns_its_report_and_leaves_the_job_state_to_its_caller(
    env,
):
    ada, bob = env.add_user("ada"), env.add_user("bob")
    store = env.store
    stored_before = JobStore(store).state()
    with wsgi_target(env) as target:
        parts = hand_built_parts(store, env, target)
        report = run_cycle(parts, 7, kind="initial")
    assert report.id == 7 and report.kind == "initial"
    assert report.counts["created"] == 2 and report.counts["failed"] == 0
    assert report.requests == 4  # a lookup and a POST for each user
    assert report.quarantine is None
    assert report.state.initial_needed is False and report.state.last_cycle_id == 7
    assert report.state.watermark == parts.directory.last_change_seq()
    assert parts.links.linked_ids("User") == {ada, bob}
    assert {r.source_id for r in parts.logs.query(cycle_id=7)} == {ada, bob}
    assert JobStore(store).state() == stored_before  # saving it is the service's job


def test_an_incremental_cycle_on_the_state_a_cycle_ended_with_sends_nothing_new(env):
    env.add_user("ada")
    with wsgi_target(env) as target:
        first = run_cycle(hand_built_parts(env.store, env, target), 1, kind="initial")
        parts = hand_built_parts(env.store, env, target)
        second = run_cycle(replace(parts, state=first.state), 2, kind="incremental")
    assert first.counts["created"] == 1
    assert second.requests == 0 and sum(second.counts.values()) == 0


def test_a_429_on_a_group_request_waits_retry_after_and_is_sent_again_like_a_users(env):
    # The sandbox's provider has no /Groups: the resent query gets its 404 (a quarantine).
    env.engine.configure(groups_enabled=True)
    group = env.engine.directory.add_group("Sales")
    ada = env.add_user("ada", assign=False)
    env.engine.directory.add_member(group.id, ada)
    env.engine.app.assign(group.id)
    Faults(env.store).add(method="GET", path="/Groups", status=429, retry_after=120, count=1)
    before = env.engine.clock.now()
    report = env.cycle()
    groups = [(r.method, r.status) for r in env.sent() if r.path.startswith("/Groups")]
    assert groups == [("GET", 429), ("GET", 404)]
    assert env.sent()[-1].query == env.sent()[-2].query
    assert env.engine.clock.now() - before >= timedelta(seconds=120)
    assert report.counts["created"] == 1
    assert report.quarantine is not None and "HTTP/404" in report.quarantine.error


def throttled(times: int, retry_after: float | None = 30.0):
    """A request answered 429 `times` times, then "done"."""
    calls = []

    def request() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise TargetError(
                "Throttled", "HTTP/429", status=429, retry_after=retry_after, retryable=True
            )
        return "done"

    return request, calls


def test_the_throttled_send_waits_retry_after_on_the_simulated_clock_between_attempts():
    clock = SimClock(Store(":memory:"))
    clock.set_speed(0)
    request, calls = throttled(2)
    before = clock.now()
    assert send_throttled(clock, request) == "done"
    assert len(calls) == 3 and clock.now() - before == timedelta(seconds=60)


def test_the_throttled_send_waits_a_minute_without_retry_after_and_gives_up_after_four_tries():
    clock = SimClock(Store(":memory:"))
    clock.set_speed(0)
    request, calls = throttled(4, retry_after=None)
    before = clock.now()
    with pytest.raises(TargetError):
        send_throttled(clock, request)
    assert len(calls) == 4 and clock.now() - before == timedelta(minutes=3)


def test_the_throttled_send_does_not_resend_what_is_not_retryable():
    clock = SimClock(Store(":memory:"))
    calls = []

    def request() -> str:
        calls.append(1)
        raise TargetError(
            "SystemForCrossDomainIdentityManagementServiceIncompatible", "HTTP/400", status=400
        )

    with pytest.raises(TargetError):
        send_throttled(clock, request)
    assert len(calls) == 1
