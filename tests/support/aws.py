from __future__ import annotations

import contextlib
import copy
import functools
import threading
from dataclasses import dataclass

from chalicelib.local.template import _resolve, load_template

#: The media base URL of the in-process world (deployed, the CloudFront distribution's address).
MEDIA_BASE_URL = "https://media.jianghu.test/"


@dataclass
class AwsEnv:
    session: object
    outputs: dict
    env: dict

    @property
    def stack_name(self) -> str:
        return self.env["TABLE_PREFIX"]


@functools.lru_cache(maxsize=4)
def template_table_requests(stack_name: str) -> dict[str, dict]:
    """`CreateTable` arguments of every DynamoDB table of the template, by table name (read once)."""
    names = {"AWS::StackName": stack_name}
    requests = {}
    for resource in load_template()["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = _resolve(resource["Properties"], names)
        kwargs = {key: props[key] for key in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")}
        if "GlobalSecondaryIndexes" in props:
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        requests[kwargs["TableName"]] = kwargs
    return requests


def _as_created(table, request: dict) -> bool:
    """Is moto's `table` still the table `request` creates (keys, indexes, stream)? Tests may change one."""
    indexes = sorted(index["IndexName"] for index in request.get("GlobalSecondaryIndexes", []))
    return (
        table.schema == request["KeySchema"]
        and sorted(index.name for index in table.global_indexes) == indexes
        and not table.indexes
        and table.stream_shard is not None
        and table.stream_specification.get("StreamViewType") == request["StreamSpecification"]["StreamViewType"]
    )


def _empty(table) -> None:
    """No items, and a stream with no records whose sequence numbers carry on from the last test's."""
    from collections import defaultdict

    table.items = defaultdict(dict)
    shard = table.stream_shard
    shard.starting_sequence_number += len(shard.items)
    shard.items = []


def reset_tables(aws: AwsEnv) -> None:
    """Every table of the template empty, with an empty stream, as if created anew.

    Creating ~30 tables from the template for every test cost about 0.3 s a test; emptying moto's
    tables in place costs next to nothing. A table a test dropped, created or altered is
    (re)created from the template, so every test starts from the template's world.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    dynamodbstreams_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].shard_iterators.clear()
    requests = template_table_requests(aws.stack_name)
    client = aws.session.client("dynamodb")
    for name in list(backend.tables):
        if name not in requests or not _as_created(backend.tables[name], requests[name]):
            del backend.tables[name]
    for name, request in requests.items():
        if name in backend.tables:
            _empty(backend.tables[name])
        else:
            client.create_table(**copy.deepcopy(request))
    from chalicelib.services import profiles

    profiles._KNOWN_PROFILES.clear()  # the profiles it remembers were in the tables just emptied


@contextlib.contextmanager
def serve_bytes(payload: bytes):
    """Serve `payload` as JSON on a loopback port for as long as the block runs; yield its URL."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def moto_world(stack_name: str):
    """mock_aws with infra/template.yaml deployed and the app configured for it; yields an AwsEnv.

    moto signs every token with one fixed key; its public half is served over HTTP as the JWKS,
    the way Cognito serves a pool's keys.
    """
    import gzip
    import os
    import pathlib

    import boto3
    import moto
    from moto import mock_aws

    from chalicelib.auth import reset_jwks_cache
    from chalicelib.config import reset_settings, stage_environment
    from chalicelib.local.moto_patches import apply_all
    from chalicelib.local.template import deploy
    from chalicelib.models.base import reset_connection

    apply_all()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        outputs = deploy(session, stack_name=stack_name)
        env = stage_environment(outputs, region="us-east-1", stack_name=stack_name, api_authorizer=False)
        env["MEDIA_BASE_URL"] = MEDIA_BASE_URL  # no CloudFront in moto: the distribution's address, as deployed
        jwks = pathlib.Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
        with serve_bytes(gzip.decompress(jwks.read_bytes())) as jwks_url:
            env["JWKS_URL"] = jwks_url
            os.environ.update(env)
            reset_settings()
            reset_jwks_cache()
            reset_connection()
            yield AwsEnv(session=session, outputs=outputs, env=env)
