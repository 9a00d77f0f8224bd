"""32 simultaneous streaming clients all complete, and each greedy output equals what its prompt gives alone.

Two servers: one whose engine runs one sequence at a time (every HTTP stream, queue and SSE path is exercised by 32
clients at once, and outputs must match exactly), and one batching all 32 (continuous batching must not change any
sequence's tokens, which needs batch-invariant kernels).
"""
import concurrent.futures
import threading

import openai
import pytest

from conftest import SERVED_NAME, running_server

N_CLIENTS = 32
PROMPTS = ["What is the capital of France?", "Name three colors.", "Count from one to ten.",
           "What is 2 + 2?", "Write a haiku about the sea.", "Who wrote Hamlet?", "Describe a cat.",
           "Why is the sky blue?"]
MAX_TOKENS = 40


def stream_text(client, prompt, barrier=None):
    if barrier is not None:
        barrier.wait()  # every client starts at once
    chunks = client.chat.completions.create(model=SERVED_NAME, messages=[{"role": "user", "content": prompt}],
                                            max_tokens=MAX_TOKENS, temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    text, finish, usage = "", None, None
    for c in chunks:
        if c.choices:
            text += c.choices[0].delta.content or ""
            finish = c.choices[0].finish_reason or finish
        if c.usage:
            usage = c.usage
    return text, finish, usage.completion_tokens


def check_concurrent_matches_solo(max_num_seqs):
    with running_server(["--max-num-seqs", str(max_num_seqs)]) as server:
        client = openai.OpenAI(base_url=server.base + "/v1", api_key="x", max_retries=0, timeout=600)
        # Twice: the first run of a prompt prefills it whole, later runs reuse its cached prefix blocks, and the
        # concurrent clients below do too, so "alone" is taken in the same cache state.
        for p in PROMPTS:
            stream_text(client, p)
        alone = {p: stream_text(client, p) for p in PROMPTS}
        barrier = threading.Barrier(N_CLIENTS)
        with concurrent.futures.ThreadPoolExecutor(N_CLIENTS) as pool:
            futures = [pool.submit(stream_text, client, PROMPTS[i % len(PROMPTS)], barrier) for i in range(N_CLIENTS)]
            results = [f.result(timeout=600) for f in futures]
        assert len(results) == N_CLIENTS
        diverged = []
        for i, got in enumerate(results):
            prompt = PROMPTS[i % len(PROMPTS)]
            assert got[1] in ("stop", "length")
            assert got[2] > 0
            if got != alone[prompt]:
                diverged.append(f"client {i} ({prompt!r}):\n  alone: {alone[prompt][0]!r}\n  batch: {got[0]!r}")
        assert not diverged, f"{len(diverged)} of {N_CLIENTS} streams diverged from their solo run:\n" + \
            "\n".join(diverged)


def test_32_concurrent_streams_one_sequence_at_a_time():
    check_concurrent_matches_solo(1)


def test_32_concurrent_streams_batched():
    check_concurrent_matches_solo(32)
