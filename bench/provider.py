"""Benchmark of the SCIM provider as `sandbox serve` runs it: req/s and p50/p99 per operation.

For each stored-user count (seeded straight into the database through the provider's own
repository and organization rules, not over HTTP) a `sandbox serve` is started, and all of
them stay up for the whole measurement, with a hello-world Flask app under the same server
(granian, the same options and workers) as the floor and scim2-server (a dev extra, the
in-memory Python SCIM server the targets are set against: one process, 10,000 users seeded
over HTTP; `--no-peer` skips it). Each round then runs, for every concurrency, the floor and
every size (in alternating order) once, and scim2-server's filter GET, POST and PATCH; the figures are
medians over the rounds, so their ratios compare moments of the same machine speed. A size
is measured with the shared load tool (../shared/tools/scim_load.py, run as a subprocess,
its --json output read back) for filter, filter_and, get, post and patch (delete runs too,
to keep the stored count steady), plus a value-filter GET `emails[type eq "work"].value eq
...` measured here with the same kind of keep-alive http.client loop.

    python bench/provider.py            # 1k, 10k and 100k users, concurrency 1 and 4
    python bench/provider.py --quick    # 1k and 10k users, fewer requests: under a minute

Loopback only; every loop is bounded in count and time; every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loopback import HOST, free_port, running  # bench/, the script's folder

REPO = Path(__file__).resolve().parent.parent
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"

PREFIX = "load@bench.example"
"""scim_load's userName prefix. Its names are f"{prefix}-{i:06d}"; with this prefix they are
email addresses ("load@bench.example-000001"), as the Nulab rules of `sandbox serve` require."""

PROBE_USERS = 1000
"""scim_load is given --users 1000: it POSTs those (all 409, already seeded) and picks its
filter targets among them. Every lookup is an index probe whatever row it finds, so probing
1,000 of the N stored users measures the N-user store without 100k seeding POSTs."""

FILTER_OPS = ("filter", "filter_and", "value_filter")
TARGETS_10K = {"filter": 1400, "post": 1600, "patch": 1400}
"""req/s targets at 10k stored users (the provider issue)."""


# -- the floor: hello world under the same server -------------------------------------------


def hello_app() -> Any:
    """A hello-world Flask app (granian factory target), the floor every op is compared to."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello() -> Any:
        return {"hello": "world"}

    return app


def bare_app() -> Any:
    """The least a WSGI app can do (granian factory target): the same 17-byte JSON answer to
    every request, no framework. The engine benchmark's floor: the provider's /Users
    endpoints are answered by its own WSGI front, not by Flask, so Flask's per-request work
    is no part of what an exchange has to cost."""
    body = b'{"hello":"world"}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app


def serve(factory: str, port: int, workers: int) -> None:
    """Serve a WSGI app factory of this file ("provider:hello_app") as
    sandbox.server.run_server serves the provider: granian, the same options."""
    from granian import Granian

    from sandbox.server import granian_options

    Granian(factory, factory=True, address=HOST, port=port, **granian_options(workers)).serve()


PEER_TOKEN = "peer-bench-token"
PEER_USERS = 10_000
PEER_OPS = ("filter", "post", "patch")
"""What scim2-server is measured on: the operations the targets double."""


def peer_app() -> Any:
    """scim2-server (PyPI, a dev extra): the in-memory Python SCIM server the targets are set
    against ("about twice what the best in-memory Python SCIM server reaches here"), built as
    its own `scim2-server` command builds it. One process: its storage is its memory."""
    from scim2_server.memory import InMemoryStorage
    from scim2_server.testserver.application import BearerTokenApplication
    from scim2_server.utils import load_default_provider

    app = BearerTokenApplication(
        InMemoryStorage(), load_default_provider(), bearer_tokens=[PEER_TOKEN]
    )

    def without_body(environ: dict[str, Any], start_response: Any) -> Any:
        # It reads a request without Content-Length as read(-1) when the server marks its
        # input terminated, which granian's input refuses (OverflowError, a 500 for every
        # GET); such a request sent no body, which it then reads as empty.
        if not environ.get("CONTENT_LENGTH"):
            environ.pop("wsgi.input_terminated", None)
        return app(environ, start_response)

    return without_body


