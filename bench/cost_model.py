"""Dollars a month per 1,000 daily active users, from the hot-key meter's per-operation units.

    python -m bench.cost_model      # recompute from bench/details.json (what `make bench` measured)

The units per operation (`operation_units` in bench/details.json) are measured by `bench.hotkeys`:
one request through the route plus every stream effect it causes, billed as DynamoDB bills them.
This module multiplies them by an activity mix and list prices. Re-run after a change and compare
`cost.per_1000_dau` with `cost.today_per_1000_dau`: today's design (the units it was first measured
with, kept in bench/today_units.json) priced by this same model, so a line added here is added to
both. The Double-11 issue's target is at most 60 % of it. `cost.first_modelled_today` keeps the
$9.87 the issue was filed against (the first model: no logs, no X-Ray, Lambda at 512 MB).

Lambda is billed from measured numbers where there are some: each request's own CPU time outside
DynamoDB calls and its DynamoDB calls (`request_cpu_ms`, `request_calls`, measured by
`bench.hotkeys` through `bench.lambda_time`), at the memory `.chalice/config.json` gives the prod
stage, as `cpu_ms × 1,769 MB / memory + calls × DYNAMODB_CALL_MS`.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DETAILS = ROOT / "bench" / "details.json"
RESULTS = ROOT / "bench" / "results.json"
TODAY_UNITS = ROOT / "bench" / "today_units.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
SCALE_DOC = ROOT / "docs" / "scale.md"
START, END = "<!-- cost:start -->", "<!-- cost:end -->"

DAYS_PER_MONTH = 30
TARGET_SHARE = 0.6  # at most 60 % of today's design
FIRST_MODELLED_TODAY = 9.87  # today's design in the first model (the figure issue #13 was filed against)

# On-demand list prices, us-east-1 (USD). DynamoDB's on-demand request prices were halved in
# November 2024 ($0.625 / $0.125 per million); the model keeps the older $1.25 / $0.25 so that it
# errs high, and because the comparison with today's design does not depend on the price level.
PRICES = {
    "dynamodb_write_request_unit": 1.25 / 1e6,
    "dynamodb_read_request_unit": 0.25 / 1e6,
    "dynamodb_storage_gb_month": 0.25,
    "streams_read_request_unit": 0.02 / 1e5,  # only for consumers other than Lambda triggers (free for those)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "api_gateway_request": 3.50 / 1e6,  # REST API, first 333 million a month
    "http_api_request": 1.00 / 1e6,  # HTTP API, first 300 million a month (not deployed: a what-if)
    "cloudwatch_logs_ingested_gb": 0.50,  # standard log class
    "xray_trace_recorded": 5.00 / 1e6,
}

# Lambda. One vCPU at 1,769 MB, a proportional share below: a request's measured CPU time (this
# machine's core taken as one vCPU) stretches by 1,769 / memory. A DynamoDB call in-region is
# assumed 10 ms (single-digit milliseconds at p50; a 100-key BatchGetItem more): the function waits
# for it at any memory size. Requests without a measurement are billed API_SECONDS_UNMEASURED.
STAGE = "prod"
VCPU_MB = 1769
DYNAMODB_CALL_MS = 10
API_SECONDS_UNMEASURED = 0.05
STREAM_SECONDS = 0.1  # a stream batch (assumed: the runner's timings on moto are not a function's)
# CloudWatch Logs: at the prod log level (WARNING) the app writes nothing on a normal request; Lambda
# writes START, END and REPORT (REPORT with its X-Ray line when tracing is on): ~440 bytes, plus the
# 26 bytes CloudWatch adds to each event, unless the stage's logging controls set Lambda's system log
# level to WARN (`infra/stages.json` `lambda_logging`), which drops all three. Storage after
# ingestion ($0.03 per GB-month) is left out.
LOG_BYTES_PER_INVOCATION = 440 + 3 * 26
# X-Ray: Lambda's active tracing samples the first request each second and 5 % of the rest (not
# configurable for Lambda); per DAU only the 5 % grows with traffic (the first-each-second part is
# at most 2.6 M traces a month per account, a fixed cost, left out).
XRAY_SAMPLED_SHARE = 0.05
RECORDS_PER_STREAM_INVOCATION = 10  # a stream batch at ordinary traffic (100 at Double-11 peaks)
FOLLOWERS_REACHED_PER_POST = 150  # average followers a post is fanned out to (pushed, not pulled)

# What one daily active user does in a day (requests). Reads dominate, as in any feed product.
MIX = {
    "read_feed_page": 15,
    "get_post": 8,
    "get_profile": 3,
    "list_questions": 2,
    "read_question_answers": 2,
    "good_finds_page": 2,
    "create_post": 0.2,
    "poll_vote": 0.5,
    "follow": 0.3,
    "join_circle": 0.1,
    "create_question": 0.05,
    "vote_answer": 0.5,
    "redeem_coupon": 0.2,
    "write_review": 0.05,
    # likes and comments (SPEC Round 2): every page shows their counts and the reader's own likes,
    # so their writes are part of the mix too
    "like_post": 1,
    "comment_post": 0.2,
}


def lambda_memory_mb(stage: str = STAGE) -> tuple[int, int]:
    """The API function's and the stream functions' memory in `stage`, as Chalice resolves
    `.chalice/config.json`: the stage's `lambda_functions.api_handler`, the stage, the top level's
    `lambda_functions.api_handler`, the top level. Stream functions take the stage's (or top level's)
    size; the fan-out ones name their own, but are a small share of invocations."""
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    stage_config = config.get("stages", {}).get(stage, {})
    chain = [stage_config.get("lambda_functions", {}).get("api_handler", {}), stage_config,
             config.get("lambda_functions", {}).get("api_handler", {}), config]
    api = next(int(level["lambda_memory_size"]) for level in [*chain, {"lambda_memory_size": 128}]
               if "lambda_memory_size" in level)
    streams = next(int(level["lambda_memory_size"]) for level in [stage_config, config, {"lambda_memory_size": 128}]
                   if "lambda_memory_size" in level)
    return api, streams


def api_seconds(op: dict, memory_mb: int) -> float:
    """Billed seconds of one request of `op` at `memory_mb` (rounded up to the millisecond)."""
    if "request_cpu_ms" not in op:
        return API_SECONDS_UNMEASURED
    cpu = op["request_cpu_ms"] * VCPU_MB / min(memory_mb, VCPU_MB)
    return math.ceil(cpu + op.get("request_calls", 0) * DYNAMODB_CALL_MS) / 1000


def daily_per_user(units: dict[str, dict], memory_mb: int | None = None,
                   durations: dict[str, dict] | None = None) -> dict[str, float]:
    """Units, requests, function seconds and bytes one daily active user causes in a day.
    `durations`: where an op's measured CPU time and calls come from (default: `units` itself)."""
    memory_mb = memory_mb or lambda_memory_mb()[0]
    day = {"wcu": 0.0, "rcu": 0.0, "api_requests": 0.0, "api_seconds": 0.0, "stream_invocations": 0.0,
           "new_bytes": 0.0}
    for name, per_day in MIX.items():
        op = units.get(name)
        if op is None:  # an operation the design did not have (today's: likes and comments)
            continue
        day["wcu"] += per_day * op["wcu"]
        day["rcu"] += per_day * op["rcu"]
        day["api_requests"] += per_day
        day["api_seconds"] += per_day * api_seconds((durations or units).get(name, op), memory_mb)
        day["stream_invocations"] += per_day * op.get("stream_invocations", 0) / RECORDS_PER_STREAM_INVOCATION
        day["new_bytes"] += per_day * op.get("new_bytes", 0)
    fan = units.get("fan_out_per_follower")
    if fan:
        reached = MIX["create_post"] * FOLLOWERS_REACHED_PER_POST
        day["wcu"] += reached * fan["wcu"]
        day["rcu"] += reached * fan["rcu"]
        day["new_bytes"] += reached * fan.get("new_bytes", 0)
        day["stream_invocations"] += MIX["create_post"] * fan.get("stream_invocations_per_post", 1)
    return day


