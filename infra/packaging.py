"""`chalice package` for a stage, completed with what Chalice's config cannot say, then linted.

The packaged SAM template gets, for every DynamoDB event source, partial batch responses,
bisection, bounded retries and the on-failure queue (`stages.stream_mapping_settings`); for the
REST API, the stage's throttling (default and per route) as `MethodSettings`; the cursor-signing
key as a `NoEcho` parameter instead of a value in the file; Gateway Responses in the contract's
error shape; the sign-up trigger's invoke permission and its attachment to the pool; and, when the
app registers websocket handlers, `WEBSOCKET_MANAGEMENT_URL` for every function and
`execute-api:ManageConnections` on that WebSocket API's connections only. Deployed
through CloudFormation, it is then as complete as what `deploy.py` sets up with the APIs after
`chalice deploy`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from chalicelib.config import table_of_stream_arn
from infra.stages import (
    ROOT,
    StageSettings,
    load_stage,
    method_settings,
    stage_environment,
    stream_mapping_settings,
    write_stage_config,
)

CURSOR_SECRET_PARAMETER = "CursorSecret"
POST_CONFIRMATION_PERMISSION = "SignUpTriggerPermission"
POST_CONFIRMATION_ATTACHMENT = "SignUpTriggerAttachment"

# What API Gateway answers without calling the app, in the contract's error shape. An unknown
# route is MISSING_AUTHENTICATION_TOKEN, whose default 403 echoes the caller's Authorization header.
# Properties as AWS::ApiGateway::GatewayResponse spells them; `deploy.py` puts the same ones.
GATEWAY_RESPONSES: dict[str, dict] = {
    "MISSING_AUTHENTICATION_TOKEN": {
        "StatusCode": "404",
        "ResponseParameters": {},
        "ResponseTemplates": {"application/json": '{"Code": "NotFound", "Message": "No such route"}'},
    },
    "THROTTLED": {
        "StatusCode": "429",
        "ResponseParameters": {"gatewayresponse.header.Retry-After": "'1'"},
        "ResponseTemplates": {
            "application/json": '{"Code": "TooManyRequestsError", "Message": "Too many requests; try again in 1 s"}'
        },
    },
    # The Cognito authorizer's refusals, before the app runs.
    "UNAUTHORIZED": {
        "StatusCode": "401",
        "ResponseParameters": {},
        "ResponseTemplates": {
            "application/json": '{"Code": "UnauthorizedError", "Message": "Missing or invalid token"}'
        },
    },
    "ACCESS_DENIED": {
        "StatusCode": "403",
        "ResponseParameters": {},
        "ResponseTemplates": {"application/json": '{"Code": "ForbiddenError", "Message": "Not allowed"}'},
    },
}

#: The other answers API Gateway may give itself keep their status and gain only the CORS headers.
CORS_ONLY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")


def gateway_responses(cors_origins: tuple[str, ...] | list[str] = ()) -> dict[str, dict]:
    """GATEWAY_RESPONSES with the stage's CORS headers, so a browser can read a 401, 403, 404 or 429
    that API Gateway answered without the app.

    A Gateway Response cannot choose among origins: a stage with one origin names it; a stage with
    several echoes the request's `Origin` (these answers hold only an error code, and the app's own
    answers and preflights echo only listed origins); a stage with none adds no CORS header.
    """
    from chalicelib.http import CORS_EXPOSE_HEADERS

    if not cors_origins:
        return json.loads(json.dumps(GATEWAY_RESPONSES))
    allow = f"'{cors_origins[0]}'" if len(cors_origins) == 1 else "method.request.header.Origin"
    headers = {
        "gatewayresponse.header.Access-Control-Allow-Origin": allow,
        "gatewayresponse.header.Access-Control-Expose-Headers": f"'{CORS_EXPOSE_HEADERS}'",
        "gatewayresponse.header.Vary": "'Origin'",
    }
    responses = json.loads(json.dumps(GATEWAY_RESPONSES))
    for response in responses.values():
        response["ResponseParameters"].update(headers)
    for kind in CORS_ONLY_RESPONSES:
        responses[kind] = {"ResponseParameters": dict(headers)}
    return responses


def chalice_executable() -> str:
    beside_python = Path(sys.executable).with_name("chalice")
    return str(beside_python) if beside_python.exists() else (shutil.which("chalice") or "chalice")


def process_environment(env: dict[str, str], region: str) -> dict[str, str]:
    """This process's environment plus the stage's: what Chalice imports the app under."""
    merged = {key: value for key, value in os.environ.items() if not key.startswith("STREAM_ARN_")}
    merged.update(env)
    merged["AWS_DEFAULT_REGION"] = region
    return merged


def consumed_stream_tables(project_dir: Path, outputs: dict[str, str], *, stack_name: str) -> set[str]:
    """The logical tables whose streams the app's `on_dynamodb_record` handlers read.

    The app is imported in a child process with no `STREAM_ARN_*` set, so each handler's stream
    ARN is `chalicelib.config.stream_arn`'s placeholder, which names the table.
    """
    probe = (
        "import json\n"
        "from app import app\n"
        "arns = [s.stream_arn for s in app.event_sources if type(s).__name__ == 'DynamoDBEventConfig']\n"
        "print(json.dumps(arns))\n"
    )
    env = process_environment({"TABLE_PREFIX": stack_name}, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    env.pop("API_AUTHORIZER_POOL_ARN", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=project_dir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing the app failed:\n{result.stderr[-4000:]}")
    arns = json.loads(result.stdout.strip().splitlines()[-1])
    logical_by_name = {value: key[: -len("TableName")] for key, value in outputs.items() if key.endswith("TableName")}
    consumed = set()
    for arn in arns:
        table = table_of_stream_arn(arn)
        if table not in logical_by_name:
            raise RuntimeError(f"a stream handler reads {table!r}, which infra/template.yaml does not define")
        consumed.add(logical_by_name[table])
    return consumed


def add_cursor_secret_parameter(template: dict) -> None:
    template.setdefault("Parameters", {})[CURSOR_SECRET_PARAMETER] = {
        "Type": "String",
        "NoEcho": True,
        "MinLength": 32,
        "Description": "The key that signs pagination cursors (keep it in SSM Parameter Store; see README).",
    }


def swagger_gateway_responses(cors_origins: tuple[str, ...] = ()) -> dict:
    """`gateway_responses` as the `x-amazon-apigateway-gateway-responses` extension.

    In the API's definition they are part of every deployment of it; a separate GatewayResponse
    resource would reach the stage only at a later deployment (SAM deploys the API when it is
    created, and nothing orders the two).
    """
    extension = {}
    for kind, r in gateway_responses(cors_origins).items():
        entry = {"responseParameters": dict(r["ResponseParameters"])}
        if "StatusCode" in r:
            entry["statusCode"] = r["StatusCode"]
        if "ResponseTemplates" in r:
            entry["responseTemplates"] = dict(r["ResponseTemplates"])
        extension[kind] = entry
    return extension


def add_gateway_responses(template: dict, cors_origins: tuple[str, ...] = ()) -> None:
    """Into the SAM API's definition, or as GatewayResponse resources the deployments wait for."""
    resources = template.get("Resources", {})
    for logical, resource in list(resources.items()):
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::Serverless::Api" and "DefinitionBody" in props:
            props["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] = swagger_gateway_responses(cors_origins)
        elif kind == "AWS::ApiGateway::RestApi":
            names = []
            for response_type, response in gateway_responses(cors_origins).items():
                name = f"{logical}{''.join(w.title() for w in response_type.split('_'))}Response"
                resources[name] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
                    "RestApiId": {"Ref": logical}, "ResponseType": response_type,
                    **json.loads(json.dumps(response))}}
                names.append(name)
            for other in resources.values():
                if other.get("Type") == "AWS::ApiGateway::Deployment" and \
                        other.get("Properties", {}).get("RestApiId") == {"Ref": logical}:
                    depends = other.get("DependsOn", [])
                    other["DependsOn"] = sorted({*([depends] if isinstance(depends, str) else depends), *names})


