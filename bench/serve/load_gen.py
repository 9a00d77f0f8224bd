#!/usr/bin/env python3
"""Load generator for `strata serve` (or any OpenAI-compatible server).

N concurrent clients each stream completions with a fixed prompt length and a fixed output length (ignore_eos), back
to back, for a number of rounds. Reports output throughput (tok/s), time to first token (TTFT) and inter-token latency
(ITL) at p50 / p99.

  # against a running server
  python bench/serve/load_gen.py --base-url http://127.0.0.1:8080 --concurrency 16
  # or let it start one
  python bench/serve/load_gen.py --launch models/SmolLM2-135M-Instruct.Q4_1.gguf --concurrency 1 16

Needs only `requests` (deploy/python-env.sh puts it in .venv/).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import requests


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def make_prompt(base_url, headers, model, n_tokens):
    """A prompt of exactly n_tokens tokens (as the server counts them), built from a repeated word."""
    words = max(1, n_tokens)
    for _ in range(8):
        prompt = " ".join(["hello"] * words)
        r = requests.post(f"{base_url}/v1/completions", headers=headers, timeout=120,
                          json={"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0})
        r.raise_for_status()
        got = r.json()["usage"]["prompt_tokens"]
        if got == n_tokens:
            return prompt
        words = max(1, words + (n_tokens - got))
    return prompt


def one_request(base_url, headers, model, prompt, max_tokens):
    """Streams one completion; returns (ttft, [inter-token gaps], completion_tokens, seconds)."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True, "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    first, last, gaps, tokens = None, None, [], 0
    with requests.post(f"{base_url}/v1/completions", headers=headers, json=body, stream=True, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            now = time.perf_counter()
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            if not chunk.get("choices") or not chunk["choices"][0].get("text"):
                continue
            if first is None:
                first = now
            else:
                gaps.append(now - last)
            last = now
    end = time.perf_counter()
    return (first - start if first else float("nan")), gaps, tokens, end - start


def run_load(base_url, headers, model, prompt, concurrency, rounds, max_tokens):
    ttfts, gaps, tokens, errors = [], [], [0], []
    lock = threading.Lock()

    def client():
        for _ in range(rounds):
            try:
                t, g, n, _ = one_request(base_url, headers, model, prompt, max_tokens)
            except Exception as e:  # noqa: BLE001 - reported, and counted as a failed request
                with lock:
                    errors.append(repr(e))
                continue
            with lock:
                ttfts.append(t)
                gaps.extend(g)
                tokens[0] += n

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "requests": len(ttfts),
        "errors": len(errors),
        "output_tokens": tokens[0],
        "wall_s": wall,
        "throughput_tok_s": tokens[0] / wall,
        "ttft_p50_ms": 1000 * percentile(ttfts, 50),
        "ttft_p99_ms": 1000 * percentile(ttfts, 99),
        "itl_p50_ms": 1000 * percentile(gaps, 50),
        "itl_p99_ms": 1000 * percentile(gaps, 99),
        "itl_mean_ms": 1000 * statistics.fmean(gaps) if gaps else float("nan"),
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    strata = args.strata or os.path.join(root, "build", "coordinator", "strata")
    port = free_port()
    cmd = [strata, "serve", "-m", args.launch, "--port", str(port), "--served-model-name", args.model,
           "--max-num-seqs", str(max(max(args.concurrency), 1))] + args.server_arg
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None:
            sys.exit(f"strata serve exited: {proc.stderr.read()}")
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return proc, base
        except requests.RequestException:
            pass
        if time.time() > deadline:
            proc.kill()
            sys.exit("strata serve did not come up")
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", help="server to load, e.g. http://127.0.0.1:8080")
    ap.add_argument("--launch", metavar="GGUF", help="start `strata serve -m GGUF` on a free port and load it")
    ap.add_argument("--strata", help="strata binary for --launch (default: build/coordinator/strata)")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for --launch (repeatable)")
    ap.add_argument("--model", default="bench", help="model name to send (the served name)")
    ap.add_argument("--api-key", default=os.environ.get("STRATA_API_KEY"))
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16], help="concurrent streams (several: one run each)")
    ap.add_argument("--rounds", type=int, default=2, help="requests each client sends, one after another")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=128, help="output tokens per request (EOS ignored)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = ap.parse_args()
    if bool(args.base_url) == bool(args.launch):
        ap.error("give exactly one of --base-url and --launch")

    proc = None
    base = args.base_url
    if args.launch:
        proc, base = launch(args)
    try:
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        prompt = make_prompt(base, headers, args.model, args.prompt_tokens)
        one_request(base, headers, args.model, prompt, 4)  # warm-up
        for c in args.concurrency:
            result = run_load(base, headers, args.model, prompt, c, args.rounds, args.max_tokens)
            result.update(prompt_tokens=args.prompt_tokens, max_tokens=args.max_tokens)
            if args.json:
                print(json.dumps(result))
            else:
                print(f"streams {c:3d}: {result['requests']} requests ({result['errors']} failed), "
                      f"{result['output_tokens']} tokens in {result['wall_s']:.1f} s = "
                      f"{result['throughput_tok_s']:.1f} tok/s | TTFT p50 {result['ttft_p50_ms']:.0f} ms "
                      f"p99 {result['ttft_p99_ms']:.0f} ms | ITL p50 {result['itl_p50_ms']:.1f} ms "
                      f"p99 {result['itl_p99_ms']:.1f} ms", flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
