"""What the benchmarks share: processes and their CPU and memory, the SMTP sink, the
``drumbeat worker`` processes, private PostgreSQL schemas and Redis databases, and the
stopwatches and statement counters of the ``--profile`` runs.

One copy of each, so that a fix (a process that exits between two reads of /proc, a
worker that is slow to start) reaches every benchmark. Imported by the scripts in
``bench/`` as ``common`` (they run with ``bench/`` first on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import pstats
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NAMESPACE = "drumbeat"  # the dramatiq namespace of `drumbeat worker` and `drumbeat smtpd`
TICK = os.sysconf("SC_CLK_TCK")


class Failure(Exception):
    """The benchmark could not run or verify; its figures cannot be trusted."""


def say(message: str) -> None:
    """Progress for the person watching (stderr); stdout is kept for the figures."""
    print(message, file=sys.stderr, flush=True)


def progress_bar() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False)


# --- processes: memory and CPU from /proc ------------------------------------------------------

def peak_rss_mb() -> float:
    """This process's peak resident set size so far (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status_mb(pid: int, field: str = "VmHWM") -> float:
    """A ``/proc/<pid>/status`` memory figure (VmHWM: the peak RSS) in MB; 0 once the
    process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def proc_cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its waited-for children); 0 once
    the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="utf-8") as handle:
                    if handle.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def parent_pid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def server_cpu_seconds(name: str) -> float:
    """CPU seconds of every process called ``name``; for the topmost ones (postgres's
    postmaster) with their children's, which holds the time of backends that exited."""
    pids = set(pids_named(name))
    return sum(proc_cpu_seconds(pid, children=parent_pid(pid) not in pids) for pid in pids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready and process.stdout else ""


# --- services: a private PostgreSQL schema, a spare Redis database --------------------------

def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema``."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


def checkpoint(admin: Any) -> None:
    """Start a phase with no dirty buffers left over from the one before."""
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text("CHECKPOINT"))


def clear_redis(url: str, starting: bool = False) -> None:
    """Delete dramatiq's keys; refuse a database that holds anything else, or (when
    ``starting``) whose dramatiq workers are alive: another run is using it."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        ours, others = [], []
        for key in client.scan_iter(count=1000):
            (ours if key.startswith(NAMESPACE.encode()) else others).append(key)
        if others:
            raise Failure(f"{url} holds {len(others)} keys that are not dramatiq's "
                          f"({others[0]!r} …): give a spare database with --redis-url")
        beats = f"{NAMESPACE}:__heartbeats__"
        if starting and client.zcount(beats, time.time() * 1000 - 60_000, "+inf"):
            raise Failure(f"dramatiq workers are alive on {url} (another run?): wait for "
                          "them, or give another database with --redis-url")
        if ours:
            client.delete(*ours)
    finally:
        client.close()


def drumbeat_env(database_url: str, redis_url: str, relay_port: int, domain: str, secret: str,
                 **more: str) -> dict[str, str]:
    """This process's environment without its DRUMBEAT_* variables, plus a deployment's:
    the database, Redis, a relay on loopback without STARTTLS (the sink), the mail domain
    and the secret key; ``more`` adds DRUMBEAT_<NAME> variables."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("DRUMBEAT_")}
    env.update({
        "DRUMBEAT_DATABASE_URL": database_url, "DRUMBEAT_REDIS_URL": redis_url,
        "DRUMBEAT_SMTP_HOST": "127.0.0.1", "DRUMBEAT_SMTP_PORT": str(relay_port),
        "DRUMBEAT_SMTP_STARTTLS": "false", "DRUMBEAT_MAIL_DOMAIN": domain,
        "DRUMBEAT_SECRET_KEY": secret, "PYTHONUNBUFFERED": "1",
        **{f"DRUMBEAT_{name.upper()}": value for name, value in more.items()},
    })
    return env


# --- the sink: aiosmtpd in its own process, the relay the workers send to -----------------------

class Received(NamedTuple):
    """One recipient of one message at the sink."""

    header: str  # the value of the header the sink was asked to keep (e.g. Message-ID)
    recipient: str
    at: float  # time.time() on arrival


class SinkState(NamedTuple):
    """What arrived since the sink last handed its records over."""

    records: list[Received]  # empty for a count
    received: int
    first: float  # time.time() of the first and last arrival (0 when none)
    last: float
    cpu_seconds: float  # the sink's CPU time