def start_peer(servers: ExitStack, args: argparse.Namespace) -> int:
    """Start scim2-server (in memory, one process) and seed PEER_USERS users into it over HTTP
    with the load tool; its port. The rounds then measure its filter GET, POST and PATCH: the
    baseline the targets double."""
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-peer", str(port)]
    servers.enter_context(running(cmd, port, {"PYTHONPATH": str(Path(__file__).resolve().parent)}))
    run_scim_load(
        args.load_tool, f"http://{HOST}:{port}/v2", PEER_TOKEN, 4, args, repeat=0,
        extra=("--users", str(PEER_USERS), "--prefix", "peer", "--seed-max-seconds", "300"),
    )  # fmt: skip
    return port


# -- servers --------------------------------------------------------------------------------


# -- seeding straight into the database ------------------------------------------------------


def seed_user(i: int) -> dict[str, Any]:
    """The document scim_load itself would POST for seed user i."""
    name = f"{PREFIX}-{i:06d}"
    return {
        "schemas": [CORE],
        "userName": name,
        "displayName": name,
        "active": True,
        "name": {"givenName": "Load", "familyName": name},
        "emails": [{"value": f"{name}@example.test", "type": "work", "primary": True}],
    }


def seed_database(db_path: str, users: int) -> tuple[str, float]:
    """Bootstrap the provider (token), then store `users` users as provisioning would.

    Each document goes through the served app's organization rules (plan_create) and the
    repository's create, so rows, organization columns and the user_values index are what a
    POST would have written; 5,000 users share one transaction.
    """
    from sandbox.config import Settings
    from sandbox.runtime import bootstrap_provider, build_provider, open_store

    settings = Settings(db_path=db_path)
    store = open_store(settings)
    token = bootstrap_provider(store, settings).token
    assert token, "a fresh database must issue a token"
    ctx = build_provider(store, settings).extensions["sandbox"]
    started = time.perf_counter()
    for batch in range(0, users, 5000):
        with store.write():
            for i in range(batch, min(users, batch + 5000)):
                plan = ctx.rules.plan_create(seed_user(i), [])
                ctx.users.create(plan.doc, plan.org, plan.effects)
    seconds = time.perf_counter() - started
    ctx.request_log.close()
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("ANALYZE")
    store.close()
    return token, seconds


# -- measuring -------------------------------------------------------------------------------


