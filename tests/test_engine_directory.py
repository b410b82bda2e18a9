"""The mock Entra tenant: seeded users and groups, user lifecycle, and the change log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.engine.mappings.mapping import ENTRA_USER_ATTRIBUTES
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.engine.tenant.seed import seed_tenant
from sandbox.errors import NotFoundError, SandboxError
from sandbox.store import Store

PEOPLE = [
    ("Ada", "Lovelace", "ada@example.com"),
    ("Grace", "Hopper", "grace.hopper@example.com"),
    ("Jürgen", "Müller", "juergen@example.com"),
]


class Clock:
    """A hand-moved clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory(store: Store, clock: Clock) -> Directory:
    return Directory(store, clock)


@pytest.fixture
def seeded(directory: Directory) -> Directory:
    seed_tenant(directory, seed=7, users=40, people=PEOPLE, guests=3)
    return directory


def add(directory: Directory, alias: str, **props) -> str:
    return directory.add_user(userPrincipalName=f"{alias}@contoso.onmicrosoft.com", **props).id


def changes(directory: Directory, since: int = 0) -> list[tuple[str, str]]:
    return [(c.object_id, c.change) for c in directory.changes_since(since)]


# -- seeding -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_tenant_ids_included(seeded, tmp_path, clock):
    other = Directory(Store(str(tmp_path / "again.db")), clock)
    seed_tenant(other, seed=7, users=40, people=PEOPLE, guests=3)
    assert [u.to_dict() for u in other.users(limit=None)] == [
        u.to_dict() for u in seeded.users(limit=None)
    ]
    assert [(g.id, g.display_name) for g in other.groups()] == [
        (g.id, g.display_name) for g in seeded.groups()
    ]
    third = Directory(Store(str(tmp_path / "third.db")), clock)
    seed_tenant(third, seed=8, users=40, people=PEOPLE, guests=3)
    assert {u.id for u in third.users(limit=None)}.isdisjoint(u.id for u in seeded.users())


def test_people_get_their_email_as_mail_and_a_first_last_upn(seeded):
    first = seeded.users(limit=3)
    assert [u.mail for u in first] == [p[2] for p in PEOPLE]
    assert [u.user_principal_name for u in first] == [
        "ada.lovelace@contoso.onmicrosoft.com",
        "grace.hopper@contoso.onmicrosoft.com",
        "jurgen.muller@contoso.onmicrosoft.com",
    ]
    assert first[2].display_name == "Jürgen Müller"


def test_mail_differs_from_upn_for_people_and_equals_it_for_extra_members(seeded):
    members = [u for u in seeded.users(limit=None) if u.user_type == "Member"]
    assert all(u.mail != u.user_principal_name for u in members[:3])
    assert all(u.mail == u.user_principal_name for u in members[3:])
    assert len(members) == 37


def test_guests_have_ext_upns_their_own_mail_and_an_external_source_upn(seeded):
    guests = [u for u in seeded.users(limit=None) if u.is_guest]
    assert len(guests) == 3
    for guest in guests:
        alias, domain = guest.mail.split("@")
        assert guest.user_principal_name == f"{alias}_{domain}#EXT#@contoso.onmicrosoft.com"
        source = guest.source()
        assert source["userPrincipalName"] == guest.mail  # #EXT# and tenant domain stripped
        assert source["originalUserPrincipalName"] == guest.user_principal_name
        assert "manager" not in source


def test_seeded_users_carry_countries_languages_departments_and_a_manager_chain(seeded):
    members = [u for u in seeded.users(limit=None) if not u.is_guest]
    assert {u.country for u in members} >= {"United States", "Japan"}
    assert {u.preferred_language for u in members} & {"en-US", "ja-JP", "nl-NL"}
    assert all(u.department and u.job_title and u.usage_location for u in members)
    by_id = {u.id: u for u in members}
    assert members[0].manager is None
    for user in members[1:]:  # every chain ends at the first member
        seen, boss = set(), user
        while boss.manager:
            assert boss.manager not in seen
            seen.add(boss.manager)
            boss = by_id[boss.manager]
        assert boss.id == members[0].id


