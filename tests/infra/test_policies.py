"""The IAM policies in .chalice/: generated from the template, naming only the project's resources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.local.template import load_template
from infra.policies import ALLOWED_ACTIONS, expected_policies, template_queues, template_tables
from infra.stages import load_stage

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
# region and account may be "*"; past them a name, then at most a trailing stream / log-stream wildcard
DATA_ARN = r"arn:aws:(dynamodb|sqs|logs):\*:\*:[^*]+(\*|:\*)?"


def policy(stage: str) -> dict:
    return json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))


def statements(stage: str) -> list[dict]:
    return policy(stage)["Statement"]


def resources_for(stage: str, prefix: str) -> set[str]:
    found = set()
    for statement in statements(stage):
        if any(action.startswith(prefix) for action in statement["Action"]):
            resource = statement["Resource"]
            found.update([resource] if isinstance(resource, str) else resource)
    return found


def test_config_points_every_stage_at_its_policy_file_with_autogen_off():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    assert config["autogen_policy"] is False
    for stage in STAGES:
        assert config["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"


def test_checked_in_policies_are_what_the_template_generates():
    # When the policies are generated again from infra/template.yaml
    # Then the files in .chalice/ are identical (run `python -m infra.policies` after a template change)
    for path, text in expected_policies().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale"


@pytest.mark.parametrize("stage", STAGES)
def test_every_table_index_and_stream_of_the_template_is_covered_and_nothing_else(stage):
    stack = load_stage(stage).stack_name
    expected_tables = template_tables(load_template(), stack)
    arn = "arn:aws:dynamodb:*:*:table/{}".format

    by_sid = {s["Sid"]: s for s in statements(stage)}
    assert set(by_sid["TableItems"]["Resource"]) == {arn(t.name) for t in expected_tables}
    assert set(by_sid["TableIndexes"]["Resource"]) == {
        f"{arn(t.name)}/index/{index}" for t in expected_tables for index in t.indexes
    }
    assert set(by_sid["TableStreams"]["Resource"]) == {f"{arn(t.name)}/stream/*" for t in expected_tables}
    assert resources_for(stage, "dynamodb:") == (
        set(by_sid["TableItems"]["Resource"]) | set(by_sid["TableIndexes"]["Resource"])
        | set(by_sid["TableStreams"]["Resource"])
    )
    assert all(t.name.startswith(f"{stack}-") for t in expected_tables)


@pytest.mark.parametrize("stage", STAGES)
def test_the_only_queue_is_the_stages_failures_queue(stage):
    stack = load_stage(stage).stack_name
    assert resources_for(stage, "sqs:") == {
        f"arn:aws:sqs:*:*:{name}" for name in template_queues(load_template(), stack)
    } == {f"arn:aws:sqs:*:*:{stack}-stream-failures"}


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_resource_for_data(stage):
    for statement in statements(stage):
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if any(action.split(":")[0] in ("dynamodb", "sqs", "logs") for action in statement["Action"]):
            for resource in resources:
                assert resource != "*", statement["Sid"]
                assert re.fullmatch(DATA_ARN, resource), resource


@pytest.mark.parametrize("stage", STAGES)
def test_only_allowed_actions_and_no_table_management_or_scan(stage):
    actions = {action for statement in statements(stage) for action in statement["Action"]}
    assert actions <= ALLOWED_ACTIONS
    assert not any("*" in action for action in actions)
    forbidden = {"dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable",
                 "dynamodb:DescribeTable", "sqs:DeleteMessage", "sqs:ReceiveMessage", "iam:PassRole"}
    assert not actions & forbidden
    assert all(statement["Effect"] == "Allow" for statement in statements(stage))


@pytest.mark.parametrize("stage", STAGES)
def test_only_wildcard_resource_is_xray_which_has_no_resource_level_permissions(stage):
    wildcard = [s for s in statements(stage) if s["Resource"] == "*" or "*" in s["Resource"]]
    assert [sorted(s["Action"]) for s in wildcard] == [["xray:PutTelemetryRecords", "xray:PutTraceSegments"]]


@pytest.mark.parametrize("stage", STAGES)
def test_logs_are_limited_to_the_stages_functions(stage):
    assert resources_for(stage, "logs:") == {
        f"arn:aws:logs:*:*:log-group:/aws/lambda/jianghu-{stage}",
        f"arn:aws:logs:*:*:log-group:/aws/lambda/jianghu-{stage}:*",
        f"arn:aws:logs:*:*:log-group:/aws/lambda/jianghu-{stage}-*",
    }


def test_the_stages_do_not_share_a_resource():
    data = {r for r in resources_for("dev", "dynamodb:") | resources_for("dev", "sqs:")}
    assert not data & (resources_for("prod", "dynamodb:") | resources_for("prod", "sqs:"))


def test_app_code_never_scans():
    # Given every Python file of the app (chalicelib and app.py)
    sources = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]

    # Then none calls Scan (the policies do not allow it either)
    offenders = [str(p.relative_to(ROOT)) for p in sources if re.search(r"\.scan\(|\bScan\b", p.read_text("utf-8"))]
    assert offenders == []


def test_checked_in_config_holds_no_cursor_secret():
    # The key lives in SSM Parameter Store; deploy.py puts it in the config only while Chalice runs.
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    assert "CURSOR_SECRET" not in config.get("environment_variables", {})
    for stage, settings in config["stages"].items():
        assert "CURSOR_SECRET" not in settings.get("environment_variables", {}), stage


@pytest.mark.parametrize("stage", STAGES)
def test_cognito_is_limited_to_setting_user_attributes_on_a_user_pool(stage):
    # PUT /me copies the display name into Cognito; the pool id is generated at deploy time, so only
    # the resource type (userpool) narrows it, with the single admin action the code calls.
    cognito = [s for s in statements(stage) if any(a.startswith("cognito-idp:") for a in s["Action"])]
    assert [(s["Action"], s["Resource"]) for s in cognito] == [
        (["cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminDeleteUser"],
         ["arn:aws:cognito-idp:*:*:userpool/*"])
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_s3_is_limited_to_putting_objects_under_the_media_buckets_upload_prefix(stage):
    # A presigned POST is signed with the function's role: it may write uploads and nothing else.
    s3 = [s for s in statements(stage) if any(a.startswith("s3:") for a in s["Action"])]
    assert [(s["Action"], s["Resource"]) for s in s3] == [
        (["s3:PutObject"], [f"arn:aws:s3:::jianghu-{stage}-media-*/uploads/*"]),
        # the account's export and erasure (DELETE /me): its uploads and exports, nothing else
        (["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
         [f"arn:aws:s3:::jianghu-{stage}-media-*/uploads/*", f"arn:aws:s3:::jianghu-{stage}-media-*/exports/*"]),
        (["s3:ListBucket"], [f"arn:aws:s3:::jianghu-{stage}-media-*"]),
    ]
    listing = next(s for s in s3 if s["Action"] == ["s3:ListBucket"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*", "exports/*"]}}
