"""Provides what every Graph view shares: the context, JSON bodies in and out, the root URL,
and a page of a collection answered as Graph answers it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, current_app, request

from sandbox.graph.context import GraphContext
from sandbox.graph.errors import BAD_REQUEST, GRAPH_JSON, GraphError
from sandbox.graph.odata import ResourceSpec, context_url, page, parse_options
from sandbox.text import is_text

ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
"""The Content-Type of Graph's JSON answers."""


def context() -> GraphContext:
    """The app's GraphContext."""
    found: GraphContext = current_app.extensions["graph"]
    return found


def root() -> str:
    """The server's root URL as the client reached it (`http://127.0.0.1:8001`)."""
    return request.host_url.rstrip("/")


def respond(body: Mapping[str, Any] | None, status: int = 200, **headers: str) -> Response:
    """A Graph JSON answer (None: an empty one, as a 204 is)."""
    if body is None:
        response = Response(status=status)
        del response.headers["Content-Type"]  # an empty answer has no media type
    else:
        response = Response(json.dumps(body), status=status, content_type=ODATA_JSON)
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def read_json() -> dict[str, Any]:
    """The request's JSON object body; Graph's 400 when it is absent, not JSON or not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise GraphError(400, BAD_REQUEST, "The request body is empty: a JSON object is required.")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise GraphError(400, BAD_REQUEST, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise GraphError(400, BAD_REQUEST, "The request body must be a JSON object.")
    if not is_text(json.dumps(body, ensure_ascii=False)):  # a lone \ud800 is valid JSON
        raise GraphError(
            400, BAD_REQUEST, "The request body holds a lone surrogate (\\uD800-\\uDFFF)."
        )
    return body


def collection(
    items: Iterable[Mapping[str, object]], spec: ResourceSpec, fragment: str
) -> Response:
    """A page of a collection (`items`: every object's JSON form) under the request's query
    options, `@odata.context` naming `fragment` (`users`, `groups('id')/members`...)."""
    options = parse_options(request, spec)
    body = page(
        items,
        options,
        spec,
        context=context_url(root(), fragment, options.select),
        url=request.base_url,
        args=request.args.to_dict(),
    )
    return respond(body)


__all__ = ["GRAPH_JSON", "collection", "context", "read_json", "respond", "root"]