def stage_lambda_logging(stage: str = STAGE) -> dict[str, str] | None:
    """The Lambda logging controls the stage deploys with (`infra/stages.json`), or None."""
    from infra.stages import load_stage

    return load_stage(stage).lambda_logging


def log_bytes_per_invocation(lambda_logging: dict[str, str] | None) -> int:
    """What an ordinary invocation writes to CloudWatch Logs: Lambda's START, END and REPORT lines,
    or nothing when the system log level is WARN (the app writes nothing at the prod level)."""
    if lambda_logging and lambda_logging.get("SystemLogLevel") == "WARN":
        return 0
    return LOG_BYTES_PER_INVOCATION


CURRENT = "current"  # `monthly_per_1000_dau`'s logging: the stage's own settings


def monthly_per_1000_dau(units: dict[str, dict], memory: tuple[int, int] | None = None,
                         durations: dict[str, dict] | None = None,
                         lambda_logging: dict[str, str] | None | str = CURRENT) -> dict:
    """Dollars a month for 1,000 daily active users, by service, with the volumes behind them."""
    api_mb, stream_mb = memory or lambda_memory_mb()
    logging_config = stage_lambda_logging() if lambda_logging == CURRENT else lambda_logging
    log_bytes = log_bytes_per_invocation(logging_config)  # type: ignore[arg-type]
    day = daily_per_user(units, api_mb, durations)
    users_days = 1000 * DAYS_PER_MONTH
    wcu, rcu = day["wcu"] * users_days, day["rcu"] * users_days
    api, streams = day["api_requests"] * users_days, day["stream_invocations"] * users_days
    stored_gb = day["new_bytes"] * users_days / 1e9  # a month's new data, billed as a full GB-month
    lambda_gb_s = api_mb / 1024 * day["api_seconds"] * users_days + stream_mb / 1024 * streams * STREAM_SECONDS
    invocations = api + streams
    dollars = {
        "dynamodb_writes": wcu * PRICES["dynamodb_write_request_unit"],
        "dynamodb_reads": rcu * PRICES["dynamodb_read_request_unit"],
        "dynamodb_storage": stored_gb * PRICES["dynamodb_storage_gb_month"],
        "streams": 0.0,  # read by Lambda triggers: no charge
        "lambda": invocations * PRICES["lambda_request"] + lambda_gb_s * PRICES["lambda_gb_second"],
        "api_gateway": api * PRICES["api_gateway_request"],
        "cloudwatch_logs": invocations * log_bytes / 1e9 * PRICES["cloudwatch_logs_ingested_gb"],
        "xray": invocations * XRAY_SAMPLED_SHARE * PRICES["xray_trace_recorded"],
    }
    total = sum(dollars.values())
    return {
        "per_1000_dau": round(total, 2),
        "dollars": {k: round(v, 2) for k, v in dollars.items()},
        "with_http_api": round(total - dollars["api_gateway"] + api * PRICES["http_api_request"], 2),
        "lambda_memory_mb": {"api": api_mb, "streams": stream_mb},
        "monthly_volume": {"write_units": round(wcu), "read_units": round(rcu), "api_requests": round(api),
                           "stream_invocations": round(streams), "new_gb": round(stored_gb, 3),
                           "lambda_gb_seconds": round(lambda_gb_s),
                           "api_ms_per_request": round(day["api_seconds"] / day["api_requests"] * 1000, 1)},
    }


