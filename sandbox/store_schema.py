"""Provides the store's schema: the migration steps that create and upgrade the database.

Step N brings the database to schema version N; `Store.migrate` applies the missing ones, each
in its own transaction, and records them in the schema_version table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import sqlite_utils


def _schema_v1(db: sqlite_utils.Database) -> None:
    """Provider state, users with their indexed columns and multi-values, the request log."""
    db.table("provider_state").create({"key": str, "value": str}, pk="key")
    db.table("users").create(
        {
            "id": str,
            "user_name": str,
            "user_name_norm": str,
            "external_id": str,
            "display_name": str,
            "display_name_norm": str,
            "active": int,
            "created": str,
            "last_modified": str,
            "version": int,
            "doc": str,
        },
        pk="id",
        not_null={"user_name", "user_name_norm", "created", "last_modified", "version", "doc"},
    )
    # RFC 7643 §4.1: userName is unique and caseExact=false, so uniqueness is on its casefold.
    db.table("users").create_index(["user_name_norm"], unique=True)
    db.table("users").create_index(["external_id"])
    db.table("users").create_index(["display_name_norm"])
    # One row per value of a multi-valued attribute (emails, phoneNumbers, roles, ...),
    # so value filters such as emails[type eq "work"].value eq "x" use an index.
    # WITHOUT ROWID with the lookup key first: one b-tree to write per value, and filters
    # (attr, value_norm) read it directly. Rows are deleted by their exact keys, which the
    # previous document gives, so no user_id index is needed.
    db.execute(
        """CREATE TABLE user_values (
            attr TEXT NOT NULL,
            value_norm TEXT NOT NULL,  -- '' when the value has no `value` (addresses)
            user_id TEXT NOT NULL,     -- no FOREIGN KEY: with no user_id index, SQLite would
                                       -- scan this table on every user DELETE to check it;
                                       -- the repository removes a user's rows itself
            n INTEGER NOT NULL,        -- position in the attribute's list
            type_norm TEXT,
            value TEXT,
            is_primary INTEGER NOT NULL,
            item TEXT NOT NULL,
            PRIMARY KEY (attr, value_norm, user_id, n)
        ) WITHOUT ROWID"""
    )
    db.table("request_log").create(
        {
            "seq": int,
            "at": str,
            "side": str,
            "method": str,
            "path": str,
            "query": str,
            "status": int,
            "latency_ms": float,
            "request_headers": str,
            "request_body": str,
            "response_headers": str,
            "response_body": str,
            "notes": str,
        },
        pk="seq",
    )


def _schema_v2(db: sqlite_utils.Database) -> None:
    """The Nulab organization: member columns on users, teams and their members, fault rules."""
    users = db.table("users")
    users.add_column("kind", str, not_null_default="managed")  # managed | nulab
    users.add_column("label", str)  # Managed Account | Provisioned Managed Account
    users.add_column("role", str, not_null_default="GUEST")
    users.add_column("language", str)
    users.add_column("timezone", str)
    users.add_column("org_updated", str)  # last created/updated in the organization
    db.table("teams").create(
        {"id": int, "name": str, "guests_allowed": int}, pk="id", not_null={"name"}
    )
    db.table("teams").create_index(["name"], unique=True)
    db.table("team_members").create(
        {"team_id": int, "user_id": str, "is_admin": int},
        pk=("team_id", "user_id"),
        foreign_keys=[("team_id", "teams", "id"), ("user_id", "users", "id")],
    )
    db.table("team_members").create_index(["user_id"])
    db.table("faults").create(
        {
            "id": int,
            "method": str,
            "path": str,
            "status": int,
            "retry_after": int,
            "latency_ms": int,
            "drop_connection": int,
            "remaining": int,
            "probability": float,
            "seed": int,
            "created": str,
        },
        pk="id",
    )


def _schema_v3(db: sqlite_utils.Database) -> None:
    """The mock Entra ID: tenant directory, enterprise app, change log, provisioning job state."""
    db.table("entra_users").create(
        {
            "id": str,  # objectId
            "upn": str,
            "upn_norm": str,
            "mail": str,
            "display_name": str,
            "account_enabled": int,
            "user_type": str,  # Member | Guest
            "created": str,
            "deleted_at": str,  # soft-deleted (recycle bin) when set
            "props": str,  # every Entra property, JSON
        },
        pk="id",
        not_null={"upn", "upn_norm", "props"},
    )
    db.table("entra_users").create_index(["upn_norm"], unique=True)
    db.table("entra_users").create_index(["mail"])
    db.table("entra_users").create_index(["display_name"])
    db.table("entra_groups").create(
        {
            "id": str,
            "display_name": str,
            "description": str,
            "security_enabled": int,
            "created": str,
            "deleted_at": str,
        },
        pk="id",
        not_null={"display_name"},
    )
    db.table("entra_group_members").create(
        {"group_id": str, "user_id": str},
        pk=("group_id", "user_id"),
    )
    db.table("entra_group_members").create_index(["user_id"])
    db.table("app_assignments").create(
        {"id": str, "principal_type": str, "principal_id": str, "role": str, "created": str},
        pk="id",
        not_null={"principal_type", "principal_id", "role"},
    )
    db.table("app_assignments").create_index(["principal_id", "role"], unique=True)
    # Every directory or assignment change, so incremental cycles read changes since a watermark.
    db.table("changes").create(
        {"seq": int, "at": str, "object_type": str, "object_id": str, "change": str, "detail": str},
        pk="seq",
    )
    db.table("engine_state").create({"key": str, "value": str}, pk="key")
    # The connector data store: which target object each source object is linked to, and what
    # was last exported (the flat mapped state diffs are computed against).
    db.table("links").create(
        {"object_type": str, "source_id": str, "target_id": str, "exported": str, "updated": str},
        pk=("object_type", "source_id"),
    )
    db.table("escrows").create(
        {
            "object_type": str,
            "source_id": str,
            "attempts": int,
            "first_failed": str,
            "next_attempt": str,
            "error_code": str,
            "reason": str,
            "reference": int,
        },
        pk=("object_type", "source_id"),
    )
    db.table("staged_deletes").create(
        {"object_type": str, "source_id": str, "action": str, "cycle_id": int},
        pk=("object_type", "source_id"),
    )
    db.table("cycles").create(
        {
            "id": int,
            "kind": str,
            "started": str,
            "finished": str,
            "status": str,
            "counts": str,
            "wall_ms": float,
        },
        pk="id",
    )
    db.table("provisioning_log").create(
        {
            "id": str,
            "cycle_id": int,
            "change_id": str,
            "at": str,
            "object_type": str,
            "source_id": str,
            "source_name": str,
            "target_id": str,
            "action": str,
            "status": str,
            "error_code": str,
            "reason": str,
            "steps": str,
            "modified": str,
            "exchanges": str,
            "duration_ms": float,
        },
        pk="id",
    )
    db.table("provisioning_log").create_index(["cycle_id"])
    db.table("provisioning_log").create_index(["source_id"])


def _schema_v4(db: sqlite_utils.Database) -> None:
    """Provisioning log records carry Graph's provisioningObjectSummary fields (job id, cycle
    GUID, initiator, error category and recommended action) and the simulated time each object
    cost (§1.5, §8.4); a cycle has its GUID. Existing cycles get a GUID, their records the
    same one; the other fields are filled in when older records are read."""
    db.table("cycles").add_column("guid", str)
    log = db.table("provisioning_log")
    for name, kind in (
        ("job_id", str),
        ("cycle_guid", str),
        ("initiated_by", str),
        ("error_category", str),
        ("recommended_action", str),
        ("simulated_ms", float),
    ):
        log.add_column(name, kind)
    namespace = uuid.UUID("5f0d8b1e-2c4a-4f7b-9e3d-6a1b2c3d4e5f")
    for (cycle_id,) in db.execute("SELECT id FROM cycles").fetchall():
        guid = str(uuid.uuid5(namespace, f"cycle-{cycle_id}"))
        db.execute("UPDATE cycles SET guid = ? WHERE id = ?", [guid, cycle_id])
    db.execute(
        "UPDATE provisioning_log SET cycle_guid = (SELECT guid FROM cycles"
        " WHERE cycles.id = provisioning_log.cycle_id)"
    )


def _schema_v5(db: sqlite_utils.Database) -> None:
    """The provider served by processes of its own: the request log ordered by when each
    exchange happened, and the draws of probability fault rules counted in the database.

    `ord` is the wall clock in nanoseconds when the engine sent a request or the provider
    received it (the engine's `at` is its simulated clock, and each process writes its
    entries in batches, so neither `at` nor `seq` is the order across processes). Rows
    written before it have 0 and keep their seq order, before every newer one.
    """
    log = db.table("request_log")
    log.add_column("ord", int, not_null_default=0)
    log.create_index(["ord", "seq"], index_name="request_log_ord")
    # Each server worker draws the next number of a rule's one seeded sequence, not a
    # sequence of its own.
    db.table("faults").add_column("draws", int, not_null_default=0)


def _schema_v6(db: sqlite_utils.Database) -> None:
    """The connector data store's entries, apart from the links: every object linked since the
    store was last reset. A delete drops the link but keeps the entry, so the count Microsoft
    shows does not go down (docs/entra-behaviour.md §1.7). A database from before gets an
    entry for each object linked now (the ones deleted earlier are not known any more)."""
    db.table("connector_entries").create(
        {"object_type": str, "source_id": str}, pk=("object_type", "source_id")
    )
    db.execute(
        "INSERT INTO connector_entries (object_type, source_id)"
        " SELECT object_type, source_id FROM links"
    )


MIGRATIONS: Sequence[Callable[[sqlite_utils.Database], None]] = (
    _schema_v1,
    _schema_v2,
    _schema_v3,
    _schema_v4,
    _schema_v5,
    _schema_v6,
)
"""Schema steps in order; the schema version is the number of steps applied."""
