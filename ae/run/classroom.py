"""One command for a classroom: several Streamlit processes behind HAProxy, plus a Dask cluster for training.

    python -m ae.run.classroom                       # one app per core, workers for training, students open :8501
    python -m ae.run.classroom --apps 4 --workers 2 --port 8080
    python -m ae.run.classroom --scheduler tcp://gpu-box:8786   # train on an existing Dask cluster instead
    python -m ae.run.classroom --dry-run             # print the commands and haproxy.cfg, start nothing

Why: one Streamlit server runs Python on one core, so a class of 30-60 students needs several. Streamlit keeps a
session (widget state, uploads, media) in the memory of the process that opened it, so HAProxy pins each browser to
one process with a cookie (LLSERVER) and tunnels its websocket there. Training leaves the app processes for Dask
workers that each run one job at a time (resource `train=1`); every process shares one models folder, whose catalog
is rescanned every few seconds, so a model trained through any process shows up in all of them.

Each child runs in its own process group with its output in a log file; Ctrl-C or SIGTERM stops every group.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ae import settings
from ae.run import processes
from ae.run.cluster import analysis_threads, scheduler_command, worker_command
from ae.run.processes import ROOT, stop

HEALTH_PATH = "/_stcore/health"
COOKIE = "LLSERVER"


@dataclass(frozen=True)
class Child:
    """One process the classroom runs: `env` holds only what it adds to the launcher's environment. A `fatal` child
    (scheduler, HAProxy) takes the classroom down with it; an app or worker that dies is reported and routed around."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    fatal: bool = False


# --- sizing -------------------------------------------------------------------------------------------------------