def memory_choices(units: dict[str, dict], sizes: tuple[int, ...] = (256, 512, 1024, 1769)) -> list[dict]:
    """The API function at each memory size: mean billed ms per request (on the mix), the slowest
    operation's, and the month's Lambda dollars per 1,000 DAU (the stream functions as configured)."""
    rows = []
    for size in sizes:
        model = monthly_per_1000_dau(units, (size, lambda_memory_mb()[1]))
        slowest = max(api_seconds(units[name], size) for name in MIX if name in units)
        rows.append({"memory_mb": size, "mean_ms": model["monthly_volume"]["api_ms_per_request"],
                     "slowest_ms": round(slowest * 1000), "lambda_dollars": model["dollars"]["lambda"]})
    return rows


def today_design() -> tuple[dict[str, dict], tuple[int, int]]:
    """Today's design (bench/today_units.json): its units and its prod Lambda memory. Its requests'
    CPU time is taken from today's measurement of the same routes (the earlier bench did not time them)."""
    today = json.loads(TODAY_UNITS.read_text(encoding="utf-8"))
    memory = today.get("lambda_memory_mb", {})
    return today["operation_units"], (int(memory.get("api", 1024)), int(memory.get("streams", 1024)))


def per_table(units: dict[str, dict]) -> dict[str, dict]:
    """Write and read units a month per table (and index) for 1,000 DAU, and their dollars."""
    totals: dict[str, dict[str, float]] = {}
    weights = dict(MIX)
    fan = units.get("fan_out_per_follower")
    if fan:
        weights["fan_out_per_follower"] = MIX["create_post"] * FOLLOWERS_REACHED_PER_POST
    for name, per_day in weights.items():
        for table, table_units in units.get(name, {}).get("units_by_table", {}).items():
            entry = totals.setdefault(table, {"wcu": 0.0, "rcu": 0.0})
            entry["wcu"] += per_day * table_units["wcu"] * 1000 * DAYS_PER_MONTH
            entry["rcu"] += per_day * table_units["rcu"] * 1000 * DAYS_PER_MONTH
    return {table: {"write_units": round(e["wcu"]), "read_units": round(e["rcu"]),
                    "dollars": round(e["wcu"] * PRICES["dynamodb_write_request_unit"]
                                     + e["rcu"] * PRICES["dynamodb_read_request_unit"], 2)}
            for table, e in sorted(totals.items(), key=lambda pair: -pair[1]["wcu"] - pair[1]["rcu"] / 4)}


