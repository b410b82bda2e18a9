"""Provides the engine benchmark: provisioning cycles over loopback HTTP, by each path a user runs.

    python bench/engine.py [--initial-users 10000] [--tenant-users 100000] [--changes 100]
                           [--concurrency 8] [--paths serve,default,up] [--rounds 3] [--quick]
                           [--profile] [--floor-variants]

(a) An initial cycle of `--initial-users` assigned tenant users (the default mappings, group
    provisioning off) into a fresh provider: GET filter + POST per user, and a PATCH once the
    manager exists, by each of `--paths`, side by side in one run:
    serve    the engine driving a separate `sandbox serve` (its own database). Target 10 s for
             10k users (a smaller run: its share), and 2.5x its HTTP floor.
    default  `sandbox entra sync`'s path: one database, the local provider in a child process
             (bench/paths.py). Target 1.2x the serve path.
    up       `sandbox up`'s: the terminal UI under Pilot, the cycle started with `n`, and how
             quickly the UI answers a key during it (p95 of `?` presses; target 100 ms).
    The serve path runs `--rounds` times, each cycle followed by its HTTP floor: the same
    number of requests as empty exchanges (a bare WSGI app under the same server, sent by the
    engine's transport as the cycle sends, at the same concurrency), so each ratio compares two
    moments of the same machine speed; the medians are compared with the other paths.
    Printed: each round's serve/floor, the ratios default/serve and serve/floor, and what the
    target leaves for the SCIM work of both sides. `--floor-variants` also measures the floor
    with a hello-world Flask app, sent the same way and through httpx's models (the floor the
    figures before 2026-12-07 were measured against, which cost more than the cycle's own
    exchanges on the engine's side).
(b) A tenant of `--tenant-users` users, `--assigned` of them assigned and provisioned by an
    initial cycle first (timed too), then `--changes` users edited and one incremental cycle
    run: GET by id + PATCH per change, nothing for the rest. Target 1 s, and requests
    proportional to the changes.

In (a) serve and (b) the provider is `sandbox serve` in a subprocess (granian workers) on its
own database; the engine (tenant, links, logs) has another, as Entra and the app are two
systems. Tenants are seeded with Directory.seed and assigned with
EnterpriseApp.assign_all_users. `--quick` runs 1,000 / 10,000 users (1,000 assigned).
`--profile` runs the serve path's timed cycles under cProfile and prints the top functions by
cumulative time, then by their own time. Loopback only; every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from loopback import HOST, free_port, group_cpu_seconds, running  # noqa: E402  (bench/, the script's folder)
from paths import default_path, up_path  # noqa: E402

from sandbox.config import Settings  # noqa: E402
from sandbox.engine.sync.fanout import in_order  # noqa: E402
from sandbox.engine.sync.service import Provisioning  # noqa: E402
from sandbox.engine.tenant.seed import seed_tenant  # noqa: E402
from sandbox.runtime import bootstrap_provider  # noqa: E402
from sandbox.store import Store  # noqa: E402

TARGET_INITIAL_S = 10.0
TARGET_INCREMENTAL_S = 1.0
TARGET_USERS = 10_000
"""The user count the initial-cycle target is set for."""
TARGET_DEFAULT_SERVE = 1.2
"""The default path's initial cycle, at most this many times the `sandbox serve` path's."""
TARGET_SERVE_FLOOR = 2.5
"""The `sandbox serve` path's initial cycle, at most this many times its HTTP floor."""
TARGET_KEY_P95_MS = 100.0
"""The UI answers a key within this, at p95, during the `sandbox up` path's cycle."""
PATHS = ("serve", "default", "up")
PATH_LABELS = {
    "default": "default (`sandbox entra sync`: the local provider in a child process)",
    "up": "`sandbox up` (the terminal UI under Pilot, the cycle started with n)",
}
PATH_RUNS = {"default": default_path, "up": up_path}


# -- the provider --------------------------------------------------------------------------


