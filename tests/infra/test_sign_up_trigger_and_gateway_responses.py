"""The deploy path and the packaged template: Gateway Responses in the error shape (issue 12,
defect 11) and the sign-up trigger attached to the pool (defect 6). Against moto, offline."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.template import load_template
from infra import cognito_trigger, deploy, packaging
from infra.stages import load_stage

REGION = "eu-west-1"
NOT_FOUND = {"Code": "NotFound", "Message": "No such route"}


@pytest.fixture
def moto_session():
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def template_pool(cognito) -> str:
    """A pool made from the template's own UserPool properties, with a password policy to keep."""
    props = dict(load_template()["Resources"]["UserPool"]["Properties"])
    props.pop("UserPoolName")
    return cognito.create_user_pool(PoolName="jianghu-dev-users", **props)["UserPool"]["Id"]


# --- Gateway Responses -------------------------------------------------------------------------

def test_gateway_responses_make_a_missing_route_404_notfound_and_a_throttle_429_with_retry_after():
    missing, throttled = (packaging.GATEWAY_RESPONSES[k] for k in ("MISSING_AUTHENTICATION_TOKEN", "THROTTLED"))
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"]) == NOT_FOUND
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert json.loads(throttled["ResponseTemplates"]["application/json"])["Code"] == "TooManyRequestsError"
    for response in packaging.GATEWAY_RESPONSES.values():  # static text: nothing of the request echoed
        assert "$" not in json.dumps(response)


def test_the_deploy_step_puts_the_gateway_responses_and_redeploys_the_stage(moto_session):
    # Given the REST API and stage `chalice deploy` created
    apigateway = moto_session.client("apigateway")
    api_id = apigateway.create_rest_api(name="jianghu")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")
    before = len(apigateway.get_deployments(restApiId=api_id)["items"])

    # When the deploy step applies the Gateway Responses
    deploy.apply_gateway_responses(apigateway, api_id, "api")

    # Then the API answers a missing route 404 NotFound and a throttle 429, from a new deployment
    missing = apigateway.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"]) == NOT_FOUND
    throttled = apigateway.get_gateway_response(restApiId=api_id, responseType="THROTTLED")
    assert throttled["statusCode"] == "429"
    assert throttled["responseParameters"] == {"gatewayresponse.header.Retry-After": "'1'"}
    assert len(apigateway.get_deployments(restApiId=api_id)["items"]) == before + 1


def test_postprocess_puts_the_gateway_responses_into_the_sam_apis_definition_and_plain_apis_resources():
    # Given a SAM API (as chalice package writes it) and a plain REST API with its deployment
    template = {"Resources": {
        "RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"swagger": "2.0"}}},
        "Plain": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        "PlainDeployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Plain"}}},
    }}
    # When it is post-processed
    packaging.postprocess(template, load_stage("dev"), "arn:aws:sqs:eu-west-1:1:failures")
    # Then the SAM API's definition carries them (deployed with it), the plain API gets resources
    resources = template["Resources"]
    extension = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert extension["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert extension["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    plain = {r["Properties"]["ResponseType"]: name for name, r in resources.items()
             if r["Type"] == "AWS::ApiGateway::GatewayResponse"}
    assert set(plain) == {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "UNAUTHORIZED", "ACCESS_DENIED",
                          "DEFAULT_4XX", "DEFAULT_5XX"}
    assert all(resources[name]["Properties"]["RestApiId"] == {"Ref": "Plain"} for name in plain.values())
    assert set(resources["PlainDeployment"]["DependsOn"]) == set(plain.values())


# --- the sign-up trigger -----------------------------------------------------------------------

def test_attaching_the_trigger_keeps_every_other_setting_of_the_pool():
    # Given a pool as DescribeUserPool shows it, with another trigger and settings UpdateUserPool resets
    pool = {"Id": "eu-west-1_abc", "Name": "p", "Arn": "arn:p", "CreationDate": "x",
            "Policies": {"PasswordPolicy": {"MinimumLength": 8}}, "AutoVerifiedAttributes": ["email"],
            "LambdaConfig": {"PreSignUp": "arn:pre"}, "MfaConfiguration": "OFF",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False, "UnusedAccountValidityDays": 7}}
    members = boto3.client("cognito-idp", region_name=REGION).meta.service_model.operation_model(
        "UpdateUserPool").input_shape.members
    # When the update request is built
    request = cognito_trigger.update_request(pool, members, "arn:trigger")
    # Then it repeats what the pool has, adds the trigger, and drops what Cognito would refuse
    assert request["UserPoolId"] == "eu-west-1_abc"
    assert request["LambdaConfig"] == {"PreSignUp": "arn:pre", "PostConfirmation": "arn:trigger"}
    assert request["Policies"] == pool["Policies"] and request["AutoVerifiedAttributes"] == ["email"]
    assert request["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": False}
    assert not {"Id", "Arn", "CreationDate"} & set(request)


