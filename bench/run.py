"""`make bench`: measure, then write bench/results.json and the table in bench/README.md.

    python -m bench.run                       # everything (the package part downloads wheels from PyPI)
    python -m bench.run --only operations     # one part; the others keep their committed numbers

Parts: operations (DynamoDB calls per request), fanout (a 2,000-follower post through the streams),
withdraw (turning off a kind of activity shared to 2,000 followers, through the streams: `bench/withdraw.py`),
hot_keys (Double-11 bursts on one item, metered in write/read units, and the cost model built on
them: `bench/hotkeys.py`, `bench/cost_model.py`), cold_start (`import app` against `import boto3`),
package (the `chalice package` zip), broadcast (one event to 2,000 sockets of the local WebSocket gateway
through the management API: `bench/broadcast.py`), erasure (DELETE /me of a typical user, in calls:
`bench/erasure.py`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

from bench import harness, meter  # noqa: F401  first: their DynamoDB hooks must be in place before any client exists

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "bench" / "README.md"
PARTS = ("operations", "fanout", "withdraw", "hot_keys", "cold_start", "package", "broadcast", "erasure")
ORDER = ("operations", "search_index", "fanout", "withdraw", "hot_keys", "cost", "cold_start", "package", "broadcast",
         "erasure")
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"

FANOUT_RATIO_TARGET = 1.5
COLD_START_RATIO_TARGET = 2.0
ZIP_MB_TARGET = 15.0
BROADCAST_RATIO_TARGET = 1.5


def committed() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}


def run_world_parts(parts: set[str]) -> tuple[dict, dict, dict, dict]:
    """Operations, fan-out and withdrawal share one moto world; returns (operations, fanout, withdraw, details)."""
    from bench import fanout, operations, withdraw

    ops, fan, pulled, details = {}, {}, {}, {}
    ops_extra: dict = {}
    with harness.bench_world() as world:
        if "operations" in parts:
            for name in operations.SCENARIOS:
                measured = operations.measure(world, name)
                details[name] = measured.pop("calls_by_operation")
                ops[name] = measured
                print(f"  {name:<24} {measured['dynamodb_calls']} calls", flush=True)
            from bench import search_index

            amplification = search_index.measure(world)
            details["search_index"] = amplification.pop("entries_written")
            ops_extra["search_index"] = amplification
            print(f"  search index             at most {amplification['max_entries_per_item_event']} entries "
                  f"an item (bound {amplification['bound_per_item']})", flush=True)
        if "fanout" in parts:
            measured = fanout.measure(world)
            details["fanout"] = measured.pop("calls_by_operation")
            details["fanout_seconds_by_operation"] = measured.pop("seconds_by_operation")
            details["fanout_drain_seconds"] = measured.pop("drain_seconds")
            details["fanout_rounds"] = measured.pop("rounds")
            fan = measured
            print(f"  fanout                   {fan['dynamodb_calls']} calls, {fan['seconds']} s "
                  f"(baseline {fan['baseline_seconds']} s)", flush=True)
        if "withdraw" in parts:
            pulled = withdraw.measure(world)
            details["withdraw"] = pulled.pop("calls_by_operation")
            details["withdraw_seconds_by_operation"] = pulled.pop("seconds_by_operation")
            print(f"  withdraw                 {pulled['dynamodb_calls']} calls, {pulled['seconds']} s", flush=True)
    if ops_extra:
        details["search_index_summary"] = ops_extra["search_index"]
    return ops, fan, pulled, details


def fanout_call_target(followers: int) -> float:
    return math.ceil(followers / 25) * 1.1 + 5


def withdraw_call_target(measured: dict) -> float:
    from bench.withdraw import target_calls

    return target_calls(measured["followers"], measured["activities"])


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
    pulled = results.get("withdraw")
    if pulled:
        limit = withdraw_call_target(pulled)
        calls = pulled["dynamodb_calls"]
        rows.append(("withdraw calls", str(calls), f"≤ {limit:g}", calls <= limit))
    for name, entry in results.get("hot_keys", {}).items():
        rows.append((f"{name} hottest key WCU/s", f"{entry['projected_wcu_per_s']:g}", f"≤ {meter_ceiling('wcu')}",
                     entry["projected_wcu_per_s"] <= meter_ceiling("wcu")))
        rows.append((f"{name} transactions/s on one item", f"{entry['projected_tx_per_s_per_item']:g}",
                     f"≤ {meter_ceiling('tx')}", entry["projected_tx_per_s_per_item"] <= meter_ceiling("tx")))
    cost = results.get("cost")
    if cost:
        limit = round(cost["today_per_1000_dau"] * cost["target_share"], 2)
        rows.append(("cost per 1,000 DAU", f"{cost['per_1000_dau']}", f"≤ {limit}", cost["per_1000_dau"] <= limit))
    cold = results.get("cold_start")
    if cold:
        rows.append(("cold_start ratio", f"{cold['ratio']}", f"≤ {COLD_START_RATIO_TARGET}",
                     cold["ratio"] <= COLD_START_RATIO_TARGET))
    package = results.get("package")
    if package:
        size = package["zip_mb"]
        rows.append(("package zip_mb", f"{size}", f"≤ {ZIP_MB_TARGET:g}", size <= ZIP_MB_TARGET))
    sent = results.get("broadcast")
    if sent:
        rows.append(("broadcast management calls", str(sent["management_calls"]), f"= {sent['connections']}",
                     sent["management_calls"] == sent["connections"]))
        rows.append(("broadcast ratio", f"{sent['ratio']}", f"≤ {BROADCAST_RATIO_TARGET}",
                     sent["ratio"] <= BROADCAST_RATIO_TARGET))
    return rows


def broadcast_table(results: dict) -> list[str]:
    sent = results.get("broadcast")
    if not sent:
        return []
    met = sent["ratio"] <= BROADCAST_RATIO_TARGET
    return ["", "### Broadcast: one event to the sockets of the local WebSocket gateway (`bench/broadcast.py`)", "",
            "| measure | value | target |", "|---|---|---|",
            f"| connections (real sockets) | {sent['connections']:,} | ≥ 2000 |",
            f"| management API calls | {sent['management_calls']:,} | = connections (no batch call) |",
            f"| broadcast seconds ({sent['senders']} parallel senders) | {sent['seconds']} | - |",
            f"| bare sequential loop seconds | {sent['baseline_seconds']} | - |",
            f"| broadcast ratio | {sent['ratio']} | ≤ {BROADCAST_RATIO_TARGET}{'' if met else ' ✗'} |",
            f"| frames delivered ({sent['rounds']} rounds × 2 sends) | {sent['frames_delivered']:,} | all |"]


def meter_ceiling(kind: str) -> int:
    from bench import hotkeys

    return hotkeys.WCU_CEILING if kind == "wcu" else hotkeys.TX_CEILING


def hot_key_table(results: dict) -> list[str]:
    hot = results.get("hot_keys")
    if not hot:
        return []
    wcu, tx = meter_ceiling("wcu"), meter_ceiling("tx")
    lines = ["", "### Hot keys at Double-11 rates (projected from scaled bursts; see `bench/hotkeys.py`)", "",
             "| scenario | rate /s | hottest write key | share | WCU/s on it | tx/s on one item | WCU/op | RCU/op |",
             "|---|---|---|---|---|---|---|---|"]
    for name, e in hot.items():
        lines.append(f"| `{name}` | {e['rate_per_s']:,} | `{e['hottest_key']}` | {e['hottest_key_share']} | "
                     f"{e['projected_wcu_per_s']:,g}{'' if e['projected_wcu_per_s'] <= wcu else ' ✗'} | "
                     f"{e['projected_tx_per_s_per_item']:,g}{'' if e['projected_tx_per_s_per_item'] <= tx else ' ✗'} | "
                     f"{e['wcu_per_op']:g} | {e['rcu_per_op']:g} |")
    cost = results.get("cost")
    if cost:
        limit = cost["today_per_1000_dau"] * cost["target_share"]
        lines += ["", f"Cost model (`bench/cost_model.py`, `docs/scale.md`): ${cost['per_1000_dau']:.2f} a month per "
                  f"1,000 daily active users; today's design ${cost['today_per_1000_dau']:.2f}, target ≤ "
                  f"${limit:.2f}{'' if cost['per_1000_dau'] <= limit else ' ✗'}."]
    return lines


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
    pulled = results.get("withdraw")
    if pulled:
        limit = withdraw_call_target(pulled)
        by_api = ", ".join(f"{api} {count}" for api, count in sorted(details.get("withdraw", {}).items()))
        seconds_by_api = ", ".join(f"{api} {seconds} s" for api, seconds in
                                   sorted(details.get("withdraw_seconds_by_operation", {}).items()))
        lines += [f"| withdraw a kind: {pulled['activities']} activities shared to {pulled['followers']} followers, "
                  f"DynamoDB calls | {pulled['dynamodb_calls']}" + (f" ({by_api})" if by_api else "")
                  + f" | ≤ {limit:g}{'' if pulled['dynamodb_calls'] <= limit else ' ✗'} |",
                  f"| withdraw a kind: seconds in handlers ({pulled['entries_removed']} entries removed) | "
                  f"{pulled['seconds']}" + (f" (in DynamoDB calls: {seconds_by_api})" if seconds_by_api else "")
                  + " | - |"]
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
    lines += hot_key_table(results)
    lines += broadcast_table(results)
    erased = results.get("erasure")
    if erased:
        lines += ["", "### Erasure of a typical user (`bench/erasure.py`, `docs/scale.md`)", "",
                  "| rows | job steps | job's own DynamoDB calls | all DynamoDB calls (stream effects too) | scans |",
                  "|---|---|---|---|---|",
                  f"| {erased['rows']} | {erased['steps']} | {erased['job_calls']} | {erased['dynamodb_calls']} | "
                  f"{erased['scans']} |"]
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
    if parts & {"operations", "fanout", "withdraw"}:
        print("operations, fan-out and withdrawal (moto, in-process):", flush=True)
        ops, fan, pulled, measured_details = run_world_parts(parts)
        if ops:
            results["operations"] = ops
        if "search_index_summary" in measured_details:
            results["search_index"] = measured_details.pop("search_index_summary")
        if fan:
            results["fanout"] = fan
        if pulled:
            results["withdraw"] = pulled
        details.update(measured_details)
    if "hot_keys" in parts:
        from bench import cost_model, hotkeys

        print("hot keys (Double-11 bursts, metered in billed units):", flush=True)
        measured = hotkeys.measure_all()
        results["hot_keys"] = measured["hot_keys"]
        details["hot_keys"] = measured["hot_key_details"]
        details["operation_units"] = measured["operation_units"]
        results["cost"] = cost_model.cost_entry(details["operation_units"], results.get("cost"))
        cost_model.write_doc(cost_model.render(details["operation_units"], results["cost"]))
        print(f"  cost: ${results['cost']['per_1000_dau']} a month per 1,000 DAU", flush=True)
    if "cold_start" in parts:
        from bench import cold_start

        print("cold start (fresh interpreters):", flush=True)
        cold = cold_start.measure()
        results["cold_start"] = {key: cold[key] for key in ("app_import_ms", "boto3_import_ms", "ratio",
                                                            "round_ratios")}
        details["source_app_import_ms"] = cold["source_app_import_ms"]
        print(f"  app {cold['app_import_ms']} ms, boto3 {cold['boto3_import_ms']} ms "
              f"(ratios of the rounds: {cold['round_ratios']})", flush=True)
    if "package" in parts:
        from bench import package

        print("package (chalice package, wheels from PyPI):", flush=True)
        built = package.measure()
        results["package"] = {"zip_mb": built["zip_mb"]}
        details["largest"] = built["largest"]
        print(f"  deployment.zip {built['zip_mb']} MB", flush=True)

    if "broadcast" in parts:
        from bench import broadcast

        print("broadcast (2,000 sockets on the local WebSocket gateway):", flush=True)
        results["broadcast"] = broadcast.measure()
        print(f"  {results['broadcast']['management_calls']} management calls in {results['broadcast']['seconds']} s "
              f"(bare loop {results['broadcast']['baseline_seconds']} s)", flush=True)

    if "erasure" in parts:
        from bench import erasure as erasure_bench

        print("erasure (DELETE /me of a typical user, moto in-process):", flush=True)
        with harness.bench_world() as world:
            measured = erasure_bench.measure(world)
        details["erasure"] = measured.pop("calls_by_operation")
        details["erasure_typical_user"] = measured.pop("typical_user")
        results["erasure"] = measured
        print(f"  {measured['rows']} rows, {measured['steps']} steps, {measured['job_calls']} job calls, "
              f"{measured['dynamodb_calls']} calls in all", flush=True)

    ordered = {key: results[key] for key in ORDER if key in results}
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
