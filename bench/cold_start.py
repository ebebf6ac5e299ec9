"""Cold start: `import app` in a fresh interpreter against `import boto3`, median of several runs.

Each run is a new Python process that times its own import with `perf_counter` (interpreter start
is the same for both and left out). Three rounds of 15 runs each; the round with the median ratio
is reported, with all three ratios. Runs alternate between the two so that a busy machine slows
both alike. The environment is the dev stage's, as `.chalice/config.json` gives it to the Lambda
functions (tracing off unless a stage turns it on; nothing reaches AWS at import).

Bytecode: both sides import from compiled bytecode, kept in a private cache under `bench/.work/`
and warmed once before timing, because that is how site-packages (boto3 included) are installed.
`source_app_import_ms` is also reported: the app's own modules compiled from source on every run,
which is what a zip without `.pyc` files costs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYCACHE = ROOT / "bench" / ".work" / "pycache"
RUNS = 15
ROUNDS = 3
PROBE = "import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"


def lambda_environment(stage: str = "dev") -> dict[str, str]:
    """A clean environment with what the stage's functions get, plus placeholder credentials."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_LAMBDA_FUNCTION_NAME="jianghu-dev",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    return env


def import_ms(module: str, env: dict[str, str]) -> float:
    result = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr[-4000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def _round(runs: int, cached: dict[str, str], source: dict[str, str]) -> dict:
    app_runs, boto3_runs, source_runs = [], [], []
    for _ in range(runs):
        app_runs.append(import_ms("app", cached))
        boto3_runs.append(import_ms("boto3", cached))
        source_runs.append(import_ms("app", source))
    app_ms, boto3_ms = statistics.median(app_runs), statistics.median(boto3_runs)
    return {
        "app_import_ms": round(app_ms, 1),
        "boto3_import_ms": round(boto3_ms, 1),
        "ratio": round(app_ms / boto3_ms, 2),
        "source_app_import_ms": round(statistics.median(source_runs), 1),
        "runs": runs,
    }


def measure(runs: int = RUNS, rounds: int = ROUNDS) -> dict:
    """`rounds` rounds of `runs` alternating imports; the round with the median ratio is reported,
    with every round's ratio (`round_ratios`): on a shared machine one round can swing by 0.3."""
    cached = {**lambda_environment(), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    source = {**lambda_environment(), "PYTHONDONTWRITEBYTECODE": "1"}  # site-packages keep their own .pyc
    for module in ("boto3", "app"):
        import_ms(module, cached)  # warm the bytecode cache (and the OS file cache)
    measured = sorted((_round(runs, cached, source) for _ in range(rounds)), key=lambda entry: entry["ratio"])
    return {**measured[len(measured) // 2], "round_ratios": [entry["ratio"] for entry in measured]}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
