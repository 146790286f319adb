"""The classroom launcher: its haproxy.cfg and plan as pure functions, HAProxy's own check of the config, and (slow)
the whole thing started for real: sticky sessions, websocket through the proxy, the Dask cluster, a clean stop."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from ae.run.classroom import (
    Child,
    app_child,
    cpu_cores,
    haproxy_path,
    main,
    make_plan,
    parse_args,
    render_haproxy_cfg,
    start,
    stop,
    worker_child,
    worker_threads,
)
from tests.browser import ROOT, free_port

needs_haproxy = pytest.mark.skipif(
    haproxy_path() is None, reason="haproxy is not installed (apt-get install -y haproxy; CI's .ci/run does)"
)


def test_haproxy_cfg_has_a_sticky_server_per_app_and_websocket_timeouts():
    cfg = render_haproxy_cfg("0.0.0.0", 8501, [8600, 8601, 8602])
    servers = re.findall(r"^\s*server (\S+) 127\.0\.0\.1:(\d+) cookie (\S+) check$", cfg, re.M)
    assert servers == [("app1", "8600", "app1"), ("app2", "8601", "app2"), ("app3", "8602", "app3")]
    assert "cookie LLSERVER insert indirect nocache" in cfg
    assert re.search(r"^\s*timeout tunnel 1h$", cfg, re.M)
    assert re.search(r"^\s*timeout (client|server) 1h$", cfg, re.M)
    assert "http-check send meth GET uri /_stcore/health" in cfg
    assert "option forwardfor" in cfg and "balance leastconn" in cfg
    assert "bind 0.0.0.0:8501" in cfg
    assert "balance roundrobin" in render_haproxy_cfg("127.0.0.1", 80, [1], balance="roundrobin")


@needs_haproxy
def test_haproxy_accepts_the_config(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(render_haproxy_cfg("127.0.0.1", free_port(), [free_port(), free_port()]))
    out = subprocess.run([haproxy_path(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


def test_workers_get_one_gpu_each_or_a_share_of_the_cores():
    plan = make_plan(parse_args(["--apps", "2", "--app-port", "9000"]), cores=8, gpus=["3", "5"])
    trainers = [c for c in plan.worker_children if "train=1" in c.argv]
    assert [c.env["CUDA_VISIBLE_DEVICES"] for c in trainers] == ["3", "5"]
    (analysis,) = [c for c in plan.worker_children if "analysis=1" in c.argv]  # the pages' own worker
    assert "CUDA_VISIBLE_DEVICES" not in analysis.env and analysis.env["LATENT_LAB_TORCH_THREADS"] == "2"
    assert "one per CUDA GPU" in plan.workers_why
    assert plan.app_ports == [9000, 9001]

    plan = make_plan(parse_args(["--apps", "4", "--workers", "2"]), cores=8, gpus=[])
    for c in plan.worker_children[:2]:
        assert c.env["OMP_NUM_THREADS"] == c.env["LATENT_LAB_TORCH_THREADS"] == "2"  # 8 cores // (2 * 2 workers)
        assert "CUDA_VISIBLE_DEVICES" not in c.env
        assert str(ROOT) in c.env["PYTHONPATH"].split(os.pathsep)
        assert c.argv[c.argv.index("--resources") + 1] == "train=1" and c.argv[c.argv.index("--nthreads") + 1] == "1"
    sched = plan.scheduler_children[0]
    assert sched.env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] == "0" and sched.fatal


def test_existing_scheduler_starts_no_scheduler_and_no_workers():
    plan = make_plan(parse_args(["--apps", "2", "--scheduler", "tcp://10.0.0.9:8786"]), cores=2, gpus=[])
    assert not plan.scheduler_children and not plan.worker_children
    assert all(c.env["LATENT_LAB_SCHEDULER"] == "tcp://10.0.0.9:8786" for c in plan.app_children)


def test_app_command_is_headless_on_loopback_with_the_shared_models(tmp_path):
    c = app_child(2, 8611, "tcp://127.0.0.1:8786", tmp_path, threads=1)
    assert c.name == "app2" and c.argv[c.argv.index("--server.headless") + 1] == "true"
    assert c.argv[c.argv.index("--server.address") + 1] == "127.0.0.1"
    assert c.argv[c.argv.index("--server.port") + 1] == "8611"
    assert c.env["LATENT_LAB_MODELS"] == str(tmp_path) and c.env["LATENT_LAB_SCHEDULER"] == "tcp://127.0.0.1:8786"
    assert worker_child(1, "tcp://127.0.0.1:1", 1, gpu="0").env["CUDA_VISIBLE_DEVICES"] == "0"


def test_dry_run_prints_commands_and_config_and_starts_nothing(capsys):
    assert main(["--dry-run", "--apps", "2", "--workers", "1", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "dask_scheduler" in out and out.count("dask_worker") == 2 and out.count("-m ui.serve") == 2
    assert out.count("--resources analysis=1") == 1 and out.count("nice -n 10") == 3  # the cluster yields to the apps
    assert "# haproxy.cfg" in out and "bind 0.0.0.0:8123" in out


def test_missing_haproxy_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr("ae.run.classroom.haproxy_path", lambda: None)
    assert main(["--workers", "1"]) == 2
    assert "apt-get install -y haproxy" in capsys.readouterr().err


def test_stop_ends_whole_process_groups(tmp_path):
    """A child's own children (a Dask nanny's worker) go too: stop signals the group, not just the leader."""
    procs = {"sleepy": start(Child("sleepy", ["sh", "-c", "sleep 60 & sleep 60"]), tmp_path)}
    time.sleep(0.3)
    t = time.monotonic()
    assert stop(procs, timeout=5) == []
    assert time.monotonic() - t < 5
    with pytest.raises(ProcessLookupError):
        os.killpg(procs["sleepy"].pid, 0)


# --- end to end ---------------------------------------------------------------------------------------------------


class Client:
    """One browser's cookie jar against the proxy."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str):
        with self.opener.open(self.base + path, timeout=15) as r:
            r.read()
            return r

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def _read_lines(proc: subprocess.Popen, lines: list[str]) -> None:
    for line in proc.stdout:
        lines.append(line)


