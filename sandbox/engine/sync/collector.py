"""Provides fewer_collections(): CPython's cyclic garbage collector run less often while a
cycle runs.

A cycle keeps what it decides until its end: every user's outcome, log record, steps and link
wait for the accidental-deletion gate and the link save (sync/users_pass.py), so the heap
grows by some 17 tracked objects a user. With the default thresholds (700, 10, 10) the
collector examines the young objects every 700 allocations and, each time the survivors have
grown the old generation by a quarter, the whole heap. Timed with `gc.callbacks` around the
10,000-user initial cycle of `python bench/engine.py --only a --initial-users 10000`, 9 full
collections and about 1,100 young ones cost 1.1-1.3 s of the engine's ~11 s of CPU; with the
first threshold at CYCLE_THRESHOLD the same cycle ran one full collection and 54 young ones,
0.4 s in all.

Nothing is kept from the collector: reference cycles made during the cycle (a caught error's
traceback, say) are still found, by the collections that do run and by the first ones after.
The thresholds are the process's own, so the change is counted: it holds while any cycle of
the process runs, and the thresholds found before the first are put back after the last.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

CYCLE_THRESHOLD = 10_000
"""The collector's first threshold during a cycle (allocations less deallocations between
young collections); CPython's default is 700."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to at least CYCLE_THRESHOLD for the duration."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            first, *rest = _saved
            gc.set_threshold(max(first, CYCLE_THRESHOLD), *rest)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
