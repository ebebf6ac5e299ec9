"""`chalice package` output, completed by infra/packaging.py and validated with cfn-lint.

The package is built once for the module from a copy of the project with placeholder ARNs for the
infra outputs and an empty requirements.txt (so Chalice downloads nothing: the template is what
is under test, not the zip).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.local.template import load_template
from infra import packaging
from infra.stages import load_stage, method_settings, placeholder_outputs

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_PATHS = {"/health", "/openapi.json"}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    settings = load_stage("dev")
    outputs = placeholder_outputs(settings, load_template())
    project = packaging.copy_project(ROOT, tmp_path_factory.mktemp("project"), with_requirements=False)
    sam = packaging.package("dev", outputs, out_dir=tmp_path_factory.mktemp("out") / "dev",
                            region="us-east-1", project_dir=project)
    return {"path": sam, "template": json.loads(sam.read_text(encoding="utf-8")), "outputs": outputs,
            "settings": settings, "project": project}


def functions(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def dynamodb_events(template: dict) -> list[dict]:
    return [event["Properties"] for function in functions(template).values()
            for event in function["Properties"].get("Events", {}).values() if event["Type"] == "DynamoDB"]


@pytest.mark.slow
def test_packaged_template_passes_cfn_lint(packaged):
    assert packaging.lint(packaged["path"]) == []


@pytest.mark.slow
def test_every_stream_event_source_carries_the_poison_record_settings(packaged):
    settings, queue_arn = packaged["settings"], packaged["outputs"]["StreamFailuresQueueArn"]
    events = dynamodb_events(packaged["template"])
    assert events, "the app registers stream handlers"
    for event in events:
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert event["BisectBatchOnFunctionError"] is True
        assert event["MaximumRetryAttempts"] == settings.maximum_retry_attempts
        assert event["MaximumRecordAgeInSeconds"] == settings.maximum_record_age_seconds
        assert event["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}


@pytest.mark.slow
def test_the_fan_out_functions_get_their_timeout_and_parallelization_factor(packaged):
    from chalicelib.streams.settings import HANDLER_SETTINGS, settings_of

    seen = set()
    for function in functions(packaged["template"]).values():
        props = function["Properties"]
        handler = props["Handler"].rsplit(".", 1)[-1]
        for event in props.get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                seen.add(handler)
                assert event["Properties"]["ParallelizationFactor"] == settings_of(handler).parallelization_factor
                if handler in HANDLER_SETTINGS:
                    assert event["Properties"]["BatchSize"] == HANDLER_SETTINGS[handler].batch_size
                    assert props["Timeout"] == HANDLER_SETTINGS[handler].timeout_seconds, handler
    assert set(HANDLER_SETTINGS) <= seen


@pytest.mark.slow
def test_each_handler_reads_a_real_stream_of_the_template_and_no_stream_has_more_than_two(packaged):
    streams = [event["Stream"] for event in dynamodb_events(packaged["template"])]
    known = {v for k, v in packaged["outputs"].items() if k.endswith("StreamArn")}
    assert set(streams) <= known
    assert all(streams.count(stream) <= 2 for stream in streams)


@pytest.mark.slow
def test_the_api_stage_is_throttled_as_the_stage_settings_say(packaged):
    settings = packaged["settings"]
    api = packaged["template"]["Resources"]["RestAPI"]["Properties"]
    assert api["MethodSettings"][0] == {
        "ResourcePath": "/*", "HttpMethod": "*",
        "ThrottlingRateLimit": settings.throttle_rate_limit, "ThrottlingBurstLimit": settings.throttle_burst_limit,
    }
    assert api["MethodSettings"] == method_settings(settings)


@pytest.mark.slow
def test_every_route_but_the_public_two_carries_the_cognito_authorizer(packaged):
    swagger = packaged["template"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = swagger["securityDefinitions"]["jianghu-users"]
    assert authorizer["x-amazon-apigateway-authorizer"]["providerARNs"] == [packaged["outputs"]["UserPoolArn"]]
    for path, methods in swagger["paths"].items():
        for method, operation in methods.items():
            if method == "options":
                continue
            secured = operation.get("security") == [{"jianghu-users": []}]
            assert secured is (path not in PUBLIC_PATHS), f"{method.upper()} {path}"


@pytest.mark.slow
def test_functions_get_the_stage_environment_and_the_secret_only_as_a_noecho_parameter(packaged):
    template, outputs = packaged["template"], packaged["outputs"]
    assert template["Parameters"]["CursorSecret"]["NoEcho"] is True
    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CURSOR_SECRET"] == {"Ref": "CursorSecret"}, name
        assert variables["USER_POOL_ID"] == outputs["UserPoolId"]
        assert variables["TABLE_PREFIX"] == "jianghu-dev" and variables["STAGE"] == "dev"
    config = json.loads((packaged["project"] / ".chalice" / "config.json").read_text(encoding="utf-8"))
    assert "CURSOR_SECRET" not in json.dumps(config)


@pytest.mark.slow
def test_every_function_role_holds_exactly_the_stages_least_privilege_policy(packaged):
    expected = json.loads((ROOT / ".chalice" / "policy-dev.json").read_text(encoding="utf-8"))
    roles = {k: r for k, r in packaged["template"]["Resources"].items()
             if r["Type"] == "AWS::IAM::Role" and k != "SignUpTriggerAttacherRole"}  # its own, below
    assert roles
    from infra.packaging import WEBSOCKET_POLICY_SID

    for name, role in roles.items():
        documents = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        # plus, with the app's websocket handlers, ManageConnections on the packaged WebSocket API alone
        (document,) = documents
        extra = [s for s in document["Statement"] if s.get("Sid") == WEBSOCKET_POLICY_SID]
        assert [s["Action"] for s in extra] == [["execute-api:ManageConnections"]], name
        rest = {**document, "Statement": [s for s in document["Statement"] if s.get("Sid") != WEBSOCKET_POLICY_SID]}
        assert rest == expected, name
        assert not role["Properties"].get("ManagedPolicyArns"), name


@pytest.mark.slow
def test_the_packaged_api_answers_unknown_routes_and_throttles_in_the_error_shape(packaged):
    swagger = packaged["template"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = swagger["x-amazon-apigateway-gateway-responses"]
    assert json.loads(responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"]) == {
        "Code": "NotFound", "Message": "No such route"}
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert responses["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


@pytest.mark.slow
def test_the_packaged_api_answers_preflights_without_a_token_and_errors_with_cors(packaged):
    swagger = packaged["template"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    # every path has its preflight, which API Gateway lets through without the Cognito authorizer,
    # to the app (a Lambda proxy integration), which echoes an allowed Origin
    for path, methods in swagger["paths"].items():
        assert "options" in methods, path
        assert not methods["options"].get("security"), path
        assert methods["options"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy", path
    # the errors API Gateway answers itself carry the stage's CORS headers (dev names several origins)
    responses = swagger["x-amazon-apigateway-gateway-responses"]
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX",
                 "DEFAULT_5XX"):
        parameters = responses[kind]["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
    # and the functions know the stage's origins
    for name, function in functions(packaged["template"]).items():
        assert function["Properties"]["Environment"]["Variables"]["CORS_ORIGINS"] == \
            ",".join(packaged["settings"].cors_origins), name


@pytest.mark.slow
def test_the_sign_up_trigger_is_packaged_invocable_by_the_pool_and_attached_to_it(packaged):
    resources, outputs = packaged["template"]["Resources"], packaged["outputs"]
    trigger = resources["CreateProfileOnSignUp"]
    assert trigger["Type"] == "AWS::Serverless::Function"
    assert trigger["Properties"]["Handler"] == "chalicelib.triggers.create_profile_on_sign_up"
    permission = resources[packaging.POST_CONFIRMATION_PERMISSION]["Properties"]
    assert permission["SourceArn"] == outputs["UserPoolArn"]
    attachment = resources[packaging.POST_CONFIRMATION_ATTACHMENT]["Properties"]
    assert attachment["UserPoolId"] == outputs["UserPoolId"]
    assert attachment["TriggerArn"] == {"Fn::GetAtt": ["CreateProfileOnSignUp", "Arn"]}
    role = resources["SignUpTriggerAttacherRole"]["Properties"]
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] == outputs["UserPoolArn"]


def test_postprocess_also_completes_plain_cloudformation_mappings_and_stages():
    # Given a template with a plain event source mapping, a function and an API Gateway stage
    template = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x", "FunctionName": {"Ref": "Fn"}}},
        "QueueMapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": "arn:aws:sqs:eu-west-1:1:q", "FunctionName": {"Ref": "Fn"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"StageName": "api"}},
    }}

    # When it is post-processed for prod
    packaging.postprocess(template, load_stage("prod"), "arn:aws:sqs:eu-west-1:1:failures")

    # Then the stream mapping (not the queue's) gets the failure handling, the stage its throttling
    resources = template["Resources"]
    assert resources["Mapping"]["Properties"]["MaximumRetryAttempts"] == 10
    assert resources["Mapping"]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"].endswith(":failures")
    assert "MaximumRetryAttempts" not in resources["QueueMapping"]["Properties"]
    prod = load_stage("prod")
    throttles = resources["Stage"]["Properties"]["MethodSettings"]
    assert throttles[0]["ThrottlingRateLimit"] == prod.throttle_rate_limit
    assert {"ResourcePath": "/~1coupons~1{campaign_id}~1redeem", "HttpMethod": "POST",
            "ThrottlingRateLimit": 12000.0, "ThrottlingBurstLimit": 12000} in throttles
    assert resources["Fn"]["Properties"]["Environment"]["Variables"]["CURSOR_SECRET"] == {"Ref": "CursorSecret"}
    # and prod's functions log JSON without Lambda's START/END/REPORT lines, at the app's own level
    assert resources["Fn"]["Properties"]["LoggingConfig"] == {
        "LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "WARN"}


@pytest.mark.slow
def test_dev_functions_keep_lambdas_default_logging(packaged):
    assert all("LoggingConfig" not in function["Properties"] for function in functions(packaged["template"]).values())
