"""Provides the tenant seeding benchmark: Directory.seed at 10k and 100k users, plus reads.

    python bench/directory.py [--sizes 10000,100000] [--seed 1]

Each size seeds a fresh database file (users, 2 guests, 3 groups, the change log), then times
a lookup by mail, a listing page, the assigned users of a group assignment and changes_since.
Target: 100k users seeded in a few seconds. The floor, measured in the same run, is the bare
executemany of the same user rows into an empty entra_users table (no Python generation).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.engine.tenant.app import EnterpriseApp  # noqa: E402
from sandbox.engine.tenant.directory import Directory  # noqa: E402
from sandbox.engine.tenant.model import USER_INSERT  # noqa: E402
from sandbox.engine.tenant.seed import seed_tenant  # noqa: E402
from sandbox.store import Store  # noqa: E402

TARGET_SECONDS_100K = 5.0


def timed(action):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def bench(size: int, seed: int, folder: Path) -> None:
    """Seed `size` users into a fresh file and print the figures."""
    directory = Directory(Store(str(folder / f"tenant-{size}.db")))
    seconds, result = timed(lambda: seed_tenant(directory, seed=seed, users=size))
    print(
        f"seed {size:>7,} users: {seconds:6.2f} s  ({size / seconds:,.0f} users/s, "
        f"{result['memberships']:,} memberships, {directory.last_change_seq():,} changes)"
    )
    rows = directory.store.query("SELECT * FROM entra_users ORDER BY rowid")
    floor_store = Store(str(folder / f"floor-{size}.db"))
    values = [tuple(r) for r in rows]
    floor, _ = timed(lambda: _insert(floor_store, values))
    print(
        f"  floor (executemany of the same rows): {floor:6.2f} s; seed/floor {seconds / floor:.1f}x"
    )
    last = directory.users(limit=1, offset=size - 1)[0]
    lookup, _ = timed(lambda: directory.get_user(last.mail or last.id))
    page, _ = timed(lambda: directory.users(limit=100, offset=size // 2))
    app = EnterpriseApp(directory.store, directory)
    app.assign("Nulab Pass Users")
    scope, assigned = timed(app.assigned_user_ids)
    since, _ = timed(lambda: directory.changes_since(directory.last_change_seq() - 1000))
    print(
        f"  get_user by mail {lookup * 1000:.1f} ms, a page of 100 {page * 1000:.1f} ms, "
        f"assigned_user_ids ({len(assigned):,}) {scope * 1000:.1f} ms, "
        f"changes_since (1000) {since * 1000:.1f} ms"
    )
    if size >= 100_000:
        verdict = "ok" if seconds <= TARGET_SECONDS_100K else "SLOW"
        print(f"  target {TARGET_SECONDS_100K:.0f} s for 100k: {verdict}")


def _insert(store: Store, rows: list[tuple]) -> None:
    with store.write() as db:
        db.execute("PRAGMA cache_size = -131072")
        db.conn.executemany(USER_INSERT, rows)


def main() -> None:
    """Parse the arguments and run each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            bench(size, args.seed, Path(folder))


if __name__ == "__main__":
    main()