def cpu_cores() -> int:
    """Cores this process may use (respects taskset/cpusets, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def cuda_devices(timeout: float = 60.0) -> list[str]:
    """Ids (for CUDA_VISIBLE_DEVICES) of the GPUs torch sees, asked in a subprocess so the launcher never loads torch
    or a CUDA context; [] when there are none or torch cannot tell."""
    probe = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        count = int(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):
        return []
    visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return visible[:count] if visible else [str(i) for i in range(count)]


def default_workers(cores: int, gpus: list[str]) -> tuple[int, str]:
    """(how many training workers, why): one per GPU, else one per two cores so the apps keep the other half."""
    if gpus:
        return len(gpus), f"default: one per CUDA GPU ({', '.join(gpus)})"
    return max(1, cores // 2), f"default: max(1, cores // 2) with {cores} cores and no CUDA GPU"


def worker_threads(cores: int, workers: int) -> int:
    """Torch/OpenMP threads per worker: the workers share half the cores, the apps use the rest."""
    return max(1, cores // (2 * workers))


# --- the processes ------------------------------------------------------------------------------------------------


def scheduler_child(port: int) -> Child:
    """A Dask scheduler on 127.0.0.1 (the workers are local), configured as `cluster.DASK_ENV` says."""
    argv, env = scheduler_command(["--port", str(port)])
    return Child("scheduler", argv, env, fatal=True)


def worker_child(index: int, scheduler: str, threads: int, gpu: str | None = None) -> Child:
    """Dask worker `index` (1-based): one thread and resource train=1, so it runs one training at a time."""
    argv, env = worker_command([scheduler], f"worker{index}", "train", threads, gpu)
    return Child(f"worker{index}", argv, env)


def analysis_child(scheduler: str, cores: int) -> Child:
    """The analysis worker (resource analysis=1): computes what pages read, never behind a training."""
    argv, env = worker_command([scheduler], "analysis", "analysis", analysis_threads(cores))
    return Child("analysis", argv, env)


def app_child(index: int, port: int, scheduler: str, models: Path, threads: int) -> Child:
    """Streamlit process `index` (1-based; its HAProxy server and cookie are `app<index>`), reachable only through
    the proxy. OMP_NUM_THREADS keeps N apps' torch inference from starting N x cores threads (unless already set)."""
    argv = [sys.executable, "-m", "ui.serve", "--server.headless", "true",  # streamlit run app.py, preloaded
            "--server.address", "127.0.0.1", "--server.port", str(port)]
    env = {settings.SCHEDULER: scheduler, settings.MODELS: str(models), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    if "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(threads)
    return Child(f"app{index}", argv, env)


def haproxy_path() -> str | None:
    """Debian installs haproxy in /usr/sbin, which is not on a normal user's PATH there."""
    return shutil.which("haproxy", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin"]))


def haproxy_child(cfg: Path) -> Child:
    """HAProxy in the foreground (-db), so it is our child and logs to its stdout."""
    return Child("haproxy", [haproxy_path() or "haproxy", "-db", "-f", str(cfg)], fatal=True)


def render_haproxy_cfg(host: str, port: int, app_ports: list[int], balance: str = "leastconn") -> str:
    """haproxy.cfg for `app_ports` on 127.0.0.1 behind host:port.

    leastconn spreads the long-lived websockets (round-robin among equally loaded apps); the LLSERVER cookie keeps a
    browser on the app that holds its session, `indirect` hides it from Streamlit and `nocache` keeps shared caches
    from handing one student's cookie to another. `timeout tunnel` governs an upgraded websocket (Streamlit pings
    every 30 s); http-request bounds slow clients. A dead app fails its health check and its browsers are
    redispatched (they reconnect to a fresh session)."""
    servers = "\n".join(f"    server app{i} 127.0.0.1:{p} cookie app{i} check" for i, p in enumerate(app_ports, 1))
    return f"""\
# Written by `python -m ae.run.classroom` on every start; edits are lost.
global
    maxconn 4096
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout client-fin 30s
    timeout http-request 30s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout check 5s

frontend latent_lab
    bind {host}:{port}
    default_backend streamlit_apps

backend streamlit_apps
    balance {balance}
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk
    http-check send meth GET uri {HEALTH_PATH}
    http-check expect status 200
    default-server inter 2s fall 3 rise 2
{servers}
"""


# --- starting and stopping ----------------------------------------------------------------------------------------


def start(child: Child, logs: Path) -> subprocess.Popen:
    """Start `child` in the repo root, in its own process group (so Ctrl-C in the terminal reaches only the launcher,
    which stops the children in order), output to logs/<name>.log."""
    return processes.start(child.argv, logs / f"{child.name}.log", child.env)


# --- waiting ------------------------------------------------------------------------------------------------------


class StartupError(RuntimeError):
    """The classroom could not come up; the message says which part and where its log is."""


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy and uvicorn bind: TIME_WAIT is fine
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_ports(n: int) -> list[int]:
    """n ports the OS says are free now (for --app-port 0); all bound at once so they differ."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(what: str, ready: Callable[[], bool], deadline: float, procs: dict[str, subprocess.Popen],
             logs: Path) -> None:
    """Poll `ready()` until it is true; raise StartupError at `deadline` or as soon as any child exits."""
    while True:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise StartupError(f"{name} exited with code {proc.returncode} while waiting for {what}; "
                                   f"see {logs / (name + '.log')}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise StartupError(f"{what} not ready in time; the logs are in {logs}")
        time.sleep(0.3)


def cluster_workers(address: str, expect: int, timeout: float) -> list[dict]:
    """The scheduler's workers, after waiting up to `timeout` s for `expect` of them; raises StartupError when the
    scheduler does not answer."""
    from distributed import Client

    try:
        with Client(address, timeout=timeout) as client:
            if expect:
                client.wait_for_workers(expect, timeout=timeout)
            return list(client.scheduler_info(n_workers=-1)["workers"].values())
    except (OSError, TimeoutError) as e:
        raise StartupError(f"the Dask scheduler at {address} does not answer ({e})") from e


def lan_address() -> str:
    """This machine's address on the LAN (the route a packet would take; nothing is sent), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


# --- the command --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = cpu_cores()
    p = argparse.ArgumentParser(
        prog="python -m ae.run.classroom",
        description="Start Latent Lab for a classroom: N Streamlit apps behind HAProxy with sticky sessions, and a "
                    "Dask scheduler with training workers. Ctrl-C stops everything.")
    p.add_argument("--apps", type=int, default=cores,
                   help="Streamlit processes, one core each (default: the cores, here %(default)s)")
    p.add_argument("--workers", type=int, default=None,
                   help="Dask training workers, one training at a time each (default: one per CUDA GPU, else "
                        "max(1, cores // 2))")
    p.add_argument("--host", default="0.0.0.0",
                   help="address HAProxy listens on; 0.0.0.0 is the whole LAN (default: %(default)s)")
    p.add_argument("--port", type=int, default=8501, help="port students open (default: %(default)s)")
    p.add_argument("--app-port", type=int, default=8600,
                   help="first app's port on 127.0.0.1, app i gets app-port + i - 1; 0 picks free ports "
                        "(default: %(default)s)")
    p.add_argument("--scheduler-port", type=int, default=8786,
                   help="port of the Dask scheduler started here; 0 picks a free one (default: %(default)s)")
    p.add_argument("--scheduler", default=None,
                   help="tcp://host:port of an existing Dask cluster, to start no scheduler and no workers "
                        "(default: none, start them here)")
    p.add_argument("--models", type=Path, default=ROOT / "models",
                   help="models folder every app shares (default: %(default)s)")
    p.add_argument("--logs", type=Path, default=None,
                   help="folder for each process's log and haproxy.cfg (default: a new temp dir)")
    p.add_argument("--balance", choices=["leastconn", "roundrobin"], default="leastconn",
                   help="how HAProxy picks an app for a new browser (default: %(default)s)")
    p.add_argument("--start-timeout", type=float, default=180.0,
                   help="seconds to wait for every part to answer (default: %(default)s)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the commands and haproxy.cfg, start nothing (default: off)")
    a = p.parse_args(argv)
    if a.apps < 1 or (a.workers is not None and a.workers < 1):
        p.error("--apps and --workers must be at least 1")
    return a


@dataclass
class Plan:
    """Everything the launcher will start, in order, with the facts the summary prints."""

    scheduler: str
    scheduler_children: list[Child]
    worker_children: list[Child]
    app_children: list[Child]
    app_ports: list[int]
    workers_why: str
    haproxy_cfg: str


def make_plan(a: argparse.Namespace, cores: int, gpus: list[str]) -> Plan:
    """The children and haproxy.cfg for parsed arguments; pure apart from picking ports for --app-port 0."""
    app_ports = free_ports(a.apps) if a.app_port == 0 else [a.app_port + i for i in range(a.apps)]
    if a.scheduler:
        why = "the existing cluster's" + ("; --workers ignored" if a.workers else "")
        scheduler, sched, workers = a.scheduler, [], []
    else:
        if a.scheduler_port == 0:  # the workers and apps must be told the port, so pick it now
            a.scheduler_port = free_ports(1)[0]
        scheduler = f"tcp://127.0.0.1:{a.scheduler_port}"
        n, why = (a.workers, "as asked") if a.workers else default_workers(cores, gpus)
        threads = worker_threads(cores, n)
        why += f"; {threads} torch thread(s) each" + ("" if gpus else " on the CPU")
        sched = [scheduler_child(a.scheduler_port)]
        workers = [worker_child(i, scheduler, threads, gpus[(i - 1) % len(gpus)] if gpus else None)
                   for i in range(1, n + 1)] + [analysis_child(scheduler, cores)]
    app_threads = max(1, cores // a.apps)
    apps = [app_child(i, port, scheduler, a.models.resolve(), app_threads) for i, port in enumerate(app_ports, 1)]
    return Plan(scheduler, sched, workers, apps, app_ports, why, render_haproxy_cfg(a.host, a.port, app_ports,
                                                                                   a.balance))


def describe(child: Child) -> str:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in child.env.items())
    return f"# {child.name}\n{env + ' ' if env else ''}{shlex.join(child.argv)}"


def summary(a: argparse.Namespace, plan: Plan, logs: Path, started_scheduler: bool, workers: list[dict]) -> str:
    host = lan_address() if a.host in ("0.0.0.0", "::", "") else a.host
    local = f"  (on this machine: http://127.0.0.1:{a.port})" if host != "127.0.0.1" else ""
    apps = ", ".join(f"app{i} :{p}" for i, p in enumerate(plan.app_ports, 1))
    trainers = sum(1 for w in workers if w.get("resources", {}).get("train"))
    where = "started here" if started_scheduler else "existing cluster"
    return "\n".join([
        "Latent Lab classroom is up.",
        f"  open       http://{host}:{a.port}{local}",
        f"  apps       {len(plan.app_ports)} Streamlit processes on 127.0.0.1: {apps}",
        f"  workers    {len(workers)} Dask workers, {trainers} with train=1 ({plan.workers_why})",
        f"  scheduler  {plan.scheduler} ({where})",
        f"  models     {a.models.resolve()}",
        f"  logs       {logs} (haproxy.cfg is there too)",
        "Ctrl-C stops everything.",
    ])


def supervise(procs: dict[str, subprocess.Popen], children: dict[str, Child], logs: Path) -> int:
    """Report each child that exits; return 1 when a fatal one does (the rest are routed around)."""
    reported: set[str] = set()
    while True:
        for name, proc in procs.items():
            if name in reported or proc.poll() is None:
                continue
            reported.add(name)
            print(f"{name} exited with code {proc.returncode}; see {logs / (name + '.log')}", flush=True)
            if children[name].fatal:
                print("the classroom cannot run without it: stopping everything", flush=True)
                return 1
        time.sleep(1.0)


class Stop(Exception):
    """SIGTERM or SIGHUP arrived: unwind to the cleanup in run()."""


def _raise_stop(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def run(a: argparse.Namespace, plan: Plan, logs: Path) -> int:
    """Start the plan, wait for it, print the summary and supervise; always stops what it started."""
    procs: dict[str, subprocess.Popen] = {}
    children: dict[str, Child] = {}
    deadline = time.monotonic() + a.start_timeout

    def launch(child: Child) -> None:
        children[child.name] = child
        procs[child.name] = start(child, logs)

    try:
        for child in plan.scheduler_children:
            launch(child)
        if plan.scheduler_children:
            wait_for("the Dask scheduler", lambda: tcp_open("127.0.0.1", a.scheduler_port), deadline, procs, logs)
        for child in plan.worker_children + plan.app_children:
            launch(child)
        for i, port in enumerate(plan.app_ports, 1):
            wait_for(f"app{i}", lambda port=port: http_ok(f"http://127.0.0.1:{port}{HEALTH_PATH}"), deadline, procs,
                     logs)
        cfg = logs / "haproxy.cfg"
        cfg.write_text(plan.haproxy_cfg)
        launch(haproxy_child(cfg))
        proxy = "127.0.0.1" if a.host in ("0.0.0.0", "::", "") else a.host
        wait_for("HAProxy", lambda: http_ok(f"http://{proxy}:{a.port}{HEALTH_PATH}"), deadline, procs, logs)
        workers = cluster_workers(plan.scheduler, len(plan.worker_children), max(5.0, deadline - time.monotonic()))
        print(summary(a, plan, logs, bool(plan.scheduler_children), workers), flush=True)
        if not any(w.get("resources", {}).get("train") for w in workers):
            print(f"warning: no worker at {plan.scheduler} advertises train=1; trainings will wait for one",
                  flush=True)
        return supervise(procs, children, logs)
    except StartupError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, Stop):
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        if procs:
            print("stopping " + ", ".join(procs), flush=True)
            killed = stop(procs)
            print("stopped" + (f" (killed after a timeout: {', '.join(killed)})" if killed else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    cores = cpu_cores()
    gpus = cuda_devices() if a.workers is None and not a.scheduler else []
    plan = make_plan(a, cores, gpus)
    if a.dry_run:
        print(f"# {len(plan.app_children)} apps, {len(plan.worker_children)} workers ({plan.workers_why}), "
              f"scheduler {plan.scheduler}\n")
        for child in plan.scheduler_children + plan.worker_children + plan.app_children:
            print(describe(child) + "\n")
        print(describe(haproxy_child(Path("<temp dir>/haproxy.cfg"))) + "\n\n# haproxy.cfg\n" + plan.haproxy_cfg)
        return 0
    if not haproxy_path():
        print("error: haproxy is not installed: apt-get install -y haproxy (or `make classroom`, which installs it)",
              file=sys.stderr)
        return 2
    wanted = [(a.host, a.port)] + [("127.0.0.1", p) for p in plan.app_ports]
    if plan.scheduler_children:
        wanted.append(("127.0.0.1", a.scheduler_port))
    busy = [f"{h}:{p}" for h, p in wanted if not port_free(h, p)]
    if busy:
        print(f"error: port(s) in use: {', '.join(busy)} (another classroom still running? pick others with --port, "
              "--app-port, --scheduler-port)", file=sys.stderr)
        return 2
    a.models.mkdir(parents=True, exist_ok=True)
    logs = a.logs or Path(tempfile.mkdtemp(prefix="latent-lab-classroom-"))
    logs.mkdir(parents=True, exist_ok=True)
    print(f"starting {len(plan.app_children)} apps, {len(plan.worker_children)} workers"
          f"{', a scheduler' if plan.scheduler_children else ''} and HAProxy; logs in {logs}", flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    return run(a, plan, logs)


if __name__ == "__main__":
    sys.exit(main())
