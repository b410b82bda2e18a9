"""in_order: a function over items on a few looping threads, results in the items' order,
never more at once than asked, the earliest failure raised and no item started after it."""

from __future__ import annotations

import threading
import time

import pytest

from sandbox.engine.sync.fanout import in_order


class Gauge:
    """Counts calls running at once (each holds a moment so that they overlap)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.threads: set[int] = set()

    def __call__(self, item: int) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.threads.add(threading.get_ident())
        time.sleep(0.002)
        with self.lock:
            self.now -= 1
        return item * item


def test_results_come_back_in_the_items_order_from_at_most_the_workers_asked():
    gauge = Gauge()
    assert in_order(gauge, list(range(200)), 4) == [n * n for n in range(200)]
    assert 2 <= gauge.most <= 4
    assert 2 <= len(gauge.threads) <= 4
    assert threading.get_ident() not in gauge.threads


def test_one_worker_runs_everything_in_the_calling_thread():
    gauge = Gauge()
    assert in_order(gauge, [1, 2, 3], 1) == [1, 4, 9]
    assert gauge.threads == {threading.get_ident()}


def test_progress_rises_to_the_total_from_the_calling_thread():
    seen: list[tuple[int, int, int]] = []
    in_order(Gauge(), list(range(120)), 3,
             lambda done, total: seen.append((done, total, threading.get_ident())))  # fmt: skip
    assert seen[-1][:2] == (120, 120)
    assert [d for d, _t, _i in seen] == sorted(d for d, _t, _i in seen)
    assert {i for _d, _t, i in seen} == {threading.get_ident()}


def test_a_failure_stops_new_items_and_the_earliest_failure_is_raised():
    started: list[int] = []
    lock = threading.Lock()

    def fn(item: int) -> int:
        with lock:
            started.append(item)
        if item in (10, 11):
            raise ValueError(f"item {item}")
        time.sleep(0.001)
        return item

    with pytest.raises(ValueError, match="item 10"):
        in_order(fn, list(range(1000)), 4)
    assert len(started) < 100  # the rest were never taken


def test_no_item_is_lost_or_done_twice_under_contention():
    calls: list[int] = []
    lock = threading.Lock()

    def fn(item: int) -> int:
        with lock:
            calls.append(item)
        return item

    assert in_order(fn, list(range(5000)), 8) == list(range(5000))
    assert sorted(calls) == list(range(5000))
