"""`make bench`: measure, then write bench/results.json and the table in bench/README.md.

    python -m bench.run                       # everything (the package part downloads wheels from PyPI)
    python -m bench.run --only operations     # one part; the others keep their committed numbers

Parts: operations (DynamoDB calls per request), fanout (a 2,000-follower post through the streams),
cold_start (`import app` against `import boto3`), package (the `chalice package` zip).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

from bench import harness  # first: its DynamoDB call counter must be in place before any client exists

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "bench" / "README.md"
PARTS = ("operations", "fanout", "cold_start", "package")
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"

FANOUT_RATIO_TARGET = 1.5
COLD_START_RATIO_TARGET = 2.0
ZIP_MB_TARGET = 15.0


def committed() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}


def run_world_parts(parts: set[str]) -> tuple[dict, dict, dict]:
    """Operations and fan-out share one moto world; returns (operations, fanout, details)."""
    from bench import fanout, operations

    ops, fan, details = {}, {}, {}
    with harness.bench_world() as world:
        if "operations" in parts:
            for name in operations.SCENARIOS:
                measured = operations.measure(world, name)
                details[name] = measured.pop("calls_by_operation")
                ops[name] = measured
                print(f"  {name:<24} {measured['dynamodb_calls']} calls", flush=True)
        if "fanout" in parts:
            measured = fanout.measure(world)
            details["fanout"] = measured.pop("calls_by_operation")
            details["fanout_seconds_by_operation"] = measured.pop("seconds_by_operation")
            details["fanout_drain_seconds"] = measured.pop("drain_seconds")
            details["fanout_rounds"] = measured.pop("rounds")
            fan = measured
            print(f"  fanout                   {fan['dynamodb_calls']} calls, {fan['seconds']} s "
                  f"(baseline {fan['baseline_seconds']} s)", flush=True)
    return ops, fan, details


def fanout_call_target(followers: int) -> float:
    return math.ceil(followers / 25) * 1.1 + 5


def verdicts(results: dict) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) for every number that has a target."""
    from bench.operations import TARGETS

    rows = []
    for name, numbers in results.get("operations", {}).items():
        target = TARGETS.get(name)
        calls = numbers["dynamodb_calls"]
        rows.append((f"{name} calls", str(calls), f"≤ {target}" if target else "-", target is None or calls <= target))
        rows.append((f"{name} scans", str(numbers["scans"]), "0", numbers["scans"] == 0))
    fan = results.get("fanout")
    if fan:
        limit = fanout_call_target(fan["followers"])
        rows.append(("fanout calls", str(fan["dynamodb_calls"]), f"≤ {limit:g}", fan["dynamodb_calls"] <= limit))
        ratio = fan["ratio"]
        rows.append(("fanout ratio", f"{ratio}", f"≤ {FANOUT_RATIO_TARGET}", ratio <= FANOUT_RATIO_TARGET))
    cold = results.get("cold_start")
    if cold:
        rows.append(("cold_start ratio", f"{cold['ratio']}", f"≤ {COLD_START_RATIO_TARGET}",
                     cold["ratio"] <= COLD_START_RATIO_TARGET))
    package = results.get("package")
    if package:
        size = package["zip_mb"]
        rows.append(("package zip_mb", f"{size}", f"≤ {ZIP_MB_TARGET:g}", size <= ZIP_MB_TARGET))
    return rows


