"""The deploy path's AWS steps, each run against moto in-process: stack, secret, mappings, throttling."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.template import load_template
from infra import deploy
from infra.stages import (
    LAMBDA_ENV_LIMIT,
    StageSettings,
    load_stage,
    placeholder_outputs,
    stage_environment,
    stream_mapping_settings,
    write_stage_config,
)

REGION = "eu-west-1"  # away from the region the app's own moto fixtures use
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_session():
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def dev() -> StageSettings:
    return load_stage("dev")


def make_stream_mapping(session, name: str) -> tuple[str, str]:
    """A table with a stream, a function and the bare mapping `chalice deploy` would create.

    The table and role get a random suffix, and a function of the name may already exist: with
    xdist, another test's mock may still hold this worker's moto backends, so an earlier test's
    resources can be there."""
    import uuid as uuids

    unique = f"{name}-{uuids.uuid4().hex[:8]}"
    dynamodb = session.client("dynamodb")
    stream_arn = dynamodb.create_table(
        TableName=f"{unique}-table",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    role = session.client("iam").create_role(
        RoleName=f"{unique}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    awslambda = session.client("lambda")
    try:
        awslambda.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                                  Code={"ZipFile": code.getvalue()})
    except awslambda.exceptions.ResourceConflictException:
        pass
    uuid = awslambda.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, BatchSize=100, StartingPosition="LATEST"
    )["UUID"]
    return uuid, stream_arn


# --- event source mappings ---------------------------------------------------------------------

def test_chalice_mappings_get_partial_batches_bisect_bounded_retries_and_the_failures_queue(moto_session, dev):
    # Given two bare mappings as `chalice deploy` leaves them, and the stage's failures queue
    first, _ = make_stream_mapping(moto_session, "jianghu-dev-fan-out-posts")
    second, _ = make_stream_mapping(moto_session, "jianghu-dev-update-follow-graph")
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:jianghu-dev-stream-failures"
    awslambda = moto_session.client("lambda")
    assert "FunctionResponseTypes" not in awslambda.get_event_source_mapping(UUID=first)

    # When the deploy step configures them
    configured = deploy.configure_stream_mappings(awslambda, [first, second], stream_mapping_settings(dev, queue_arn))

    # Then each reports per-record failures, bisects, retries at most 5 times and sends failures to the queue
    assert [m["UUID"] for m in configured] == [first, second]
    for uuid in (first, second):
        mapping = awslambda.get_event_source_mapping(UUID=uuid)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] == dev.maximum_retry_attempts == 5
        assert mapping["MaximumRecordAgeInSeconds"] == dev.maximum_record_age_seconds
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
        assert mapping["BatchSize"] == 100  # what Chalice set is kept


def test_a_mapping_still_being_created_is_retried_until_it_takes_the_settings(moto_session, dev):
    # Given a mapping Lambda refuses to update twice (it is still `Creating`)
    uuid, _ = make_stream_mapping(moto_session, "jianghu-dev-rank-merchants")
    real = moto_session.client("lambda")
    refusals = []

    class Settling:
        def __getattr__(self, name):
            return getattr(real, name)

        def update_event_source_mapping(self, **kwargs):
            if len(refusals) < 2:
                refusals.append(kwargs["UUID"])
                raise real.exceptions.ResourceInUseException(
                    {"Error": {"Code": "ResourceInUseException", "Message": "Creating"}}, "UpdateEventSourceMapping")
            return real.update_event_source_mapping(**kwargs)

    sleeps = []
    settings = stream_mapping_settings(dev, "arn:aws:sqs:eu-west-1:123456789012:q")

    # When it is configured
    deploy.configure_stream_mappings(Settling(), [uuid], settings, sleep=sleeps.append)

    # Then it waited twice and the settings are in place
    assert refusals == [uuid, uuid] and len(sleeps) == 2
    assert real.get_event_source_mapping(UUID=uuid)["MaximumRetryAttempts"] == 5


def test_a_refusal_that_is_not_transient_stops_the_deploy(moto_session, dev):
    awslambda = moto_session.client("lambda")
    sleeps = []
    with pytest.raises(awslambda.exceptions.ResourceNotFoundException):
        deploy.configure_stream_mappings(awslambda, ["00000000-0000-0000-0000-000000000000"],
                                         stream_mapping_settings(dev, "arn:aws:sqs:eu-west-1:1:q"), sleep=sleeps.append)
    assert sleeps == []


def test_the_fan_out_handlers_mappings_run_ten_batches_of_a_shard_at_once_and_the_rest_one(moto_session, dev):
    # Given the mappings of a fan-out handler and of another, as Chalice's deployed record names them
    fan_out, _ = make_stream_mapping(moto_session, "jianghu-dev-continue-fan-out")
    other, _ = make_stream_mapping(moto_session, "jianghu-dev-rank-merchants")
    resources = [
        {"name": "continue_fan_out-dynamodb-event-source", "resource_type": "dynamodb_event_source",
         "event_uuid": fan_out},
        {"name": "rank_merchants-dynamodb-event-source", "resource_type": "dynamodb_event_source",
         "event_uuid": other},
    ]
    awslambda = moto_session.client("lambda")
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:jianghu-dev-stream-failures"
    # When the deploy step configures each with its handler's settings
    for uuid, handler in deploy.stream_mapping_handlers(resources).items():
        deploy.configure_stream_mappings(awslambda, [uuid], stream_mapping_settings(dev, queue_arn, handler=handler))
    # Then the fan-out handler's mapping runs 10 batches of a shard at once, the other one
    assert awslambda.get_event_source_mapping(UUID=fan_out)["ParallelizationFactor"] == 10
    assert awslambda.get_event_source_mapping(UUID=other)["ParallelizationFactor"] == 1


def test_mapping_uuids_and_the_rest_api_come_from_chalices_deployed_record():
    resources = [
        {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": "arn:fn"},
        {"name": "fan_out_posts-dynamodb-event-source", "resource_type": "dynamodb_event_source",
         "event_uuid": "u-1", "stream_arn": "arn:s", "lambda_arn": "arn:fn2"},
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123",
         "rest_api_url": "https://abc123.execute-api.eu-west-1.amazonaws.com/api/"},
    ]
    assert deploy.stream_mapping_uuids(resources) == ["u-1"]
    assert deploy.rest_api(resources)["rest_api_id"] == "abc123"


# --- API Gateway throttling --------------------------------------------------------------------

def test_stage_throttling_is_applied_to_every_method(moto_session, dev):
    # Given the REST API and stage `chalice deploy` created
    apigateway = moto_session.client("apigateway")
    api_id = apigateway.create_rest_api(name="jianghu")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")

    # When the deploy step applies the dev stage's throttling
    deploy.apply_api_throttling(apigateway, api_id, "api", dev)

    # Then every resource and method of the stage is limited to the configured rate and burst
    settings = apigateway.get_stage(restApiId=api_id, stageName="api")["methodSettings"]["*/*"]
    assert settings["throttlingRateLimit"] == dev.throttle_rate_limit == 50
    assert settings["throttlingBurstLimit"] == dev.throttle_burst_limit == 100


def test_prod_throttles_higher_than_dev():
    dev, prod = load_stage("dev"), load_stage("prod")
    assert prod.throttle_rate_limit > dev.throttle_rate_limit and prod.throttle_burst_limit >= prod.throttle_rate_limit


def test_routes_with_their_own_throttle_get_it_beside_the_stage_default(moto_session):
    # Given the REST API with the coupon redeem route, as `chalice deploy` creates it
    prod = load_stage("prod")
    apigateway = moto_session.client("apigateway")
    api_id = apigateway.create_rest_api(name="jianghu")["id"]
    parent = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    for part in ("coupons", "{campaign_id}", "redeem"):
        parent = apigateway.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
    apigateway.put_method(restApiId=api_id, resourceId=parent, httpMethod="POST", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=parent, httpMethod="POST", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")

    # When the deploy step applies prod's throttling
    deploy.apply_api_throttling(apigateway, api_id, "api", prod)

    # Then every method has the stage default, and redeem its own (sized for a flash sale)
    settings = apigateway.get_stage(restApiId=api_id, stageName="api")["methodSettings"]
    assert settings["*/*"]["throttlingRateLimit"] == prod.throttle_rate_limit
    redeem = settings["~1coupons~1{campaign_id}~1redeem/POST"]
    assert (redeem["throttlingRateLimit"], redeem["throttlingBurstLimit"]) == (12000.0, 12000)
    assert len(settings) == 1 + len(prod.method_throttles)


# --- the cursor secret -------------------------------------------------------------------------

def test_cursor_secret_is_generated_once_per_stage_and_kept_in_ssm(moto_session, dev):
    ssm = moto_session.client("ssm")

    # When two deploys of the stage ask for the key
    first = deploy.ensure_cursor_secret(ssm, dev.cursor_secret_parameter)
    second = deploy.ensure_cursor_secret(ssm, dev.cursor_secret_parameter)

    # Then the first created a long SecureString and the second read the same value back
    assert first == second and len(first) >= 32
    parameter = ssm.get_parameter(Name="/jianghu-dev/cursor-secret")["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert deploy.ensure_cursor_secret(ssm, load_stage("prod").cursor_secret_parameter) != first


def test_chalice_deploy_sees_the_secret_but_the_config_file_never_keeps_it(tmp_path):
    # Given a project config without a secret
    (tmp_path / ".chalice").mkdir()
    config_path = tmp_path / ".chalice" / "config.json"
    original = (ROOT / ".chalice" / "config.json").read_text(encoding="utf-8")
    config_path.write_text(original, encoding="utf-8")
    seen = {}

    def fake_chalice(command, env, check):
        seen["command"] = command
        seen["config"] = json.loads(config_path.read_text(encoding="utf-8"))
        seen["env"] = env

    # When chalice deploy runs
    deploy.chalice_deploy("dev", {"USER_POOL_ID": "eu-west-1_x", "API_AUTHORIZER_POOL_ARN": "arn:pool"}, "s" * 64,
                          region=REGION, project_dir=tmp_path, run=fake_chalice)

    # Then Chalice read the secret from the stage config, the authorizer's pool from the environment,
    assert seen["command"][-3:] == ["deploy", "--stage", "dev"]
    assert seen["config"]["stages"]["dev"]["environment_variables"]["CURSOR_SECRET"] == "s" * 64
    assert seen["env"]["API_AUTHORIZER_POOL_ARN"] == "arn:pool" and seen["env"]["AWS_DEFAULT_REGION"] == REGION
    # and the file is back as it was
    assert config_path.read_text(encoding="utf-8") == original


def test_a_failed_chalice_deploy_still_removes_the_secret(tmp_path):
    (tmp_path / ".chalice").mkdir()
    config_path = tmp_path / ".chalice" / "config.json"
    config_path.write_text((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"), encoding="utf-8")

    def failing_chalice(command, env, check):
        raise RuntimeError("chalice deploy failed")

    with pytest.raises(RuntimeError):
        deploy.chalice_deploy("dev", {}, "t" * 64, region=REGION, project_dir=tmp_path, run=failing_chalice)
    assert "t" * 64 not in config_path.read_text(encoding="utf-8")


# --- the infra stack ---------------------------------------------------------------------------

SMALL_TEMPLATE = """
Parameters:
  Stage: {Type: String}
