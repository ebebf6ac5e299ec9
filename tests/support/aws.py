from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from chalicelib.local.template import _resolve, load_template


@dataclass
class AwsEnv:
    session: object
    outputs: dict
    env: dict

    @property
    def stack_name(self) -> str:
        return self.env["TABLE_PREFIX"]


def recreate_tables(aws: AwsEnv) -> None:
    """Drop every DynamoDB table and create it again from the template's own properties."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].reset()
    client = aws.session.client("dynamodb")
    names = {"AWS::StackName": aws.stack_name}
    for resource in load_template()["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = _resolve(resource["Properties"], names)
        kwargs = {key: props[key] for key in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")}
        if "GlobalSecondaryIndexes" in props:
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        client.create_table(**kwargs)


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
