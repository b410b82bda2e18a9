"""The garbage collector's first threshold during a cycle: raised while any cycle of the process
runs, the thresholds found before put back after the last, whatever ends it."""

from __future__ import annotations

import gc
import threading

import pytest

from sandbox.engine.sync.collector import CYCLE_THRESHOLD, fewer_collections
from tests.engine_env import EngineEnv


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_first_threshold_is_raised_for_the_duration_and_put_back(thresholds):
    gc.set_threshold(700, 12, 9)
    with fewer_collections():
        assert gc.get_threshold() == (CYCLE_THRESHOLD, 12, 9)
    assert gc.get_threshold() == (700, 12, 9)


def test_a_higher_threshold_is_left_as_it_is(thresholds):
    gc.set_threshold(CYCLE_THRESHOLD * 3, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (CYCLE_THRESHOLD * 3, 10, 10)
    assert gc.get_threshold() == (CYCLE_THRESHOLD * 3, 10, 10)


def test_an_error_inside_puts_the_thresholds_back(thresholds):
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the cycle failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_cycles_keep_it_raised_until_the_last_ends(thresholds):
    first_in, second_out, seen = threading.Event(), threading.Event(), []

    def other() -> None:
        with fewer_collections():
            first_in.set()
            second_out.wait(5)
            seen.append(gc.get_threshold()[0])  # the main thread's has ended by now

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        assert first_in.wait(5)
    second_out.set()
    thread.join(5)
    assert seen == [CYCLE_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_cycle_runs_with_it_and_ends_without_it(tmp_path, thresholds):
    env = EngineEnv(tmp_path, rules="core")
    try:
        env.add_user("ada")
        during: list[int] = []
        send = env.engine.transport.handle_request

        def noting(request):
            during.append(gc.get_threshold()[0])
            return send(request)

        env.engine.transport.handle_request = noting  # type: ignore[method-assign]
        report = env.cycle()
        assert report.counts["created"] == 1
        assert during and set(during) == {CYCLE_THRESHOLD}
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        env.close()
