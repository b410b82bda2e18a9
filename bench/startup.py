"""Provides the startup benchmark: `sandbox up` from the shell to its first screen with data.

    python bench/startup.py [--users 10000] [--runs 5]

A database with a `--users`-user tenant is made once (`sandbox entra users seed`), then
`sandbox up --db ... --port 0` is started `--runs` times in a pseudo-terminal (120x40); the
time is from spawning the process until the Directory screen shows its pager ("1-100 of
10,0..": the first page of users read from the tenant) on the terminal, after which `q` quits
it (ctrl+q). The sandbox's modules are byte-compiled first, as `pip install .` leaves them
(this machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise compile
every module on every start). Two floors are measured in the same run and printed as ratios: the bare interpreter
(`python -c pass`) and a minimal Textual app that paints one label. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 1.0
COLUMNS, LINES = 120, 40

HELLO_APP = """
from textual.app import App
from textual.widgets import Label

class Hello(App):
    def compose(self):
        yield Label("hello-ready")

Hello().run()
"""


def time_to_text(argv: list[str], ready: re.Pattern[bytes], timeout: float = 30) -> float:
    """Seconds from spawning `argv` in a pseudo-terminal until its output matches `ready`;
    the process is then told to quit (q, then SIGTERM) and reaped."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of a known size, then the command
        os.environ.update({"COLUMNS": str(COLUMNS), "LINES": str(LINES), "TERM": "xterm-256color"})
        os.chdir(REPO)
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    started = time.perf_counter()
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - started < timeout:
            readable, _, _ = select.select([fd], [], [], 0.05)
            if not readable:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if ready.search(seen):
                elapsed = time.perf_counter() - started
                break
    finally:
        try:
            os.write(fd, b"\x11")  # ctrl+q: quits any Textual app
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                select.select([fd], [], [], 0.05)
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
            else:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
        except (OSError, ChildProcessError):
            pass
        os.close(fd)
    if elapsed is None:
        tail = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen)[-400:]
        raise SystemExit(f"{argv[:4]} did not show {ready.pattern!r} in {timeout} s: {tail!r}")
    return elapsed


def median_of(runs: int, argv: list[str], ready: re.Pattern[bytes]) -> list[float]:
    return [time_to_text(argv, ready) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(REPO / "sandbox", quiet=1)
    compileall.compile_dir(REPO / "tui", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        db = str(Path(tmp) / "sandbox.db")
        made = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "entra",
                "users",
                "seed",
                "--db",
                db,
                "--users",
                str(args.users),
                "--groups",
                "20",
                "--guests",
                "20",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=REPO,
        )
        print(
            f"tenant of {args.users:,} users made in {time.perf_counter() - made:.1f} s", flush=True
        )
        # One run first so the page cache holds the code and the database, as it does for a
        # user who has started it before.
        up = [sys.executable, "-m", "sandbox", "up", "--db", db, "--port", "0"]
        pager = re.compile(rb"1-100 of [0-9,]+")
        time_to_text(up, pager)
        python = median_of(
            args.runs, [sys.executable, "-c", "print('python-ready')"], re.compile(rb"python-ready")
        )
        hello = median_of(args.runs, [sys.executable, "-c", HELLO_APP], re.compile(rb"hello-ready"))
        ours = median_of(args.runs, up, pager)
    floor_py, floor_tx, figure = (statistics.median(x) for x in (python, hello, ours))
    print(f"python -c pass:          {floor_py * 1000:7.0f} ms (median of {args.runs})")
    print(f"minimal Textual app:     {floor_tx * 1000:7.0f} ms ({floor_tx / floor_py:.1f}x python)")
    print(
        f"sandbox up, first page:  {figure * 1000:7.0f} ms ({figure / floor_tx:.2f}x the minimal "
        f"Textual app; runs {', '.join(f'{x * 1000:.0f}' for x in ours)} ms)"
    )
    verdict = "met" if figure < TARGET_S else "MISSED"
    print(f"target < {TARGET_S:g} s: {verdict}")


if __name__ == "__main__":
    main()
