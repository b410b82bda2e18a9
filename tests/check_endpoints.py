"""Provides deliberately broken SCIM endpoints: the example Flask app
(examples/flask_scim/app.py, which passes every check) with one or more of the surprises
Entra's developers meet put in front of it, each a hook that refuses or bends one request
shape, bends an answer, or quietly rewrites the request before the app sees it (a filter
ignored, an update dropped: the breakages that answer success)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask, request

from examples.flask_scim.app import create_app, error
from examples.scim_memory import GROUP

TOKEN = "check-endpoint-token"


def _operations() -> list[dict[str, Any]]:
    if request.method != "PATCH":
        return []
    body = request.get_json(silent=True) or {}
    return [op for op in body.get("Operations", []) if isinstance(op, dict)]


def capital_ops_only() -> Any:
    """Only `Add`, `Replace`, `Remove` as Entra's legacy dialect writes them: the flag's
    lower-case ops are refused."""
    for op in _operations():
        if op.get("op") not in ("Add", "Replace", "Remove"):
            return error(400, f"unsupported op {op.get('op')!r}", "invalidSyntax")
    return None


def boolean_strings_refused() -> Any:
    """`"True"`/`"False"` strings refused where a boolean is expected."""
    for op in _operations():
        value = op.get("value")
        values = value.values() if isinstance(value, dict) else [value]
        if any(v in ("True", "False") for v in values):
            return error(400, "active must be a JSON boolean", "invalidValue")
    return None


def no_externalid_filter() -> Any:
    """Filtering on externalId is not implemented."""
    if request.method == "GET" and "externalid" in request.args.get("filter", "").lower():
        return error(400, "filtering on externalId is not supported", "invalidFilter")
    return None


def member_value_list_refused() -> Any:
    """A member removal with a value list (the legacy form) is refused; only
    `members[value eq "..."]` paths are taken."""
    for op in _operations():
        if str(op.get("op")).lower() == "remove" and op.get("path") == "members":
            return error(400, "remove members by a members[value eq ...] path", "invalidPath")
    return None


def manager_clearing_refused() -> Any:
    """Clearing the manager (a remove, or a replace with an empty value) is refused."""
    for op in _operations():
        path = str(op.get("path", ""))
        if path.endswith(":manager") and (
            str(op.get("op")).lower() == "remove" or op.get("value") in (None, "", [], {})
        ):
            return error(400, "manager cannot be cleared", "mutability")
    return None


def title_refused() -> Any:
    """A PATCH of title is refused: the endpoint has no such attribute."""
    for op in _operations():
        if str(op.get("path", "")).lower() == "title":
            return error(400, "no attribute title", "invalidPath")
    return None


def not_found_for_no_match(response: Any) -> Any:
    """A query that matches nothing answers 404 instead of an empty ListResponse."""
    if request.method == "GET" and "filter" in request.args and response.status_code == 200:
        body = json.loads(response.get_data())
        if body.get("totalResults") == 0:
            return error(404, "no such resource")
    return response


def _listing(response: Any, wanted: Callable[[], bool]) -> dict[str, Any] | None:
    """The JSON of a 200 answer to a request `wanted` says is bent, else None."""
    if request.method != "GET" or response.status_code != 200 or not wanted():
        return None
    return json.loads(response.get_data())


def _answer_with(response: Any, body: dict[str, Any]) -> Any:
    response.set_data(json.dumps(body))
    return response


def empty_pages(response: Any) -> Any:
    """Every page of /Users (startIndex given, no filter) comes back without resources, its
    totalResults still counting them."""
    body = _listing(
        response,
        lambda: (
            request.path.endswith("/Users")
            and "startIndex" in request.args
            and "filter" not in request.args
        ),
    )
    if body is None:
        return response
    return _answer_with(response, {**body, "Resources": [], "itemsPerPage": 0})


def _user_schemas(response: Any, bend: Callable[[dict[str, Any]], None]) -> Any:
    body = _listing(response, lambda: request.path.endswith("/Schemas"))
    if body is None:
        return response
    for schema in body.get("Resources", []):
        if schema.get("id") != GROUP:
            for attribute in schema.get("attributes", []):
                bend(attribute)
    return _answer_with(response, body)


def everything_read_only(response: Any) -> Any:
    """/Schemas marks every user attribute but userName and active readOnly."""

    def bend(attribute: dict[str, Any]) -> None:
        if attribute["name"] not in ("userName", "active"):
            attribute["mutability"] = "readOnly"

    return _user_schemas(response, bend)


def group_displayname_read_only(response: Any) -> Any:
    """/Schemas marks the Group schema's displayName readOnly (the User's stays readWrite)."""
    body = _listing(response, lambda: request.path.endswith("/Schemas"))
    if body is None:
        return response
    for schema in body.get("Resources", []):
        for attribute in schema.get("attributes", []) if schema.get("id") == GROUP else []:
            if attribute["name"] == "displayName":
                attribute["mutability"] = "readOnly"
    return _answer_with(response, body)


def canonical_title_and_language(response: Any) -> Any:
    """/Schemas gives title and preferredLanguage canonicalValues: both values the check's
    user has before and after its update."""
    canonical = {"title": ["Engineer", "Senior Engineer"], "preferredLanguage": ["en-US", "ja-JP"]}

    def bend(attribute: dict[str, Any]) -> None:
        if attribute["name"] in canonical:
            attribute["canonicalValues"] = canonical[attribute["name"]]

    return _user_schemas(response, bend)


def canonical_language_codes(response: Any) -> Any:
    """/Schemas gives preferredLanguage the canonicalValues en and ja (as Nulab's does)."""

    def bend(attribute: dict[str, Any]) -> None:
        if attribute["name"] == "preferredLanguage":
            attribute["canonicalValues"] = ["en", "ja"]

    return _user_schemas(response, bend)


Environ = dict[str, Any]


def _is(environ: Environ, method: str, path: str) -> bool:
    """Whether the request is `method` on a path ending with `path` (a path ending with a
    slash: on a resource under it)."""
    here = str(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD") != method:
        return False
    if path.endswith("/"):
        return path in here and not here.endswith(path)
    return here.endswith(path)


def _without_filter(environ: Environ) -> None:
    query = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    environ["QUERY_STRING"] = urlencode([(k, v) for k, v in query if k != "filter"])


def users_filter_ignored(environ: Environ) -> None:
    """/Users answers every query as if it had no `filter=`: all the users."""
    if _is(environ, "GET", "/Users"):
        _without_filter(environ)


def groups_filter_ignored(environ: Environ) -> None:
    """/Groups answers every query as if it had no `filter=`: all the groups."""
    if _is(environ, "GET", "/Groups"):
        _without_filter(environ)


def _rewrite_body(environ: Environ, rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    data = json.dumps(rewrite(body)).encode()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))


def _drop_ops(environ: Environ, under: str, dropped: Callable[[str], bool]) -> None:
    """A PATCH under `under` loses the operations on the paths `dropped` names (and their
    members of a path-less value), answered as if applied."""
    if not _is(environ, "PATCH", under):
        return

    def rewrite(body: dict[str, Any]) -> dict[str, Any]:
        kept = []
        for op in body.get("Operations", []):
            path = str(op.get("path") or "")
            if not path and isinstance(op.get("value"), dict):
                value = {k: v for k, v in op["value"].items() if not dropped(k)}
                kept.append({**op, "value": value})
            elif not dropped(path):
                kept.append(op)
        return {**body, "Operations": kept}

    _rewrite_body(environ, rewrite)


def group_rename_ignored(environ: Environ) -> None:
    """A group's displayName PATCH is answered 204 and not applied."""
    _drop_ops(environ, "/Groups/", lambda path: path.lower() == "displayname")


def user_updates_ignored(environ: Environ) -> None:
    """Every user PATCH is answered 204 with only active and the manager applied."""
    _drop_ops(environ, "/Users/", lambda path: path.lower() != "active" and "manager" not in path)


def display_name_updates_ignored(environ: Environ) -> None:
    """A user PATCH of displayName is answered 204 and not applied."""
    _drop_ops(environ, "/Users/", lambda path: path.lower() == "displayname")


def title_and_language_updates_ignored(environ: Environ) -> None:
    """A user PATCH of title or preferredLanguage is answered 204 and not applied."""
    _drop_ops(environ, "/Users/", lambda path: path.lower() in ("title", "preferredlanguage"))


def title_updates_ignored(environ: Environ) -> None:
    """A user PATCH of title is answered 204 and not applied."""
    _drop_ops(environ, "/Users/", lambda path: path.lower() == "title")


def language_to_code(environ: Environ) -> None:
    """preferredLanguage is kept as its primary subtag (ja-JP as ja), on create and update."""

    def code(value: Any) -> Any:
        return value.split("-")[0].lower() if isinstance(value, str) else value

    def rewrite(body: dict[str, Any]) -> dict[str, Any]:
        if "preferredLanguage" in body:
            body["preferredLanguage"] = code(body["preferredLanguage"])
        for op in body.get("Operations", []):
            if str(op.get("path")).lower() == "preferredlanguage":
                op["value"] = code(op.get("value"))
        return body

    if _is(environ, "POST", "/Users") or _is(environ, "PATCH", "/Users/"):
        _rewrite_body(environ, rewrite)


def writes_unauthenticated(environ: Environ) -> None:
    """Only reads are authenticated: a write with a wrong token, or none, is let through."""
    if environ.get("REQUEST_METHOD") != "GET":
        environ["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"


def missing_header_let_through(environ: Environ) -> None:
    """A token is checked only when one is sent: a request without Authorization is let in."""
    environ.setdefault("HTTP_AUTHORIZATION", f"Bearer {TOKEN}")


BEFORE: dict[str, Callable[[], Any]] = {
    "capital-ops-only": capital_ops_only,
    "boolean-strings-refused": boolean_strings_refused,
    "no-externalId-filter": no_externalid_filter,
    "member-value-list-refused": member_value_list_refused,
    "manager-clearing-refused": manager_clearing_refused,
    "title-refused": title_refused,
}
AFTER: dict[str, Callable[[Any], Any]] = {
    "404-for-no-match": not_found_for_no_match,
    "empty-pages": empty_pages,
    "everything-readOnly": everything_read_only,
    "group-displayName-readOnly": group_displayname_read_only,
    "canonical-title-and-language": canonical_title_and_language,
    "canonical-language-codes": canonical_language_codes,
}
REWRITE: dict[str, Callable[[Environ], None]] = {
    "users-filter-ignored": users_filter_ignored,
    "groups-filter-ignored": groups_filter_ignored,
    "group-rename-ignored": group_rename_ignored,
    "user-updates-ignored": user_updates_ignored,
    "displayName-updates-ignored": display_name_updates_ignored,
    "title-and-language-updates-ignored": title_and_language_updates_ignored,
    "title-updates-ignored": title_updates_ignored,
    "language-to-code": language_to_code,
    "writes-unauthenticated": writes_unauthenticated,
    "missing-header-let-through": missing_header_let_through,
}
"""Rewrites of the WSGI environ before the app reads the request."""
SURPRISES = (*BEFORE, *AFTER, *REWRITE)


def broken_app(surprise: str | None, *more: str) -> Flask:
    """The example app with one surprise or several (None: the app as it is, which passes)."""
    app = create_app(TOKEN)
    rewrites: list[Callable[[Environ], None]] = []
    for name in (surprise, *more):
        if name in BEFORE:
            app.before_request(BEFORE[name])
        elif name in AFTER:
            app.after_request(AFTER[name])
        elif name in REWRITE:
            rewrites.append(REWRITE[name])
        elif name is not None:
            raise ValueError(name)
    if rewrites:
        inner = app.wsgi_app

        def rewritten(environ: Environ, start_response: Any) -> Any:
            for rewrite in rewrites:
                rewrite(environ)
            return inner(environ, start_response)

        app.wsgi_app = rewritten  # type: ignore[method-assign]
    return app
