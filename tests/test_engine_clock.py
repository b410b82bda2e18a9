"""The simulated clock: stored, shared by every clock over a store, flowing at a speed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import sandbox.engine.sync.clock as clock_module
from sandbox.engine.sync.clock import EPOCH, SimClock, format_time
from sandbox.errors import SandboxError
from sandbox.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "clock.db"))


def test_a_new_clock_starts_at_the_epoch_and_stands_still_at_speed_zero(store):
    real = [100.0]
    clock = SimClock(store, real=lambda: real[0])
    assert clock.now() == EPOCH
    real[0] += 3600
    assert clock.now() == EPOCH


def test_at_speed_60_a_real_second_is_a_simulated_minute(store):
    real = [0.0]
    clock = SimClock(store, real=lambda: real[0])
    clock.set_speed(60)
    real[0] += 10
    assert clock.now() == EPOCH + timedelta(minutes=10)
    clock.set_speed(0)  # stops where it is
    real[0] += 10
    assert clock.now() == EPOCH + timedelta(minutes=10)


def test_an_advance_shows_at_once_on_every_clock_over_the_store(store):
    first, second = SimClock(store), SimClock(store)
    first.advance(timedelta(hours=2))
    assert second.now() == first.now() == EPOCH + timedelta(hours=2)
    assert store.scalar("SELECT value FROM engine_state WHERE key = 'clock.now'") == format_time(
        EPOCH + timedelta(hours=2)
    )


def test_another_process_advance_is_followed_once_the_copy_is_read_again(
    store, tmp_path, monkeypatch
):
    mine = SimClock(store)
    assert mine.now() == EPOCH
    other = SimClock(Store(str(tmp_path / "clock.db")))  # another connection, as a process
    other.advance(timedelta(days=1))
    monkeypatch.setattr(clock_module, "REREAD_S", 3600.0)
    assert mine.now() == EPOCH  # this process's copy is still fresh
    monkeypatch.setattr(clock_module, "REREAD_S", -1.0)
    assert mine.now() == EPOCH + timedelta(days=1)


def test_reread_follows_another_process_advance_at_once(store, tmp_path, monkeypatch):
    """What a sandbox does when its cycle process has just moved the stored clock."""
    monkeypatch.setattr(clock_module, "REREAD_S", 3600.0)
    mine = SimClock(store)
    assert mine.now() == EPOCH
    SimClock(Store(str(tmp_path / "clock.db"))).advance(timedelta(hours=3))
    assert mine.now() == EPOCH  # the copy is fresh for an hour
    mine.reread()
    assert mine.now() == EPOCH + timedelta(hours=3)


def test_the_clock_never_moves_backwards_and_refuses_a_silly_speed(store):
    clock = SimClock(store)
    with pytest.raises(SandboxError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(SandboxError, match="speed must be between"):
        clock.set_speed(-1)
    later = EPOCH + timedelta(hours=1)
    assert clock.advance_to(later) == later
    assert clock.advance_to(EPOCH) == later  # earlier: stays