def add_sign_up_trigger(template: dict, *, user_pool_id: str, user_pool_arn: str) -> None:
    """Let the pool invoke the trigger function and attach it as PostConfirmation.

    The pool lives in the infra stack, so a custom resource (`infra/cognito_trigger.py`, inline)
    attaches it, with a role that may only describe and update that pool.
    """
    from chalice.utils import to_cfn_resource_name

    from chalicelib.triggers import POST_CONFIRMATION_FUNCTION

    resources = template["Resources"]
    function = to_cfn_resource_name(POST_CONFIRMATION_FUNCTION)
    if function not in resources:
        raise RuntimeError(f"the package has no {function} function (chalicelib/triggers.py)")
    resources[POST_CONFIRMATION_PERMISSION] = {"Type": "AWS::Lambda::Permission", "Properties": {
        "FunctionName": {"Fn::GetAtt": [function, "Arn"]}, "Action": "lambda:InvokeFunction",
        "Principal": "cognito-idp.amazonaws.com", "SourceArn": user_pool_arn}}
    assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "lambda.amazonaws.com"}}]}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool"],
         "Resource": user_pool_arn},
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:*:*:*"},
    ]}
    resources["SignUpTriggerAttacherRole"] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume,
        "Policies": [{"PolicyName": "AttachSignUpTrigger", "PolicyDocument": policy}]}}
    code = (Path(__file__).resolve().parent / "cognito_trigger.py").read_text(encoding="utf-8")
    resources["SignUpTriggerAttacher"] = {"Type": "AWS::Lambda::Function", "Properties": {
        "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 60, "MemorySize": 128,
        "Role": {"Fn::GetAtt": ["SignUpTriggerAttacherRole", "Arn"]}, "Code": {"ZipFile": code}}}
    resources[POST_CONFIRMATION_ATTACHMENT] = {
        "Type": "Custom::SignUpTrigger", "DependsOn": [POST_CONFIRMATION_PERMISSION],
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["SignUpTriggerAttacher", "Arn"]},
                       "UserPoolId": user_pool_id, "TriggerArn": {"Fn::GetAtt": [function, "Arn"]}}}


