"""The deployed side of the WebSocket API: `make package` holds it with the management URL and a
ManageConnections grant on that API alone, and the deploy step does the same after `chalice deploy`.

app.py registers no websocket handler of its own here, so the packaged project is a copy whose
app.py gains three minimal handlers when it has none (the live rooms' handlers, once they exist,
are packaged as they are).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.template import load_template
from infra import deploy, packaging
from infra.stages import load_stage, placeholder_outputs

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"

PROBE_HANDLERS = '''

if not app.websocket_handlers:  # a test copy of the project: minimal real handlers
    @app.on_ws_connect()
    def probe_connect(event):
        return {"statusCode": 200}

    @app.on_ws_message()
    def probe_message(event):
        return None

    @app.on_ws_disconnect()
    def probe_disconnect(event):
        return None
'''


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    settings = load_stage("dev")
    outputs = placeholder_outputs(settings, load_template())
    project = packaging.copy_project(ROOT, tmp_path_factory.mktemp("ws-project"), with_requirements=False)
    app_py = project / "app.py"
    app_py.write_text(app_py.read_text(encoding="utf-8") + PROBE_HANDLERS, encoding="utf-8")
    sam = packaging.package("dev", outputs, out_dir=tmp_path_factory.mktemp("ws-out") / "dev",
                            region="us-east-1", project_dir=project)
    return {"path": sam, "template": json.loads(sam.read_text(encoding="utf-8"))}


def chalice_functions(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function" and isinstance(r["Properties"].get("Role"), dict)}


def manage_statements(template: dict) -> list[dict]:
    found = []
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    for resource in roles:
        for policy in resource.get("Properties", {}).get("Policies", []):
            found += [s for s in policy["PolicyDocument"]["Statement"]
                      if "execute-api:ManageConnections" in json.dumps(s.get("Action"))]
    return found


@pytest.mark.slow
def test_the_package_holds_the_websocket_api_and_its_routes(packaged):
    resources = packaged["template"]["Resources"]
    assert resources["WebsocketAPI"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert routes == {"$connect", "$default", "$disconnect"}
    assert {"WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect"} <= set(resources)
    assert resources["WebsocketMessage"]["Properties"]["Timeout"] == 10  # .chalice/config.json


@pytest.mark.slow
def test_every_function_gets_the_management_url_of_that_api(packaged):
    functions = chalice_functions(packaged["template"])
    assert len(functions) > 10
    stage = packaged["template"]["Resources"]["WebsocketAPIStage"]["Properties"]["StageName"]
    for function in functions.values():
        url = function["Properties"]["Environment"]["Variables"]["WEBSOCKET_MANAGEMENT_URL"]
        assert url == {"Fn::Sub": "https://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + stage}


@pytest.mark.slow
def test_manage_connections_is_granted_on_that_apis_connections_only(packaged):
    template = packaged["template"]
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in chalice_functions(template).values()}
    statements = manage_statements(template)
    assert len(statements) == len(roles)  # one in each function's role, and in no other role
    for name in roles:
        (policy,) = template["Resources"][name]["Properties"]["Policies"]
        (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "WebsocketConnections"]
        assert statement["Action"] == ["execute-api:ManageConnections"]
        assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                                    "${AWS::AccountId}:${WebsocketAPI}/api/*/@connections/*"}


@pytest.mark.slow
def test_the_package_with_the_websocket_api_passes_cfn_lint(packaged):
    assert packaging.lint(packaged["path"]) == []


def test_a_package_without_websocket_handlers_gets_no_url_and_no_grant():
    template = {"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Role": {"Fn::GetAtt": ["DefaultRole", "Arn"]}}},
        "DefaultRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
            {"PolicyName": "p", "PolicyDocument": {"Statement": []}}]}}}}
    packaging.add_websocket_management(template)
    assert "Environment" not in template["Resources"]["Fn"]["Properties"]
    assert manage_statements(template) == []


def test_the_generated_policy_files_name_no_execute_api():
    for stage in ("dev", "prod"):
        assert "execute-api" not in (ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8")


# --- the deploy step, against moto ---------------------------------------------------------------

def _function(session, name: str, role_arn: str, variables: dict) -> str:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return session.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="app.handler",
        Code={"ZipFile": code.getvalue()}, Environment={"Variables": variables})["FunctionArn"]


def test_deploy_grants_the_role_that_apis_connections_and_sets_the_url_keeping_other_variables():
    import uuid

    with mock_aws():
        session = boto3.Session(region_name=REGION)
        iam = session.client("iam")
        role_name = f"jianghu-dev-{uuid.uuid4().hex[:6]}"
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
        arns = [_function(session, f"{role_name}-{name}", role_arn, {"STAGE": "dev"})
                for name in ("websocket_connect", "fan_out_posts")]
        resources = [
            {"resource_type": "iam_role", "role_name": role_name, "role_arn": role_arn, "name": "default-role"},
            *({"resource_type": "lambda_function", "lambda_arn": arn, "name": arn.rsplit(":", 1)[1]} for arn in arns),
            {"resource_type": "websocket_api", "name": "websocket_api", "websocket_api_id": "abc123",
             "websocket_api_url": f"wss://abc123.execute-api.{REGION}.amazonaws.com/api/"},
        ]
        url = deploy.configure_websocket_api(iam, session.client("lambda"), resources, region=REGION,
                                             stage_name="api")
        assert url == f"https://abc123.execute-api.{REGION}.amazonaws.com/api"
        for arn in arns:
            configuration = session.client("lambda").get_function_configuration(FunctionName=arn)
            variables = configuration["Environment"]["Variables"]
            assert variables == {"STAGE": "dev", "WEBSOCKET_MANAGEMENT_URL": url}
        policy = iam.get_role_policy(RoleName=role_name, PolicyName=deploy.WEBSOCKET_POLICY_NAME)["PolicyDocument"]
        (statement,) = policy["Statement"]
        assert statement["Action"] == ["execute-api:ManageConnections"]
        assert statement["Resource"] == f"arn:aws:execute-api:{REGION}:123456789012:abc123/api/*/@connections/*"


def test_deploy_without_a_websocket_api_changes_nothing():
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"{name} was called")

    resources = [{"resource_type": "lambda_function", "lambda_arn": "arn:aws:lambda:x:1:function:f", "name": "f"}]
    assert deploy.configure_websocket_api(Untouchable(), Untouchable(), resources, region=REGION,
                                          stage_name="api") is None


def test_a_function_still_updating_is_retried():
    from botocore.exceptions import ClientError

    class Lambda:
        def __init__(self):
            self.refusals = 2
            self.updated = []

        def get_function_configuration(self, FunctionName):  # noqa: N803
            return {"Environment": {"Variables": {}}}

        def update_function_configuration(self, FunctionName, Environment):  # noqa: N803
            if self.refusals:
                self.refusals -= 1
                raise ClientError({"Error": {"Code": "ResourceConflictException"}}, "UpdateFunctionConfiguration")
            self.updated.append(Environment["Variables"]["WEBSOCKET_MANAGEMENT_URL"])

    class Iam:
        def put_role_policy(self, **kwargs):
            pass

    lam = Lambda()
    resources = [{"resource_type": "lambda_function", "lambda_arn": "arn:aws:lambda:x:1:function:f", "name": "f"},
                 {"resource_type": "websocket_api", "websocket_api_id": "id1"}]
    deploy.configure_websocket_api(Iam(), lam, resources, region="us-east-1", stage_name="api", sleep=lambda s: None)
    assert lam.updated == ["https://id1.execute-api.us-east-1.amazonaws.com/api"]
