"""Provides the OData query options of a Graph collection: parsing them against a resource's
spec ($filter, $select, $top, $skiptoken, $orderby, $count), and a page of the collection as
Graph answers it (`@odata.context`, `value`, `@odata.nextLink`, `@odata.count`).

Microsoft Graph, "Use query parameters to customize responses" and "Paging Microsoft Graph
data in your app": a page holds at most `$top` items (the resource's default page size
without it); `@odata.nextLink` is the next page's whole URL, with an opaque `$skiptoken`;
`$count=true` on directory objects needs the `ConsistencyLevel: eventual` header ("Advanced
query capabilities on Microsoft Entra ID objects"). An option the sandbox does not model is
refused with Graph's 400, never ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Request

from sandbox.graph.errors import BAD_REQUEST, UNSUPPORTED_QUERY, GraphError
from sandbox.graph.odata_filter import Filterable, Node, check_filter, matcher, parse_filter

Item = dict[str, object]

MODELLED = ("$filter", "$select", "$top", "$skiptoken", "$orderby", "$count")
"""The query options a collection takes (each resource may allow fewer)."""

KNOWN_UNMODELLED = ("$expand", "$search", "$skip", "$format", "$levels", "$apply", "$compute")
"""OData options Graph knows and the sandbox does not model: refused by name."""


@dataclass(frozen=True)
class ResourceSpec:
    """What a collection allows: its OData type (`microsoft.graph.user`) and entity name for
    messages (`User`), every property it has, those returned without $select, how each
    filterable property may be filtered, the properties $orderby takes, its page sizes and
    the options it allows."""

    type_name: str
    entity: str
    properties: tuple[str, ...]
    default_select: tuple[str, ...] = ()
    """Returned when no $select is given (empty: every property)."""
    filterable: Mapping[str, Filterable] = field(default_factory=dict)
    orderable: frozenset[str] = frozenset()
    default_top: int = 100
    max_top: int = 999
    options: tuple[str, ...] = MODELLED
    count_needs_consistency: bool = True
    """Directory objects: $count needs `ConsistencyLevel: eventual`."""
    case_sensitive: bool = False
    """Whether $filter compares strings with their case (the provisioning logs do; the
    directory does not)."""


@dataclass(frozen=True)
class QueryOptions:
    """One request's query options, checked against the resource's spec."""

    filter: Node | None = None
    select: tuple[str, ...] = ()
    top: int | None = None
    offset: int = 0
    orderby: tuple[tuple[str, bool], ...] = ()
    """(property, descending) pairs."""
    count: bool = False


def _option_error(message: str, code: str = BAD_REQUEST) -> GraphError:
    return GraphError(400, code, message)


def parse_options(request: Request, spec: ResourceSpec) -> QueryOptions:
    """The request's query options for a collection of `spec`; Graph's 400 for an option that
    is unknown, not modelled, not allowed on this resource, repeated or malformed."""
    args = request.args
    for name in args:
        if not name.startswith("$"):
            continue  # custom query options are ignored, as OData says
        if name not in spec.options:
            if name in MODELLED or name in KNOWN_UNMODELLED:
                raise _option_error(f"Query option '{name}' is not supported on {spec.entity}.")
            raise _option_error(f"The query parameter '{name}' is not supported.")
        if len(args.getlist(name)) > 1:
            raise _option_error(f"Query option '{name}' was specified more than once.")
    node = None
    if "$filter" in args:
        node = parse_filter(args["$filter"])
        check_filter(node, spec.filterable, spec.entity)
    return QueryOptions(
        filter=node,
        select=_select(args.get("$select"), spec),
        top=_top(args.get("$top"), spec),
        offset=_skiptoken(args.get("$skiptoken")),
        orderby=_orderby(args.get("$orderby"), spec),
        count=_count(args.get("$count"), request, spec),
    )


def check_select(request: Request, spec: ResourceSpec) -> tuple[str, ...]:
    """$select on a single object's GET, the only option it takes here (and none when the
    resource's collection takes no $select); Graph's 400 for any other, never ignored."""
    for name in request.args:
        if not name.startswith("$"):
            continue  # custom query options are ignored, as OData says
        if name != "$select" or "$select" not in spec.options:
            raise _option_error(
                f"Query option '{name}' is not supported on a single {spec.entity}."
            )
        if len(request.args.getlist(name)) > 1:
            raise _option_error(f"Query option '{name}' was specified more than once.")
    return _select(request.args.get("$select"), spec)


def _select(raw: str | None, spec: ResourceSpec) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names:
        raise _option_error("The $select query option has no property.")
    for name in names:
        if name != "*" and name not in spec.properties:
            raise _option_error(
                f"Could not find a property named '{name}' on type '{spec.type_name}'."
            )
    return () if "*" in names else names


def _top(raw: str | None, spec: ResourceSpec) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= spec.max_top:
        raise _option_error(
            f"Invalid page size specified: '{raw}'. Must be between 1 and {spec.max_top} inclusive.",
            UNSUPPORTED_QUERY,
        )
    return int(text)


def skiptoken(offset: int) -> str:
    """The opaque $skiptoken of the page starting at `offset`."""
    data = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _skiptoken(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        offset = data["offset"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise _option_error(
            "The $skiptoken is not valid: use the @odata.nextLink as given."
        ) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _option_error("The $skiptoken is not valid: use the @odata.nextLink as given.")
    return offset


def _orderby(raw: str | None, spec: ResourceSpec) -> tuple[tuple[str, bool], ...]:
    if raw is None:
        return ()
    out = []
    for clause in raw.split(","):
        words = clause.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise _option_error(f"Invalid $orderby clause: '{clause.strip()}'.")
        name = words[0]
        if name not in spec.properties:
            raise _option_error(
                f"Could not find a property named '{name}' on type '{spec.type_name}'."
            )
        if name not in spec.orderable:
            raise _option_error(
                f"Sorting by the property '{name}' of resource '{spec.entity}' is not supported.",
                UNSUPPORTED_QUERY,
            )
        out.append((name, len(words) == 2 and words[1] == "desc"))
    return tuple(out)


def _count(raw: str | None, request: Request, spec: ResourceSpec) -> bool:
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise _option_error(f"The $count value '{raw}' is not valid: use true or false.")
    if raw == "true" and spec.count_needs_consistency:
        if request.headers.get("ConsistencyLevel", "").lower() != "eventual":
            raise _option_error(
                "$count is not currently supported without the header 'ConsistencyLevel: "
                "eventual' (an advanced query)."
            )
    return raw == "true"


def _sort_key(value: object) -> tuple[int, object]:
    """Nulls last, strings folded (the directory sorts without case)."""
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


def _key_of(name: str) -> Callable[[Mapping[str, object]], tuple[int, object]]:
    return lambda row: _sort_key(row.get(name))


def project(item: Mapping[str, object], select: Sequence[str], spec: ResourceSpec) -> Item:
    """`item` with only the selected properties (the default set without $select), in the
    order they were asked for; a property the object has no value for is null."""
    names = select or spec.default_select
    if not names:
        return dict(item)
    return {name: item.get(name) for name in names}


def context_url(root: str, fragment: str, select: Sequence[str] = ()) -> str:
    """`@odata.context`: `<root>/v1.0/$metadata#<fragment>`, with the selected properties in
    parentheses as Graph writes them (`#users(displayName,mail)`)."""
    suffix = f"({','.join(select)})" if select else ""
    return f"{root}/v1.0/$metadata#{fragment}{suffix}"


def page(
    items: Iterable[Mapping[str, object]],
    options: QueryOptions,
    spec: ResourceSpec,
    *,
    context: str,
    url: str,
    args: Mapping[str, str],
) -> Item:
    """One page of a collection: `items` (every object's whole JSON form, in the collection's
    natural order) filtered, ordered, counted, cut at the skiptoken and $top, projected; with
    `@odata.nextLink` (`url` and the request's `args`, the skiptoken replaced) when more
    follow."""
    rows = list(items)
    if options.filter is not None:
        test = matcher(options.filter, spec.case_sensitive)
        rows = [row for row in rows if test(row)]
    for name, descending in reversed(options.orderby):  # stable sorts, last key first
        rows.sort(key=_key_of(name), reverse=descending)
    size = options.top or spec.default_top
    chunk = rows[options.offset : options.offset + size]
    body: Item = {"@odata.context": context}
    if options.count:
        body["@odata.count"] = len(rows)
    following = options.offset + size
    if following < len(rows):
        query = {k: v for k, v in args.items() if k != "$skiptoken"}
        query["$skiptoken"] = skiptoken(following)
        body["@odata.nextLink"] = f"{url}?{urlencode(query)}"
    body["value"] = [project(row, options.select, spec) for row in chunk]
    return body