Resources:
  StreamFailuresQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${AWS::StackName}-stream-failures"}
Outputs:
  StreamFailuresQueueUrl: {Value: !Ref StreamFailuresQueue}
"""


def test_stack_is_created_then_updated_and_its_outputs_returned(moto_session, dev):
    cloudformation = moto_session.client("cloudformation")

    # When the stage is deployed for the first time
    outputs = deploy.deploy_stack(cloudformation, dev, SMALL_TEMPLATE)

    # Then the stack exists with the stage parameter and its outputs come back
    stack = cloudformation.describe_stacks(StackName="jianghu-dev")["Stacks"][0]
    assert stack["Parameters"] == [{"ParameterKey": "Stage", "ParameterValue": "dev"}]
    assert outputs["StreamFailuresQueueUrl"].endswith("/jianghu-dev-stream-failures")

    # When it is deployed again with a changed template
    changed = SMALL_TEMPLATE + "  Stage:\n    Value: !Ref Stage\n"
    outputs = deploy.deploy_stack(cloudformation, dev, changed)

    # Then the same stack was updated
    assert outputs["Stage"] == "dev"
    assert len(cloudformation.describe_stacks(StackName="jianghu-dev")["Stacks"]) == 1


def test_a_template_too_large_for_an_inline_body_is_refused_before_any_call(dev):
    with pytest.raises(SystemExit, match="51,200"):
        deploy.deploy_stack(None, dev, "#" * 60_000)


# --- the stage environment ---------------------------------------------------------------------

def test_stage_environment_derives_issuer_and_jwks_from_the_pool_and_names_consumed_streams_only(dev):
    outputs = placeholder_outputs(dev, load_template(), region=REGION)

    env = stage_environment(outputs, region=REGION, stack_name=dev.stack_name, consumed_tables={"Follows", "Posts"})

    pool = outputs["UserPoolId"]
    assert env["TOKEN_ISSUER"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool}"
    assert env["JWKS_URL"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool}/.well-known/jwks.json"
    assert env["TABLE_PREFIX"] == "jianghu-dev" and env["USER_POOL_CLIENT_ID"] == outputs["UserPoolClientId"]
    assert env["API_AUTHORIZER_POOL_ARN"] == outputs["UserPoolArn"]
    assert env["STREAM_FAILURES_QUEUE_URL"] == outputs["StreamFailuresQueueUrl"]
    assert {k for k in env if k.startswith("STREAM_ARN_")} == {"STREAM_ARN_FOLLOWS", "STREAM_ARN_POSTS"}
    assert "AWS_DEFAULT_REGION" not in env  # reserved by Lambda


def test_stage_environment_is_merged_into_the_config_keeping_the_rest(tmp_path, dev):
    path = tmp_path / "config.json"
    path.write_text((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"), encoding="utf-8")
    before = json.loads(path.read_text(encoding="utf-8"))

    write_stage_config("dev", {"USER_POOL_ID": "eu-west-1_abc", "CURSOR_SECRET": "never-written"}, path)

    after = json.loads(path.read_text(encoding="utf-8"))
    variables = after["stages"]["dev"]["environment_variables"]
    assert variables["USER_POOL_ID"] == "eu-west-1_abc"
    assert "CURSOR_SECRET" not in variables
    kept = before["stages"]["dev"]["environment_variables"]["WRITE_LIMIT_PER_MINUTE"]
    assert variables["WRITE_LIMIT_PER_MINUTE"] == kept
    assert after["stages"]["prod"] == before["stages"]["prod"]
    assert {k: v for k, v in after.items() if k != "stages"} == {k: v for k, v in before.items() if k != "stages"}


def test_stream_arns_reach_chalices_process_but_never_the_functions_config(tmp_path, dev):
    path = tmp_path / "config.json"
    path.write_text((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"), encoding="utf-8")
    env = stage_environment(placeholder_outputs(dev, load_template(), region=REGION), region=REGION,
                            stack_name=dev.stack_name)  # every table's stream: far over 4 KB with them
    assert sum(len(k) + len(v) for k, v in env.items()) > LAMBDA_ENV_LIMIT

    write_stage_config("dev", env, path)

    variables = json.loads(path.read_text(encoding="utf-8"))["stages"]["dev"]["environment_variables"]
    assert not [key for key in variables if key.startswith("STREAM_ARN_")]
    assert variables["TABLE_PREFIX"] == "jianghu-dev"
    from infra.packaging import process_environment

    assert process_environment(env, REGION)["STREAM_ARN_POSTS"] == env["STREAM_ARN_POSTS"]


def test_an_environment_lambda_would_refuse_is_refused_at_write_time(tmp_path):
    path = tmp_path / "config.json"
    path.write_text((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"), encoding="utf-8")
    too_big = {f"SETTING_{i}": "x" * 200 for i in range(LAMBDA_ENV_LIMIT // 200)}
    with pytest.raises(ValueError, match="4 KB"):
        write_stage_config("dev", too_big, path)


def test_stage_settings_outside_lambdas_limits_are_refused(tmp_path):
    stages = json.loads((ROOT / "infra" / "stages.json").read_text(encoding="utf-8"))
    stages["dev"]["stream_failures"]["maximum_record_age_seconds"] = 30
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(stages), encoding="utf-8")
    with pytest.raises(ValueError, match="maximum_record_age_seconds"):
        load_stage("dev", path)


# --- the operator's user helper ----------------------------------------------------------------

def test_operator_creates_a_user_in_a_group_and_gets_a_token_the_way_clients_do(moto_session):
    import jwt

    from infra.users import create_user, id_token, new_password

    # Given the stage's pool and app client
    cognito = moto_session.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="jianghu-dev-users", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName="merchants")

    # When an operator creates a merchant and asks for a token
    password = new_password()
    create_user(cognito, pool_id, "shop@example.com", password, ["merchants"])
    token = id_token(cognito, client_id, "shop@example.com", password)

    # Then the IdToken names the user, the client and the group
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "id" and claims["aud"] == client_id
    assert claims["cognito:groups"] == ["merchants"] and claims["email"] == "shop@example.com"


# -- Lambda's logging controls ---------------------------------------------------------------------
def test_prod_logs_json_at_the_apps_level_without_the_platforms_info_lines():
    assert load_stage("prod").lambda_logging == {"LogFormat": "JSON", "ApplicationLogLevel": "WARN",
                                                 "SystemLogLevel": "WARN"}
    assert load_stage("dev").lambda_logging is None


def test_a_system_log_level_lambda_does_not_know_is_refused(tmp_path):
    stages = json.loads((Path(__file__).resolve().parents[2] / "infra" / "stages.json").read_text())
    stages["dev"]["lambda_logging"] = {"system_log_level": "ERROR"}
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(stages))
    with pytest.raises(ValueError, match="system_log_level"):
        load_stage("dev", path)


def test_deploy_sets_the_stages_logging_on_every_function_chalice_deployed(moto_session):
    # moto accepts LoggingConfig but does not keep it: the calls it received are what is checked
    lam, iam = moto_session.client("lambda"), moto_session.client("iam")
    role_arn = iam.create_role(RoleName="logging-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    arns = [lam.create_function(FunctionName=f"jianghu-prod-{name}", Runtime="python3.11", Role=role_arn,
                                Handler="app.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
            for name in ("api_handler", "fan_out_posts")]
    resources = [{"resource_type": "lambda_function", "lambda_arn": arn, "name": arn.rsplit(":", 1)[1]}
                 for arn in arns] + [{"resource_type": "rest_api", "rest_api_id": "x"}]
    sent: list[dict] = []
    lam.meta.events.register("provide-client-params.lambda.UpdateFunctionConfiguration",
                             lambda params, **_: sent.append(dict(params)))
    prod = load_stage("prod").lambda_logging
    assert deploy.configure_logging(lam, resources, prod, sleep=lambda _: None) == 2
    assert sorted(call["FunctionName"] for call in sent) == sorted(arns)
    assert all(call["LoggingConfig"] == prod and set(call) == {"FunctionName", "LoggingConfig"} for call in sent)
    # a stage without settings changes nothing
    sent.clear()
    assert deploy.configure_logging(lam, resources, None) == 0 and sent == []
