"""Provides the SCIM checks Entra depends on outside the lifecycle, sent directly as Entra
sends them: filters on the matching attributes, an empty ListResponse for no match, 409 on a
duplicate, paging, a null update, /Schemas, and 401 for a wrong or missing token, reading
and writing."""

from __future__ import annotations

import uuid

from sandbox.check.model import (
    DUPLICATE,
    ESCROW,
    QUARANTINE,
    SILENT,
    CheckFailed,
    CheckSkipped,
    Exchange,
)
from sandbox.check.readback import leaf_name, listed, same, value_at
from sandbox.check.session import DOMAIN, Session
from sandbox.check.steps import Check, State, expect_found, query, read_user
from sandbox.check.users import _main, _target, _username
from sandbox.scim_names import CORE_USER_SCHEMA, PATCH_OP


def empty_list(session: Session, state: State) -> None:
    guid = str(uuid.uuid4())
    status, body = query(session, "Users", "userName", guid)
    result = listed(body) if status == 200 else None
    if result is None or result[0] != 0 or result[1]:
        got = f"{status}" if result is None else f"{status} with {result[0]} result(s)"
        raise CheckFailed(
            f'GET /Users?filter=userName eq "{guid}" (no such user) answered {got}, expected '
            "200 with an empty ListResponse (totalResults 0)",
            "Test Connection fails, and in a cycle a 404 to the matching query is a SCIM "
            "compliance failure: Entra quarantines the job (§2.2, §2.8); an answer with "
            "results makes Entra link or fail the wrong users.",
        )


def filter_username(session: Session, state: State) -> None:
    user = _main(state)
    expect_found(session, "Users", "userName", _username(session, user), _target(session, user))


def filter_externalid(session: Session, state: State) -> None:
    user = _main(state)
    mapping = next((m for m in session.mappings if m.target == "externalId"), None)
    if mapping is None:
        raise CheckSkipped("externalId is not mapped")
    resource = read_user(session, _target(session, user), user.user_principal_name)
    value = value_at(resource, "externalId")
    if not value:
        raise CheckFailed(
            "externalId is mapped but the user reads back without it",
            "Entra cannot match on externalId: the user is created again (§4).",
        )
    expect_found(session, "Users", "externalId", str(value), _target(session, user))


def duplicate(session: Session, state: State) -> None:
    user = _main(state)
    name = _username(session, user)
    body: dict[str, object] = {
        "schemas": [CORE_USER_SCHEMA],
        "userName": name,
        "displayName": user.display_name,
        "active": True,
        "emails": [{"type": "work", "primary": True, "value": user.mail or name}],
    }
    status, created, _ = session.probe.send("POST", "/Users", body=body)
    if status == 409:
        return
    if 200 <= status < 300 and isinstance(created, dict) and created.get("id"):
        session.probe.send("DELETE", f"/Users/{created['id']}")  # the duplicate goes
    raise CheckFailed(
        f"POST /Users with the userName of an existing user answered {status}, expected 409 "
        "(uniqueness)",
        DUPLICATE if 200 <= status < 300 else ESCROW,
    )


def paging(session: Session, state: State) -> None:
    # By the time this runs user.create has provisioned four users, so two pages of one
    # (RFC 7644 §3.4.2.4) each hold exactly one, and not the same one: an empty page would
    # pass a check of "at most one" and leave nothing to compare.
    seen: list[str] = []
    for start in (1, 2):
        status, body, _ = session.probe.send("GET", "/Users", f"startIndex={start}&count=1")
        result = listed(body) if status == 200 else None
        if result is None:
            raise CheckFailed(
                f"GET /Users?startIndex={start}&count=1 answered {status}, expected 200 with "
                "a ListResponse",
                QUARANTINE,
            )
        total, items = result
        echoed = body.get("startIndex") if isinstance(body, dict) else None
        if len(items) != 1 or total < 2 or echoed not in (start, None):
            raise CheckFailed(
                f"GET /Users?startIndex={start}&count=1 gave {len(items)} resource(s), "
                f"totalResults {total}, startIndex {echoed!r}: expected exactly 1, at least "
                f"2 in all, startIndex {start}",
                "Entra and the validation suite page through /Users with startIndex and "
                "count (RFC 7644 §3.4.2.4): users on a page that comes back short are never "
                "seen.",
            )
        seen.append(str(items[0].get("id")))
    if seen[0] == seen[1]:
        raise CheckFailed(f"pages 1 and 2 returned the same user {seen[0]}")


NULL_TITLE = "scimcheck title"
"""The title the null update sets first when the user has none (the mappings give none)."""


def _patch_title(session: Session, target_id: str, value: str) -> int:
    body: dict[str, object] = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "title", "value": value}],
    }
    status, _, _ = session.probe.send("PATCH", f"/Users/{target_id}", body=body)
    return status


def null_update(session: Session, state: State) -> None:
    user = _main(state)
    target_id = _target(session, user)
    name = user.user_principal_name
    # Clearing proves something only of a value that is there: a user without a title
    # (the mappings give it none) reads back without one whatever the PATCH did.
    if value_at(read_user(session, target_id, name), "title") in (None, ""):
        status = _patch_title(session, target_id, NULL_TITLE)
        if status not in (200, 204):
            raise CheckSkipped(
                f"the user has no title, and PATCH title to {NULL_TITLE!r} to give it one "
                f"answered {status}: there is no value to clear"
            )
        got = value_at(read_user(session, target_id, name), "title")
        if not same(got, NULL_TITLE):
            raise CheckFailed(
                f"PATCH title to {NULL_TITLE!r} (to have a value to clear) answered {status}, "
                f"but title reads back {got!r}: the update was dropped",
                SILENT,
            )
    status = _patch_title(session, target_id, "")
    if status not in (200, 204):
        raise CheckFailed(
            f"PATCH title to an empty string answered {status}, expected 200 or 204",
            ESCROW,
        )
    got = value_at(read_user(session, target_id, name), "title")
    if got not in (None, ""):
        raise CheckFailed(f"title reads back {got!r} after an update to empty, expected none")


