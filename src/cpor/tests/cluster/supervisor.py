"""Runs the local cluster's Procfile lines (deploy/cluster.py) one process group each, so
that a test can kill a single node with SIGKILL, stop one, and start it again; and
always takes every group down at the end, whatever happened."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).absolute().parents[4]


def load_cluster_module():
    """deploy/cluster.py, the module behind `make cluster` (not a package: loaded by path)."""
    name = "cpor_deploy_cluster"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.2):
    """Poll ``condition`` until it is truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _live_process_stats() -> list[str]:
    """/proc/<pid>/stat of every process that is not a zombie (an orphan's zombie may
    wait a while for init to reap it, and it no longer runs anything)."""
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if stat.rpartition(")")[2].split()[0] != "Z":
                stats.append(stat)
    return stats


def _group_of(stat: str) -> int:
    # After "(comm)": state, ppid, pgrp.
    return int(stat.rpartition(")")[2].split()[2])


class Process:
    """One Procfile line in a process group (session) of its own."""

    def __init__(self, name: str, command: str, env: dict[str, str], logs: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log_path = logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pgid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S602 - the cluster's own Procfile line
                self.command,
                shell=True,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def signal(self, sig: int) -> None:
        if self.popen is not None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def group_alive(self) -> bool:
        if self.popen is None:
            return False
        self.popen.poll()  # reap the leader
        return any(_group_of(stat) == self.popen.pid for stat in _live_process_stats())

    def kill(self) -> None:
        """SIGKILL to the whole group: the node is gone, as if its host died."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM (a graceful stop), then SIGKILL whatever is left of the group."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        # The whole group, not only its leader: gunicorn's workers finish their requests
        # after the master has been told to stop, and SIGKILL must not cut them short.
        deadline = time.monotonic() + timeout
        while self.group_alive() and time.monotonic() < deadline:
            if self.popen.poll() is None:
                try:
                    self.popen.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.2)
        self.signal(signal.SIGKILL)  # whatever outlived the grace period
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Supervisor:
    """The cluster's processes, started in dependency order."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.module = load_cluster_module()
        logs = cluster.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = cluster.env()
        self.processes = {
            name: Process(name, command, env, logs) for name, command in cluster.procfile().items()
        }

    def __getitem__(self, name: str) -> Process:
        return self.processes[name]

    def add(self, name: str, command: str, env: dict[str, str] | None = None) -> Process:
        """A process the Procfile does not have (a second beat started by mistake)."""
        process = Process(name, command, env or self.cluster.env(), self.cluster.dir / "logs")
        self.processes[name] = process
        return process

    def web_ports(self) -> dict[str, int]:
        return {f"web{n}": port for n, port in enumerate(self.cluster.ports.web, start=1)}

    def wait_web_ready(self, name: str, timeout: float = 180) -> None:
        port = self.web_ports()[name]
        try:
            wait_for(
                lambda: self._dead_check(name) or self.module.node_ready(port),
                timeout=timeout,
                what=f"{name} to answer on port {port}",
                every=0.3,
            )
        except TimeoutError as error:
            last = self.module.LAST_ANSWER.get(port, "no answer")
            raise TimeoutError(f"{error}; /health/ready said: {last}") from None

    def _dead_check(self, name: str) -> bool:
        process = self.processes[name]
        if not process.alive:
            raise RuntimeError(f"{name} exited:\n{process.log_text()[-3000:]}")
        return False

    def start_all(self) -> None:
        ports = self.cluster.ports
        for name in ("s3", "smtp"):
            self[name].start()
        wait_for(
            lambda: self._dead_check("s3") or "bucket" in self["s3"].log_text(),
            timeout=60,
            what="the S3 server and its bucket",
        )
        wait_for(lambda: self.module.port_open(ports.smtp), timeout=30, what="the SMTP sink")
        for name in self.web_ports():
            self[name].start()
        for name in self.processes:
            if name.startswith("worker") or name == "beat":
                self[name].start()
        for name in self.web_ports():
            self.wait_web_ready(name)
        self["nginx"].start()
        wait_for(
            lambda: self._dead_check("nginx") or self.module.port_open(ports.https),
            timeout=30,
            what="nginx",
        )
        for name in self.processes:
            if name.startswith("worker"):
                wait_for(
                    lambda name=name: self._dead_check(name) or " ready" in self[name].log_text(),
                    timeout=90,
                    what=f"{name} to connect to the broker",
                )

    def restart_web(self, name: str, *, graceful: bool) -> None:
        process = self[name]
        if graceful:
            process.stop()
        else:
            process.kill()
        process.start()
        self.wait_web_ready(name)
        # Ready is not yet back in the balancer: nginx counted the node's refusals while
        # it restarted and leaves it out for fail_timeout. Restarting the other node
        # before then leaves nginx no live node at all (502s), as an operator following
        # deploy/README.md would not.
        time.sleep(self.module.FAIL_TIMEOUT_S + 1)

    def stop_all(self) -> None:
        # nginx first (no new requests), then the rest; every group, whatever its state.
        order = ["nginx", *[n for n in self.processes if n != "nginx"]]
        for name in order:
            self[name].signal(signal.SIGTERM)
        for name in order:
            self[name].stop(timeout=20)
