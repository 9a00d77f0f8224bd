"""Starts real `strata serve` processes on loopback for the API suites.

STRATA_BIN (the strata binary) and STRATA_SOURCE_DIR come from ctest; run by hand they default to build/ and the
repository root. A missing binary or model is a failure, never a skip.
"""
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests

SOURCE_DIR = os.environ.get("STRATA_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
STRATA_BIN = os.environ.get("STRATA_BIN", os.path.join(SOURCE_DIR, "build", "coordinator", "strata"))
MODEL = os.path.join(SOURCE_DIR, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
SERVED_NAME = "smollm2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, extra_args=(), api_key=None):
        assert os.path.exists(STRATA_BIN), f"strata binary missing: {STRATA_BIN}"
        assert os.path.exists(MODEL), f"model missing: {MODEL} (run deploy/fetch-models.sh)"
        self.port = free_port()
        self.api_key = api_key
        self.base = f"http://127.0.0.1:{self.port}"
        args = [STRATA_BIN, "serve", "-m", MODEL, "--port", str(self.port), "--served-model-name", SERVED_NAME,
                "--ctx-size", "1024", "--threads", "2"]
        if api_key:
            args += ["--api-key", api_key]
        args += list(extra_args)
        self.log = tempfile.NamedTemporaryFile(prefix="strata-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while True:
            assert self.proc.poll() is None, f"strata serve exited with {self.proc.returncode}:\n{self.logs()}"
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, f"strata serve did not come up:\n{self.logs()}"
            time.sleep(0.2)

    def headers(self):
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def logs(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()[-20000:]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        sys.stderr.write(f"--- strata serve log (exit {code}) ---\n{self.logs()[-4000:]}\n")
        os.unlink(self.log.name)
        return code


@contextlib.contextmanager
def running_server(extra_args=(), api_key=None):
    server = Server(extra_args, api_key)
    try:
        yield server
    finally:
        code = server.stop()
    # SIGTERM must shut the server down cleanly.
    assert code == 0, f"strata serve exited with {code}"


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """No silent skips: a skipped test is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} was skipped; the API suites skip nothing"
