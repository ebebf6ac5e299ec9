"""Read the CloudFormation template in `infra/` and deploy it into an AWS endpoint (moto).

Moto's CloudFormation creates the tables and the queue but not `AWS::Cognito::*`, so those are
created here through the Cognito API from the same resources' properties, and references to them
are replaced by the created ids before the rest of the template goes to CloudFormation. The
template stays the single source of what exists, locally and in AWS.

Moto's CloudFormation has no CloudFront and no `AWS::S3::BucketPolicy`: the media distribution,
its origin access control and the bucket policy are left out locally (with the outputs that name
them), where the local stack serves `/media/<key>` from moto's S3 itself. Moto also drops the
bucket's CORS, lifecycle and public-access settings; tests/infra/test_template.py checks those.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"
#: Resource types moto's CloudFormation cannot create and nothing local needs.
LOCALLY_SKIPPED_TYPES = ("AWS::CloudFront::", "AWS::S3::BucketPolicy")
_SHORT_FORMS = {"Ref": "Ref", "Condition": "Condition"}


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict:
    key = _SHORT_FORMS.get(tag_suffix, f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if key == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)


def _resolve(value: Any, names: dict[str, str]) -> Any:
    """Resolve the few intrinsics Cognito properties use: Ref and Sub over known names."""
    if isinstance(value, dict):
        if "Ref" in value and value["Ref"] in names:
            return names[value["Ref"]]
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
        return {k: _resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, names) for v in value]
    return value


def _replace_refs(value: Any, replacements: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in replacements:
            return replacements[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            logical, attribute = value["Fn::GetAtt"]
            if f"{logical}.{attribute}" in replacements:
                return replacements[f"{logical}.{attribute}"]
        return {k: _replace_refs(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_refs(v, replacements) for v in value]
    return value


def _mentions(value: Any, logical_ids: set[str]) -> bool:
    """Whether `value` refers to any of `logical_ids` (Ref, GetAtt or inside a Sub string)."""
    if isinstance(value, dict):
        return any(_mentions(v, logical_ids) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, logical_ids) for v in value)
    if isinstance(value, str):
        return value in logical_ids or any(f"${{{name}" in value for name in logical_ids)
    return False


def _create_cognito(cognito, resources: dict, names: dict[str, str]) -> dict[str, Any]:
    """Create the pool, its clients and groups; return what Ref/GetAtt of each resolves to."""
    replacements: dict[str, Any] = {}
    order = ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup")
    for resource_type in order:
        for logical, resource in resources.items():
            if resource["Type"] != resource_type:
                continue
            props = _resolve(copy.deepcopy(resource.get("Properties", {})), {**names, **replacements})
            if resource_type == "AWS::Cognito::UserPool":
                pool = cognito.create_user_pool(PoolName=props.pop("UserPoolName"), **props)["UserPool"]
                replacements[logical] = pool["Id"]
                replacements[f"{logical}.Arn"] = pool["Arn"]
                provider = f"cognito-idp.{names['AWS::Region']}.amazonaws.com/{pool['Id']}"
                replacements[f"{logical}.ProviderName"] = provider
            elif resource_type == "AWS::Cognito::UserPoolClient":
                client = cognito.create_user_pool_client(**props)["UserPoolClient"]
                replacements[logical] = client["ClientId"]
            else:
                cognito.create_group(**props)
                replacements[logical] = props["GroupName"]
    return replacements


def deploy(session, *, stack_name: str, stage: str = "dev", endpoint_url: str | None = None,
           path: Path = TEMPLATE_PATH) -> dict[str, str]:
    """Deploy the template; return its outputs (table names, stream ARNs, pool and client ids)."""
    template = load_template(path)
    region = session.region_name
    names = {"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": "123456789012"}
    cognito_resources = {k: v for k, v in template["Resources"].items() if v["Type"].startswith("AWS::Cognito::")}
    cognito = session.client("cognito-idp", endpoint_url=endpoint_url)
    replacements = _create_cognito(cognito, cognito_resources, names)
    skipped = {k for k, v in template["Resources"].items() if v["Type"].startswith(LOCALLY_SKIPPED_TYPES)}
    rest = {k: v for k, v in template["Resources"].items() if k not in cognito_resources and k not in skipped}
    outputs = {k: v for k, v in template.get("Outputs", {}).items() if not _mentions(v, skipped)}
    template = _replace_refs({**template, "Resources": rest, "Outputs": outputs}, replacements)
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def table_names(outputs: dict[str, str]) -> dict[str, str]:
    return {key[: -len("TableName")]: value for key, value in outputs.items() if key.endswith("TableName")}
