"""One settings object for the whole app, read lazily from the stage's environment.

Chalice's test client and `chalice local` do not load stage variables at import time, and
import time is cold-start time, so nothing here runs until the first request asks for it.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"

#: The Cognito groups that are roles (the template's `AWS::Cognito::UserPoolGroup`s).
COGNITO_GROUPS = ("merchants", "judges", "admins")

#: Prefix of the variables naming the stream each handler reads (`STREAM_ARN_FANOUT_JOBS`).
STREAM_ARN_PREFIX = "STREAM_ARN_"


class ConfigError(RuntimeError):
    """A required setting is missing or malformed: fail fast, at the first request."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def table_suffix(logical_name: str) -> str:
    """`FanoutJobs` -> `fanout-jobs`: the suffix the template gives each table name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_name).lower()


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_prefix: str
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str
    token_issuer: str
    cursor_secret: bytes
    fanout_pull_threshold: int
    feed_max_entries: int
    write_limit_per_minute: int
    stream_failures_queue_url: str
    media_bucket: str = ""
    media_base_url: str = ""  # ends in "/": an image's URL is this plus its object key

    def table_name(self, logical_name: str) -> str:
        return f"{self.table_prefix}-{table_suffix(logical_name)}"


def running_deployed() -> bool:
    """In a deployed Lambda: the runtime names the function, and no local endpoint stands in for AWS.

    `chalice local` (AWS_CHALICE_CLI_MODE) and the local stack or the tests (AWS_ENDPOINT_URL, or
    no function name at all) may run without a pool: tokens are then refused, one by one.
    """
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    return not (os.environ.get("AWS_CHALICE_CLI_MODE") or os.environ.get("AWS_ENDPOINT_URL"))


def _load() -> Settings:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    stage = os.environ.get("STAGE", "dev")
    pool_id = os.environ.get("USER_POOL_ID", "")
    issuer = os.environ.get("TOKEN_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    jwks_url = os.environ.get("JWKS_URL") or f"{issuer}/.well-known/jwks.json"
    cursor_secret = os.environ.get("CURSOR_SECRET", "")
    client_id = os.environ.get("USER_POOL_CLIENT_ID", "")
    if running_deployed():
        missing = [name for name, value in (("USER_POOL_ID", pool_id), ("USER_POOL_CLIENT_ID", client_id))
                   if not value]
        if missing:
            raise ConfigError(f"the deployed stage {stage!r} lacks {', '.join(missing)}: run "
                              "`python -m infra.deploy --stage STAGE` so .chalice/config.json carries "
                              "the infra stack's outputs")
    if stage == "prod" and len(cursor_secret) < 32:
        raise ConfigError("CURSOR_SECRET must hold at least 32 characters in prod")
    return Settings(
        stage=stage,
        region=region,
        table_prefix=os.environ.get("TABLE_PREFIX", f"jianghu-{stage}"),
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        jwks_url=jwks_url,
        token_issuer=issuer,
        cursor_secret=(cursor_secret or f"jianghu-{stage}-cursor-key").encode(),
        fanout_pull_threshold=_int("FANOUT_PULL_THRESHOLD", 10_000),
        feed_max_entries=_int("FEED_MAX_ENTRIES", 800),
        write_limit_per_minute=_int("WRITE_LIMIT_PER_MINUTE", 120),
        stream_failures_queue_url=os.environ.get("STREAM_FAILURES_QUEUE_URL", ""),
        media_bucket=os.environ.get("MEDIA_BUCKET", ""),
        media_base_url=_with_slash(os.environ.get("MEDIA_BASE_URL", "")),
    )


def _with_slash(url: str) -> str:
    return url if not url or url.endswith("/") else url + "/"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _load()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between scenarios)."""
    get_settings.cache_clear()


def stream_env_key(logical_name: str) -> str:
    """`FanoutJobs` -> `STREAM_ARN_FANOUT_JOBS`: the variable naming that table's stream."""
    return STREAM_ARN_PREFIX + table_suffix(logical_name).replace("-", "_").upper()


def table_of_stream_arn(arn: str) -> str:
    """`arn:aws:dynamodb:...:table/NAME/stream/LABEL` -> `NAME`; "" for anything else."""
    if ":table/" not in arn:
        return ""
    return arn.split(":table/", 1)[1].split("/", 1)[0]


def stage_environment(outputs: dict[str, str], *, region: str, stack_name: str,
                      consumed_tables: set[str] | None = None, api_authorizer: bool = True) -> dict[str, str]:
    """The variables the app reads, from the infra stack's outputs (no secrets): deployed and local alike.

    Only the streams some handler consumes get a `STREAM_ARN_*` (`consumed_tables`, logical
    names; None means all): Lambda caps a function's variables at 4 KB, and thirty stream ARNs
    alone come close. `api_authorizer=False` where no API Gateway stands in front (the local
    stack, the tests), so no Cognito authorizer is attached.
    """
    pool_id = outputs["UserPoolId"]
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    env = {
        "TABLE_PREFIX": stack_name,
        "USER_POOL_ID": pool_id,
        "USER_POOL_CLIENT_ID": outputs["UserPoolClientId"],
        "TOKEN_ISSUER": issuer,
        "JWKS_URL": f"{issuer}/.well-known/jwks.json",
        "STREAM_FAILURES_QUEUE_URL": outputs["StreamFailuresQueueUrl"],
    }
    # the media bucket; locally no CloudFront stands in front, and the stack serves /media/ itself
    if "MediaBucketName" in outputs:
        env["MEDIA_BUCKET"] = outputs["MediaBucketName"]
    if "MediaBaseUrl" in outputs:
        env["MEDIA_BASE_URL"] = outputs["MediaBaseUrl"]
    if api_authorizer:
        env["API_AUTHORIZER_POOL_ARN"] = outputs["UserPoolArn"]
    for key, value in sorted(outputs.items()):
        if key.endswith("StreamArn"):
            logical = key[: -len("StreamArn")]
            if consumed_tables is None or logical in consumed_tables:
                env[stream_env_key(logical)] = value
    return env


def stream_arn(logical_name: str) -> str:
    """The stream ARN a handler subscribes to, from `STREAM_ARN_<TABLE>`.

    Chalice reads it when the decorator runs, so this is the one setting read at import. Locally
    and in tests it falls back to a placeholder that still names the table: the stream runner
    matches handlers to streams by table name.
    """
    explicit = os.environ.get(stream_env_key(logical_name))
    if explicit:
        return explicit
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    prefix = os.environ.get("TABLE_PREFIX", f"jianghu-{os.environ.get('STAGE', 'dev')}")
    return (
        f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{prefix}-{table_suffix(logical_name)}"
        "/stream/local"
    )
