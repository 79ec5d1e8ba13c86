"""Measuring benchmarks: wall time and peak memory of a block, machine facts, JSON output.

Benchmarks (`nightfeed benchmark`, `make bench`) live in this package, outside the runtime
path of the nightly jobs: suites `models` (quality) and `scoring` (speed vs Spark MLlib).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import psutil

MONITOR_SAMPLE_S = 0.25


class PeakRSS:
    """Samples the RSS of this process and all its children (JVM, Python workers) while active."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _total(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self._total()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._total())


@contextmanager
def stage(results: dict, name: str):
    """Record wall seconds and peak RSS (MB, process tree) of a block under results[name]."""
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        yield
        wall = time.perf_counter() - t0
    results[name] = {"wall_s": round(wall, 3), "peak_rss_mb": round(mem.peak / 2**20, 1)}
    print(f"  {name}: {wall:.2f} s, peak RSS {mem.peak / 2**20:.0f} MB", flush=True)


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **result}, indent=1, default=str))
    print(f"wrote {path}")


def timed(results: dict | None, name: str):
    """`stage(results, name)`, or nothing when results is None (untimed runs)."""
    return stage(results, name) if results is not None else nullcontext()


def materialise(df) -> None:
    """Compute every row and column, store nothing: the same sink for both pipelines."""
    df.write.format("noop").mode("overwrite").save()


def monitored(cmd: list[str], env: dict, log: Path) -> tuple[int, list[tuple[float, str]], list[tuple]]:
    """Run cmd; (exit code, its stdout lines with their arrival times, RSS samples of its process
    tree: (time, driver Python, driver JVM, Python workers) in bytes)."""
    samples: list[tuple] = []
    stop = threading.Event()
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)

        def sample() -> None:
            root = psutil.Process(proc.pid)
            while not stop.wait(MONITOR_SAMPLE_S):
                try:
                    samples.append((time.perf_counter(), *_tree_rss(root)))
                except psutil.Error:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lines = [(time.perf_counter(), line) for line in proc.stdout]
        code = proc.wait()
        stop.set()
        sampler.join()
    with log.open("a") as out:
        out.writelines(line for _, line in lines)
    return code, lines, samples


def _tree_rss(root: psutil.Process) -> tuple[int, int, int]:
    driver, jvm, workers = root.memory_info().rss, 0, 0
    for child in root.children(recursive=True):
        try:
            rss = child.memory_info().rss
            if child.name().startswith("java"):
                jvm += rss
            else:
                workers += rss
        except psutil.Error:
            continue
    return driver, jvm, workers
