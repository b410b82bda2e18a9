"""A users pass reads its users ahead: the same users, links, roles and managers' target ids
as each user's own reads, a few queries per chunk instead of several per user."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.engine.sync.links import Link, LinkStore
from sandbox.engine.sync.read_ahead import UserReads
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.store import Store

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def tenant(store: Store):
    directory = Directory(store)
    app = EnterpriseApp(store, directory, directory.clock)
    links = LinkStore(store)
    ids = [
        directory.add_user(userPrincipalName=f"u{n}@contoso.onmicrosoft.com").id for n in range(12)
    ]
    for n, user_id in enumerate(ids[1:], start=1):  # a manager chain: u0 <- u1 <- u2 ...
        directory.edit_user(user_id, manager=ids[n - 1])
    directory.add_group("Staff")
    for user_id in ids[::2]:
        directory.add_member("Staff", user_id)
    app.assign("Staff", "USER")
    for user_id in ids[::3]:
        app.assign(user_id, "ADMIN")
    links.save(
        [Link("User", user_id, f"target-{n}", {"userName": f"u{n}"}) for n, user_id in
         enumerate(ids) if n % 4 != 1],
        NOW,
    )  # fmt: skip
    return directory, app, links, ids


def answers(reads: UserReads, user_id: str) -> tuple[object, ...]:
    user = reads.user(user_id)
    return (
        user,
        reads.link(user_id),
        reads.roles(user_id),
        None if user is None else reads.manager_target(user),
    )


def test_read_ahead_answers_as_each_users_own_reads(tenant):
    directory, app, links, ids = tenant
    alone = UserReads(directory, app, links)
    ahead = UserReads(directory, app, links, ids, chunk=5)
    expected = [answers(alone, user_id) for user_id in ids]
    assert [answers(ahead, user_id) for user_id in ids] == expected
    # what is compared is not empty: users with and without links, roles by both routes,
    # managers linked and not
    assert {e[1] is None for e in expected} == {True, False}
    assert any(len(e[2]) == 2 for e in expected) and any(e[2] == [] for e in expected)
    assert {e[3] is None for e in expected} == {True, False}
    assert [r.value for r in alone.roles(ids[0])] == ["ADMIN", "USER"]  # direct, then group


def test_a_chunk_is_read_in_four_queries_once(tenant, store):
    directory, app, links, ids = tenant
    ahead = UserReads(directory, app, links, ids, chunk=6)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        for user_id in ids:
            answers(ahead, user_id)
    finally:
        store.db.conn.set_trace_callback(None)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2 * 4


def test_a_user_outside_the_pass_or_gone_is_read_on_its_own(tenant):
    directory, app, links, ids = tenant
    ahead = UserReads(directory, app, links, ids[:4])
    assert answers(ahead, ids[7]) == answers(UserReads(directory, app, links), ids[7])
    directory.hard_delete(ids[2])
    late = UserReads(directory, app, links, ids)
    assert late.user(ids[2]) is None and late.roles(ids[2]) == []


def test_a_dropped_chunk_is_read_again(tenant):
    directory, app, links, ids = tenant
    ahead = UserReads(directory, app, links, ids, chunk=1)
    for user_id in ids:  # reads chunk after chunk; the first ones are dropped
        ahead.user(user_id)
    alone = UserReads(directory, app, links)
    assert answers(ahead, ids[0]) == answers(alone, ids[0])


def test_the_bulk_reads_answer_as_the_single_ones(tenant):
    directory, app, links, ids = tenant
    assert directory.users_by_ids([*ids, "nobody", ids[0]]) == {
        user_id: directory.user_by_id(user_id) for user_id in ids
    }
    assert links.get_many("User", ids) == {
        user_id: link for user_id in ids if (link := links.get("User", user_id)) is not None
    }
    assert app.assignments_for_users(ids) == {
        user_id: roles for user_id in ids if (roles := app.assignments_for_user(user_id))
    }