def test_seeded_groups_have_direct_members_and_one_nested_group(seeded):
    groups = {g.display_name: g for g in seeded.groups()}
    assert set(groups) == {"Nulab Pass Users", "Nulab Pass Admins", "Contractors"}
    assert groups["Nulab Pass Users"].member_count == len(seeded.members("Nulab Pass Users")) > 0
    assert [g.display_name for g in seeded.member_groups("Nulab Pass Users")] == ["Contractors"]


def test_source_uses_only_the_entra_attribute_names_the_mappings_read(seeded):
    for user in seeded.users(limit=None):
        source = user.source()
        assert set(source) <= ENTRA_USER_ATTRIBUTES
        assert source["objectId"] == user.id and None not in source.values()


def test_seeding_records_every_add_and_seeding_again_needs_replace(seeded):
    assert sum(1 for _, change in changes(seeded) if change == "add") == 43  # 40 users, 3 groups
    with pytest.raises(SandboxError, match="--replace"):
        seed_tenant(seeded, seed=7, users=40)
    watermark = seeded.last_change_seq()
    result = seed_tenant(seeded, seed=9, users=10, guests=1, groups=1, replace=True)
    assert result["users"] == 10 and seeded.count() == 10 and len(seeded.groups()) == 1
    after = [c.change for c in seeded.changes_since(watermark)]
    assert after.count("hardDelete") == 43 and after.count("add") == 11


def test_the_user_count_grows_to_hold_every_person_and_guest(directory):
    assert seed_tenant(directory, seed=1, users=2, people=PEOPLE, guests=2)["users"] == 5


# -- users -------------------------------------------------------------------------------


