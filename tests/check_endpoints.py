"""Provides deliberately broken SCIM endpoints: the example Flask app
(examples/flask_scim/app.py, which passes every check) with one of the surprises Entra's
developers meet put in front of it, each a hook that refuses or bends one request shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, request

from examples.flask_scim.app import create_app, error

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


def not_found_for_no_match(response: Any) -> Any:
    """A query that matches nothing answers 404 instead of an empty ListResponse."""
    if request.method == "GET" and "filter" in request.args and response.status_code == 200:
        body = json.loads(response.get_data())
        if body.get("totalResults") == 0:
            return error(404, "no such resource")
    return response


BEFORE: dict[str, Callable[[], Any]] = {
    "capital-ops-only": capital_ops_only,
    "boolean-strings-refused": boolean_strings_refused,
    "no-externalId-filter": no_externalid_filter,
    "member-value-list-refused": member_value_list_refused,
    "manager-clearing-refused": manager_clearing_refused,
}
AFTER: dict[str, Callable[[Any], Any]] = {"404-for-no-match": not_found_for_no_match}
SURPRISES = (*BEFORE, *AFTER)


def broken_app(surprise: str | None) -> Flask:
    """The example app with one surprise (None: the app as it is, which passes)."""
    app = create_app(TOKEN)
    if surprise in BEFORE:
        app.before_request(BEFORE[surprise])
    elif surprise in AFTER:
        app.after_request(AFTER[surprise])
    elif surprise is not None:
        raise ValueError(surprise)
    return app
