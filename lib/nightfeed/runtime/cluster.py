"""A Spark standalone cluster on loopback (one master, one or more workers), started from this
venv's Spark.

`make cluster-up` / `make cluster-down` call `nightfeed cluster up|down`. Processes are tracked by
PID files under the state folder; logs land next to them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pyspark

from nightfeed.configuration.config import PROJECT_ROOT
from nightfeed.core.errors import NightfeedError
from nightfeed.runtime.spark import prepare_environment

HOST = "127.0.0.1"
MASTER_PORT = int(os.environ.get("NIGHTFEED_MASTER_PORT", "7077"))
MASTER_URL = f"spark://{HOST}:{MASTER_PORT}"


def state_dir() -> Path:
    return Path(os.environ.get("NIGHTFEED_CLUSTER_DIR", PROJECT_ROOT / ".cluster"))


def _spark_class() -> str:
    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise NightfeedError(f"{log.stem} exited with {proc.returncode}; see {log}")
        time.sleep(0.3)
    raise NightfeedError(f"{log.stem} did not log {text!r} within {timeout:.0f} s; see {log}")


def _start(name: str, args: list[str], ready: str, timeout: float) -> int:
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    env = {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent), "SPARK_LOG_DIR": str(folder)}
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [_spark_class(), *args], stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    (folder / f"{name}.pid").write_text(str(proc.pid))
    try:
        _wait_for(log, ready, proc, timeout)
    except NightfeedError:
        proc.kill()  # never leave a half-started daemon holding the port
        proc.wait()
        raise
    return proc.pid


def running(name: str) -> int | None:
    pid_file = state_dir() / f"{name}.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
        return pid
    except OSError:
        return None


def worker_names(workers: int) -> list[str]:
    """The state names of `workers` workers: `worker`, `worker-2`, ..."""
    return ["worker"] + [f"worker-{k}" for k in range(2, workers + 1)]


def up(cores: int = 2, memory: str = "4g", timeout: float = 60.0, workers: int = 1) -> dict:
    """Start the master and `workers` workers (`cores` and `memory` each) unless already running;
    returns the master URL and PIDs."""
    prepare_environment()
    names = worker_names(workers)
    if running("master") and all(running(w) for w in names):
        pids = [running(w) for w in names]
        return {
            "master": MASTER_URL,
            "master_pid": running("master"),
            "worker_pid": pids[0],
            "worker_pids": pids,
        }
    down()
    master = _start(
        "master",
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            HOST,
            "--port",
            str(MASTER_PORT),
            "--webui-port",
            os.environ.get("NIGHTFEED_MASTER_UI_PORT", "8090"),
        ],
        "I have been elected leader",
        timeout,
    )
    first_ui = int(os.environ.get("NIGHTFEED_WORKER_UI_PORT", "8091"))
    pids = [
        _start(
            name,
            [
                "org.apache.spark.deploy.worker.Worker",
                MASTER_URL,
                "--host",
                HOST,
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--webui-port",
                str(first_ui + k),
                "--work-dir",
                str(state_dir() / name),
            ],
            "Successfully registered with master",
            timeout,
        )
        for k, name in enumerate(names)
    ]
    return {"master": MASTER_URL, "master_pid": master, "worker_pid": pids[0], "worker_pids": pids}


def down() -> list[int]:
    """Stop the workers then the master (by their PIDs and process groups)."""
    stopped = []
    workers = sorted(p.stem for p in state_dir().glob("worker*.pid"))
    for name in (*workers, "master"):
        pid = running(name)
        if pid:
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                    time.sleep(0.1)
                except OSError:
                    break
            else:
                os.killpg(pid, signal.SIGKILL)
            stopped.append(pid)
        (state_dir() / f"{name}.pid").unlink(missing_ok=True)
    return stopped


def package_zip(target: Path | None = None) -> Path:
    """`lib/nightfeed` (its code and `resources/`: default conf, schemas, quality suites) as a zip
    for `spark-submit --py-files`."""
    target = target or PROJECT_ROOT / "build" / "nightfeed.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    pkg = Path(__file__).resolve().parents[1]  # the nightfeed package
    shipped = [*pkg.rglob("*.py"), *(f for f in (pkg / "resources").rglob("*") if f.is_file())]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(shipped):
            zf.write(path, Path("nightfeed") / path.relative_to(pkg))
    return target