def test_add_user_generates_an_object_id_mail_nickname_and_member_type(directory):
    user = directory.add_user(userPrincipalName="Adele.Vance@contoso.onmicrosoft.com")
    assert len(user.id) == 36 and user.mail_nickname == "Adele.Vance"
    assert user.user_type == "Member" and user.account_enabled and not user.deleted
    assert user.created == "2026-01-05T09:00:00.000Z"
    guest = directory.add_user(userPrincipalName="bo_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert guest.user_type == "Guest"


@pytest.mark.parametrize("upn", ["", "adele", "adele@", "@contoso.com", "a b@contoso.com", "a@b"])
def test_add_user_refuses_a_upn_that_is_not_alias_at_domain(directory, upn):
    with pytest.raises(SandboxError, match="userPrincipalName|alias@domain"):
        directory.add_user(userPrincipalName=upn)


def test_upns_and_mails_are_unique_case_insensitively(directory):
    add(directory, "adele", mail="adele@example.com")
    with pytest.raises(SandboxError, match="already taken"):
        directory.add_user(userPrincipalName="ADELE@Contoso.onmicrosoft.com")
    with pytest.raises(SandboxError, match="already the mail of"):
        add(directory, "other", mail="Adele@Example.com")


def test_a_user_is_found_by_object_id_upn_or_mail_in_any_case(directory):
    object_id = add(directory, "adele", mail="Adele.V@example.com")
    for key in (object_id, "ADELE@contoso.onmicrosoft.com", "adele.v@EXAMPLE.com"):
        assert directory.get_user(key).id == object_id
    with pytest.raises(NotFoundError, match="nobody"):
        directory.get_user("nobody@example.com")


def test_a_cycle_reads_a_user_by_object_id_alone(directory):
    object_id = add(directory, "adele", mail="Adele.V@example.com")
    found = directory.user_by_id(object_id)
    assert found is not None and found == directory.get_user(object_id)
    for key in ("adele@contoso.onmicrosoft.com", "Adele.V@example.com", object_id.upper()):
        assert directory.user_by_id(key) is None


def test_edit_refuses_unknown_and_read_only_properties_naming_them(directory):
    object_id = add(directory, "adele")
    with pytest.raises(SandboxError, match="unknown user properties: colour, shoeSize"):
        directory.edit_user(object_id, shoeSize="42", colour="red")
    with pytest.raises(SandboxError, match="read-only user property: id"):
        directory.edit_user(object_id, id="x")
    with pytest.raises(SandboxError, match="accountEnabled must be true or false"):
        directory.edit_user(object_id, accountEnabled="maybe")


def test_edit_records_the_changed_property_names_and_nothing_when_nothing_changed(directory):
    object_id = add(directory, "adele", department="Sales")
    watermark = directory.last_change_seq()
    user = directory.edit_user(object_id, department="Sales", jobTitle="CEO", city="Tokyo")
    assert user.job_title == "CEO" and user.city == "Tokyo"
    [change] = directory.changes_since(watermark)
    assert change.change == "update" and change.detail == {"properties": ["city", "jobTitle"]}
    directory.edit_user(object_id, department="Sales")
    assert directory.last_change_seq() == change.seq
    assert directory.edit_user(object_id, city="").city is None


def test_a_manager_is_named_by_any_key_and_stored_as_an_object_id(directory):
    boss = add(directory, "boss", mail="boss@example.com")
    worker = directory.add_user(
        userPrincipalName="w@contoso.onmicrosoft.com", manager="boss@example.com"
    )
    assert worker.manager == boss and worker.source()["manager"] == boss
    with pytest.raises(SandboxError, match="own manager"):
        directory.edit_user(boss, manager=boss)


def test_listing_searches_pages_and_can_leave_out_the_recycle_bin(directory):
    ids = [add(directory, f"user{n}", displayName=f"User {n}") for n in range(5)]
    directory.soft_delete(ids[0])
    assert [u.id for u in directory.users(limit=2, offset=1)] == ids[1:3]
    assert [u.id for u in directory.users("USER3")] == [ids[3]]
    assert directory.count() == 5 and directory.count(include_deleted=False) == 4
    assert ids[0] not in [u.id for u in directory.users(include_deleted=False)]


def test_soft_delete_and_restore_move_a_user_through_the_recycle_bin(directory, clock):
    object_id = add(directory, "adele")
    user = directory.soft_delete(object_id)
    assert user.deleted and user.deleted_at == "2026-01-05T09:00:00.000Z"
    with pytest.raises(SandboxError, match="already in the recycle bin"):
        directory.soft_delete(object_id)
    assert not directory.restore(object_id).deleted
    with pytest.raises(SandboxError, match="not in the recycle bin"):
        directory.restore(object_id)
    assert changes(directory)[1:] == [(object_id, "softDelete"), (object_id, "restore")]


def test_block_and_unblock_switch_account_enabled_and_are_recorded(directory):
    object_id = add(directory, "adele")
    assert not directory.block(object_id).account_enabled
    assert directory.block(object_id, blocked=False).account_enabled
    assert changes(directory)[1:] == [(object_id, "block"), (object_id, "unblock")]


def test_hard_delete_removes_memberships_assignments_and_manager_references(directory):
    boss, worker = add(directory, "boss"), add(directory, "worker")
    directory.edit_user(worker, manager=boss)
    directory.add_group("Staff")
    directory.add_member("Staff", boss)
    EnterpriseApp(directory.store, directory).assign(boss, "ADMIN")
    watermark = directory.last_change_seq()
    directory.hard_delete(boss)
    assert directory.find_user(boss) is None and directory.members("Staff") == []
    assert directory.store.scalar("SELECT count(*) FROM app_assignments") == 0
    assert directory.get_user(worker).manager is None
    [gone, update] = directory.changes_since(watermark)
    assert (gone.object_id, gone.change, gone.detail["roles"]) == (boss, "hardDelete", ["ADMIN"])
    assert (update.object_id, update.change) == (worker, "update")


def test_purge_hard_deletes_users_thirty_days_in_the_recycle_bin(directory, clock):
    old, recent, active = add(directory, "old"), add(directory, "recent"), add(directory, "active")
    directory.soft_delete(old)
    clock.advance(days=10)
    directory.soft_delete(recent)
    clock.advance(days=19, hours=23)
    assert directory.purge_expired() == []
    clock.advance(hours=1)
    assert directory.purge_expired() == [old]
    assert {u.id for u in directory.users()} == {recent, active}
    assert changes(directory)[-1] == (old, "hardDelete")
    assert directory.changes_since(0)[-1].at == "2026-02-04T09:00:00.000Z"


def test_changes_since_a_watermark_returns_exactly_the_later_changes(directory):
    first = add(directory, "first")
    watermark = directory.last_change_seq()
    second = add(directory, "second")
    directory.block(first)
    later = directory.changes_since(watermark)
    assert [(c.object_id, c.change) for c in later] == [(second, "add"), (first, "block")]
    assert [c.seq for c in later] == [watermark + 1, watermark + 2]
    assert directory.changes_since(directory.last_change_seq()) == []
    assert later[0].object_type == "User" and later[0].at == "2026-01-05T09:00:00.000Z"


# -- groups ------------------------------------------------------------------------------


def test_groups_are_named_uniquely_and_found_by_id_or_name(directory):
    group = directory.add_group("Nulab Pass Users", "everyone")
    assert directory.get_group("nulab pass users").id == group.id
    assert directory.get_group(group.id).description == "everyone"
    with pytest.raises(SandboxError, match="already exists"):
        directory.add_group("NULAB PASS USERS")
    with pytest.raises(NotFoundError):
        directory.get_group("nope")


def test_membership_changes_are_recorded_with_the_group_and_user(directory):
    user = add(directory, "adele")
    group = directory.add_group("Staff").id
    watermark = directory.last_change_seq()
    directory.add_member("Staff", "adele@contoso.onmicrosoft.com")
    with pytest.raises(SandboxError, match="already a member"):
        directory.add_member("Staff", user)
    assert [u.id for u in directory.members(group)] == [user]
    assert [g.id for g in directory.groups_of(user)] == [group]
    directory.remove_member("Staff", user)
    with pytest.raises(NotFoundError, match="not a direct member"):
        directory.remove_member("Staff", user)
    assert [(c.change, c.detail) for c in directory.changes_since(watermark)] == [
        ("memberAdd", {"group": group, "user": user}),
        ("memberRemove", {"group": group, "user": user}),
    ]


def test_a_nested_group_is_a_member_but_its_members_are_not(directory):
    user = add(directory, "adele")
    directory.add_group("Outer")
    directory.add_group("Inner")
    directory.add_member("Inner", user)
    directory.add_member("Outer", "Inner")
    assert directory.members("Outer") == []
    assert [g.display_name for g in directory.member_groups("Outer")] == ["Inner"]
    with pytest.raises(SandboxError, match="member of itself"):
        directory.add_member("Outer", "Outer")


def test_a_user_in_the_recycle_bin_cannot_join_a_group(directory):
    user = add(directory, "adele")
    directory.add_group("Staff")
    directory.soft_delete(user)
    with pytest.raises(SandboxError, match="recycle bin"):
        directory.add_member("Staff", user)


def test_deleting_a_group_removes_its_memberships_and_assignments(directory):
    user = add(directory, "adele")
    directory.add_group("Staff")
    directory.add_member("Staff", user)
    EnterpriseApp(directory.store, directory).assign("Staff")
    deleted = directory.delete_group("Staff")
    assert directory.groups() == [] and directory.groups_of(user) == []
    assert directory.store.scalar("SELECT count(*) FROM app_assignments") == 0
    last = directory.changes_since(0)[-1]
    assert (last.object_id, last.change, last.detail["members"]) == (
        deleted.id,
        "hardDelete",
        [user],
    )


def test_changes_since_can_stop_at_an_upper_watermark(directory):
    ids = [add(directory, f"user{n}") for n in range(4)]
    assert [c.object_id for c in directory.changes_since(1, until=3)] == ids[1:3]
    assert [c.object_id for c in directory.changes_since(0, limit=1)] == ids[:1]