#: What `chalice package` names the WebSocket API and its stage.
WEBSOCKET_API = "WebsocketAPI"
WEBSOCKET_STAGE = "WebsocketAPIStage"
WEBSOCKET_POLICY_SID = "WebsocketConnections"
MANAGE_CONNECTIONS = "execute-api:ManageConnections"


def websocket_management_url(template: dict) -> dict | None:
    """The management endpoint of the package's WebSocket API (`https://{api-id}.execute-api.{region}.
    amazonaws.com/{stage}`), as a CloudFormation value; None when the app has no websocket handlers."""
    resources = template.get("Resources", {})
    if WEBSOCKET_API not in resources:
        return None
    stage = resources[WEBSOCKET_STAGE]["Properties"]["StageName"]
    return {"Fn::Sub": f"https://${{{WEBSOCKET_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"}


def websocket_connections_arn(template: dict) -> dict:
    """Every management call (POST, GET, DELETE) on the connections of this API's stage, nothing else."""
    stage = template["Resources"][WEBSOCKET_STAGE]["Properties"]["StageName"]
    return {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                       f"${{{WEBSOCKET_API}}}/{stage}/*/@connections/*"}


def add_websocket_management(template: dict) -> None:
    """Every function learns the management URL (stream handlers broadcast too), and the functions'
    role may manage that API's connections: the policy files cannot name an API that does not exist
    yet (`infra/policies.py`), and Chalice adds its own wildcard statement only to generated policies."""
    url = websocket_management_url(template)
    if url is None:
        return
    resources = template["Resources"]
    roles = set()
    for resource in resources.values():
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        props = resource.setdefault("Properties", {})
        role = props.get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            continue  # a function outside Chalice's (the sign-up trigger's attacher) keeps its own role
        roles.add(role["Fn::GetAtt"][0])
        props.setdefault("Environment", {}).setdefault("Variables", {})["WEBSOCKET_MANAGEMENT_URL"] = dict(url)
    statement = {"Sid": WEBSOCKET_POLICY_SID, "Effect": "Allow", "Action": [MANAGE_CONNECTIONS],
                 "Resource": websocket_connections_arn(template)}
    for name in sorted(roles):
        if name == "SignUpTriggerAttacherRole":
            continue
        for policy in resources[name]["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"].setdefault("Statement", [])
            statements[:] = [s for s in statements if s.get("Sid") != WEBSOCKET_POLICY_SID] + [statement]


def _handler_of(function_props: dict) -> str | None:
    """The stream handler's name from a function's `Handler` ("chalicelib.streams.feed.fan_out_posts")."""
    handler = function_props.get("Handler")
    return handler.rsplit(".", 1)[-1] if isinstance(handler, str) else None