@contextlib.contextmanager
def provider(folder: Path, workers: int) -> Iterator[tuple[str, str, int]]:
    """`sandbox serve` on a fresh database: yields (tenant URL, secret token, the process
    group of the server and its workers)."""
    db_path = str(folder / "provider.db")
    store = Store(db_path)
    token = bootstrap_provider(store, Settings(db_path=db_path)).token
    store.close()
    assert token, "a fresh provider database issues a token"
    port = free_port()
    cmd = [sys.executable, "-m", "sandbox", "serve", "--db", db_path, "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    with running(cmd, port) as proc:
        yield f"http://{HOST}:{port}/scim/v2", token, proc.pid


# -- the engine ----------------------------------------------------------------------------


def engine_for(
    folder: Path,
    name: str,
    users: int,
    url: str,
    token: str,
    concurrency: int,
    assign: int | None = None,
    transport: Any = None,
) -> Provisioning:
    """A tenant of `users` seeded users, all assigned (or the first `assign`), configured
    against `url` (through `transport`, by default the engine's own over HTTP)."""
    store = Store(str(folder / f"{name}.db"))
    engine = Provisioning(store, seed=1, transport=transport)
    started = time.perf_counter()
    seed_tenant(engine.directory, seed=1, users=users, groups=0, guests=0)
    if assign is None or assign >= users:
        assigned = engine.app.assign_all_users()
    else:
        chosen = [
            u.id
            for u in engine.directory.users(limit=None, include_deleted=False)
            if u.account_enabled
        ][:assign]
        for user_id in chosen:
            engine.app.assign(user_id)
        assigned = len(chosen)
    print(
        f"  tenant: {users:,} users seeded, {assigned:,} assigned in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    engine.configure(
        tenant_url=url, secret_token=token, groups_enabled=False, max_concurrency=concurrency
    )
    return engine


def timed_cycle(engine: Provisioning, profile: bool) -> tuple[float, Any, str]:
    """(wall seconds, report, profile text) of one cycle."""
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = engine.run_cycle()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    text = ""
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)
        text = out.getvalue()
    return seconds, report, text


def show(label: str, seconds: float, report: Any, target: float | None) -> None:
    counts = {k: v for k, v in report.counts.items() if v}
    rate = report.requests / seconds if seconds else 0.0
    line = (
        f"  {label}: {seconds:6.2f} s wall, {report.requests:,} requests, {rate:,.0f} req/s, "
        f"{counts}"
    )
    if target is not None:
        verdict = "met" if seconds <= target else "MISSED"
        line += f"; {seconds / target:.2f}x the {target:g} s target ({verdict})"
    print(line, flush=True)
    if report.quarantine is not None:
        print(f"    quarantined: {report.quarantine.reason}: {report.quarantine.error[:200]}")


def _cpu() -> float:
    """This process's user + system CPU seconds (every thread)."""
    times = os.times()
    return times.user + times.system


