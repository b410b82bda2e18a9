"""Provides how an HTTP exchange and a provisioning log record read in the Activity screen."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text

from sandbox.engine.sync.logs import LogRecord


def pretty_body(body: str | None) -> str:
    """A JSON body indented (as Entra's and the provider's are JSON); anything else as is."""
    if not body:
        return "(no body)"
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _headers(text: Text, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        text.append(f"{name}: ", style="bold")
        text.append(f"{value}\n")


def exchange_text(entry: dict[str, Any]) -> Text:
    """One exchange: the request line, then request headers and body, then the response's."""
    query = f"?{entry['query']}" if entry.get("query") else ""
    ok = entry["status"] < 400
    text = Text()
    text.append(f"{entry['method']} {entry['path']}{query}\n", style="bold")
    text.append(f"{entry['status']}", style="bold green" if ok else "bold red")
    text.append(f"\u00a0 {entry['latency_ms']:.1f} ms  ({entry['side']} side)\n", style="dim")
    for note in entry.get("notes") or []:
        text.append(f"note: {note}\n", style="yellow")
    text.append("\n── request ──\n", style="cyan")
    _headers(text, entry.get("request_headers") or {})
    text.append(pretty_body(entry.get("request_body")) + "\n")
    text.append("\n── response ──\n", style="cyan")
    _headers(text, entry.get("response_headers") or {})
    text.append(pretty_body(entry.get("response_body")) + "\n")
    return text


def record_text(record: LogRecord) -> Text:
    """One provisioning log record: outcome, steps, modified properties, error."""
    text = Text()
    ok = record.status == "Success"
    text.append(f"{record.source_name}  ", style="bold")
    text.append(
        f"{record.action} {record.status}",
        style="bold green" if ok else "bold red" if record.status == "Failure" else "bold yellow",
    )
    text.append(f"\u00a0 cycle #{record.cycle_id}  {record.at}\n", style="dim")
    if record.target_id:
        text.append(f"target id {record.target_id}\n", style="dim")
    for number, step in enumerate(record.steps, 1):
        style = {"success": "green", "failure": "red", "warning": "yellow"}.get(step.status, "dim")
        text.append(f"{number}. [{step.status}] ", style=style)
        text.append(f"{step.name}: {step.description}\n")
    if record.modified:
        text.append("modified properties\n", style="cyan")
        for change in record.modified:
            text.append(
                f"  {change['displayName']}: {change.get('oldValue')!r} -> "
                f"{change.get('newValue')!r}\n"
            )
    if record.error_code or record.reason:
        text.append(f"{record.error_code or ''}\n", style="bold red")
        text.append(f"{record.reason or ''}\n")
    if record.exchanges:
        text.append(f"exchanges: {', '.join(map(str, record.exchanges))}\n", style="dim")
    return text