def run_scim_load(
    tool: Path,
    url: str,
    token: str,
    concurrency: int,
    args: argparse.Namespace,
    ops: str = "filter,filter_and,get,post,patch,delete",
    extra: tuple[str, ...] = (),
    repeat: int | None = None,
) -> dict[str, Any]:
    """Run the shared load tool and return its per-op medians. By default it probes the
    PROBE_USERS seeded users of our provider; `extra` adds or overrides its options.
    `repeat=0` only seeds (and returns no figures)."""
    runs = args.repeat if repeat is None else repeat
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    cmd = [
        # --token=...: a token may begin with "-", which argparse would take for an option
        sys.executable, str(tool), "--url", url, f"--token={token}",
        "--users", str(PROBE_USERS), "--prefix", PREFIX,
        "--requests", str(args.requests), "--concurrency", str(concurrency),
        "--ops", ops,
        "--repeat", str(runs), "--max-seconds", str(args.max_seconds),
        "--json", out_path, *extra,
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0 or (runs and not Path(out_path).stat().st_size):
            sys.exit(f"scim_load failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr}")
        return dict(json.loads(Path(out_path).read_text())["median"]) if runs else {}
    finally:
        Path(out_path).unlink(missing_ok=True)


def _timed_run(
    port: int, make_path: Callable[[random.Random], str], headers: dict[str, str],
    check: Callable[[int, bytes], bool], requests: int, concurrency: int, max_seconds: float,
    seed: int,
) -> dict[str, float]:  # fmt: skip
    """One run: `requests` keep-alive GETs over `concurrency` threads, capped at max_seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.perf_counter() + max_seconds

    def worker(thread: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 100 + thread)
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, bad = [], 0
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if next(counter, None) is None:
                        break
                started = time.perf_counter()
                conn.request("GET", make_path(rng), headers=headers)
                response = conn.getresponse()
                body = response.read()
                mine.append(time.perf_counter() - started)
                bad += not check(response.status, body)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                errors += bad

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker, t) for t in range(concurrency)]:
            future.result()
    wall = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "rps": n / wall if wall else 0.0,
        "p50_ms": latencies[int(0.50 * n)] * 1000 if n else float("nan"),
        "p99_ms": latencies[min(n - 1, int(0.99 * n))] * 1000 if n else float("nan"),
        "errors": errors,
    }


def median_runs(runs: list[dict[str, Any]]) -> dict[str, float]:
    """One op's figures over the rounds: median req/s and latencies, errors summed."""
    out = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms")}
    out["errors"] = sum(r["errors"] for r in runs)
    return out


def measure(
    port: int, make_path: Callable[[random.Random], str], headers: dict[str, str],
    check: Callable[[int, bytes], bool], requests: int, concurrency: int, max_seconds: float,
    repeat: int,
) -> dict[str, float]:  # fmt: skip
    """Keep-alive GETs in scim_load's style (a warm-up, then timed runs); medians of the runs."""
    warm = http.client.HTTPConnection(HOST, port, timeout=30)
    for _ in range(20):  # untimed warm-up, as scim_load does
        warm.request("GET", make_path(random.Random(-1)), headers=headers)
        warm.getresponse().read()
    warm.close()
    runs = [
        _timed_run(port, make_path, headers, check, requests, concurrency, max_seconds, run)
        for run in range(repeat)
    ]
    return median_runs(runs)


def value_filter_path(rng: random.Random) -> str:
    name = f"{PREFIX}-{rng.randrange(PROBE_USERS):06d}"
    expr = f'emails[type eq "work"].value eq "{name}@example.test"'
    return "/scim/v2/Users?" + urllib.parse.urlencode(
        {"filter": expr}, quote_via=urllib.parse.quote
    )


def one_hit(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body).get("totalResults") == 1


# -- the run ---------------------------------------------------------------------------------


def bench_all(
    sizes: list[int], args: argparse.Namespace, workers: int
) -> tuple[
    dict[int, dict[str, float]],
    dict[int, dict[int, dict[str, dict[str, float]]]],
    dict[str, dict[str, float]] | None,
]:
    """The floor and every size, measured in interleaved rounds.

    Every server (hello world, and one `sandbox serve` per size) runs for the whole
    measurement; each round runs each (size, concurrency) once, the sizes in alternating
    order, then scim2-server's filter GET, POST and PATCH at the highest concurrency (unless
    --no-peer),
    and the figures are medians over the rounds. This machine's speed drifts by tens
    of per cent over minutes: measured one after another, a 100k store measured in a slow
    minute would look slower than the 1k one measured in a fast minute.
    """
    floor_runs: dict[int, list[dict[str, Any]]] = {c: [] for c in args.concurrency}
    runs: dict[int, dict[int, list[dict[str, Any]]]] = {
        users: {c: [] for c in args.concurrency} for users in sizes
    }
    peer_runs: list[dict[str, Any]] = []
    peer_c = max(args.concurrency)
    with tempfile.TemporaryDirectory(prefix="bench-provider-") as tmp, ExitStack() as servers:
        served: dict[int, tuple[int, str]] = {}
        for users in sizes:
            db_path = str(Path(tmp) / f"bench-{users}.db")
            token, seconds = seed_database(db_path, users)
            print(f"{users:,} users seeded in {seconds:.1f} s ({users / seconds:,.0f}/s)",
                  flush=True)  # fmt: skip
            port = free_port()
            servers.enter_context(running(
                [sys.executable, "-m", "sandbox", "serve", "--db", db_path,
                 "--port", str(port), "--workers", str(workers)], port,
            ))  # fmt: skip
            served[users] = port, token
        hello = free_port()
        servers.enter_context(running(
            [sys.executable, str(Path(__file__).resolve()), "--serve-hello", str(hello),
             "--workers", str(workers)], hello,
            {"PYTHONPATH": str(Path(__file__).resolve().parent)},
        ))  # fmt: skip
        peer = None if args.no_peer else start_peer(servers, args)
        if peer is not None:
            print(f"scim2-server: {PEER_USERS:,} users seeded over HTTP", flush=True)
        for round_no in range(args.repeat):
            order = sizes if round_no % 2 == 0 else sizes[::-1]
            for c in args.concurrency:
                floor_runs[c].append(measure(
                    hello, lambda rng: "/hello", {}, lambda s, b: s == 200, args.requests,
                    c, args.max_seconds, 1,
                ))  # fmt: skip
                for users in order:
                    port, token = served[users]
                    url = f"http://{HOST}:{port}/scim/v2"
                    auth = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
                    ops = run_scim_load(args.load_tool, url, token, c, args, repeat=1)
                    ops["value_filter"] = measure(
                        port, value_filter_path, auth, one_hit, args.requests, c,
                        args.max_seconds, 1,
                    )  # fmt: skip
                    runs[users][c].append(ops)
            if peer is not None:
                peer_runs.append(run_scim_load(
                    args.load_tool, f"http://{HOST}:{peer}/v2", PEER_TOKEN, peer_c, args,
                    ops="filter,post,patch", repeat=1,
                    # fresh probe users each round, among the 10,000 seeded: the load tool
                    # seeds them, then finds, creates and PATCHes
                    extra=("--users", "200", "--prefix", f"peer-r{round_no}"),
                ))  # fmt: skip
            print(f"round {round_no + 1} of {args.repeat} done", flush=True)
    floor = {c: median_runs(r) for c, r in floor_runs.items()}
    results = {
        users: {
            c: {op: median_runs([r[op] for r in rounds]) for op in rounds[0]}
            for c, rounds in by_c.items()
        }
        for users, by_c in runs.items()
    }
    peer_results = (
        {op: median_runs([r[op] for r in peer_runs]) for op in PEER_OPS} if peer_runs else None
    )
    for c in args.concurrency:
        print(f"floor c={c}: {floor[c]['rps']:,.0f}/s")
    for users in sizes:
        for c in args.concurrency:
            print(f"{users:>8,} c={c}: " + ", ".join(
                f"{op} {r['rps']:,.0f}/s" for op, r in results[users][c].items() if op != "delete"
            ))  # fmt: skip
    return floor, results, peer_results


def report(
    sizes: list[int], results: dict[int, dict[int, dict[str, dict[str, float]]]],
    floor: dict[int, dict[str, float]], concurrency: list[int],
) -> None:  # fmt: skip
    ops = ["filter", "filter_and", "value_filter", "get", "post", "patch"]
    smallest = sizes[0]
    print("\nrequests/s, p50/p99 ms; x floor = floor req/s / op req/s (cost vs hello world);")
    print(f"x {smallest:,} = the op's cost at this size / its cost at {smallest:,} "
          "(filters: target <= 1.2)")  # fmt: skip
    header = f"{'users':>8} {'c':>2} {'op':<13}{'req/s':>8}{'p50':>8}{'p99':>8}{'x floor':>9}"
    print(header + f"{'x ' + format(smallest, ','):>10}  errors")
    for c in concurrency:
        f = floor[c]
        print(f"{'-':>8} {c:>2} {'hello floor':<13}{f['rps']:>8,.0f}{f['p50_ms']:>8.2f}"
              f"{f['p99_ms']:>8.2f}{1:>9.2f}{'':>10}  {f['errors']}")  # fmt: skip
        for users in sizes:
            for op in ops:
                r = results[users][c].get(op)
                if not r:
                    continue
                base = results[smallest][c][op]
                vs_small = base["rps"] / r["rps"] if r["rps"] else float("inf")
                mark = ""
                if op in FILTER_OPS and users != smallest:
                    mark = " ok" if vs_small <= 1.2 else " OVER"
                print(f"{users:>8,} {c:>2} {op:<13}{r['rps']:>8,.0f}{r['p50_ms']:>8.2f}"
                      f"{r['p99_ms']:>8.2f}{f['rps'] / r['rps']:>9.2f}"
                      f"{vs_small:>10.2f}{mark:<5} {int(r['errors'])}")  # fmt: skip
    if 10_000 in results:
        # Throughput targets for the machine: held at the highest concurrency measured (one
        # client at a time cannot keep two workers busy); lower ones are shown for reference.
        top = max(concurrency)
        print("\nat 10,000 users (targets: filter 1,400, post 1,600, patch 1,400 req/s, "
              f"at c={top}):")  # fmt: skip
        for c in concurrency:
            line = []
            for op, target in TARGETS_10K.items():
                rps = results[10_000][c][op]["rps"]
                verdict = ("met" if rps >= target else "below") if c == top else "reference"
                line.append(f"{op} {rps:,.0f} ({verdict})")
            print(f"  c={c}: " + ", ".join(line))


def report_peer(
    results: dict[int, dict[int, dict[str, dict[str, float]]]],
    peer: dict[str, dict[str, float]], concurrency: int,
) -> None:  # fmt: skip
    size = 10_000 if 10_000 in results else max(results)
    print(f"\nagainst scim2-server (in memory, one process, {PEER_USERS:,} users), this run, "
          f"c={concurrency}; the targets are about twice it:")  # fmt: skip
    for op in PEER_OPS:
        ours, theirs = results[size][concurrency][op], peer[op]
        if theirs["errors"] or ours["errors"]:  # a 500 or a filter that found nothing is fast
            print(f"  {op}: not compared: errors, ours {int(ours['errors'])}, "
                  f"scim2-server {int(theirs['errors'])}")  # fmt: skip
            continue
        print(f"  {op}: ours {ours['rps']:,.0f} req/s at {size:,} users, scim2-server "
              f"{theirs['rps']:,.0f}: {ours['rps'] / theirs['rps']:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="stored users, comma list")
    parser.add_argument("--concurrency", default="1,4", help="client threads, comma list")
    parser.add_argument("--requests", type=int, default=2000, help="requests per op and run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per op (medians reported)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time cap per op and run")
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: as serve)")
    parser.add_argument(
        "--load-tool",
        type=Path,
        default=REPO / "../shared/tools/scim_load.py",
        help="path of scim_load.py (default ../shared/tools/scim_load.py from the repo root)",
    )
    parser.add_argument("--quick", action="store_true", help="1k and 10k users, fewer requests")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-peer", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the scim2-server baseline (a dev extra)"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from sandbox.server import default_workers

    workers = args.workers or default_workers()
    if args.serve_hello:
        serve("provider:hello_app", args.serve_hello, workers)
        return
    if args.serve_bare:
        serve("provider:bare_app", args.serve_bare, workers)
        return
    if args.serve_peer:
        serve("provider:peer_app", args.serve_peer, 1)  # its storage is one process's memory
        return
    if args.quick:
        args.sizes, args.requests, args.repeat, args.max_seconds = "1000,10000", 400, 1, 5.0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.load_tool = args.load_tool.resolve()
    if not args.load_tool.exists():
        parser.error(f"no load tool at {args.load_tool}")
    print(f"sandbox serve, {workers} workers; sizes {sizes}; concurrency {args.concurrency}; "
          f"{args.requests} requests x {args.repeat} runs per op")  # fmt: skip
    floor, results, peer = bench_all(sizes, args, workers)
    peer_c = max(args.concurrency)
    report(sizes, results, floor, args.concurrency)
    if peer is not None:
        report_peer(results, peer, peer_c)
    if args.json:
        args.json.write_text(
            json.dumps({"floor": floor, "results": results, "peer": peer}, indent=2)
        )


if __name__ == "__main__":
    main()
