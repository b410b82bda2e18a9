"""Provides transcripts: the request log's HTTP exchanges exported as JSONL or HAR 1.2.

Authorization is already redacted in the log. `stable=True` leaves out what changes from run
to run (real latencies), so the same scenario and seed give byte-identical transcripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from sandbox import __version__
from sandbox.errors import SandboxError
from sandbox.requestlog import HAPPENED, decode_row
from sandbox.scim_names import SCIM_JSON
from sandbox.store import Store

FORMATS = ("jsonl", "har")
SIDES = ("engine", "provider", "graph", "both", "all")
"""engine: the mock Entra's SCIM requests; provider: the local provider's record of what it
served; graph: the calls to the Microsoft Graph surface; both: the two SCIM sides; all: every
side (a Graph call before the SCIM exchanges it caused)."""

_SIDE_SETS = {"both": ("engine", "provider"), "all": ("engine", "provider", "graph")}


def exchanges(store: Store, side: str = "engine", after: int = 0) -> list[dict[str, Any]]:
    """Exchanges from the request log written after seq `after`, in the order they happened
    ("both": the SCIM sides, an engine request before the provider's record of it; "all":
    the Graph calls too)."""
    if side not in SIDES:
        raise SandboxError(f"side must be one of {', '.join(SIDES)}")
    where = ["seq > ?"]
    params: list[Any] = [after]
    sides = _SIDE_SETS.get(side, (side,))
    where.append(f"side IN ({', '.join('?' * len(sides))})")
    params.extend(sides)
    rows = store.query(
        f"SELECT * FROM request_log WHERE {' AND '.join(where)} ORDER BY {HAPPENED}", params
    )
    return [decode_row(row) for row in rows]


def _body(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _volatile_header(name: str) -> bool:
    return name.lower() in ("date", "server", "content-length", "etag", "x-request-id")


def to_jsonl(entries: Iterable[dict[str, Any]], *, stable: bool = False) -> str:
    """One JSON object per exchange and line."""
    lines = []
    for e in entries:
        record: dict[str, Any] = {
            "at": e["at"],
            "side": e["side"],
            "method": e["method"],
            "path": e["path"],
            "query": e["query"],
            "status": e["status"],
            "request_headers": {
                k: v
                for k, v in e["request_headers"].items()
                if not (stable and _volatile_header(k))
            },
            "request_body": _body(e["request_body"]),
            "response_headers": {
                k: v
                for k, v in e["response_headers"].items()
                if not (stable and _volatile_header(k))
            },
            "response_body": _body(e["response_body"]),
            "notes": [n for n in e["notes"] if not (stable and n.startswith("engine#"))],
        }
        if not stable:
            record["latency_ms"] = e["latency_ms"]
            record["seq"] = e["seq"]
        lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def to_har(
    entries: Iterable[dict[str, Any]], *, host: str = "sandbox.local", stable: bool = False
) -> str:
    """An HTTP Archive 1.2 document (opens in browser devtools and API tools)."""
    har_entries = []
    for e in entries:
        headers = [{"name": k, "value": v} for k, v in e["request_headers"].items()]
        host_header = e["request_headers"].get("Host") or e["request_headers"].get("host") or host
        url = f"http://{host_header}{e['path']}" + (f"?{e['query']}" if e["query"] else "")
        request: dict[str, Any] = {
            "method": e["method"],
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": headers,
            "queryString": [
                {"name": k, "value": v}
                for k, v in parse_qsl(e["query"] or "", keep_blank_values=True)
            ],
            "headersSize": -1,
            "bodySize": len(e["request_body"] or ""),
        }
        if e["request_body"]:
            mime = e["request_headers"].get("Content-Type", SCIM_JSON)
            request["postData"] = {"mimeType": mime, "text": e["request_body"]}
        response_headers = [
            {"name": k, "value": v}
            for k, v in e["response_headers"].items()
            if not (stable and _volatile_header(k))
        ]
        text = e["response_body"] or ""
        mime = e["response_headers"].get("Content-Type", SCIM_JSON)
        time_ms = 0 if stable else float(e["latency_ms"] or 0)
        har_entries.append(
            {
                "startedDateTime": e["at"],
                "time": time_ms,
                "request": request,
                "response": {
                    "status": e["status"] or 0,
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": response_headers,
                    "content": {"size": len(text), "mimeType": mime, "text": text},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": len(text),
                },
                "cache": {},
                "timings": {"send": 0, "wait": time_ms, "receive": 0},
                "comment": "; ".join([e["side"], *e["notes"]]),
            }
        )
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "scim-provisioning-sandbox", "version": __version__},
            "entries": har_entries,
        }
    }
    return json.dumps(har, indent=2, ensure_ascii=False) + "\n"


def export(
    store: Store, fmt: str, side: str = "engine", *, stable: bool = False, after: int = 0
) -> str:
    """The transcript text in `fmt` ("jsonl" or "har")."""
    if fmt not in FORMATS:
        raise SandboxError(f"format must be one of {', '.join(FORMATS)}")
    entries = exchanges(store, side, after)
    return to_har(entries, stable=stable) if fmt == "har" else to_jsonl(entries, stable=stable)
