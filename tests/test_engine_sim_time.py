"""Cycles take simulated time (docs/entra-behaviour.md §1.5): between 0.01 and 0.08 minutes an
object on the simulated clock, a create about twice a match, so the logs' times, the next
cycle's start and the estimate for the next cycle come out as Microsoft describes; the figures
are job settings, and the same seed gives the same times."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.engine.sync.clock import CYCLE_INTERVAL, parse_time
from sandbox.engine.sync.duration import pace
from sandbox.engine.sync.job import JobConfig
from sandbox.engine.tenant.seed import seed_tenant
from sandbox.errors import SandboxError
from sandbox.scenarios import ScenarioError, load, run_scenario
from tests.engine_env import EngineEnv
from tests.scenario_texts import ASSIGN_ADA


@pytest.fixture
def env(tmp_path):
    environment = EngineEnv(tmp_path, rules="core")
    yield environment
    environment.close()


def _minutes(report) -> float:
    return (parse_time(report.finished) - parse_time(report.started)).total_seconds() / 60


def test_a_1000_user_initial_cycle_moves_the_clock_within_microsofts_range(env):
    seed_tenant(env.engine.directory, users=1000, groups=0, guests=0, replace=True)
    assigned = env.engine.app.assign_all_users()
    before = env.engine.clock.now()
    estimate = env.engine.status()["next_cycle_estimate"]
    assert estimate["objects"] == assigned and estimate["kind"] == "initial"
    assert estimate["min_minutes"] == pytest.approx(0.01 * assigned)
    assert estimate["max_minutes"] == pytest.approx(0.08 * assigned)

    report = env.cycle()

    moved = (env.engine.clock.now() - before).total_seconds() / 60
    assert report.objects == assigned and report.counts["created"] > 900
    assert 0.01 * assigned <= moved <= 0.08 * assigned
    assert report.simulated_minutes == pytest.approx(moved, abs=0.001)
    # the engine's own figure for the cycle before it ran: every unlinked user created
    assert moved == pytest.approx(estimate["expected_minutes"], rel=0.02)
    state = env.engine.state()
    assert parse_time(state.next_cycle) == parse_time(report.finished) + CYCLE_INTERVAL
    status = env.engine.status()
    assert status["last_cycle_minutes"] == pytest.approx(moved, abs=0.001)
    # the records' times spread over the cycle, in the order the users were processed
    times = [parse_time(r.at) for r in env.records(report.id, limit=5000)]
    assert times == sorted(times) and times[0] == before
    assert times[-1] < parse_time(report.finished) and times[-1] - times[0] > timedelta(minutes=9)


def test_creating_every_user_takes_twice_as_long_as_matching_every_one(env):
    for number in range(12):
        env.add_user(f"user{number}")
    created = env.cycle()
    assert created.counts["created"] == 12
    env.engine.restart("ConnectorDataStore,Watermark")  # no links: the next cycle matches
    matched = env.cycle()
    assert matched.kind == "initial" and matched.counts["created"] == 0
    assert matched.counts["updated"] + matched.counts["skipped"] == 12
    assert _minutes(created) == pytest.approx(2 * _minutes(matched), abs=0.001)
    assert _minutes(matched) == pytest.approx(
        12 * pace(env.engine.config(), env.engine.seed), abs=0.001
    )


def test_an_incremental_cycle_costs_the_objects_it_evaluates(env):
    ids = [env.add_user(f"user{number}") for number in range(5)]
    env.cycle()
    assert env.engine.status()["next_cycle_estimate"]["objects"] == 0
    env.engine.directory.edit_user(ids[0], department="Sales")
    estimate = env.engine.status()["next_cycle_estimate"]
    assert (estimate["kind"], estimate["objects"], estimate["new"]) == ("incremental", 1, 0)
    report = env.cycle()
    assert report.objects == 1 and report.counts["updated"] == 1
    assert _minutes(report) == pytest.approx(estimate["expected_minutes"], abs=0.01)


def test_the_pace_is_drawn_from_the_seed_within_the_range_so_a_create_stays_within_it():
    config = JobConfig()
    draws = {pace(config, seed) for seed in range(50)}
    assert len(draws) == 50 and pace(config, 7) == pace(config, 7)
    assert all(0.01 <= p and p * 2 <= 0.08 for p in draws)
    fixed = JobConfig(object_minutes_min=0.03, object_minutes_max=0.06)
    assert pace(fixed, 1) == pace(fixed, 2) == 0.03  # min = max / factor: a fixed cost


def test_the_figures_are_settings_and_zero_turns_simulated_time_off(env):
    env.add_user("ada")
    env.engine.configure(object_minutes_min=0, object_minutes_max=0)
    before = env.engine.clock.now()
    report = env.cycle()
    assert report.counts["created"] == 1 and env.engine.clock.now() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"object_minutes_min": 0.05, "object_minutes_max": 0.05}, "must not exceed max"),
        ({"object_minutes_min": 0.09}, "0 <= min <= max"),
        ({"create_factor": 0.5}, "between 1 and 10"),
    ],
)
def test_figures_that_break_the_range_are_refused(env, changes, message):
    with pytest.raises(SandboxError, match=message):
        env.engine.configure(**changes)
    assert env.engine.config().object_minutes_min == 0.01  # nothing stored


def test_the_cli_sets_the_figures_and_status_shows_duration_and_estimate(tmp_path):
    db = str(tmp_path / "sandbox.db")

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)

    shown = run("entra", "configure", "--object-minutes-min", "0.02", "--create-factor", "3")
    assert "object minutes min: 0.02" in shown.output and "create factor: 3.0" in shown.output
    refused = run("entra", "configure", "--object-minutes-min", "0.05")
    assert refused.exit_code == 1 and "must not exceed max" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    run("entra", "groups-provisioning", "off")
    run("entra", "assign", "david.cook@contoso.onmicrosoft.com")
    status = run("entra", "status").output
    assert "next cycle estimate: initial, 1 objects (1 new): 0.02-0.08 simulated minutes" in status
    synced = run("entra", "sync")
    assert "1 object in " in synced.output and "simulated minutes" in synced.output
    data = json.loads(run("entra", "status", "--json").output)
    assert data["last_cycle_minutes"] > 0
    assert parse_time(data["next_cycle"]) == parse_time(data["last_cycle_end"]) + CYCLE_INTERVAL


@pytest.mark.parametrize(
    ("settings", "second_cycle_at"),
    [
        ("object_minutes_min = 0\nobject_minutes_max = 0\n", "2026-01-05T09:40:00.000Z"),
        ("object_minutes_min = 0.03\nobject_minutes_max = 0.06\n", "2026-01-05T09:40:03.600Z"),
    ],
)
def test_a_scenario_sets_the_figures_in_its_provisioning_table(tmp_path, settings, second_cycle_at):
    text = ASSIGN_ADA.replace("groups = false\n", f"groups = false\n{settings}")
    text += (
        '\n[[step]]\naction = "sync"\n[[step]]\naction = "edit"\n'
        'user = "ada@contoso.onmicrosoft.com"\nset = { displayName = "Ada L." }\n'
        '[[step]]\naction = "sync"\n'
    )
    path = tmp_path / "timed.toml"
    path.write_text(text, encoding="utf-8")
    lines = [json.loads(line) for line in run_scenario(str(path), transcript_format="jsonl")
             .transcript.splitlines()]  # fmt: skip
    assert lines[0]["at"] == "2026-01-05T09:00:00.000Z"
    # the first cycle created Ada at a fixed 0.03 x 2 minutes (3.6 s), the next starts 40 min on
    assert lines[-1]["at"] == second_cycle_at


def test_a_scenario_with_figures_out_of_range_is_a_file_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(ASSIGN_ADA.replace("groups = false\n", "groups = false\ncreate_factor = 0\n"))
    with pytest.raises(ScenarioError, match="create_factor"):
        load(str(path))
