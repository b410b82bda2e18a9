"""`sandbox check`'s suite: against the example app (every check passes), the local Nulab
provider with the guide's mappings, and one deliberately broken endpoint per surprise, whose
breakage the right check reports (and only that check)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.check import CheckOptions, CheckReport, run_checks
from sandbox.config import Settings
from sandbox.runtime import bootstrap_provider, build_provider
from sandbox.store import Store
from tests.check_endpoints import TOKEN, broken_app

URL = "https://scim.example/scim/v2"


def check(app, token: str = TOKEN, **options) -> CheckReport:
    return run_checks(CheckOptions(URL, token, transport=httpx.WSGITransport(app=app), **options))


def failed(report: CheckReport) -> set[tuple[str, str]]:
    return {(r.dialect, r.id) for r in report.results if r.status == "fail"}


def result(report: CheckReport, dialect: str, check_id: str):
    return next(r for r in report.results if (r.dialect, r.id) == (dialect, check_id))


@pytest.fixture(scope="module")
def correct() -> CheckReport:
    return check(broken_app(None))


def test_a_correct_endpoint_passes_every_check_in_both_dialects(correct):
    assert failed(correct) == set()
    assert correct.ok and correct.groups
    ran = {(r.dialect, r.id) for r in correct.results if r.status == "pass"}
    for dialect in ("legacy", "aadOptscim062020"):
        for name in ("user.create", "user.update", "user.disable", "user.enable",
                     "user.manager-set", "user.manager-change", "user.unassign",
                     "user.reassign", "user.delete", "user.provision-on-demand",
                     "group.create", "group.rename", "group.member-add",
                     "group.member-remove", "group.delete"):  # fmt: skip
            assert (dialect, name) in ran
    assert correct.summary().endswith("ready for Entra")


def test_manager_removal_and_group_unassignment_pass_against_a_correct_endpoint(correct):
    """Entra sends both (docs/entra-behaviour.md §2.4, §9): a correct endpoint passes them."""
    for name in ("user.manager-remove", "group.unassign"):
        for dialect in ("legacy", "aadOptscim062020"):
            got = result(correct, dialect, name)
            assert got.status == "pass", got.reason


def test_the_test_objects_are_deleted_at_the_end_unless_kept():
    app = broken_app(None)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    check(app, dialect="legacy")
    assert client.get("/scim/v2/Users", headers=headers).json["totalResults"] == 0
    assert client.get("/scim/v2/Groups", headers=headers).json["totalResults"] == 0
    kept = check(app, dialect="legacy", keep=True)
    assert kept.kept
    assert client.get("/scim/v2/Users", headers=headers).json["totalResults"] >= 3


SURPRISES = [
    # (surprise, the check that names it, words of its reason or answer, every check that fails)
    ("capital-ops-only", ("aadOptscim062020", "user.update"), "unsupported op 'replace'",
     {("aadOptscim062020", "user.update"), ("aadOptscim062020", "user.disable"),
      ("aadOptscim062020", "user.manager-set"), ("aadOptscim062020", "user.unassign"),
      ("aadOptscim062020", "group.rename")}),
    ("boolean-strings-refused", ("legacy", "user.disable"), "active must be a JSON boolean",
     {("legacy", "user.disable"), ("legacy", "user.unassign")}),
    ("404-for-no-match", ("any", "scim.empty-list"), "answered 404",
     {("any", "scim.empty-list"), ("legacy", "user.create"), ("aadOptscim062020", "user.create")}),
    ("no-externalId-filter", ("any", "scim.filter-externalId"), "answered 400",
     {("any", "scim.filter-externalId")}),
    ("member-value-list-refused", ("legacy", "group.member-remove"), "members[value eq",
     {("legacy", "group.member-remove")}),
    ("empty-pages", ("any", "scim.paging"), "gave 0 resource(s), totalResults",
     {("any", "scim.paging")}),
    # the second dialect's group is matched to the first's (which is never unassigned)
    ("groups-filter-ignored", ("legacy", "group.create"), "the filter is not applied",
     {(d, c) for d in ("legacy", "aadOptscim062020") for c in ("group.create", "group.delete")}),
    ("everything-readOnly", ("legacy", "user.update"), "nothing could be compared",
     {("legacy", "user.update"), ("aadOptscim062020", "user.update")}),
    ("writes-unauthenticated", ("any", "scim.unauthorized"), "POST /Users with a wrong bearer",
     {("any", "scim.unauthorized")}),
    ("missing-header-let-through", ("any", "scim.unauthorized"),
     "GET /Users with no Authorization header answered 200", {("any", "scim.unauthorized")}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("surprise", "named_by", "why", "expected"), SURPRISES, ids=[s[0] for s in SURPRISES]
)
def test_each_surprise_is_reported_by_the_right_check(surprise, named_by, why, expected):
    report = check(broken_app(surprise))
    assert failed(report) == expected
    assert not report.ok
    first = result(report, *named_by)
    text = first.reason + (first.exchange.response_body or "" if first.exchange else "")
    assert why in text
    assert first.entra_next and first.exchange is not None


def test_a_refused_flag_op_names_the_exchange_and_what_entra_does_next():
    report = check(broken_app("capital-ops-only"), dialect="aadOptscim062020")
    update = result(report, "aadOptscim062020", "user.update")
    assert update.exchange.method == "PATCH" and update.exchange.status == 400
    assert '"op":"replace"' in update.exchange.request_body
    assert "escrows the change" in update.entra_next


def test_404_for_no_match_says_entra_quarantines():
    report = check(broken_app("404-for-no-match"), dialect="legacy", groups=False)
    empty = result(report, "any", "scim.empty-list")
    assert "quarantines the job" in empty.entra_next
    create = result(report, "legacy", "user.create")
    assert "quarantined" in create.reason and "quarantines" in create.entra_next


def test_manager_clearing_refused_is_found_once_the_engine_sends_the_removal():
    report = check(broken_app("manager-clearing-refused"))
    for dialect in ("legacy", "aadOptscim062020"):
        got = result(report, dialect, "user.manager-remove")
        assert got.status == "fail" and "manager cannot be cleared" in got.reason
    # nothing else is blamed on it
    assert failed(report) == {(d, "user.manager-remove") for d in ("legacy", "aadOptscim062020")}


def test_the_local_nulab_provider_passes_every_user_check_with_the_guides_mappings():
    store = Store(":memory:")
    settings = Settings(db_path=":memory:", seed=1)
    token = bootstrap_provider(store, settings).token
    assert token
    report = check(build_provider(store, settings), token, mappings="nulab")
    assert failed(report) == set() and report.ok
    assert not report.groups
    assert report.groups_note.startswith("groups: not checked, the endpoint has no /Groups")
    assert "GET /Groups answered 404" in report.groups_note
    users = [r for r in report.results if r.id.startswith("user.")]
    assert {r.status for r in users if "manager" not in r.id} == {"pass"}
    assert {r.reason for r in users if "manager" in r.id} == {
        "manager is not mapped (add the mapping to check it)"
    }
    store.close()


def test_groups_can_be_forced_off_or_on():
    off = check(broken_app(None), dialect="legacy", groups=False)
    assert not any(r.id.startswith("group.") for r in off.results)
    assert off.groups_note == "groups: not checked (--no-groups)"
    store = Store(":memory:")
    settings = Settings(db_path=":memory:")
    token = bootstrap_provider(store, settings).token
    on = check(build_provider(store, settings), token, dialect="legacy", groups=True,
               mappings="nulab")  # fmt: skip
    assert result(on, "legacy", "group.create").status == "fail"
    assert "404" in result(on, "legacy", "group.create").reason
    store.close()


def test_a_group_rename_the_endpoint_ignores_is_not_passed_for_a_filter_it_ignores():
    """With the filter ignored, the one group on the endpoint was "found" under any name."""
    report = check(broken_app("groups-filter-ignored", "group-rename-ignored"), dialect="legacy")
    create = result(report, "legacy", "group.create")
    assert create.status == "fail" and "(no such group) returned 1 result(s)" in create.reason
    assert result(report, "legacy", "group.rename").status == "skipped"


def test_an_update_that_compared_nothing_fails_even_when_every_update_was_dropped():
    """/Schemas exempting every attribute sent let an endpoint drop every update unseen."""
    report = check(
        broken_app("everything-readOnly", "user-updates-ignored"), dialect="legacy", groups=False
    )
    update = result(report, "legacy", "user.update")
    assert update.status == "fail" and update.required and not report.ok
    assert update.reason.startswith("nothing could be compared: /Schemas marks every attribute")
    assert "displayName, title, preferredLanguage" in update.reason
    assert "Only during object creation" in update.entra_next


def test_a_group_schemas_mutability_does_not_exempt_the_users_attribute_of_that_name():
    report = check(
        broken_app("group-displayName-readOnly", "displayName-updates-ignored"),
        dialect="legacy",
        groups=False,
    )
    update = result(report, "legacy", "user.update")
    assert update.status == "fail"
    assert update.reason.startswith("displayName: sent 'Check User Renamed")


def test_a_canonical_value_is_accepted_only_as_the_canonical_form_of_what_was_sent():
    """canonicalValues holding the values before and after the update let an endpoint that
    ignores the update pass with the old ones."""
    report = check(
        broken_app("canonical-title-and-language", "title-and-language-updates-ignored"),
        groups=False,
    )
    for dialect in ("legacy", "aadOptscim062020"):
        update = result(report, dialect, "user.update")
        assert update.status == "fail"
        assert "title: sent 'Senior Engineer', reads back 'Engineer'" in update.reason
        assert "preferredLanguage: sent 'ja-JP', reads back 'en-US'" in update.reason


def test_an_endpoint_keeping_languages_as_their_canonical_codes_passes():
    """ja-JP kept as ja, of canonicalValues en and ja (as Nulab keeps them)."""
    report = check(broken_app("canonical-language-codes", "language-to-code"), groups=False)
    assert failed(report) == set()


@pytest.mark.parametrize(
    ("got", "sent", "canonical", "kept"),
    [
        ("ja", "ja-JP", {"en", "ja"}, True),  # the tag's primary subtag
        ("JA", "ja-jp", {"en", "ja"}, True),
        ("zh-Hant", "zh-Hant-TW", {"zh-hant"}, True),  # subtags dropped from the end
        ("en-US", "en_us", {"en-us"}, True),  # the same tag, written the canonical way
        ("Engineer", "engineer", {"engineer"}, True),
        ("en", "ja-JP", {"en", "ja"}, False),  # another language
        ("en-US", "ja-JP", {"en-us", "ja-jp"}, False),  # the value before the update
        ("Engineer", "Senior Engineer", {"engineer", "senior engineer"}, False),
        ("Engineer", "Engineer-Senior", {"engineer"}, False),  # not a language tag's subtags
        ("fr", "fr-FR", {"en", "ja"}, False),  # not one of the canonical values
        (None, "en-US", {""}, False),
    ],
)
def test_kept_as_canonical(got, sent, canonical, kept):
    from sandbox.check.readback import kept_as_canonical

    assert kept_as_canonical(got, sent, canonical) is kept


def test_the_null_update_sets_a_value_first_when_the_mappings_give_none():
    """With the guide's mappings the user has no title: a PATCH the endpoint ignores still
    read back "no title"."""
    ignored = check(broken_app("title-updates-ignored"), dialect="legacy", groups=False,
                    mappings="nulab")  # fmt: skip
    null = result(ignored, "any", "scim.null-update")
    assert null.status == "fail" and not null.required
    assert null.reason.startswith("PATCH title to 'scimcheck title' (to have a value to clear)")
    assert null.reason.endswith("reads back None: the update was dropped")
    kept = check(broken_app(None), dialect="legacy", groups=False, mappings="nulab")
    assert result(kept, "any", "scim.null-update").status == "pass"
    titles = [e["request_body"] for e in kept.exchanges
              if e["method"] == "PATCH" and '"path":"title"' in (e["request_body"] or "")]  # fmt: skip
    assert ['"value":"scimcheck title"' in t for t in titles] == [True, False]
    refused = check(broken_app("title-refused"), dialect="legacy", groups=False, mappings="nulab")
    skipped = result(refused, "any", "scim.null-update")
    assert skipped.status == "skipped" and "answered 400: there is no value to clear" in (
        skipped.reason
    )


def test_a_write_accepted_without_credentials_fails_and_what_it_created_is_deleted():
    app = broken_app("writes-unauthenticated")
    report = check(app, dialect="legacy", groups=False)
    unauthorized = result(report, "any", "scim.unauthorized")
    assert unauthorized.status == "fail" and unauthorized.required
    assert unauthorized.reason == (
        "POST /Users with a wrong bearer token answered 201 and created a user (deleted with "
        "the real token); POST /Users with no Authorization header answered 201 and created a "
        "user (deleted with the real token): expected 401"
    )
    assert "can create and change its users" in unauthorized.entra_next
    assert unauthorized.exchange.method == "POST" and unauthorized.exchange.status == 201
    users = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {TOKEN}"})
    assert users.json["totalResults"] == 0  # the endpoint is left clean


class _Answer:
    """A probe answering every request with one ListResponse."""

    def __init__(self, *resources: dict) -> None:
        self.body = {"totalResults": len(resources), "Resources": list(resources)}

    def send(self, method, path, query="", body=None):
        return 200, self.body, ""


@pytest.mark.parametrize(
    ("resource", "found", "passes"),
    [
        ({"id": "g1", "displayName": "Sales-renamed"}, "Sales-renamed", True),
        ({"id": "g1", "displayName": "SALES-RENAMED"}, "Sales-renamed", True),  # caseExact false
        ({"id": "g1", "displayName": "Sales"}, "Sales-renamed", False),  # the old name
        ({"id": "g1"}, "Sales-renamed", False),
    ],
)
def test_the_object_a_filter_finds_must_have_the_value_filtered_on(resource, found, passes):
    from types import SimpleNamespace

    from sandbox.check.model import CheckFailed
    from sandbox.check.steps import expect_found

    session = SimpleNamespace(probe=_Answer(resource))
    if passes:
        expect_found(session, "Groups", "displayName", found, "g1")
        return
    with pytest.raises(CheckFailed, match="the filter was not applied"):
        expect_found(session, "Groups", "displayName", found, "g1")