def _wait_for_line(proc: subprocess.Popen, lines: list[str], text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines):
        if proc.poll() is not None:
            pytest.fail(f"the launcher exited with {proc.returncode}:\n{''.join(lines)[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} from the launcher in {timeout} s:\n{''.join(lines)[-3000:]}")
        time.sleep(0.3)


@pytest.mark.slow
@needs_haproxy
def test_classroom_end_to_end(tmp_path):
    import psutil
    from distributed import Client as DaskClient
    from websockets.sync.client import connect

    port, sched_port = free_port(), free_port()
    argv = [sys.executable, "-m", "ae.run.classroom", "--apps", "2", "--workers", "1", "--host", "127.0.0.1",
            "--port", str(port), "--app-port", "0", "--scheduler-port", str(sched_port),
            "--models", str(tmp_path / "models"), "--logs", str(tmp_path / "logs")]
    env = {**os.environ, "LATENT_LAB_NO_WARMUP": "1", "PYTHONUNBUFFERED": "1"}
    launcher = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=_read_lines, args=(launcher, lines), daemon=True).start()
    children: list[psutil.Process] = []
    try:
        _wait_for_line(launcher, lines, "Ctrl-C stops everything", timeout=240)
        children = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert names.count("-m ui.serve") == 2 and "dask_scheduler" in names and names.count("dask_worker") == 2
        assert "haproxy" in names
        base = f"http://127.0.0.1:{port}"

        # every new browser gets a sticky cookie naming its app
        a, b = Client(base), Client(base)
        a.get("/")
        b.get("/")
        assert a.cookie("LLSERVER") in {"app1", "app2"} and b.cookie("LLSERVER") in {"app1", "app2"}

        # new browsers are spread over both apps
        seen = {a.cookie("LLSERVER"), b.cookie("LLSERVER")}
        for _ in range(4):
            c = Client(base)
            c.get("/")
            seen.add(c.cookie("LLSERVER"))
        assert seen == {"app1", "app2"}

        # a browser that sends its cookie stays on its app: HAProxy never hands it another one
        mine = a.cookie("LLSERVER")
        for path in ["/", "/_stcore/health", "/latent_space", "/"]:
            r = a.get(path)
            assert not [h for h in r.headers.get_all("Set-Cookie") or [] if h.startswith("LLSERVER=")]
            assert a.cookie("LLSERVER") == mine
        assert a.get("/_stcore/health").status == 200

        # the websocket opens through the proxy, with the XSRF token the health call set, on the same app
        xsrf = a.cookie("_streamlit_xsrf")
        assert xsrf, "Streamlit sets its XSRF cookie on /_stcore/health"
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", additional_headers={
            "Cookie": a.cookie_header(), "Origin": base,
        }, subprotocols=["streamlit", xsrf], open_timeout=15) as ws:
            assert ws.response.status_code == 101 and ws.subprotocol == "streamlit"

        # the Dask cluster: one worker offering one training slot and the analysis worker, able to import `ae`
        with DaskClient(f"tcp://127.0.0.1:{sched_port}", timeout=10) as dc:
            workers = list(dc.scheduler_info(n_workers=-1)["workers"].values())
            where = dc.submit(lambda: (__import__("importlib.util").util.find_spec("ae").origin, os.getcwd(),
                                       os.environ.get("LATENT_LAB_TORCH_THREADS")), resources={"train": 1}).result(30)
        assert sorted(tuple(w["resources"].items()) for w in workers) == [(("analysis", 1),), (("train", 1),)]
        assert where == (str(ROOT / "ae" / "__init__.py"), str(ROOT), str(worker_threads(cpu_cores(), 1)))

        # SIGTERM stops every child, the Dask worker under its nanny included
        t = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(30) == 0
        _, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, [p.cmdline() for p in alive]
        assert time.monotonic() - t < 15, "stop() waits 10 s at most before SIGKILL"
        assert any(line.startswith("stopped") for line in lines), "".join(lines)
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            try:
                launcher.wait(30)
            except subprocess.TimeoutExpired:
                launcher.kill()
        for p in children:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass

