"""Per-stage deploy settings (`infra/stages.json`) and the stage environment built from stack outputs.

Chalice's config has no key for API Gateway throttling or for an event source mapping's retry
policy, so those live here, next to the stack name; the deploy step and the packaged template
both read them from this one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# written once, in the app's own config: the deploy path and the local stack build the same environment
from chalicelib.config import STREAM_ARN_PREFIX, stage_environment, stream_env_key  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
STAGES_PATH = ROOT / "infra" / "stages.json"
CHALICE_CONFIG_PATH = ROOT / ".chalice" / "config.json"
LAMBDA_ENV_LIMIT = 4096  # bytes: Lambda refuses a function whose variables add up to more
SECRET_KEYS = frozenset({"CURSOR_SECRET"})


HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})
ACCOUNT_DEFAULT_QUOTA = (10_000.0, 5_000)  # API Gateway REST requests/s and burst, per account and region


@dataclass(frozen=True)
class MethodThrottle:
    """A route's own API Gateway throttle, above or below the stage default (sized in docs/scale.md)."""

    method: str
    path: str  # the route's path as Chalice declares it: "/coupons/{campaign_id}/redeem"
    rate_limit: float
    burst_limit: int

    @property
    def encoded_path(self) -> str:
        """The resource path as stage method settings name it: "/" inside the path becomes "~1"."""
        return "/" + self.path.replace("/", "~1")


@dataclass(frozen=True)
class StageSettings:
    name: str
    stack_name: str
    throttle_rate_limit: float
    throttle_burst_limit: int
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    bisect_batch_on_function_error: bool
    method_throttles: tuple[MethodThrottle, ...] = ()
    # The account's API Gateway quota the throttles assume (Service Quotas must have raised it)
    account_rate_limit: float = ACCOUNT_DEFAULT_QUOTA[0]
    account_burst_limit: int = ACCOUNT_DEFAULT_QUOTA[1]
    # The browser origins the stage's API answers (`CORS_ORIGINS` of the stage in .chalice/config.json)
    cors_origins: tuple[str, ...] = ()
    # Lambda's advanced logging controls for every function (`lambda_logging` in stages.json), or None
    # for Lambda's defaults (text, START/END/REPORT lines for every invocation)
    lambda_logging: dict[str, str] | None = None

    @property
    def cursor_secret_parameter(self) -> str:
        """Where the stage's cursor-signing key lives (SSM Parameter Store, SecureString)."""
        return f"/{self.stack_name}/cursor-secret"


def stage_cors_origins(stage: str, path: Path = CHALICE_CONFIG_PATH) -> tuple[str, ...]:
    """The stage's `CORS_ORIGINS` (comma-separated) from `.chalice/config.json`, where the app reads
    it as an environment variable; the deploy path builds the Gateway Responses' CORS headers from it."""
    config = json.loads(path.read_text(encoding="utf-8"))
    variables = {**config.get("environment_variables", {}),
                 **config.get("stages", {}).get(stage, {}).get("environment_variables", {})}
    return tuple(origin.strip().rstrip("/") for origin in variables.get("CORS_ORIGINS", "").split(",")
                 if origin.strip())


def load_stage(stage: str, path: Path = STAGES_PATH) -> StageSettings:
    stages = json.loads(path.read_text(encoding="utf-8"))
    if stage not in stages:
        raise SystemExit(f"unknown stage {stage!r}; {path.name} defines {', '.join(sorted(stages))}")
    raw = stages[stage]
    throttling, failures = raw["api_throttling"], raw["stream_failures"]
    quota = throttling.get("account_quota", {})
    settings = StageSettings(
        name=stage,
        stack_name=raw["stack_name"],
        throttle_rate_limit=float(throttling["rate_limit"]),
        throttle_burst_limit=int(throttling["burst_limit"]),
        maximum_retry_attempts=int(failures["maximum_retry_attempts"]),
        maximum_record_age_seconds=int(failures["maximum_record_age_seconds"]),
        bisect_batch_on_function_error=bool(failures["bisect_batch_on_function_error"]),
        method_throttles=_method_throttles(throttling.get("methods", {})),
        account_rate_limit=float(quota.get("rate_limit", ACCOUNT_DEFAULT_QUOTA[0])),
        account_burst_limit=int(quota.get("burst_limit", ACCOUNT_DEFAULT_QUOTA[1])),
        cors_origins=stage_cors_origins(stage),
        lambda_logging=_lambda_logging(stage, raw.get("lambda_logging")),
    )
    # API Gateway never lets a method pass the account's quota: a larger number is a mistake.
    limits = [(settings.throttle_rate_limit, settings.throttle_burst_limit)]
    limits += [(throttle.rate_limit, throttle.burst_limit) for throttle in settings.method_throttles]
    for rate, burst in limits:
        if not (0 < rate <= settings.account_rate_limit and 0 < burst <= settings.account_burst_limit):
            raise ValueError(f"stage {stage}: throttle {rate:g}/s, burst {burst} is outside the account quota")
    # The limits Lambda itself enforces, checked before anything is deployed.
    if not 0 <= settings.maximum_retry_attempts <= 10_000:
        raise ValueError("maximum_retry_attempts must be within 0..10000")
    if not (settings.maximum_record_age_seconds == -1 or 60 <= settings.maximum_record_age_seconds <= 604_800):
        raise ValueError("maximum_record_age_seconds must be -1 or within 60..604800")
    return settings


LAMBDA_LOG_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "WARN": "WARN", "ERROR": "ERROR",
                     "CRITICAL": "FATAL"}


def _lambda_logging(stage: str, raw: dict | None) -> dict[str, str] | None:
    """Lambda's `LoggingConfig` for the stage's functions: JSON, the platform's own lines at
    `system_log_level` (WARN drops the START, END and REPORT lines every invocation writes: their
    durations are in Lambda's metrics too), and the application's level kept equal to the stage's
    `POWERTOOLS_LOG_LEVEL` (Lambda hands its level to Powertools, which then follows it)."""
    if not raw:
        return None
    system = str(raw.get("system_log_level", "INFO")).upper()
    if system not in ("DEBUG", "INFO", "WARN"):
        raise ValueError(f"stage {stage}: system_log_level is one of DEBUG, INFO, WARN, not {system!r}")
    config = json.loads(CHALICE_CONFIG_PATH.read_text(encoding="utf-8"))
    variables = {**config.get("environment_variables", {}),
                 **config.get("stages", {}).get(stage, {}).get("environment_variables", {})}
    application = LAMBDA_LOG_LEVELS[str(variables.get("POWERTOOLS_LOG_LEVEL", "INFO")).upper()]
    return {"LogFormat": "JSON", "ApplicationLogLevel": application, "SystemLogLevel": system}


def _method_throttles(methods: dict) -> tuple[MethodThrottle, ...]:
    """`{"POST /coupons/{campaign_id}/redeem": {"rate_limit": .., "burst_limit": ..}}` as MethodThrottles."""
    throttles = []
    for route, limits in methods.items():
        method, _, path = route.partition(" ")
        if method not in HTTP_METHODS or not path.startswith("/") or " " in path:
            raise ValueError(f"a method throttle is named 'METHOD /path', not {route!r}")
        throttles.append(MethodThrottle(method, path, float(limits["rate_limit"]), int(limits["burst_limit"])))
    return tuple(throttles)


def method_settings(settings: StageSettings) -> list[dict]:
    """The stage's throttles as CloudFormation `MethodSettings`: the default for every method, then
    each route that has its own."""
    default = {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": settings.throttle_rate_limit,
               "ThrottlingBurstLimit": settings.throttle_burst_limit}
    return [default] + [
        {"ResourcePath": throttle.encoded_path, "HttpMethod": throttle.method,
         "ThrottlingRateLimit": throttle.rate_limit, "ThrottlingBurstLimit": throttle.burst_limit}
        for throttle in settings.method_throttles
    ]


def throttling_patch_operations(settings: StageSettings) -> list[dict]:
    """The same throttles as `UpdateStage` patch operations (what the deploy path applies)."""
    operations = []
    for setting in method_settings(settings):
        where = f"{setting['ResourcePath']}/{setting['HttpMethod']}" if setting["ResourcePath"] != "/*" else "/*/*"
        operations += [
            {"op": "replace", "path": f"{where}/throttling/rateLimit", "value": str(setting["ThrottlingRateLimit"])},
            {"op": "replace", "path": f"{where}/throttling/burstLimit", "value": str(setting["ThrottlingBurstLimit"])},
        ]
    return operations