def _less(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


FLOORS = {
    "bare": ("--serve-bare", "wire"),
    "flask-wire": ("--serve-hello", "wire"),
    "flask-httpx": ("--serve-hello", "httpx"),
}
"""The floors `http_floor` can measure: (the server app of bench/provider.py, how the engine
sends). "bare" is the floor: a WSGI app that does nothing, sent as the cycle sends (request
bytes written by the engine's wire path, the response parsed into its own response type).
The others show what a floor with more in it costs: a hello-world Flask app, sent the same
way or through httpx's Request and Response models. Figures before 2026-12-07 were measured
against "flask-httpx", a floor that cost more per request than the cycle's own exchanges
(`--floor-variants` measures all three)."""
FLOOR_LABELS = {
    "bare": "a bare WSGI app, the engine's wire path",
    "flask-wire": "a hello-world Flask app, the engine's wire path",
    "flask-httpx": "a hello-world Flask app, through httpx's Request and Response",
}


def http_floor(requests: int, concurrency: int, workers: int, kind: str = "bare") -> float:
    """Wall seconds of `floor_exchanges` (the floor's figure the ratios use)."""
    return floor_exchanges(requests, concurrency, workers, kind)[0]


def floor_exchanges(
    requests: int, concurrency: int, workers: int, kind: str = "bare"
) -> tuple[float, float | None, float]:
    """(wall seconds, server CPU seconds, this process's CPU seconds) for `requests` empty
    exchanges under the same server and worker count, sent by the engine's own transport from
    `concurrency` threads (FLOORS: by default a bare WSGI app, written and read as the cycle's
    requests are). What the cycle's requests cost
    before either side does any SCIM work. Sent as the cycle sends (threads looping over the
    work), but from fresh threads: a connection each, opened in the timed part as a cycle
    opens them. Each request carries the headers a cycle's GET carries."""
    import httpx

    from sandbox.engine.scim.transport import KeepAliveTransport, request_head
    from sandbox.scim_names import SCIM_JSON

    server, send = FLOORS[kind]
    port = free_port()
    cmd = [sys.executable, str(REPO / "bench" / "provider.py"), server, str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    transport = KeepAliveTransport()
    url = f"http://{HOST}:{port}/hello"
    token = "floor-token-" + "x" * 32
    headers = {"Authorization": f"Bearer {token}", "Accept": SCIM_JSON}
    parsed = httpx.URL(url)
    head = request_head(
        "GET", b"/hello", [(b"Host", f"{HOST}:{port}".encode())]
        + [(name.encode(), value.encode()) for name, value in headers.items()],
    )  # fmt: skip

    def wire(_: int) -> int:
        return transport.send(parsed, "GET", head, b"", {}).status_code

    def models(_: int) -> int:
        response = transport.handle_request(httpx.Request("GET", url, headers=headers))
        return response.status_code

    one = wire if send == "wire" else models
    with running(cmd, port, {"PYTHONPATH": str(REPO / "bench")}) as proc:
        assert set(in_order(one, range(concurrency * 20), concurrency)) == {200}  # warm
        server_cpu, client_cpu = group_cpu_seconds(proc.pid), _cpu()
        started = time.perf_counter()
        statuses = set(in_order(one, range(requests), concurrency))
        seconds = time.perf_counter() - started
        server_cpu = _less(group_cpu_seconds(proc.pid), server_cpu)
        client_cpu = _cpu() - client_cpu
    transport.close()
    assert statuses == {200}, statuses
    return seconds, server_cpu, client_cpu


def serve_round(folder: Path, args: argparse.Namespace) -> tuple[float, int]:
    """One initial cycle by the serve path on fresh databases in `folder`, its figures
    printed: (wall seconds, requests)."""
    with provider(folder, args.workers) as (url, token, server):
        engine = engine_for(folder, "engine", args.initial_users, url, token, args.concurrency)
        server_cpu, engine_cpu = group_cpu_seconds(server), _cpu()
        seconds, report, profile = timed_cycle(engine, args.profile)
        server_cpu = _less(group_cpu_seconds(server), server_cpu)
        engine_cpu = _cpu() - engine_cpu
        # The target is for 10k users; a smaller run is held to its share of it.
        show("initial", seconds, report, TARGET_INITIAL_S * args.initial_users / TARGET_USERS)
        users = max(1, args.initial_users)
        print(
            f"    per user {seconds / users * 1000:.2f} ms; "
            f"requests/user {report.requests / users:.2f}"
        )
        print(
            f"    CPU per user: engine {engine_cpu / users * 1e6:,.0f} us, provider (server "
            "and workers) "
            + ("not measured (no /proc)" if server_cpu is None else
               f"{server_cpu / users * 1e6:,.0f} us; {(engine_cpu + server_cpu) / seconds:.2f}"
               " cores busy")
        )  # fmt: skip
        if profile:
            print(profile)
        engine.request_log.close()
    return seconds, report.requests


def bench_initial(folder: Path, args: argparse.Namespace) -> None:
    print(f"(a) initial cycle, {args.initial_users:,} assigned users", flush=True)
    paths = args.paths
    seconds = requests = 0.0
    floor = 0.0
    if "serve" in paths:
        # Each round a serve cycle, then the floor of as many requests: a ratio of two moments
        # of the same machine speed (a shared machine's speed drifts between runs). Medians.
        rounds: list[tuple[float, float]] = []
        for n in range(1, args.rounds + 1):
            print(
                f"  `sandbox serve` path (the engine on its own database, a separate server),"
                f" round {n} of {args.rounds}:",
                flush=True,
            )
            (folder / f"a{n}").mkdir()
            cycle, requests = serve_round(folder / f"a{n}", args)
            round_floor = http_floor(int(requests), args.concurrency, args.workers)
            rounds.append((cycle, round_floor))
            print(
                f"    HTTP floor of this round: the same {int(requests):,} requests as empty "
                f"exchanges: {round_floor:.2f} s; serve/floor {cycle / round_floor:.2f}x",
                flush=True,
            )
        seconds = statistics.median(cycle for cycle, _ in rounds)
        floor = statistics.median(f for _, f in rounds)
        if len(rounds) > 1:
            ratios = sorted(cycle / f for cycle, f in rounds)
            print(
                f"  serve path over {len(rounds)} rounds: median {seconds:.2f} s, floor median "
                f"{floor:.2f} s; serve/floor per round {', '.join(f'{r:.2f}x' for r in ratios)}"
                f" (median {statistics.median(ratios):.2f}x)",
                flush=True,
            )
    runs = {}
    for name in ("default", "up"):
        if name not in paths:
            continue
        label = PATH_LABELS[name]
        print(f"  {label} path:", flush=True)
        (folder / name).mkdir()
        run = PATH_RUNS[name](folder / name, args.initial_users, args.concurrency, args.workers)
        runs[name] = run
        rate = run.requests / run.seconds if run.seconds else 0.0
        print(
            f"  initial: {run.seconds:6.2f} s wall, {run.requests:,} requests, {rate:,.0f} req/s,"
            f" {run.counts}; provider process answered {run.start_s:.2f} s after its start",
            flush=True,
        )
        if name == "up":
            print(
                f"    UI: a key answered in p95 {run.p95_ms():.0f} ms, max "
                f"{max(run.keys_ms, default=0):.0f} ms ({len(run.keys_ms)} presses of ? during "
                f"the cycle; target {TARGET_KEY_P95_MS:g} ms)",
                flush=True,
            )
            quit_shown = (
                "not measured (the cycle ended first)"
                if run.quit_ms is None
                else f"{run.quit_ms:.0f} ms"
            )
            print(
                f"    UI: a screen switch (3, then 1) in p95 {run.p95_ms(run.switches_ms):.0f} ms,"
                f" max {max(run.switches_ms, default=0):.0f} ms ({len(run.switches_ms)} during the"
                f" cycle); q during a cycle, until the app had exited: {quit_shown}",
                flush=True,
            )
        requests = requests or run.requests
    if not requests:
        return
    scale = TARGET_USERS / max(1, args.initial_users)
    if not floor:
        floor = http_floor(int(requests), args.concurrency, args.workers)
    print(
        f"    HTTP floor: the same {int(requests):,} requests as empty exchanges "
        f"({FLOOR_LABELS['bare']}, same server and workers, {args.concurrency} at once): "
        f"{floor:.2f} s" + (" (median of the rounds)" if seconds and args.rounds > 1 else ""),
        flush=True,
    )
    if args.floor_variants:
        for kind in ("flask-wire", "flask-httpx"):
            other = http_floor(int(requests), args.concurrency, args.workers, kind)
            line = f"    floor with {FLOOR_LABELS[kind]}: {other:.2f} s, {other / floor:.2f}x the floor"
            if seconds:
                line += f"; serve/this {seconds / other:.2f}x"
            print(line, flush=True)
    print("  side by side (one run):")
    if seconds:
        print(
            f"    serve/floor {seconds / floor:.2f}x, the medians' ratio (target "
            f"{TARGET_SERVE_FLOOR:g}x)",
            flush=True,
        )
    for name, run in runs.items():
        line = f"    {name}/floor {run.seconds / floor:.2f}x"
        if seconds:
            line += f"; {name}/serve {run.seconds / seconds:.2f}x"
            if name == "default":
                line += f" (target {TARGET_DEFAULT_SERVE:g}x)"
        print(line, flush=True)
    if scale != 1:
        at = f"    at {TARGET_USERS:,} users: floor ~{floor * scale:.1f} s"
        if seconds:
            at += f", serve ~{seconds * scale:.1f} s"
        for name, run in runs.items():
            at += f", {name} ~{run.seconds * scale:.1f} s"
        print(at)
    if seconds:
        left = TARGET_INITIAL_S - floor * scale
        print(
            f"    the {TARGET_INITIAL_S:g} s target leaves {left:.1f} s for all the SCIM work of "
            f"both sides for {TARGET_USERS:,} users ({max(0.0, left) / TARGET_USERS * 1e6:.0f} "
            f"us per user; the serve path spends "
            f"{(seconds - floor) * scale / TARGET_USERS * 1e6:.0f})"
        )


def bench_incremental(folder: Path, args: argparse.Namespace) -> None:
    print(
        f"(b) incremental cycle, {args.changes} changes in a {args.tenant_users:,}-user tenant"
        f" ({args.assigned or args.tenant_users:,} assigned)",
        flush=True,
    )
    with provider(folder / "b", args.workers) as (url, token, _):
        engine = engine_for(
            folder / "b", "engine", args.tenant_users, url, token, args.concurrency, args.assigned
        )
        seconds, report, _ = timed_cycle(engine, False)
        show("setup: initial", seconds, report, None)
        ids = sorted(engine.links.linked_ids("User"))
        step = max(1, len(ids) // args.changes)
        for n, user_id in enumerate(ids[::step][: args.changes]):
            engine.directory.edit_user(user_id, jobTitle=f"Benchmark title {n}")
        seconds, report, profile = timed_cycle(engine, args.profile)
        show("incremental", seconds, report, TARGET_INCREMENTAL_S)
        print(
            f"    requests/changes {report.requests / args.changes:.2f} "
            f"(GET by id + PATCH per changed user = 2.00)"
        )
        seconds, report, _ = timed_cycle(engine, False)
        show("idle incremental (no change)", seconds, report, None)
        if profile:
            print(profile)
        engine.request_log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--initial-users", type=int, default=10_000)
    parser.add_argument("--tenant-users", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument(
        "--assigned",
        type=int,
        default=10_000,
        help="(b): users assigned to the app (0: all; provisioning all 100k "
        "first takes minutes on a small machine)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="engine requests at once")
    parser.add_argument(
        "--floor-variants",
        action="store_true",
        help="(a): also measure the floor with a hello-world Flask app, sent through the wire "
        "path and through httpx's models (the floor of figures before 2026-12-07)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="(a): serve-path cycles, each followed by its HTTP floor; medians reported",
    )
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: default)")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 users")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed cycles")
    parser.add_argument("--only", choices=("a", "b"), help="run one part")
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help="(a): the paths measured side by side, comma-separated: serve (the engine "
        "driving a separate `sandbox serve`), default (`sandbox entra sync` against the local "
        "provider), up (`sandbox up`'s UI, with its key answer times); default all three",
    )
    args = parser.parse_args()
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = set(args.paths) - set(PATHS)
    if unknown:
        parser.error(f"--paths: unknown path(s) {', '.join(sorted(unknown))}")
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.quick:
        args.initial_users, args.tenant_users, args.assigned = 1_000, 10_000, 1_000
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        folder = Path(tmp)
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        if args.only in (None, "a"):
            bench_initial(folder, args)
        if args.only in (None, "b"):
            bench_incremental(folder, args)


if __name__ == "__main__":
    main()