def _header_pattern(header: str) -> re.Pattern[bytes]:
    # The header is folded when its value is long: "Message-ID:\r\n <...>".
    return re.compile(rb"^" + re.escape(header.encode()) +
                      rb":[ \t]*(?:\r?\n[ \t]+)?(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def sink_main(port: int, header: str, control: Connection) -> None:
    """The sink process: accept everything, keep (header, recipient, arrival), answer."""
    from aiosmtpd.controller import Controller

    pattern = _header_pattern(header)

    class Handler:
        def __init__(self) -> None:
            self.records: list[Received] = []
            self.first = self.last = 0.0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.content or b""
            end = data.find(b"\r\n\r\n")
            found = pattern.search(data, 0, end if end >= 0 else len(data))
            value = found.group(1).decode("ascii", "replace") if found else ""
            now = time.time()
            if not self.records:
                self.first = now
            self.records.extend(Received(value, rcpt, now) for rcpt in envelope.rcpt_tos)
            self.last = now
            return "250 OK"

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    control.send("ready")
    cpu_mark = time.process_time()
    while True:
        command = control.recv()
        if command in ("count", "take"):
            records = handler.records
            control.send(SinkState(records if command == "take" else [], len(records),
                                   handler.first, handler.last,
                                   time.process_time() - cpu_mark))
            if command == "take":  # start afresh
                handler.records, handler.first, handler.last = [], 0.0, 0.0
                cpu_mark = time.process_time()
        elif command == "stop":
            controller.stop()
            control.send("stopped")
            return


class Sink:
    """The SMTP relay the benchmark's workers send to, in a process of its own so that
    its CPU and memory are counted apart; it keeps one header of every message."""

    def __init__(self, context: Any, header: str = "Message-ID", name: str = "sink") -> None:
        self.port = free_port()
        self._control, child = context.Pipe()
        self.process = context.Process(target=sink_main, args=(self.port, header, child),
                                       name=name, daemon=True)
        self.process.start()
        if not self._control.poll(30) or self._control.recv() != "ready":
            raise Failure("the SMTP sink did not start")
        self._lock = threading.Lock()
        self.kept: list[Received] = []  # every record taken so far

    def ask(self, command: str) -> Any:
        with self._lock:
            self._control.send(command)
            if not self._control.poll(60):
                raise Failure(f"the SMTP sink did not answer {command!r}")
            return self._control.recv()

    def count(self) -> SinkState:
        """What arrived since the last :meth:`take` (without the records)."""
        return self.ask("count")  # type: ignore[no-any-return]

    def take(self) -> SinkState:
        """What arrived since the last take, records included (also added to ``kept``)."""
        state: SinkState = self.ask("take")
        self.kept.extend(state.records)
        return state

    def total(self) -> int:
        """Recipients received since the sink started."""
        return len(self.kept) + self.count().received

    def peak_rss_mb(self) -> float:
        return proc_status_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.ask("stop")
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()


# --- `drumbeat worker` processes ---------------------------------------------------------------

class Workers:
    """``drumbeat worker`` processes, started with a deployment's environment variables;
    the time and CPU at which each one said it runs."""

    def __init__(self, count: int, threads: int, env: dict[str, str], folder: Path) -> None:
        self.logs = [folder / f"worker-{n}.log" for n in range(count)]
        self.processes: list[subprocess.Popen[str]] = []
        drumbeat = Path(sys.executable).with_name("drumbeat")
        for log in self.logs:
            with log.open("w") as stderr:
                self.processes.append(subprocess.Popen(
                    [str(drumbeat), "worker", "--threads", str(threads)], cwd=folder, env=env,
                    stdout=subprocess.PIPE, stderr=stderr, text=True))
        self.ready_at: dict[int, float] = {}
        self.ready_cpu: dict[int, float] = {}
        waiting = {p.stdout: n for n, p in enumerate(self.processes) if p.stdout}
        deadline = time.monotonic() + 120
        try:
            while waiting and time.monotonic() < deadline:
                ready, _, _ = select.select(list(waiting), [], [], 1.0)
                for stream in ready:
                    n = waiting.pop(stream)
                    line = stream.readline()
                    if "worker running" not in line:
                        raise Failure(f"worker {n} did not start: {line!r}\n"
                                      f"{tail(self.logs[n])}")
                    self.ready_at[n] = time.time()
                    self.ready_cpu[n] = proc_cpu_seconds(self.processes[n].pid)
            if waiting:
                raise Failure("a worker did not start within 120 s")
        except Failure:
            self.stop()
            raise

    def pids(self) -> dict[str, int]:
        return {f"worker {n + 1}": p.pid for n, p in enumerate(self.processes)}

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{tail(log)}" for log in self.logs)

    def peak_rss_mb(self) -> list[float]:
        return [proc_status_mb(process.pid) for process in self.processes]

    def cpu_seconds(self) -> list[float]:
        return [proc_cpu_seconds(process.pid) for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


# --- profiling: stopwatches, statement counts, EXPLAIN, cProfile ----------------------------

class Stopwatch:
    """Wraps functions in place and adds up their wall and CPU time (inclusive), per name.
    An owner is a module, a class, an object, or a dict (a registry of functions)."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = owner[attribute] if isinstance(owner, dict) else getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - wall
                self.cpu[name] += time.thread_time() - cpu
                self.calls[name] += 1

        _put(owner, attribute, timed)
        self._undo.append((owner, attribute, original))

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            _put(owner, attribute, original)
        self._undo.clear()


def _put(owner: Any, attribute: str, value: Any) -> None:
    if isinstance(owner, dict):
        owner[attribute] = value
    else:
        setattr(owner, attribute, value)


def resolve(path: str) -> Any:
    """The module, or the attribute of a module, that a dotted path names."""
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ImportError(path)


def statement_kind(statement: str) -> str:
    """``SELECT task``, ``UPDATE outbound_message``: the verb and the first table named."""
    words = statement.split()
    table = next((words[n + 1] for n, w in enumerate(words[:-1])
                  if w.upper() in ("FROM", "UPDATE", "INTO")), "")
    return f"{words[0].upper()} {table}".strip()


class StatementCounter:
    """SQL statements by kind, their client-side time (round trip included) and the pool
    checkouts of some engines; with ``capture`` set, the statements are kept (for
    :func:`explain`)."""

    def __init__(self, engines: Iterable[Any]) -> None:
        self.engines = tuple(engines)
        self.count: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.checkouts = 0
        self.capture = False
        self.captured: list[tuple[str, Any]] = []
        self._started: dict[int, float] = {}

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()
        if self.capture:
            self.captured.append((statement, parameters))

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        kind = statement_kind(statement)
        self.count[kind] += 1
        self.seconds[kind] += time.perf_counter() - self._started.pop(id(cursor), 0.0)

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def _listeners(self) -> Iterator[tuple[Any, str, Any]]:
        for engine in self.engines:
            yield engine, "before_cursor_execute", self._before
            yield engine, "after_cursor_execute", self._after
            yield engine.pool, "checkout", self._checkout

    def __enter__(self) -> StatementCounter:
        from sqlalchemy import event

        for target, name, function in self._listeners():
            event.listen(target, name, function)
        return self

    def __exit__(self, *_: Any) -> None:
        from sqlalchemy import event

        for target, name, function in self._listeners():
            event.remove(target, name, function)

    def print_table(self, per: int, unit: str, width: int) -> None:
        """One line per kind: how many ``per`` ``unit`` and the milliseconds each took."""
        print(f"  {'statement':<{width}} {unit:>8} {'ms each':>8}  (client side, round trip "
              "included)")
        for kind, times in self.count.most_common():
            print(f"  {kind:<{width}} {times / per:8.2f} "
                  f"{self.seconds[kind] / times * 1000:8.3f}")


def walk_plan(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from walk_plan(child)


def explain(engine: Any, captured: list[tuple[str, Any]], what: str) -> None:
    """Server-side time of ``what``'s SELECTs (EXPLAIN ANALYZE), with what they scan."""
    print(f"  {what}'s SELECTs, server side (EXPLAIN ANALYZE):")
    with engine.connect() as conn:
        for statement, parameters in captured:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            top = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                       parameters).scalar_one()[0]
            scans = sorted({f"{p['Node Type']} {p.get('Index Name') or p.get('Relation Name', '')}"
                            .strip() for p in walk_plan(top["Plan"]) if "Scan" in p["Node Type"]})
            print(f"    {top['Execution Time']:7.3f} ms exec {top['Planning Time']:6.3f} ms "
                  f"plan  {statement_kind(statement):<24} {', '.join(scans)}")
        conn.rollback()


def print_top_functions(profiler: Any, path: Path, what: str, count: int = 15) -> None:
    """Write ``profiler``'s stats to ``path`` and print the functions with most own time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    print(f"  cProfile of {what}: {path}; top functions by own time:")
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # type: ignore[attr-defined]
    total = sum(v[2] for _k, v in rows)
    for (filename, line, function), value in rows[:count]:
        where = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
        print(f"    {value[2] / total * 100:5.1f}%  {where}:{line} {function}")
