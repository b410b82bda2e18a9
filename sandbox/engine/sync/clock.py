"""Provides SimClock: the engine's simulated clock (cycles every 40 simulated minutes).

The clock is stored in the database, so the CLI, the TUI and a running sandbox agree on
the simulated time. It advances by hand ("next cycle now") or runs at a chosen speed
(60 means a simulated hour per real minute); at speed 0 it only moves when told to, which
is what scenarios use to be reproducible.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sandbox.errors import SandboxError
from sandbox.store import Store
from sandbox.timestamps import format_timestamp as format_time
from sandbox.timestamps import parse_timestamp as parse_time

# format_time and parse_time: the engine's names for sandbox.timestamps' two functions.
__all__ = [
    "CYCLE_INTERVAL",
    "EPOCH",
    "MAX_DURATION",
    "MAX_SPEED",
    "REREAD_S",
    "SimClock",
    "format_time",
    "parse_duration",
    "parse_time",
]

CYCLE_INTERVAL = timedelta(minutes=40)
"""Entra's fixed interval between cycles (§1.1, §1.3: 40 minutes)."""

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""Where a new sandbox's simulated time starts (a Monday morning)."""

MAX_SPEED = 100_000.0

REREAD_S = 0.25
"""How stale (real seconds) this process's copy of the stored clock may get before it is read
again: another process's advance shows within this; this process's own show at once."""


class _Stored:
    """One process's copy of a store's clock keys, shared by every SimClock over that store
    (a cycle asks the time for every request; reading the table each time cost a tenth of
    the engine's time)."""

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}
        self.read_at = float("-inf")
        self.lock = threading.Lock()
        self.base = EPOCH
        self.speed = 0.0
        """The two keys read as values (`parse`): a cycle asks the time for every request."""

    def parse(self) -> None:
        """Read `values` into `base` and `speed` (under `lock`)."""
        raw = self.values.get("clock.now")
        self.base = parse_time(raw) if raw else EPOCH
        raw = self.values.get("clock.speed")
        self.speed = float(raw) if raw else 0.0


_STORED: weakref.WeakKeyDictionary[Store, _Stored] = weakref.WeakKeyDictionary()
_STORED_LOCK = threading.Lock()


def _stored_for(store: Store) -> _Stored:
    with _STORED_LOCK:
        found = _STORED.get(store)
        if found is None:
            found = _STORED[store] = _Stored()
        return found


_DIGITS = re.compile(r"[0-9]+")


def parse_duration(text: object) -> timedelta:
    """`40m`, `6h`, `31d` or `90s` as a timedelta; anything else is a SandboxError."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    value = str(text).strip().lower()
    # ASCII digits: "²".isdigit() is true and int("²") fails
    if len(value) < 2 or value[-1] not in units or not _DIGITS.fullmatch(value[:-1]):
        raise SandboxError(f"a duration reads like 40m, 6h or 31d, got {text!r}")
    if (
        len(value) > 12
        or (duration := timedelta(**{units[value[-1]]: int(value[:-1])})) > MAX_DURATION
    ):
        raise SandboxError(f"a duration is at most {MAX_DURATION.days}d, got {text!r}")
    return duration


MAX_DURATION = timedelta(days=3650)
"""The longest duration read (ten years: the simulated clock stays well inside its calendar)."""


class SimClock:
    """Simulated UTC time: base + (real elapsed since anchor) x speed, plus manual advances."""

    def __init__(self, store: Store, real: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.real = real
        self._shared = _stored_for(store)
        # The anchor is per process: simulated time only flows while a process runs it.
        self._anchor_real = real()
        self._anchor_sim = self._stored_base()
        self._lock = threading.Lock()
        """Serializes advances: a cycle's threads spend simulated time concurrently (§1.5)."""

    def _stored_base(self) -> datetime:
        return self._stored()[0]

    def _stored(self) -> tuple[datetime, float]:
        """The stored (simulated time, speed), read again when this process's copy is older
        than REREAD_S."""
        stored = self._shared
        with stored.lock:
            if time.monotonic() - stored.read_at > REREAD_S:
                rows = self.store.db.execute(
                    "SELECT key, value FROM engine_state WHERE key IN ('clock.now', 'clock.speed')"
                ).fetchall()
                found = {str(k): str(v) for k, v in rows}
                stored.values = {k: found.get(k) for k in ("clock.now", "clock.speed")}
                stored.parse()
                stored.read_at = time.monotonic()
            return stored.base, stored.speed

    def _set(self, key: str, value: str) -> None:
        with self.store.write() as db:
            db.execute(
                "INSERT INTO engine_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
        stored = self._shared
        with stored.lock:  # after the commit: a concurrent re-read cannot undo it
            stored.values[key] = value
            stored.parse()

    def reread(self) -> None:
        """Read the stored clock again at the next question (another process has just moved
        it, and this one knows: the end of a cycle run by a child process)."""
        stored = self._shared
        with stored.lock:
            stored.read_at = float("-inf")

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (0: time moves only by hand)."""
        return self._stored()[1]

    def set_speed(self, speed: float) -> None:
        """Run the clock at `speed` (0 stops it flowing)."""
        if not 0 <= speed <= MAX_SPEED:
            raise SandboxError(f"clock speed must be between 0 and {MAX_SPEED:g}")
        self._rebase()
        self._set("clock.speed", repr(float(speed)))

    def now(self) -> datetime:
        """The simulated time now."""
        stored, speed = self._stored()
        elapsed = (self.real() - self._anchor_real) * speed
        if stored > self._anchor_sim:  # another process advanced it: follow
            self._anchor_sim, self._anchor_real = stored, self.real()
            elapsed = 0.0
        return self._anchor_sim + timedelta(seconds=elapsed)

    def _rebase(self) -> None:
        current = self.now()
        self._anchor_sim, self._anchor_real = current, self.real()
        self._set("clock.now", format_time(current))

    def advance(self, delta: timedelta) -> datetime:
        """Move simulated time forward by `delta` (never backwards)."""
        target = self.elapse(delta)
        self.save()
        return target

    def elapse(self, delta: timedelta) -> datetime:
        """Move simulated time forward by `delta` in this process only, without writing it
        (a cycle spends time per object, §1.5; `save` stores it once at the cycle's end).
        Safe from several threads."""
        if delta < timedelta(0):
            raise SandboxError("the clock only moves forward")
        with self._lock:
            target = self.now() + delta
            self._anchor_sim, self._anchor_real = target, self.real()
        return target

    def save(self) -> datetime:
        """Store the simulated time now, so other processes and clocks see it."""
        with self._lock:
            current = self.now()
            self._anchor_sim, self._anchor_real = current, self.real()
        self._set("clock.now", format_time(current))
        return current

    def advance_to(self, moment: datetime) -> datetime:
        """Move simulated time forward to `moment` if it is later than now."""
        current = self.now()
        return self.advance(moment - current) if moment > current else current