def postprocess(template: dict, settings: StageSettings, failure_destination_arn: str, *,
                user_pool_id: str | None = None, user_pool_arn: str | None = None) -> dict:
    """Add the stream, throttling, secret, logging, gateway-response and sign-up trigger settings to a
    template `chalice package` produced (the trigger when the pool is named)."""
    throttles = method_settings(settings)
    resources = template.get("Resources", {})
    add_cursor_secret_parameter(template)
    for resource in template.get("Resources", {}).values():
        kind, props = resource.get("Type"), resource.setdefault("Properties", {})
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            variables = props.setdefault("Environment", {}).setdefault("Variables", {})
            variables["CURSOR_SECRET"] = {"Ref": CURSOR_SECRET_PARAMETER}
            if settings.lambda_logging:
                props["LoggingConfig"] = dict(settings.lambda_logging)
            for event in props.get("Events", {}).values():
                if event.get("Type") == "DynamoDB":
                    mapping = stream_mapping_settings(settings, failure_destination_arn, handler=_handler_of(props))
                    event["Properties"].update(json.loads(json.dumps(mapping)))
        elif kind == "AWS::Lambda::EventSourceMapping" and ":dynamodb:" in json.dumps(props.get("EventSourceArn")):
            function = props.get("FunctionName")
            target = resources.get(function["Ref"], {}) if isinstance(function, dict) and "Ref" in function else {}
            mapping = stream_mapping_settings(settings, failure_destination_arn,
                                              handler=_handler_of(target.get("Properties", {})))
            props.update(json.loads(json.dumps(mapping)))
        elif kind in ("AWS::Serverless::Api", "AWS::ApiGateway::Stage"):
            props["MethodSettings"] = json.loads(json.dumps(throttles))
    add_gateway_responses(template, settings.cors_origins)
    add_websocket_management(template)
    if user_pool_id and user_pool_arn:
        add_sign_up_trigger(template, user_pool_id=user_pool_id, user_pool_arn=user_pool_arn)
    return template


def lint(path: Path, *, region: str = "us-east-1") -> list[str]:
    """cfn-lint's errors for a template file (warnings and notes are not failures)."""
    from cfnlint.api import lint as cfn_lint

    matches = cfn_lint(path.read_text(encoding="utf-8"), regions=[region])
    return [f"{m.rule.id} {m.message} ({path.name}:{m.linenumber})" for m in matches if m.rule.id.startswith("E")]


def copy_project(source: Path, destination: Path, *, with_requirements: bool) -> Path:
    """The files `chalice package` reads, copied so placeholder values never touch the real config.

    Without requirements the deployment zip holds only the app's own code: enough to validate
    the template offline (no pip download), not to deploy.
    """
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "app.py", destination / "app.py")
    shutil.copytree(source / "chalicelib", destination / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    (destination / ".chalice").mkdir(exist_ok=True)
    for item in (source / ".chalice").glob("*.json"):
        shutil.copy2(item, destination / ".chalice" / item.name)
    requirements = (source / "requirements.txt").read_text(encoding="utf-8") if with_requirements else ""
    (destination / "requirements.txt").write_text(requirements, encoding="utf-8")
    return destination


# The AWS SDK that every Lambda Python runtime provides. pynamodb depends on botocore, so Chalice
# would bundle it: 16 of the zip's MB, never imported from the zip since the runtime has its own.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})


def strip_runtime_provided(zip_path: Path) -> list[str]:
    """Rewrite the deployment zip without the packages the Lambda runtime provides; return what went."""
    import re
    import zipfile

    def provided(name: str) -> bool:
        top = name.split("/", 1)[0]
        return top in RUNTIME_PROVIDED or re.sub(r"-[^-]+\.dist-info$", "", top) in RUNTIME_PROVIDED

    if not zip_path.exists():
        return []
    slim = zip_path.with_suffix(".slim.zip")
    removed: set[str] = set()
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if provided(info.filename):
                removed.add(info.filename.split("/", 1)[0])
                continue
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    slim.replace(zip_path)
    return sorted(removed)


def package(stage: str, outputs: dict[str, str], *, out_dir: Path, region: str,
            project_dir: Path = ROOT) -> Path:
    """Write the stage env into `project_dir`'s config, `chalice package`, post-process; return sam.json."""
    settings = load_stage(stage)
    consumed = consumed_stream_tables(project_dir, outputs, stack_name=settings.stack_name)
    env = stage_environment(outputs, region=region, stack_name=settings.stack_name, consumed_tables=consumed)
    write_stage_config(stage, env, project_dir / ".chalice" / "config.json")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    subprocess.run(
        [chalice_executable(), "--project-dir", str(project_dir), "package", "--pkg-format", "cloudformation",
         "--stage", stage, str(out_dir)],
        env=process_environment(env, region), check=True,
    )
    strip_runtime_provided(out_dir / "deployment.zip")
    sam_path = out_dir / "sam.json"
    template = json.loads(sam_path.read_text(encoding="utf-8"))
    postprocess(template, settings, outputs["StreamFailuresQueueArn"], user_pool_id=outputs["UserPoolId"],
                user_pool_arn=outputs["UserPoolArn"])
    sam_path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    return sam_path