def cost_entry(units: dict[str, dict], committed: dict | None = None) -> dict:
    """`cost` for results.json: the current design against today's, both priced by this model."""
    model = monthly_per_1000_dau(units)
    today_units, today_memory = today_design()
    # today's design deployed with Lambda's default logging (no `lambda_logging` then)
    today = monthly_per_1000_dau(today_units, today_memory, durations=units, lambda_logging=None)
    share = model["per_1000_dau"] / today["per_1000_dau"]
    return {
        "per_1000_dau": model["per_1000_dau"],
        "today_per_1000_dau": today["per_1000_dau"],
        "share_of_today": round(share, 3),
        "target_share": TARGET_SHARE,
        "target_per_1000_dau": round(TARGET_SHARE * today["per_1000_dau"], 2),
        "gap_to_target": round(model["per_1000_dau"] - TARGET_SHARE * today["per_1000_dau"], 2),
        "with_http_api": model["with_http_api"],
        "share_of_today_with_http_api": round(model["with_http_api"] / today["per_1000_dau"], 3),
        "first_modelled_today": FIRST_MODELLED_TODAY,
        "dollars": model["dollars"],
        "today_dollars": today["dollars"],
        "lambda_memory_mb": model["lambda_memory_mb"],
        "monthly_volume": model["monthly_volume"],
        "api_memory_choices": memory_choices(units),
    }


def render(units: dict[str, dict], cost: dict) -> str:
    """The tables of docs/scale.md between its markers."""
    lines = ["| operation | per day per DAU | WCU | RCU | of which in the request (WCU / RCU) |",
             "|---|---|---|---|---|"]
    for name, per_day in MIX.items():
        op = units.get(name)
        if op is None:
            continue
        lines.append(f"| `{name}` | {per_day:g} | {op['wcu']:g} | {op['rcu']:g} | "
                     f"{op.get('request_wcu', 0):g} / {op.get('request_rcu', 0):g} |")
    fan = units.get("fan_out_per_follower")
    if fan:
        lines.append(f"| `fan_out_per_follower` | {MIX['create_post'] * FOLLOWERS_REACHED_PER_POST:g} "
                     f"(posts × {FOLLOWERS_REACHED_PER_POST} followers) | {fan['wcu']:g} | {fan['rcu']:g} | 0 / 0 |")
    lines += ["", "| table (or table/index) | write units / month | read units / month | $ / month |",
              "|---|---|---|---|"]
    for table, entry in per_table(units).items():
        lines.append(f"| `{table}` | {entry['write_units']:,} | {entry['read_units']:,} | {entry['dollars']:.2f} |")
    lines += ["", "| service | now: $ / month per 1,000 DAU | today's design |", "|---|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {value:.2f} | {cost['today_dollars'].get(name, 0):.2f} |"
              for name, value in cost["dollars"].items()]
    lines += [f"| **total** | **{cost['per_1000_dau']:.2f}** | **{cost['today_per_1000_dau']:.2f}** |",
              "",
              f"Share of today's design: **{cost['share_of_today']:.1%}** (target ≤ {TARGET_SHARE:.0%}, "
              f"${cost['target_per_1000_dau']:.2f}; gap ${cost['gap_to_target']:.2f}). With an HTTP API instead of "
              f"the REST API (not deployed): ${cost['with_http_api']:.2f}, {cost['share_of_today_with_http_api']:.1%}. "
              f"Lambda: API function {cost['lambda_memory_mb']['api']} MB, stream functions "
              f"{cost['lambda_memory_mb']['streams']} MB ({STAGE}), "
              f"{cost['monthly_volume']['api_ms_per_request']:g} ms billed per request on the mix.",
              "",
              "| API function memory | mean billed ms (mix) | slowest operation, ms | Lambda $ / month per 1,000 DAU |",
              "|---|---|---|---|"]
    lines += [f"| {row['memory_mb']} MB | {row['mean_ms']:g} | {row['slowest_ms']} | {row['lambda_dollars']:.2f} |"
              for row in cost["api_memory_choices"]]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    if not SCALE_DOC.exists():
        return
    doc = SCALE_DOC.read_text(encoding="utf-8")
    if START not in doc:
        return
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    SCALE_DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> int:
    details = json.loads(DETAILS.read_text(encoding="utf-8"))
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    units = details["operation_units"]
    results["cost"] = cost_entry(units, results.get("cost"))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_doc(render(units, results["cost"]))
    print(json.dumps(results["cost"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
