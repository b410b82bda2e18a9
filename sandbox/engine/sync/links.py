"""Provides the connector data store (links, §1.2/§1.4), escrows (§8.1) and staged deletes (§8.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox import jsontext
from sandbox.engine.sync.clock import CYCLE_INTERVAL, format_time, parse_time
from sandbox.store import Store, in_lists

MAX_ESCROW_BACKOFF = timedelta(hours=24)
"""Escrowed retries come at decreasing frequency, at most a day apart (§8.1, §8.2)."""


@dataclass(frozen=True)
class Link:
    """A source object linked to its target object, with what was last exported."""

    object_type: str
    source_id: str
    target_id: str
    exported: dict[str, object]


@dataclass(frozen=True)
class Escrow:
    """A failed object waiting for its retry."""

    object_type: str
    source_id: str
    attempts: int
    first_failed: str
    next_attempt: str
    error_code: str
    reason: str
    reference: bool


class LinkStore:
    """Links, escrows and staged deletions in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- links ---------------------------------------------------------------------------

    def get(self, object_type: str, source_id: str) -> Link | None:
        """The link of a source object, if any."""
        row = self.store.db.execute(
            "SELECT target_id, exported FROM links WHERE object_type = ? AND source_id = ?",
            [object_type, source_id],
        ).fetchone()
        return None if row is None else Link(object_type, source_id, row[0], jsontext.loads(row[1]))

    def get_many(self, object_type: str, source_ids: Sequence[str]) -> dict[str, Link]:
        """`get` of many source objects at once (a query per IN_LIST of them): source id ->
        link, for the linked ones."""
        out: dict[str, Link] = {}
        for chunk, marks in in_lists(source_ids):
            rows = self.store.db.execute(
                "SELECT source_id, target_id, exported FROM links WHERE object_type = ? AND "
                f"source_id IN ({marks})",
                [object_type, *chunk],
            ).fetchall()
            for source_id, target_id, exported in rows:
                out[source_id] = Link(object_type, source_id, target_id, jsontext.loads(exported))
        return out

    def linked_ids(self, object_type: str) -> set[str]:
        """Every linked source id of a type."""
        rows = self.store.db.execute(
            "SELECT source_id FROM links WHERE object_type = ?", [object_type]
        ).fetchall()
        return {r[0] for r in rows}

    def target_ids(self, object_type: str, source_ids: list[str]) -> dict[str, str]:
        """source id -> target id for the linked ones among `source_ids`."""
        out: dict[str, str] = {}
        for chunk, marks in in_lists(source_ids):
            rows = self.store.db.execute(
                f"SELECT source_id, target_id FROM links WHERE object_type = ? AND source_id IN ({marks})",
                [object_type, *chunk],
            ).fetchall()
            out.update({r[0]: r[1] for r in rows})
        return out

    def save(self, links: list[Link], now: datetime) -> None:
        """Create or update links (one transaction); each linked object is an entry of the
        connector data store from now on (`entry_counts`)."""
        if not links:
            return
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT OR IGNORE INTO connector_entries (object_type, source_id) VALUES (?, ?)",
                [(k.object_type, k.source_id) for k in links],
            )
            db.conn.executemany(
                "INSERT INTO links (object_type, source_id, target_id, exported, updated)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(object_type, source_id) DO UPDATE SET"
                " target_id = excluded.target_id, exported = excluded.exported,"
                " updated = excluded.updated",
                [
                    (
                        k.object_type,
                        k.source_id,
                        k.target_id,
                        jsontext.dumps(k.exported),
                        format_time(now),
                    )
                    for k in links
                ],
            )

    def drop(self, object_type: str, source_ids: list[str]) -> None:
        """Forget links (after a DELETE, or for a user no longer managed that is gone). The
        objects stay entries of the connector data store: Microsoft's count of them "doesn't go
        down if a user is soft-deleted or hard-deleted" (§1.7)."""
        if not source_ids:
            return
        with self.store.write() as db:
            db.conn.executemany(
                "DELETE FROM links WHERE object_type = ? AND source_id = ?",
                [(object_type, s) for s in source_ids],
            )

    def clear(self) -> None:
        """Reset the connector data store: the next cycle re-matches everything, and its
        entries are counted again from none ("recalculated the first sync after the CDS is
        reset", §1.7)."""
        with self.store.write() as db:
            db.execute("DELETE FROM links")
            db.execute("DELETE FROM connector_entries")

    def entry_counts(self) -> dict[str, int]:
        """The connector data store's entries by object type, User and Group: the objects linked
        since it was last reset, those deleted since included (Graph's
        synchronizedEntryCountByType, §1.7)."""
        rows = self.store.db.execute(
            "SELECT object_type, count(*) FROM connector_entries GROUP BY object_type"
        ).fetchall()
        counts = {"User": 0, "Group": 0}
        counts.update({str(r[0]): int(r[1]) for r in rows})
        return counts

    # -- escrows -------------------------------------------------------------------------

    def escrow(
        self,
        object_type: str,
        source_id: str,
        code: str,
        reason: str,
        now: datetime,
        reference: bool = False,
    ) -> Escrow:
        """Record a failure; the retry comes 40 minutes later, then at growing intervals."""
        row = self.store.db.execute(
            "SELECT attempts, first_failed FROM escrows WHERE object_type = ? AND source_id = ?",
            [object_type, source_id],
        ).fetchone()
        attempts = (row[0] if row else 0) + 1
        first = row[1] if row else format_time(now)
        wait = min(CYCLE_INTERVAL * (2 ** (attempts - 1)), MAX_ESCROW_BACKOFF)
        escrow = Escrow(
            object_type,
            source_id,
            attempts,
            first,
            format_time(now + wait),
            code,
            reason,
            reference,
        )
        with self.store.write() as db:
            db.execute(
                "INSERT INTO escrows (object_type, source_id, attempts, first_failed, next_attempt,"
                " error_code, reason, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(object_type, source_id) DO UPDATE SET attempts = excluded.attempts,"
                " next_attempt = excluded.next_attempt, error_code = excluded.error_code,"
                " reason = excluded.reason, reference = excluded.reference",
                [
                    object_type,
                    source_id,
                    attempts,
                    first,
                    escrow.next_attempt,
                    code,
                    reason,
                    1 if reference else 0,
                ],
            )
        return escrow

    def release(self, object_type: str, source_ids: list[str]) -> None:
        """Forget the escrows of objects that succeeded."""
        if not source_ids:
            return
        with self.store.write() as db:
            db.conn.executemany(
                "DELETE FROM escrows WHERE object_type = ? AND source_id = ?",
                [(object_type, s) for s in source_ids],
            )

    def due(self, object_type: str, now: datetime) -> list[str]:
        """Escrowed objects whose retry time has come."""
        rows = self.store.db.execute(
            "SELECT source_id FROM escrows WHERE object_type = ? AND next_attempt <= ?"
            " ORDER BY first_failed",
            [object_type, format_time(now)],
        ).fetchall()
        return [r[0] for r in rows]

    def escrows(self) -> list[Escrow]:
        """Every escrowed object."""
        rows = self.store.db.execute(
            "SELECT object_type, source_id, attempts, first_failed, next_attempt, error_code,"
            " reason, reference FROM escrows ORDER BY first_failed"
        ).fetchall()
        return [Escrow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    def escrow_count(self, reference: bool | None = None) -> int:
        """How many objects are escrowed (optionally only reference failures or only others)."""
        if reference is None:
            return int(self.store.scalar("SELECT count(*) FROM escrows"))
        return int(
            self.store.scalar(
                "SELECT count(*) FROM escrows WHERE reference = ?", [1 if reference else 0]
            )
        )

    def clear_escrows(self) -> None:
        """Restart clears escrows (§1.4)."""
        with self.store.write() as db:
            db.execute("DELETE FROM escrows")

    # -- staged deletes ------------------------------------------------------------------

    def stage(self, items: list[tuple[str, str, str]], cycle_id: int) -> None:
        """Hold disables/deletes back (accidental-deletion prevention)."""
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT OR REPLACE INTO staged_deletes (object_type, source_id, action, cycle_id)"
                " VALUES (?, ?, ?, ?)",
                [(t, s, a, cycle_id) for t, s, a in items],
            )

    def staged(self) -> list[tuple[str, str, str]]:
        """(object_type, source_id, action) held back."""
        rows = self.store.db.execute(
            "SELECT object_type, source_id, action FROM staged_deletes ORDER BY rowid"
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def clear_staged(self) -> None:
        """Forget staged deletions (after Allow deletes pushed them through, or a restart)."""
        with self.store.write() as db:
            db.execute("DELETE FROM staged_deletes")


def next_time(moment: str | None) -> datetime | None:
    """A stored time, parsed (None stays None)."""
    return parse_time(moment) if moment else None
