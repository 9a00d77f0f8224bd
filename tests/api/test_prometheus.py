"""A real Prometheus server scrapes /metrics every second while requests run; PromQL through its HTTP API then
returns the expected counters and histogram buckets."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import SERVED_NAME, free_port, running_server

N_REQUESTS = 3
MAX_TOKENS = 8


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


@pytest.fixture(scope="module")
def prometheus(server):
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    assert os.path.exists(binary), "prometheus not found: install the Debian package 'prometheus'"
    tmp = tempfile.mkdtemp(prefix="strata-prom-")
    port = free_port()
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: strata
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:{server.port}"]
""")
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, open(log.name).read()
            try:
                if requests.get(base + "/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, "prometheus did not become ready:\n" + open(log.name).read()
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def query(prom, promql):
    r = requests.get(prom + "/api/v1/query", params={"query": promql}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def wait_for_value(prom, promql, expected, timeout=30):
    deadline = time.time() + timeout
    while True:
        result = query(prom, promql)
        if result and float(result[0]["value"][1]) == expected:
            return result
        assert time.time() < deadline, f"{promql} = {result}, expected {expected}"
        time.sleep(0.5)


def test_prometheus_scrapes_metrics(server, prometheus):
    # The target is up.
    deadline = time.time() + 30
    while not query(prometheus, 'up{job="strata"} == 1'):
        assert time.time() < deadline, "prometheus never scraped the server"
        time.sleep(0.5)

    for _ in range(N_REQUESTS):
        r = requests.post(server.base + "/v1/completions",
                          json={"model": SERVED_NAME, "prompt": "Once upon a time", "max_tokens": MAX_TOKENS,
                                "temperature": 0, "ignore_eos": True}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["completion_tokens"] == MAX_TOKENS

    label = f'model_name="{SERVED_NAME}"'
    wait_for_value(prometheus, f'strata_request_success_total{{{label},finished_reason="length"}}', N_REQUESTS)
    wait_for_value(prometheus, f"strata_generation_tokens_total{{{label}}}", N_REQUESTS * MAX_TOKENS)
    wait_for_value(prometheus, f'strata_time_to_first_token_seconds_bucket{{{label},le="+Inf"}}', N_REQUESTS)
    wait_for_value(prometheus, f"strata_time_to_first_token_seconds_count{{{label}}}", N_REQUESTS)
    buckets = query(prometheus, f"strata_time_to_first_token_seconds_bucket{{{label}}}")
    assert len(buckets) > 10  # every bucket boundary is a series
    counts = sorted((float(b["metric"]["le"]), float(b["value"][1])) for b in buckets)
    assert all(a[1] <= b[1] for a, b in zip(counts, counts[1:])), "bucket counts must be cumulative"
    p50 = query(prometheus, f"histogram_quantile(0.5, strata_time_to_first_token_seconds_bucket{{{label}}})")
    assert p50 and 0 < float(p50[0]["value"][1]) < 60
    wait_for_value(prometheus, f'strata_request_success_total{{{label},finished_reason="stop"}}', 0)


def test_grafana_dashboard_queries_return_data(server, prometheus):
    """Every query of deploy/grafana/strata-dashboard.json parses in Prometheus and, after the traffic of the test
    above, the core panels return series for this server."""
    import json
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "grafana", "strata-dashboard.json")
    with open(path) as f:
        dashboard = json.load(f)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        result = query(prometheus, expr.replace("$model_name", SERVED_NAME))  # asserts the query is valid
        if expr.startswith(("strata_num_requests_running", "strata_kv_cache_usage_perc")):
            assert result, f"no series for dashboard query {expr}"