def test_the_deploy_step_lets_the_pool_invoke_the_trigger_and_attaches_it(moto_session):
    from tests.infra.test_deploy import make_stream_mapping

    # Given the pool of the infra stack and the trigger function `chalice deploy` created
    cognito = moto_session.client("cognito-idp")
    pool_id = template_pool(cognito)
    pool_arn = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    name = deploy.post_confirmation_function_name("dev")
    assert name == "jianghu-dev-create_profile_on_sign_up"
    make_stream_mapping(moto_session, name)
    awslambda = moto_session.client("lambda")
    function_arn = awslambda.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    resources = [{"resource_type": "lambda_function", "lambda_arn": function_arn, "name": "create_profile_on_sign_up"}]

    # When the deploy steps run (twice: a redeploy must not fail on the existing permission)
    for _ in range(2):
        deploy.allow_cognito_to_invoke(awslambda, name, pool_arn)
        config = cognito_trigger.attach(cognito, pool_id, deploy.trigger_function_arn(resources, name))

    # Then the pool names the function as PostConfirmation, and only that pool may invoke it
    assert config["PostConfirmation"] == function_arn
    statements = json.loads(awslambda.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert len(statements) == 1
    assert statements[0]["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    assert statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"] == pool_arn
    policy = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 8


@contextlib.contextmanager
def cloudformation_response_url():
    """A loopback stand-in for CloudFormation's presigned response URL; yields (url, received)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_packaged_custom_resource_attaches_on_create_and_detaches_on_delete(moto_session):
    cognito = moto_session.client("cognito-idp")
    pool_id = template_pool(cognito)
    with cloudformation_response_url() as (url, received):
        event = {"ResponseURL": url, "StackId": "stack", "RequestId": "r1", "LogicalResourceId": "Attach",
                 "ResourceProperties": {"UserPoolId": pool_id, "TriggerArn": "arn:aws:lambda:eu-west-1:1:function:t"}}
        # When CloudFormation creates the custom resource
        assert cognito_trigger.handler({**event, "RequestType": "Create"}, None, cognito=cognito) == "SUCCESS"
        assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"]["PostConfirmation"] \
            == "arn:aws:lambda:eu-west-1:1:function:t"
        # And deletes it
        assert cognito_trigger.handler({**event, "RequestType": "Delete"}, None, cognito=cognito) == "SUCCESS"
        assert "PostConfirmation" not in cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"]
        # And a failure is reported to CloudFormation rather than left unanswered
        bad = {**event, "ResourceProperties": {"UserPoolId": "eu-west-1_nope", "TriggerArn": "x"}}
        assert cognito_trigger.handler({**bad, "RequestType": "Update"}, None, cognito=cognito) == "FAILED"
    assert [r["Status"] for r in received] == ["SUCCESS", "SUCCESS", "FAILED"]
    assert received[0]["PhysicalResourceId"] == received[1]["PhysicalResourceId"]


def test_the_custom_resources_code_fits_inline():
    assert len(packaging.Path(cognito_trigger.__file__).read_text(encoding="utf-8")) <= 4096


def test_postprocess_adds_the_trigger_permission_and_its_attachment_to_the_pool():
    # Given a packaged template holding the trigger function
    pool_arn = "arn:aws:cognito-idp:eu-west-1:1:userpool/eu-west-1_abc"
    template = {"Resources": {"CreateProfileOnSignUp": {"Type": "AWS::Serverless::Function", "Properties": {}}}}
    # When it is post-processed with the pool
    packaging.postprocess(template, load_stage("dev"), "arn:aws:sqs:eu-west-1:1:failures",
                          user_pool_id="eu-west-1_abc", user_pool_arn=pool_arn)
    resources = template["Resources"]
    # Then the pool, and only it, may invoke the function
    permission = resources[packaging.POST_CONFIRMATION_PERMISSION]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com" and permission["SourceArn"] == pool_arn
    assert permission["FunctionName"] == {"Fn::GetAtt": ["CreateProfileOnSignUp", "Arn"]}
    # And a custom resource running infra/cognito_trigger.py attaches it, allowed to touch that pool only
    attachment = resources[packaging.POST_CONFIRMATION_ATTACHMENT]
    assert attachment["Properties"]["TriggerArn"] == {"Fn::GetAtt": ["CreateProfileOnSignUp", "Arn"]}
    assert attachment["Properties"]["UserPoolId"] == "eu-west-1_abc"
    code = resources["SignUpTriggerAttacher"]["Properties"]["Code"]["ZipFile"]
    assert "def handler(event, context" in code
    statements = resources["SignUpTriggerAttacherRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == pool_arn
    assert set(statements[0]["Action"]) == {"cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool"}


def test_the_trigger_answers_within_cognitos_five_seconds():
    # Cognito waits 5 s for a trigger, then fails the confirmation; a longer Lambda timeout only hides it
    from chalice.config import Config

    from app import app
    from chalicelib.triggers import POST_CONFIRMATION_FUNCTION

    on_disk = json.loads((packaging.ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    for stage in ("dev", "prod"):
        config = Config(chalice_stage=stage, config_from_disk=on_disk).scope(stage, POST_CONFIRMATION_FUNCTION)
        assert config.lambda_timeout <= 5, stage
    assert POST_CONFIRMATION_FUNCTION in {f.name for f in app.pure_lambda_functions}


# --- CORS on what API Gateway answers itself ---------------------------------------------------

def test_every_gateway_response_carries_the_stages_cors_headers():
    one = packaging.gateway_responses(("https://shop.example",))
    several = packaging.gateway_responses(("https://shop.example", "http://localhost:3000"))
    assert set(one) >= {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "UNAUTHORIZED", "ACCESS_DENIED",
                        "DEFAULT_4XX", "DEFAULT_5XX"}
    for response in one.values():
        parameters = response["ResponseParameters"]
        # one origin: named (a static value); several: the request's Origin, which only the listed
        # origins' browsers will accept alongside the app's own filtered answers
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://shop.example'"
        assert "Retry-After" in parameters["gatewayresponse.header.Access-Control-Expose-Headers"]
    for response in several.values():
        assert response["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == \
            "method.request.header.Origin"
    # the contract's error shape and the throttle's Retry-After stay
    assert one["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert one["UNAUTHORIZED"]["StatusCode"] == "401"
    # a stage without origins adds no CORS header
    assert "Access-Control" not in json.dumps(packaging.gateway_responses(()))


def test_each_deployed_stage_names_its_cors_origins():
    assert load_stage("prod").cors_origins == ("https://jianghu.example",)
    assert "http://localhost:3000" in load_stage("dev").cors_origins


def test_the_deploy_step_puts_the_cors_headers_on_the_gateway_responses(moto_session):
    apigateway = moto_session.client("apigateway")
    api_id = apigateway.create_rest_api(name="jianghu")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")
    deploy.apply_gateway_responses(apigateway, api_id, "api", ("https://jianghu.example",))
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "UNAUTHORIZED", "DEFAULT_4XX"):
        parameters = apigateway.get_gateway_response(restApiId=api_id, responseType=kind)["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://jianghu.example'", kind