def stream_mapping_settings(settings: StageSettings, failure_destination_arn, handler: str | None = None) -> dict:
    """What Chalice's `on_dynamodb_record` leaves out of each event source mapping.

    Partial batch responses (the handlers return `batchItemFailures`), bisection of a failing
    batch, a bounded retry count and age, and the queue where a record that keeps failing is
    described; and the handler's parallelization factor (`chalicelib.streams.settings`: 10 for the
    fan-out handlers, 1 for the rest). `failure_destination_arn` may be a string or a
    CloudFormation intrinsic.
    """
    from chalicelib.streams.settings import settings_of

    return {
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": settings.bisect_batch_on_function_error,
        "MaximumRetryAttempts": settings.maximum_retry_attempts,
        "MaximumRecordAgeInSeconds": settings.maximum_record_age_seconds,
        "DestinationConfig": {"OnFailure": {"Destination": failure_destination_arn}},
        "ParallelizationFactor": settings_of(handler or "").parallelization_factor,
    }


def placeholder_outputs(settings: StageSettings, template: dict, *, region: str = "us-east-1",
                        account: str = "123456789012") -> dict[str, str]:
    """Outputs shaped like a real stack's, for packaging without an AWS account (tests, CI)."""
    from infra.policies import template_queues, template_tables

    stack = settings.stack_name
    queue = template_queues(template, stack)[0]
    outputs = {
        "Stage": settings.name,
        "UserPoolId": f"{region}_Placeholdr",
        "UserPoolArn": f"arn:aws:cognito-idp:{region}:{account}:userpool/{region}_Placeholdr",
        "UserPoolClientId": "placeholderclientid0000000",
        "StreamFailuresQueueUrl": f"https://sqs.{region}.amazonaws.com/{account}/{queue}",
        "StreamFailuresQueueArn": f"arn:aws:sqs:{region}:{account}:{queue}",
    }
    for table in template_tables(template, stack):
        logical = table.logical_id.removesuffix("Table")
        outputs[f"{logical}TableName"] = table.name
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{table.name}/stream/2026-01-01T00:00:00.000"
        outputs[f"{logical}StreamArn"] = arn
    return outputs


def environment_size(env: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in env.items())


def write_stage_config(stage: str, env: dict[str, str], path: Path = CHALICE_CONFIG_PATH) -> dict:
    """Merge `env` into the stage's `environment_variables` in `.chalice/config.json`.

    Other keys and stages are kept as they are; a secret is never written (see `deploy.py`), nor
    are the stream ARNs: only Chalice reads them, when `chalice package/deploy` imports the app to
    build the event sources (`process_environment` hands them to that process), and with some forty
    streams they alone would pass Lambda's 4 KB. At run time a handler is invoked by its event source
    mapping and never reads its ARN. Refuses a result Lambda would reject (over 4 KB of variables).
    """
    config = json.loads(path.read_text(encoding="utf-8"))
    stage_config = config.setdefault("stages", {}).setdefault(stage, {})
    variables = dict(stage_config.get("environment_variables", {}))
    variables.update({key: value for key, value in env.items() if key not in SECRET_KEYS})
    for key in [*SECRET_KEYS, *(key for key in variables if key.startswith(STREAM_ARN_PREFIX))]:
        variables.pop(key, None)
    merged = {**config.get("environment_variables", {}), **variables}
    # Leave room for the secret added at deploy time (a 64-character key).
    if environment_size(merged) + 128 > LAMBDA_ENV_LIMIT:
        raise ValueError(f"stage {stage}: environment variables exceed Lambda's 4 KB limit")
    stage_config["environment_variables"] = variables
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return config


def api_gateway_stage(stage: str, path: Path = CHALICE_CONFIG_PATH) -> str:
    config = json.loads(path.read_text(encoding="utf-8"))
    stage_config = config.get("stages", {}).get(stage, {})
    return stage_config.get("api_gateway_stage") or config.get("api_gateway_stage") or "api"
