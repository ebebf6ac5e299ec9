"""The Lambda functions' IAM policies, generated from `infra/template.yaml` so they cannot drift.

Chalice cannot see PynamoDB's calls, so `autogen_policy` is off and each stage points at
`.chalice/policy-<stage>.json`. This module writes those files: every table of the template by
name (its GSIs by name, its stream), the stream-failures queue, and only the actions the code
uses. Region and account are left as `*` (the tables' names carry the stage, and a table of
another account is out of reach without its own resource policy); nothing else is a wildcard.

    python -m infra.policies           # rewrite .chalice/policy-<stage>.json for every stage
    python -m infra.policies --check   # exit 1 if a file differs from what the template implies
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / ".chalice"
STAGES_PATH = ROOT / "infra" / "stages.json"

# Item operations PynamoDB issues (get, save, update, delete, query, batch_get, batch_write).
# Transactions need no action of their own: TransactWriteItems is authorised per item as
# PutItem / UpdateItem / DeleteItem / ConditionCheckItem. No Scan, no table management.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
INDEX_ACTIONS = ("dynamodb:Query",)
# What Lambda's event source mapping calls with the function's role to read a table's stream.
STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
# The mapping's on-failure destination: Lambda sends a failed batch's description with the function's role.
QUEUE_ACTIONS = ("sqs:SendMessage",)
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray has no resource-level permissions: these two are always granted on "*".
TRACE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")

ALLOWED_ACTIONS = frozenset(
    TABLE_ACTIONS + INDEX_ACTIONS + STREAM_ACTIONS + QUEUE_ACTIONS + LOG_ACTIONS + TRACE_ACTIONS
)


@dataclass(frozen=True)
class TableShape:
    logical_id: str
    name: str
    indexes: tuple[str, ...]
    has_stream: bool


def resolve_name(value, stack_name: str) -> str:
    """A resource name as the template writes it: a literal or `!Sub "${AWS::StackName}-..."`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        resolved = value["Fn::Sub"].replace("${AWS::StackName}", stack_name)
        if "${" not in resolved:
            return resolved
    raise ValueError(f"cannot resolve resource name {value!r}")


def template_tables(template: dict, stack_name: str) -> list[TableShape]:
    tables = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        tables.append(
            TableShape(
                logical_id=logical_id,
                name=resolve_name(props["TableName"], stack_name),
                indexes=tuple(index["IndexName"] for index in props.get("GlobalSecondaryIndexes", [])),
                has_stream="StreamSpecification" in props,
            )
        )
    return tables


def template_queues(template: dict, stack_name: str) -> list[str]:
    return [
        resolve_name(resource["Properties"]["QueueName"], stack_name)
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::SQS::Queue"
    ]


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:*:*:table/{name}"


def build_policy(template: dict, *, stack_name: str, app_name: str = "jianghu", stage: str) -> dict:
    """The policy document for one stage's functions (all of them share it)."""
    tables = template_tables(template, stack_name)
    function_prefix = f"{app_name}-{stage}"
    log_group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_prefix}"
    statements = [
        {
            "Sid": "TableItems",
            "Effect": "Allow",
            "Action": list(TABLE_ACTIONS),
            "Resource": [table_arn(table.name) for table in tables],
        },
        {
            "Sid": "TableIndexes",
            "Effect": "Allow",
            "Action": list(INDEX_ACTIONS),
            "Resource": [f"{table_arn(table.name)}/index/{index}" for table in tables for index in table.indexes],
        },
        {
            "Sid": "TableStreams",
            "Effect": "Allow",
            "Action": list(STREAM_ACTIONS),
            "Resource": [f"{table_arn(table.name)}/stream/*" for table in tables if table.has_stream],
        },
        {
            "Sid": "StreamFailuresQueue",
            "Effect": "Allow",
            "Action": list(QUEUE_ACTIONS),
            "Resource": [f"arn:aws:sqs:*:*:{name}" for name in template_queues(template, stack_name)],
        },
        {
            # Chalice names the API handler `<app>-<stage>` and every other function `<app>-<stage>-<name>`.
            "Sid": "FunctionLogs",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [log_group, f"{log_group}:*", f"{log_group}-*"],
        },
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": list(TRACE_ACTIONS),
            "Resource": "*",
        },
    ]
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s["Resource"]]}


def stage_stack_names(path: Path = STAGES_PATH) -> dict[str, str]:
    stages = json.loads(path.read_text(encoding="utf-8"))
    return {stage: settings["stack_name"] for stage, settings in stages.items()}


def policy_path(stage: str) -> Path:
    return POLICY_DIR / f"policy-{stage}.json"


def render(policy: dict) -> str:
    return json.dumps(policy, indent=2) + "\n"


def expected_policies() -> dict[Path, str]:
    from chalicelib.local.template import load_template

    template = load_template()
    return {
        policy_path(stage): render(build_policy(template, stack_name=stack_name, stage=stage))
        for stage, stack_name in stage_stack_names().items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a policy file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_policies().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"out of date: {names}; run `python -m infra.policies`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

