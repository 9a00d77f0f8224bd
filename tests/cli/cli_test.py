"""The `strata` command as a user runs it: inspect, tokenize, run, synth, perplexity and bench on real files.

Run by ctest as `python3 tests/cli/cli_test.py <path to strata>` from the repository root.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

STRATA = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMOLLM = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
GEMMA = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
VOCABS = os.path.join(ROOT, "..", "shared", "testdata", "tokenizer")


def strata(*args, stdin=b"", check=True):
    result = subprocess.run([STRATA, *args], input=stdin, capture_output=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)} failed ({result.returncode}): {result.stderr.decode()}")
    return result


class Inspect(unittest.TestCase):
    def test_smollm2_json(self):
        info = json.loads(strata("inspect", SMOLLM, "--json", "--ctx-size", "2048").stdout)
        model = info["model"]
        self.assertEqual(model["arch"], "llama")
        self.assertEqual((model["n_layer"], model["n_embd"], model["n_head"], model["n_head_kv"]), (30, 576, 9, 3))
        self.assertEqual((model["n_ff"], model["n_vocab"], model["n_ctx_train"]), (1536, 49152, 8192))
        self.assertEqual(info["tokenizer"]["model"], "gpt2")
        self.assertEqual(info["tokenizer"]["pre"], "smollm")
        self.assertEqual(info["quant_mix"]["Q4_1"]["tensors"], 210)
        self.assertTrue(134_000_000 < info["n_params"] < 136_000_000)
        # f16 K and V: 30 layers x 2048 tokens x 3 KV heads x 64 dims x 2 (K, V) x 2 bytes.
        self.assertEqual(info["memory"]["kv_cache_bytes"], 30 * 2048 * 3 * 64 * 2 * 2)

    def test_gemma3_text(self):
        out = strata("inspect", GEMMA).stdout.decode()
        self.assertIn("gemma3", out)
        self.assertIn("sliding window 512", out)
        self.assertIn("Q4_K", out)
        self.assertIn("262144 tokens", out)

    def test_tensors_listing(self):
        out = strata("inspect", SMOLLM, "--tensors").stdout.decode()
        self.assertIn("blk.29.ffn_down.weight", out)

    def test_vocab_only_file(self):
        out = strata("inspect", os.path.join(VOCABS, "ggml-vocab-gpt-2.gguf")).stdout.decode()
        self.assertIn("gpt2", out)

    def test_missing_and_malformed_files_fail_cleanly(self):
        missing = strata("inspect", "/nonexistent/model.gguf", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("/nonexistent/model.gguf", missing.stderr.decode())
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            with open(SMOLLM, "rb") as src:
                f.write(src.read(5000))  # cut inside the metadata
            f.flush()
            cut = strata("inspect", f.name, check=False)
            self.assertEqual(cut.returncode, 1)
            self.assertIn("gguf:", cut.stderr.decode())


class Tokenize(unittest.TestCase):
    def test_every_vector_through_the_cli(self):
        for name in sorted(os.listdir(VOCABS)):
            if not name.endswith(".gguf"):
                continue
            path = os.path.join(VOCABS, name)
            with open(path + ".inp", "rb") as f:
                inputs = f.read().split(b"\n__ggml_vocab_test__\n")
            with open(path + ".out", "rb") as f:
                expected = f.read().decode().split("\n")
            # The .inp file ends with a separator; the last element is empty.
            for text, want in list(zip(inputs, expected))[:40]:
                got = strata("tokenize", "-m", path, stdin=text).stdout.decode().strip()
                self.assertEqual(got, want.strip(), f"{name}: {text!r}")

    def test_special_flags(self):
        text = b"<|im_start|>user"
        plain = strata("tokenize", "-m", SMOLLM, stdin=text).stdout.split()
        special = strata("tokenize", "-m", SMOLLM, "--parse-special", stdin=text).stdout.split()
        self.assertGreater(len(plain), len(special))
        self.assertEqual(special[0], b"1")  # <|im_start|>
        with_bos = strata("tokenize", "-m", GEMMA, "--add-special", stdin=b"Hi").stdout.split()
        self.assertEqual(with_bos[0], b"2")


class Generate(unittest.TestCase):
    def test_run_chat_answers(self):
        out = strata("run", "-m", SMOLLM, "--chat", "-p", "What is the capital of France? Answer in one sentence.",
                     "--temp", "0", "-n", "24")
        self.assertIn("Paris", out.stdout.decode())
        self.assertIn("tok/s", out.stderr.decode())

    def test_run_seed_reproducible(self):
        args = ("run", "-m", SMOLLM, "-p", "Once upon a time", "-n", "16", "--temp", "0.9", "--seed", "7")
        self.assertEqual(strata(*args).stdout, strata(*args).stdout)

    def test_run_rejects_oversized_request(self):
        result = strata("run", "-m", SMOLLM, "-p", "Hello", "-n", "100000", "-c", "512", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("exceeds the context", result.stderr.decode())

    def test_synth_then_run_and_bench(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tiny.gguf")
            strata("gguf", "synth", "--arch", "llama", "--n-embd", "256", "--n-layer", "2", "--n-head", "4",
                   "--n-head-kv", "2", "--n-ff", "512", "--type", "Q4_K_M", "--vocab-from", SMOLLM, "-o", path)
            info = json.loads(strata("inspect", path, "--json").stdout)
            self.assertEqual(info["model"]["n_layer"], 2)
            self.assertEqual(info["model"]["n_vocab"], 49152)
            self.assertIn("Q6_K", info["quant_mix"])
            strata("run", "-m", path, "-p", "hello", "-n", "4")
            bench = strata("bench", "-m", path, "-p", "16", "-n", "8", "-r", "1", "--no-bandwidth").stdout.decode()
            self.assertIn("pp16", bench)
            self.assertIn("tg8", bench)
            # --profile: the decode's ops per token, matmuls by shape and type (n_ff x n_embd gate + up, Q4_K).
            profile = strata("bench", "-m", path, "-p", "0", "-n", "8", "-r", "2", "--no-bandwidth",
                             "--profile").stdout.decode()
            self.assertRegex(profile, r"tg8 runs: [0-9.]+ [0-9.]+ tok/s")  # each of the 2 runs
            self.assertIn("decode profile, per token (16 tokens", profile)
            self.assertIn("matmul_group 512x256 Q4_K + 512x256 Q4_K", profile)
            rows = {line.split()[0]: line.split() for line in profile.splitlines() if line.startswith(
                ("paged_attention", "rms_norm", "all ops"))}
            self.assertEqual(rows["paged_attention"][1], str(2 * 16))  # one per layer and token
            self.assertGreater(float(rows["all"][2]), 0)

    def test_perplexity_is_plausible(self):
        out = strata("perplexity", "-m", SMOLLM, "-f", "/usr/share/common-licenses/GPL-3", "-c", "256",
                     "--chunks", "2").stdout.decode()
        ppl = float(out.split("PPL = ")[1].split()[0])
        self.assertTrue(2 < ppl < 60, out)


if __name__ == "__main__":
    STRATA = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
