"""``engined profile``: sample every process of a running engine at once, without stopping it.

Processes: the segment's owner (``engined serve``'s supervisor), the workers and the client
(``engined serve``'s frontend) from the shared tables, and the workers' parent (the supervisor of
an embedded engine). Two ways to sample, each giving folded stacks per process:

- ``py-spy`` (when installed): ``py-spy record --nonblocking --format raw`` on every process in
  parallel. Non-blocking: py-spy reads the process's memory without pausing it.
- ``signals`` (always there): the engine's own stack dumps (engine/core/diag.py). ``--rate`` times a
  second each process gets SIGUSR1 and faulthandler's C handler appends every thread's stack to the
  process's file; those are parsed here. A process without that file (an older engine, a caller
  embedding one) is never signalled: SIGUSR1 would end it.

Out: ``<name>-<pid>.svg`` (flame graph) and ``.folded`` per process, and ``top.txt``: the functions
with the most samples across all processes and per process. ``--memory`` adds ``memory.txt``: each
process traces allocations (tracemalloc) for the run and reports the sites still holding memory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.diag import MEMORY_SUFFIX, STACKS_SUFFIX
from tools.flamegraph import Stacks, parse_folded, render_svg, to_folded

if TYPE_CHECKING:
    from tools.engine_view import Reading

STACKS_SIGNAL, MEMORY_SIGNAL = signal.SIGUSR1, signal.SIGUSR2
_FRAME = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+) in (?P<func>.*)$')
_THREAD = re.compile(r"^(Current thread|Thread) 0x[0-9a-f]+ ")
# leaf functions of a thread that is waiting, not working: left out of the signal path's samples,
# as py-spy leaves idle threads out by default
IDLE_LEAVES = frozenset(
    {
        "wait",
        "poll",
        "select",
        "_poll",
        "sleep",
        "run_forever",
        "_run_once",
        "accept",
        "recv",
        "read",
        "get",
        "_wait_for_tstate_lock",
        "main_loop",
        "_bootstrap_inner",
    }
)


@dataclass
class Target:
    pid: int
    name: str
    stacks: Stacks = field(default_factory=Counter)
    method: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}-{self.pid}"


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def engine_processes(reading: Reading) -> list[Target]:
    """Every live process of the engine: the supervisor (the workers' parent), the segment's owner
    when it is another process (a program embedding the engine), the client, the workers."""
    workers = [w["pid"] for w in reading.workers if w["pid"]]
    supervisors = {_ppid(p) for p in workers} - {0}
    ordered = [*sorted(supervisors), reading.owner_pid, reading.client["pid"], *workers]
    out, seen = [], set()
    for pid in ordered:
        if pid and pid not in seen and (comm := _comm(pid)) is not None:
            seen.add(pid)
            name = "sv-supervisor" if pid in supervisors else comm.replace("/", "_") or "python"
            if pid == reading.owner_pid and pid not in supervisors:
                name = f"owner-{name}"
            out.append(Target(pid, name))
    return out


def stacks_file(pid: int) -> Path | None:
    """The process's own stack-dump file, found among its open files (/proc/PID/fd): proof that it
    installed the SIGUSR1 handler (a file inherited from its parent carries the parent's pid)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").endswith(f".{pid}{STACKS_SUFFIX}"):
                return Path(f"/proc/{pid}/fd/{fd}")
    return None


def short_path(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3."):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker.startswith("/lib") and "/" in tail else tail
    for package in ("/engine/", "/frontends/", "/ipc/", "/tools/", "/perf/"):
        if package in path:
            return package[1:] + path.rsplit(package, 1)[1]
    return os.path.basename(path)


def parse_faulthandler(text: str, *, idle: bool = False) -> Stacks:
    """faulthandler dumps (most recent call first, one block per thread) -> root-first folded stacks."""
    stacks: Stacks = Counter()
    frames: list[str] = []

    def flush() -> None:
        if frames and (idle or not _waiting(frames[0])):
            stacks[tuple(reversed(frames))] += 1
        frames.clear()

    for line in text.splitlines():
        if _THREAD.match(line):
            flush()
        elif match := _FRAME.match(line):
            frames.append(f"{match['func']} ({short_path(match['file'])}:{match['line']})")
    flush()
    return stacks


def _waiting(leaf: str) -> bool:
    """A thread that waits rather than works: its newest frame is a known wait, or a thread's ``run``
    calling C (a pool's or grpc's thread blocked outside Python)."""
    return leaf.split(" ", 1)[0] in IDLE_LEAVES or leaf.endswith("(threading.py)") or "(threading.py:" in leaf


def _shorten_folded(stacks: Stacks) -> Stacks:
    """py-spy's raw frames are "func (path:line)": the same short paths as the signal path."""
    out: Stacks = Counter()
    for frames, count in stacks.items():
        out[tuple(re.sub(r"\((.*):(\d+)\)$", lambda m: f"({short_path(m[1])}:{m[2]})", f) for f in frames)] += count
    return out


def sample_with_py_spy(py_spy: str, targets: list[Target], seconds: int, rate: int, out: Path) -> list[Target]:
    """Record every target in parallel; returns those py-spy could not read (to try the signal path)."""
    running = []
    for t in targets:
        raw = out / f"{t.label}.py-spy.txt"
        cmd = [
            py_spy,
            "record",
            "--pid",
            str(t.pid),
            "--duration",
            str(seconds),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(raw),
            "--nonblocking",
        ]
        running.append((t, raw, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    failed = []
    deadline = time.monotonic() + seconds + 20
    for t, raw, proc in running:
        try:
            output, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        if proc.returncode == 0 and raw.exists():
            t.stacks, t.method = _shorten_folded(parse_folded(raw.read_text().splitlines())), "py-spy"
            raw.unlink()
        else:
            t.note = f"py-spy failed ({proc.returncode}): {(output or '').strip().splitlines()[-1:]}"
            failed.append(t)
    return failed


def sample_with_signals(targets: list[Target], seconds: float, rate: int, idle: bool = False) -> None:
    """SIGUSR1 ``rate`` times a second to every target that listens; parse what they appended."""
    files = {}
    for t in targets:
        path = stacks_file(t.pid)
        if path is None:
            t.note = t.note or "no stack-dump file: not an engine process that listens to SIGUSR1; not sampled"
            continue
        files[t.pid] = (t, path, path.stat().st_size)
    period, deadline = 1 / rate, time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline and files:
        for pid in list(files):
            try:
                os.kill(pid, STACKS_SIGNAL)
            except ProcessLookupError:
                files[pid][0].note = "exited during the run"
                del files[pid]
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
    time.sleep(0.2)  # the last dumps finish writing
    for t, path, start in files.values():
        with contextlib.suppress(OSError):
            with path.open() as f:
                f.seek(start)
                t.stacks, t.method = parse_faulthandler(f.read(), idle=idle), "signals"
            os.truncate(path, 0)  # the process appends (O_APPEND): the next dump starts the file again


def _memory_signal(targets: list[Target]) -> list[Target]:
    """SIGUSR2 to every target that listens (it has a stack-dump file, so it installed both)."""
    listening = [t for t in targets if stacks_file(t.pid) is not None]
    for t in listening:
        with contextlib.suppress(ProcessLookupError):
            os.kill(t.pid, MEMORY_SIGNAL)
    return listening


def collect_memory(listening: list[Target], out: Path, top: int, timeout: float = 15.0) -> str:
    """Second SIGUSR2: each writes a tracemalloc snapshot; summarise them and keep them in ``out``."""
    started = {t.pid: time.time() for t in listening}
    _memory_signal(listening)
    lines = ["Memory allocated during the run and still held at its end (tracemalloc, by line):", ""]
    for t in listening:
        link = stacks_file(t.pid)
        if link is None:
            lines.append(f"{t.label}: exited")
            continue
        snapshot_path = Path(os.readlink(link)).with_suffix(MEMORY_SUFFIX)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (
            snapshot_path.exists() and snapshot_path.stat().st_mtime >= started[t.pid] - 1
        ):
            time.sleep(0.05)
        if not snapshot_path.exists():
            lines.append(f"{t.label}: no snapshot within {timeout:.0f} s")
            continue
        kept = out / f"{t.label}{MEMORY_SUFFIX}"
        shutil.move(snapshot_path, kept)
        stats = tracemalloc.Snapshot.load(str(kept)).statistics("lineno")
        lines.append(f"{t.label}: {sum(s.size for s in stats) / 1e6:.2f} MB in {sum(s.count for s in stats)} blocks")
        lines.extend(
            f"    {s.size / 1024:10.1f} KiB {s.count:8} blocks  {s.traceback[0].filename}:{s.traceback[0].lineno}"
            for s in stats[:top]
        )
    return "\n".join(lines) + "\n"


def _function(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def top_text(targets: list[Target], top: int, header: str) -> str:
    """The functions with the most samples: own (the leaf) and total (anywhere on the stack)."""
    lines = [header, ""]
    merged_own: Counter[str] = Counter()
    merged_total: Counter[str] = Counter()
    where: dict[str, set[str]] = {}
    for t in targets:
        for frames, count in t.stacks.items():
            merged_own[_function(frames[-1])] += count
            for fn in {_function(f) for f in frames}:
                merged_total[fn] += count
                where.setdefault(fn, set()).add(t.name)
    all_samples = max(1, sum(sum(t.stacks.values()) for t in targets))
    lines.append(f"Top {top} functions by own samples, all processes ({all_samples} samples):")
    lines.append(f"  {'own %':>6} {'total %':>7} {'samples':>8}  function (file)  [processes]")
    for fn, count in merged_own.most_common(top):
        lines.append(
            f"  {100 * count / all_samples:6.1f} {100 * merged_total[fn] / all_samples:7.1f} {count:8}  "
            f"{fn}  [{', '.join(sorted(where.get(fn, ())))}]"
        )
    for t in targets:
        samples = sum(t.stacks.values())
        lines += ["", f"{t.label} ({t.method or 'not sampled'}, {samples} samples){': ' + t.note if t.note else ''}"]
        own: Counter[str] = Counter()
        for frames, count in t.stacks.items():
            own[_function(frames[-1])] += count
        lines.extend(f"  {100 * c / max(1, samples):6.1f} %  {fn}" for fn, c in own.most_common(min(top, 10)))
    return "\n".join(lines) + "\n"


def run_profile(
    reading: Reading,
    *,
    seconds: int,
    out: Path,
    method: str,
    rate: int | None,
    memory: bool,
    top: int,
    idle: bool = False,
) -> tuple[list[Target], str]:
    """Profile every process of the engine read in ``reading``; write ``out``; (targets, top text)."""
    out.mkdir(parents=True, exist_ok=True)
    targets = engine_processes(reading)
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))
    use_py_spy = method == "py-spy" or (method == "auto" and py_spy is not None)
    if method == "py-spy" and py_spy is None:
        raise FileNotFoundError("py-spy is not installed (pip install py-spy), or use --method signals")
    listening = _memory_signal(targets) if memory else []
    if use_py_spy:
        assert py_spy is not None
        fallback = sample_with_py_spy(py_spy, targets, seconds, rate or 100, out)
        if fallback and method == "auto":
            sample_with_signals(fallback, 1.0, rate or 50, idle)  # a short look, rather than nothing
    else:
        sample_with_signals(targets, seconds, rate or 50, idle)
    for t in targets:
        if not t.method:
            continue  # not sampled: top.txt says why
        (out / f"{t.label}.folded").write_text(to_folded(t.stacks))
        quiet = "" if t.stacks else " - no samples: it waited the whole time"
        (out / f"{t.label}.svg").write_text(render_svg(t.stacks, f"{t.label}: {t.method}, {seconds} s{quiet}"))
    how = "py-spy" if use_py_spy else "signals (faulthandler stack dumps)"
    header = f"engined profile of {reading.name}: {seconds} s, {how}, {len(targets)} processes"
    text = top_text(targets, top, header)
    (out / "top.txt").write_text(text)
    if memory:
        (out / "memory.txt").write_text(collect_memory(listening, out, top))
    return targets, text