def table(results: dict, details: dict, extra: dict) -> str:
    from bench.operations import TARGETS

    lines = ["### Operations: DynamoDB calls per request", "",
             "| operation | calls | target | scans | items written | calls by API |", "|---|---|---|---|---|---|"]
    for name, numbers in results.get("operations", {}).items():
        target = TARGETS.get(name)
        met = target is None or numbers["dynamodb_calls"] <= target
        by_api = ", ".join(f"{api} {count}" for api, count in sorted(details.get(name, {}).items())) or "-"
        lines.append(f"| `{name}` | {numbers['dynamodb_calls']} | {f'≤ {target}' if target else '-'}"
                     f"{'' if met else ' ✗'} | {numbers['scans']} | {numbers['items_written']} | {by_api} |")
    fan = results.get("fanout")
    if fan:
        limit = fanout_call_target(fan["followers"])
        by_api = ", ".join(f"{api} {count}" for api, count in sorted(details.get("fanout", {}).items()))
        seconds_by_api = ", ".join(f"{api} {seconds} s" for api, seconds in
                                   sorted(details.get("fanout_seconds_by_operation", {}).items()))
        lines += ["", "### Fan-out, cold start, package", "", "| measure | value | target |", "|---|---|---|",
                  f"| fan-out followers | {fan['followers']} | ≥ 2000 |",
                  f"| fan-out DynamoDB calls | {fan['dynamodb_calls']}" + (f" ({by_api})" if by_api else "")
                  + f" | ≤ {limit:g}{'' if fan['dynamodb_calls'] <= limit else ' ✗'} |",
                  f"| fan-out seconds | {fan['seconds']}" + (f" (in DynamoDB calls: {seconds_by_api})"
                                                             if seconds_by_api else "") + " | - |",
                  f"| bare BatchWriteItem loop seconds | {fan['baseline_seconds']} | - |",
                  f"| fan-out ratio | {fan['ratio']} | ≤ {FANOUT_RATIO_TARGET}"
                  f"{'' if fan['ratio'] <= FANOUT_RATIO_TARGET else ' ✗'} |"]
    else:
        lines += ["", "### Cold start, package", "", "| measure | value | target |", "|---|---|---|"]
    cold = results.get("cold_start")
    if cold:
        source = extra.get("source_app_import_ms")
        lines += [f"| `import app` ms (median) | {cold['app_import_ms']} | - |",
                  f"| `import boto3` ms (median) | {cold['boto3_import_ms']} | - |",
                  f"| cold-start ratio | {cold['ratio']} | ≤ {COLD_START_RATIO_TARGET}"
                  f"{'' if cold['ratio'] <= COLD_START_RATIO_TARGET else ' ✗'} |"]
        if source:
            lines.append(f"| `import app` ms, app code compiled from source | {source} | - |")
    package = results.get("package")
    if package:
        lines.append(f"| deployment zip MB | {package['zip_mb']} | ≤ {ZIP_MB_TARGET:g}"
                     f"{'' if package['zip_mb'] <= ZIP_MB_TARGET else ' ✗'} |")
        if extra.get("largest"):
            biggest = ", ".join(f"{name} {mb}" for name, mb in extra["largest"][:6])
            lines.append(f"| largest in the zip (MB) | {biggest} | - |")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines += ["", f"Measured {stamp} with Python {sys.version.split()[0]} on moto (in-process)."]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=PARTS, help="measure this part only (repeatable)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a number misses its target")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)

    warnings.filterwarnings("ignore")
    harness.prepare_environment()
    results = committed()
    details: dict = json.loads(README_DETAILS.read_text(encoding="utf-8")) if README_DETAILS.exists() else {}
    if parts & {"operations", "fanout"}:
        print("operations and fan-out (moto, in-process):", flush=True)
        ops, fan, measured_details = run_world_parts(parts)
        if ops:
            results["operations"] = ops
        if fan:
            results["fanout"] = fan
        details.update(measured_details)
    if "cold_start" in parts:
        from bench import cold_start

        print("cold start (fresh interpreters):", flush=True)
        cold = cold_start.measure()
        results["cold_start"] = {key: cold[key] for key in ("app_import_ms", "boto3_import_ms", "ratio")}
        details["source_app_import_ms"] = cold["source_app_import_ms"]
        print(f"  app {cold['app_import_ms']} ms, boto3 {cold['boto3_import_ms']} ms", flush=True)
    if "package" in parts:
        from bench import package

        print("package (chalice package, wheels from PyPI):", flush=True)
        built = package.measure()
        results["package"] = {"zip_mb": built["zip_mb"]}
        details["largest"] = built["largest"]
        print(f"  deployment.zip {built['zip_mb']} MB", flush=True)

    ordered = {key: results[key] for key in ("operations", "fanout", "cold_start", "package") if key in results}
    RESULTS.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    README_DETAILS.write_text(json.dumps(details, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_readme(table(ordered, details, details))
    missed = [row for row in verdicts(ordered) if not row[3]]
    for what, value, target, _ in missed:
        print(f"MISSED {what}: {value} (target {target})")
    print(f"wrote {RESULTS.relative_to(ROOT)} and {README.relative_to(ROOT)}")
    return 1 if missed and args.strict else 0


README_DETAILS = ROOT / "bench" / "details.json"

if __name__ == "__main__":
    sys.exit(main())
