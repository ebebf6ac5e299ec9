"""Deploy a stage to AWS: the infra stack, the stage config, `chalice deploy`, then what Chalice leaves out.

    python -m infra.deploy --stage dev                  # everything (make deploy STAGE=dev)
    python -m infra.deploy --stage dev --infra-only     # stack + .chalice/config.json, no chalice deploy
    python -m infra.deploy --stage dev --package-only   # chalice package + post-processing + cfn-lint
    python -m infra.deploy --stage dev --package-only --placeholders   # the same offline (no AWS account)
    python -m infra.deploy --stage dev --teardown       # chalice delete + delete the stack (dev only)

Steps of a deploy:
1. CloudFormation creates or updates the stack `infra/template.yaml` (tables, pool, queue) and waits.
2. Its outputs become the stage's environment in `.chalice/config.json` (table prefix, pool and
   client ids, issuer and JWKS URL, the consumed streams' ARNs, the failures queue, the pool ARN
   for API Gateway's Cognito authorizer); they are exported for `chalice deploy` as well.
3. The cursor-signing key is read from SSM Parameter Store (`/<stack>/cursor-secret`,
   SecureString), created on the first deploy of the stage. It is put into the config only for
   the duration of `chalice deploy`, so it never lands in the repository.
4. `chalice deploy --stage STAGE`.
5. Each DynamoDB event source mapping Chalice created gets partial batch responses, bisection,
   bounded retries and age, and the failures queue as on-failure destination (`infra/stages.json`).
6. The REST API gets Gateway Responses in the contract's error shape (an unknown route is 404
   NotFound, a throttle 429 with Retry-After, the authorizer's 401/403), each with the stage's CORS
   headers (`CORS_ORIGINS`; redeployed so they apply), and the stage its
   throttling (rate and burst, every method), and the routes the Double-11 model sizes
   (`infra/stages.json` "methods", docs/scale.md) their own.
7. The sign-up trigger (`create_profile_on_sign_up`, a pure Lambda `chalice deploy` created) may be
   invoked by the pool and becomes its PostConfirmation trigger.
8. When the app registers websocket handlers (Chalice deploys them as an API Gateway WebSocket
   API), the functions' role may manage that API's connections and nothing else
   (`execute-api:ManageConnections` on `{api-id}/{stage}/*/@connections/*`), and every function
   gets `WEBSOCKET_MANAGEMENT_URL` (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`):
   the API's id exists only once Chalice has created it.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from infra import cognito_trigger
from infra.stages import (
    CHALICE_CONFIG_PATH,
    ROOT,
    StageSettings,
    api_gateway_stage,
    load_stage,
    stage_environment,
    stream_mapping_settings,
    throttling_patch_operations,
    write_stage_config,
)

TEMPLATE_PATH = ROOT / "infra" / "template.yaml"
TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts inline; beyond that it wants S3
RETRYABLE_MAPPING_ERRORS = frozenset({
    "ResourceInUseException",  # the mapping is still Creating / Updating
    "ResourceConflictException",
    "TooManyRequestsException",
    "InvalidParameterValueException",  # the role's new SendMessage permission has not propagated yet
})


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


# --- 1. the infra stack ------------------------------------------------------------------------

def deploy_stack(cloudformation, settings: StageSettings, template_body: str, *, wait: bool = True) -> dict[str, str]:
    """Create the stack or update it (a no-op update is fine); return its outputs."""
    from botocore.exceptions import ClientError

    if len(template_body.encode()) > TEMPLATE_BODY_LIMIT:
        raise SystemExit("infra/template.yaml exceeds CloudFormation's 51,200-byte inline limit: "
                         "upload it to S3 and pass TemplateURL instead")
    name = settings.stack_name
    params = {
        "StackName": name,
        "TemplateBody": template_body,
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": settings.name}],
        "Tags": [{"Key": "jianghu:stage", "Value": settings.name}],
    }
    prod = settings.name == "prod"
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        stack = None
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise SystemExit(f"stack {name} failed its first creation (ROLLBACK_COMPLETE); read its events, "
                         f"delete it (aws cloudformation delete-stack --stack-name {name}) and deploy again")
    waiter = None
    if stack is None:
        print(f"creating stack {name} ...", flush=True)
        cloudformation.create_stack(**params, EnableTerminationProtection=prod)
        waiter = "stack_create_complete"
    else:
        print(f"updating stack {name} ...", flush=True)
        try:
            cloudformation.update_stack(**params)
            waiter = "stack_update_complete"
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            print("  no changes", flush=True)
        if prod:
            cloudformation.update_termination_protection(StackName=name, EnableTerminationProtection=True)
    if waiter and wait:
        cloudformation.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def stack_outputs(cloudformation, settings: StageSettings) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


# --- 3. the cursor secret ----------------------------------------------------------------------

def ensure_cursor_secret(ssm, parameter_name: str) -> str:
    """The stage's cursor-signing key: read from SSM, or generated and stored on first use."""
    import secrets

    try:
        return ssm.get_parameter(Name=parameter_name, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        pass
    value = secrets.token_urlsafe(48)
    try:
        ssm.put_parameter(Name=parameter_name, Value=value, Type="SecureString", Overwrite=False,
                          Description="Jianghu: the key that signs pagination cursors")
        print(f"created SSM parameter {parameter_name}", flush=True)
        return value
    except ssm.exceptions.ParameterAlreadyExists:  # another deploy won the race: use its key
        return ssm.get_parameter(Name=parameter_name, WithDecryption=True)["Parameter"]["Value"]


# --- 4. chalice deploy -------------------------------------------------------------------------

def chalice_deploy(stage: str, env: dict[str, str], cursor_secret: str, *, region: str,
                   project_dir: Path = ROOT, run: Callable | None = None) -> None:
    """`chalice deploy --stage`, with the secret in the config only while Chalice reads it."""
    import subprocess

    from infra.packaging import chalice_executable, process_environment

    run = run or subprocess.run
    config_path = project_dir / ".chalice" / "config.json"
    original = config_path.read_text(encoding="utf-8")
    config = json.loads(original)
    config["stages"][stage].setdefault("environment_variables", {})["CURSOR_SECRET"] = cursor_secret
    try:
        config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        run([chalice_executable(), "--project-dir", str(project_dir), "deploy", "--stage", stage],
            env=process_environment(env, region), check=True)
    finally:
        config_path.write_text(original, encoding="utf-8")


def deployed_resources(stage: str, project_dir: Path = ROOT) -> list[dict]:
    path = project_dir / ".chalice" / "deployed" / f"{stage}.json"
    return json.loads(path.read_text(encoding="utf-8"))["resources"]


def stream_mapping_uuids(resources: list[dict]) -> list[str]:
    return [r["event_uuid"] for r in resources if r.get("resource_type") == "dynamodb_event_source"]


def stream_mapping_handlers(resources: list[dict]) -> dict[str, str]:
    """Event source mapping UUID -> the handler it invokes (Chalice names the resource
    `<handler>-dynamodb-event-source`)."""
    return {r["event_uuid"]: r["name"].removesuffix("-dynamodb-event-source")
            for r in resources if r.get("resource_type") == "dynamodb_event_source"}


def rest_api(resources: list[dict]) -> dict:
    return next(r for r in resources if r.get("resource_type") == "rest_api")


# --- 5. the event source mappings --------------------------------------------------------------

def configure_stream_mappings(lambda_client, uuids: list[str], settings: dict, *,
                              attempts: int = 30, sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Apply `settings` (see `stages.stream_mapping_settings`) to each mapping; verify; return them.

    A mapping Chalice has just created is still `Creating` for a few seconds, and a role's new
    SendMessage permission takes a moment to propagate: both are retried with backoff.
    """
    configured = []
    for uuid in uuids:
        _with_retries(functools.partial(lambda_client.update_event_source_mapping, UUID=uuid, **settings),
                      RETRYABLE_MAPPING_ERRORS, attempts=attempts, sleep=sleep)
        mapping = lambda_client.get_event_source_mapping(UUID=uuid)
        differing = {key for key, value in settings.items() if not _includes(mapping.get(key), value)}
        if differing:
            raise RuntimeError(f"event source mapping {uuid} did not take {sorted(differing)}")
        configured.append(mapping)
    return configured


def _with_retries(action: Callable[[], object], retryable: frozenset[str], *, attempts: int,
                  sleep: Callable[[float], None]) -> None:
    """`action()`, again after a growing pause while AWS answers with one of the `retryable` codes."""
    for attempt in range(attempts):
        try:
            action()
            return
        except Exception as exc:
            if _error_code(exc) not in retryable or attempt == attempts - 1:
                raise
            sleep(min(2.0 * (attempt + 1), 15.0))


def _includes(actual, expected) -> bool:
    """`expected` is in `actual` (Lambda adds empty members, e.g. `DestinationConfig.OnSuccess`)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(_includes(actual.get(k), v) for k, v in expected.items())
    return actual == expected


# --- 6. API Gateway throttling -----------------------------------------------------------------

def apply_api_throttling(apigateway, rest_api_id: str, stage_name: str, settings: StageSettings) -> dict:
    """Set the stage-wide default throttling (every resource, every method), then each route's own
    (`infra/stages.json` "methods"); return the stage."""
    return apigateway.update_stage(
        restApiId=rest_api_id,
        stageName=stage_name,
        patchOperations=throttling_patch_operations(settings),
    )


# --- 7. the sign-up trigger --------------------------------------------------------------------

def post_confirmation_function_name(stage: str, app_name: str = "jianghu") -> str:
    """The name `chalice deploy` gives the trigger (`<app>-<stage>-<function>`)."""
    from chalicelib.triggers import POST_CONFIRMATION_FUNCTION

    return f"{app_name}-{stage}-{POST_CONFIRMATION_FUNCTION}"


def trigger_function_arn(resources: list[dict], function_name: str) -> str:
    found = [r["lambda_arn"] for r in resources
             if r.get("resource_type") == "lambda_function" and r["lambda_arn"].endswith(f":{function_name}")]
    if not found:
        raise RuntimeError(f"chalice deploy recorded no function {function_name}")
    return found[0]


def allow_cognito_to_invoke(lambda_client, function_name: str, pool_arn: str) -> None:
    """The function's resource policy lets this pool, and only it, invoke the trigger."""
    statement_id = "cognito-post-confirmation"
    try:
        lambda_client.remove_permission(FunctionName=function_name, StatementId=statement_id)
    except lambda_client.exceptions.ResourceNotFoundException:
        pass
    lambda_client.add_permission(FunctionName=function_name, StatementId=statement_id,
                                 Action="lambda:InvokeFunction", Principal="cognito-idp.amazonaws.com",
                                 SourceArn=pool_arn)


# --- 9. the WebSocket API's management endpoint and permission -------------------------------

WEBSOCKET_POLICY_NAME = "websocket-manage-connections"
RETRYABLE_FUNCTION_ERRORS = frozenset({"ResourceConflictException", "TooManyRequestsException"})


def websocket_api(resources: list[dict]) -> dict | None:
    return next((r for r in resources if r.get("resource_type") == "websocket_api"), None)


def websocket_management_url(api_id: str, region: str, stage_name: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{api_id}.execute-api.{region}.{suffix}/{stage_name}"


def websocket_connections_policy(api_id: str, region: str, account: str, stage_name: str) -> dict:
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "WebsocketConnections", "Effect": "Allow", "Action": ["execute-api:ManageConnections"],
        "Resource": f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage_name}/*/@connections/*"}]}


def configure_websocket_api(iam, lambda_client, resources: list[dict], *, region: str, stage_name: str,
                            attempts: int = 30, sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Grant the role the API's connections and give every function the management URL; return the URL.

    Chalice's own `execute-api:ManageConnections` statement goes only into generated policies (on
    `*`), and this app's policies are files; the inline policy here names the API.
    """
    api = websocket_api(resources)
    if api is None:
        return None
    api_id = api["websocket_api_id"]
    url = websocket_management_url(api_id, region, stage_name)
    functions = [r for r in resources if r.get("resource_type") == "lambda_function"]
    account = functions[0]["lambda_arn"].split(":")[4] if functions else "*"
    policy = json.dumps(websocket_connections_policy(api_id, region, account, stage_name))
    for role in (r for r in resources if r.get("resource_type") == "iam_role"):
        iam.put_role_policy(RoleName=role["role_name"], PolicyName=WEBSOCKET_POLICY_NAME, PolicyDocument=policy)
    def with_url(current: dict) -> dict | None:
        variables = current.get("Environment", {}).get("Variables", {})
        if variables.get("WEBSOCKET_MANAGEMENT_URL") == url:
            return None
        return {"Environment": {"Variables": {**variables, "WEBSOCKET_MANAGEMENT_URL": url}}}

    for function in functions:
        _update_function(lambda_client, function["lambda_arn"], with_url, attempts=attempts, sleep=sleep)
    return url


def _update_function(lambda_client, name: str, change: Callable[[dict], dict | None], *, attempts: int,
                     sleep: Callable[[float], None]) -> None:
    """`update_function_configuration` with what `change` asks of the current configuration (None:
    nothing). A function that `chalice deploy` has just updated refuses another update for a moment:
    retried."""
    def update() -> None:
        wanted = change(lambda_client.get_function_configuration(FunctionName=name))
        if wanted:
            lambda_client.update_function_configuration(FunctionName=name, **wanted)

    _with_retries(update, RETRYABLE_FUNCTION_ERRORS, attempts=attempts, sleep=sleep)


def configure_logging(lambda_client, resources: list[dict], logging_config: dict[str, str] | None, *,
                      attempts: int = 30, sleep: Callable[[float], None] = time.sleep) -> int:
    """The stage's Lambda logging controls (`StageSettings.lambda_logging`) on every function Chalice
    deployed, as the packaged template sets them; returns how many functions were changed."""
    if not logging_config:
        return 0
    changed = 0

    def with_logging(current: dict) -> dict | None:
        nonlocal changed
        if all(current.get("LoggingConfig", {}).get(key) == value for key, value in logging_config.items()):
            return None
        changed += 1
        return {"LoggingConfig": dict(logging_config)}

    for function in (r for r in resources if r.get("resource_type") == "lambda_function"):
        _update_function(lambda_client, function["lambda_arn"], with_logging, attempts=attempts, sleep=sleep)
    return changed


# --- 8. API Gateway responses ------------------------------------------------------------------

def gateway_responses(cors_origins: tuple[str, ...] = ()) -> dict[str, dict]:
    """What API Gateway answers itself, in the contract's error shape and with the stage's CORS
    headers (`packaging.gateway_responses`)."""
    from infra.packaging import gateway_responses as responses

    return responses(cors_origins)


def apply_gateway_responses(apigateway, rest_api_id: str, stage_name: str,
                            cors_origins: tuple[str, ...] = ()) -> list[dict]:
    """Put each Gateway Response, then redeploy the stage: API Gateway serves them only from a
    deployment made after they were put."""
    applied = []
    for response_type, response in gateway_responses(cors_origins).items():
        optional = {"statusCode": response["StatusCode"]} if "StatusCode" in response else {}
        if "ResponseTemplates" in response:
            optional["responseTemplates"] = response["ResponseTemplates"]
        applied.append(apigateway.put_gateway_response(
            restApiId=rest_api_id, responseType=response_type,
            responseParameters=response["ResponseParameters"], **optional,
        ))
    apigateway.create_deployment(restApiId=rest_api_id, stageName=stage_name,
                                 description="Gateway Responses in the error shape")
    return applied


# --- the commands ------------------------------------------------------------------------------

def _session():
    import boto3

    session = boto3.Session()
    if not session.region_name:
        raise SystemExit("no AWS region: set AWS_DEFAULT_REGION (or a region in your AWS profile)")
    return session


def _check_policies() -> None:
    from infra.policies import main as policies

    if policies(["--check"]) != 0:
        raise SystemExit("the IAM policies are out of date with infra/template.yaml: run `python -m infra.policies`")


def deploy(stage: str, *, infra_only: bool = False) -> int:
    from infra.packaging import consumed_stream_tables

    settings = load_stage(stage)
    session = _session()
    region = session.region_name
    _check_policies()
    outputs = deploy_stack(session.client("cloudformation"), settings, TEMPLATE_PATH.read_text(encoding="utf-8"))
    consumed = consumed_stream_tables(ROOT, outputs, stack_name=settings.stack_name)
    env = stage_environment(outputs, region=region, stack_name=settings.stack_name, consumed_tables=consumed)
    write_stage_config(stage, env)
    print(f"wrote the {stage} stage environment into {CHALICE_CONFIG_PATH.relative_to(ROOT)}", flush=True)
    if infra_only:
        return 0
    import os

    os.environ.update(env)
    secret = ensure_cursor_secret(session.client("ssm"), settings.cursor_secret_parameter)
    chalice_deploy(stage, env, secret, region=region)
    resources = deployed_resources(stage)
    mappings = []
    for uuid, handler in stream_mapping_handlers(resources).items():  # each with its own parallelization factor
        mappings += configure_stream_mappings(
            session.client("lambda"), [uuid],
            stream_mapping_settings(settings, outputs["StreamFailuresQueueArn"], handler=handler))
    print(f"configured {len(mappings)} stream event source mappings (partial batches, bisect, "
          f"{settings.maximum_retry_attempts} retries, failures to the queue)", flush=True)
    api = rest_api(resources)
    apigateway = session.client("apigateway")
    apply_gateway_responses(apigateway, api["rest_api_id"], api_gateway_stage(stage), settings.cors_origins)
    print(f"gateway responses: {', '.join(gateway_responses(settings.cors_origins))} in the error shape, "
          f"CORS for {', '.join(settings.cors_origins) or 'no origin'}", flush=True)
    apply_api_throttling(apigateway, api["rest_api_id"], api_gateway_stage(stage), settings)
    print(f"API throttling: {settings.throttle_rate_limit:g} req/s, burst {settings.throttle_burst_limit} a method; "
          f"{len(settings.method_throttles)} routes with their own")
    trigger_name = post_confirmation_function_name(stage)
    allow_cognito_to_invoke(session.client("lambda"), trigger_name, outputs["UserPoolArn"])
    # after the stack update on every deploy: CloudFormation's update of the pool clears the trigger
    cognito_trigger.attach(session.client("cognito-idp"), outputs["UserPoolId"],
                           trigger_function_arn(resources, trigger_name))
    print(f"sign-up trigger: {trigger_name} is the pool's PostConfirmation", flush=True)
    management_url = configure_websocket_api(session.client("iam"), session.client("lambda"), resources,
                                             region=region, stage_name=api_gateway_stage(stage))
    if management_url:
        print(f"websocket API: functions post to {management_url}; ManageConnections on that API only", flush=True)
    if configure_logging(session.client("lambda"), resources, settings.lambda_logging):
        print(f"Lambda logging: {settings.lambda_logging}", flush=True)
    print(json.dumps({
        "api_url": api.get("rest_api_url"),
        "websocket_url": (websocket_api(resources) or {}).get("websocket_api_url"),
        "region": region,
        "user_pool_id": outputs["UserPoolId"],
        "user_pool_client_id": outputs["UserPoolClientId"],
        "stream_failures_queue_url": outputs["StreamFailuresQueueUrl"],
    }, indent=2))
    return 0


def package_only(stage: str, *, out_dir: Path, placeholders: bool, region: str | None = None) -> int:
    from chalicelib.local.template import load_template
    from infra import packaging
    from infra.stages import placeholder_outputs

    settings = load_stage(stage)
    if placeholders:
        region = region or "us-east-1"
        outputs = placeholder_outputs(settings, load_template(), region=region)
        project = packaging.copy_project(ROOT, Path(tempfile.mkdtemp(prefix="jianghu-package-")),
                                         with_requirements=False)
    else:
        session = _session()
        region = session.region_name
        outputs = stack_outputs(session.client("cloudformation"), settings)
        project = ROOT
    _check_policies()
    sam = packaging.package(stage, outputs, out_dir=out_dir, region=region, project_dir=project)
    errors = packaging.lint(sam, region=region)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f"{sam.relative_to(ROOT) if sam.is_relative_to(ROOT) else sam}: cfn-lint clean")
    if placeholders:
        print("(placeholder ARNs and no dependencies in deployment.zip: a template to validate, not to deploy)")
        return 0
    print(f"deploy it with: aws cloudformation deploy --template-file <packaged> --stack-name "
          f"{settings.stack_name}-app --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND "
          f"--parameter-overrides CursorSecret=<the value of SSM {settings.cursor_secret_parameter}>")
    return 0


def teardown(stage: str) -> int:
    import subprocess

    from infra.packaging import chalice_executable

    settings = load_stage(stage)
    if stage == "prod":
        raise SystemExit("refusing to tear down prod: its tables are retained and protected by design")
    session = _session()
    subprocess.run([chalice_executable(), "--project-dir", str(ROOT), "delete", "--stage", stage], check=False)
    cloudformation = session.client("cloudformation")
    cloudformation.delete_stack(StackName=settings.stack_name)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=settings.stack_name)
    ssm = session.client("ssm")
    try:
        ssm.delete_parameter(Name=settings.cursor_secret_parameter)
    except ssm.exceptions.ParameterNotFound:
        pass
    print(f"deleted the {stage} app, stack {settings.stack_name} and its cursor secret")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--stage", required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--infra-only", action="store_true", help="deploy the stack and write the stage config")
    mode.add_argument("--package-only", action="store_true", help="chalice package, post-process, cfn-lint")
    mode.add_argument("--teardown", action="store_true", help="delete the app and the stack (not prod)")
    parser.add_argument("--out", type=Path, default=None, help="package folder (default build/<stage>)")
    parser.add_argument("--placeholders", action="store_true",
                        help="with --package-only: placeholder ARNs instead of the stack's outputs (offline)")
    args = parser.parse_args(argv)
    if args.placeholders and not args.package_only:
        parser.error("--placeholders goes with --package-only")
    if args.package_only:
        out_dir = (args.out or ROOT / "build" / args.stage).resolve()
        return package_only(args.stage, out_dir=out_dir, placeholders=args.placeholders)
    if args.teardown:
        return teardown(args.stage)
    return deploy(args.stage, infra_only=args.infra_only)


if __name__ == "__main__":
    sys.exit(main())