UNAUTHORIZED = (
    "Anyone who can reach the endpoint can {what} its users without the token; Entra itself "
    "cannot tell a revoked token from a good one (§2.8)."
)


def _unauthorized_user(session: Session) -> dict[str, object]:
    """The user the unauthenticated POSTs send: disabled, under the run's own name."""
    name = f"scimcheck-{session.run_id}-unauthorized@{DOMAIN}"
    return {
        "schemas": [CORE_USER_SCHEMA],
        "userName": name,
        "displayName": f"Check Unauthorized {session.run_id}",
        "active": False,
        "emails": [{"type": "work", "primary": True, "value": name}],
    }


def _remove(session: Session, user: dict[str, object], created: object) -> str:
    """Delete, with the real token, what an unauthenticated POST created; what could not be."""
    ids = {str(created["id"])} if isinstance(created, dict) and created.get("id") else set()
    status, found = query(session, "Users", "userName", str(user["userName"]))
    result = listed(found) if status == 200 else None
    for item in result[1] if result else []:
        if same(item.get("userName"), user["userName"]) and item.get("id"):
            ids.add(str(item["id"]))
    left = []
    for target_id in sorted(ids):
        deleted, _, _ = session.probe.send("DELETE", f"/Users/{target_id}")
        if deleted not in (200, 204, 404):
            left.append(f"DELETE /Users/{target_id} answered {deleted}")
    if not ids:
        left.append(f"it was not found by userName {user['userName']} to be deleted")
    return "; ".join(left)


def unauthorized(session: Session, state: State) -> None:
    # A read and a write each, with a token the endpoint cannot know and with none: an
    # endpoint that authenticates GETs only, or only a header that is there, lets anyone in.
    user = _unauthorized_user(session)
    wrong: list[str] = []
    first: Exchange | None = None
    wrote = False
    for label, probe in (
        ("a wrong bearer token", session.wrong_token_probe()),
        ("no Authorization header", session.no_credentials_probe()),
    ):
        try:
            for method, query_text, body in (("GET", "count=1", None), ("POST", "", user)):
                mark = session.mark()
                status, answer, _ = probe.send(method, "/Users", query_text, body)
                if status == 401:
                    continue
                first = first or next(iter(session.exchanges_since(mark)), None)
                said = f"{method} /Users with {label} answered {status or 'nothing'}"
                if method == "POST" and 200 <= status < 300:
                    wrote = True
                    left = _remove(session, user, answer)
                    gone = (
                        f"left on the endpoint: {left}" if left else "deleted with the real token"
                    )
                    said += f" and created a user ({gone})"
                wrong.append(said)
        finally:
            probe.close()
    if wrong:
        raise CheckFailed(
            "; ".join(wrong) + ": expected 401",
            UNAUTHORIZED.format(what="create and change" if wrote else "read and change"),
            first,
        )


def schemas(session: Session, state: State) -> None:
    from sandbox.check.readback import canonical_values, immutable_attributes

    status, body, _ = session.probe.send("GET", "/Schemas")
    found = listed(body) if status == 200 else None
    if found is None:
        raise CheckFailed(
            f"GET /Schemas answered {status}, expected 200 with a ListResponse",
            "The gallery's Schema_Discoverability_Test fails; Entra's mapping editor cannot "
            "offer the endpoint's attributes.",
        )
    state.immutable = immutable_attributes(body)
    state.canonical = canonical_values(body)
    names: set[str] = set()
    for schema in found[1]:
        attributes = schema.get("attributes")
        for attribute in attributes if isinstance(attributes, list) else []:
            if isinstance(attribute, dict):
                names.add(str(attribute.get("name", "")).lower())
    common = {"id", "externalid", "meta"}  # RFC 7643 §3.1: in no schema's attribute list
    missing = sorted(
        {m.target for m in session.mappings if leaf_name(m.target) not in names | common}
    )
    if missing:
        raise CheckFailed(
            f"/Schemas does not describe mapped attribute(s): {', '.join(missing)}",
            "The gallery's Schema_Discoverability_Test fails for these attributes.",
        )


SCHEMA_CHECK = Check(
    "scim.schemas", "/Schemas describes every mapped attribute", schemas, required=False
)

PROTOCOL_CHECKS = (
    Check("scim.empty-list", "No match is 200 with an empty ListResponse", empty_list),
    Check("scim.filter-userName", 'filter userName eq "..." finds the user', filter_username,
          needs=("user.create",)),
    Check("scim.filter-externalId", 'filter externalId eq "..." finds the user',
          filter_externalid, needs=("user.create",)),
    Check("scim.duplicate-409", "A duplicate userName is 409", duplicate, needs=("user.create",)),
    Check("scim.paging", "startIndex and count page through /Users", paging,
          needs=("user.create",)),
    Check("scim.null-update", "An update to empty clears the value", null_update,
          required=False, needs=("user.create",)),
    Check("scim.unauthorized", "A wrong or missing token is 401, reading or writing",
          unauthorized),
)  # fmt: skip
"""Run once, in the first dialect's session, after its user.create."""
