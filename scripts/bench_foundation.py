"""Benchmark the foundation: CLI start-up cost and engine overhead over bare llama.cpp.

Writes bench/foundation-results.json. Run through `scripts/bench foundation`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("llama_cpp", "anthropic", "tree_sitter", "git", "bm25s", "detect_secrets")
PROMPT = "Write a Python function that returns the sum of a list of numbers."
RUNS = 7


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def startup(env: dict[str, str]) -> dict[str, object]:
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "hc --help": [py, "-m", "hybridcode", "--help"],
        "hc --version": [py, "-m", "hybridcode", "--version"],
    }
    results: dict[str, object] = {}
    for name, command in commands.items():
        wall(command, env)  # warm the file cache
        samples = [wall(command, env) for _ in range(RUNS)]
        results[name] = {"median_ms": round(statistics.median(samples) * 1000, 1)}
    trace = subprocess.run(
        [py, "-X", "importtime", "-m", "hybridcode", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in trace.splitlines()
        if "|" in line
    }
    results["heavy_modules_imported_by_help"] = sorted(
        m for m in HEAVY if m in imported
    )
    return results


GENERATE = """
import json, sys, time
from pathlib import Path
mode, path = sys.argv[1], sys.argv[2]
prompt = {prompt!r}
started = time.perf_counter()
if mode == "bare":
    import llama_cpp, os
    llm = llama_cpp.Llama(model_path=path, n_ctx=2048, n_threads=os.cpu_count(),
                          n_threads_batch=os.cpu_count(), seed=0, verbose=False)
    out = llm.create_chat_completion([{{"role": "user", "content": prompt}}],
                                     max_tokens=64, temperature=0.0, seed=0)
    tokens = out["usage"]["completion_tokens"]
else:
    from hybridcode.config import ModelSettings
    from hybridcode.engine.llama import LlamaEngine
    from hybridcode.engine.base import GenerateOptions, Message
    engine = LlamaEngine(Path(path), ModelSettings(n_ctx=2048), "bench")
    out = engine.chat([Message("user", prompt)], GenerateOptions(max_tokens=64))
    tokens = out.completion_tokens
print(json.dumps({{"seconds": time.perf_counter() - started, "tokens": tokens}}))
"""


def engine_overhead(model: Path, env: dict[str, str]) -> dict[str, object]:
    script = GENERATE.format(prompt=PROMPT)
    samples: dict[str, list[float]] = {"bare": [], "hc": []}
    tokens: dict[str, int] = {}
    for _ in range(RUNS):
        for mode in ("bare", "hc"):  # interleaved so drift hits both alike
            done = subprocess.run(
                [sys.executable, "-c", script, mode, str(model)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            samples[mode].append(row["seconds"])
            tokens[mode] = row["tokens"]
    bare, hc = (statistics.median(samples[m]) for m in ("bare", "hc"))
    return {
        "load_plus_64_tokens_median_s": {"bare": round(bare, 3), "hc": round(hc, 3)},
        "completion_tokens": tokens,
        "overhead_percent": round((hc / bare - 1) * 100, 1),
        "runs": RUNS,
    }


def main() -> None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as home:
        env["HC_HOME"] = home
        pull = subprocess.run(
            [sys.executable, "-m", "hybridcode", "models", "pull", "smollm2-135m"],
            env=env,
            capture_output=True,
            text=True,
        )
        if pull.returncode != 0:
            sys.exit(f"cannot pull the model: {pull.stderr}")
        model = Path(home) / "cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
        results = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "startup": startup(env),
            "engine": engine_overhead(model, env),
            "targets": {"help_ms": 150, "engine_overhead_percent": 5},
        }
    out = REPO / "bench" / "foundation-results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
