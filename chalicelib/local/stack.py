"""`make dev`: the whole service on one machine, with no AWS account.

1. moto server on $MOTO_PORT (default 5001), DynamoDB requests serialised;
2. `infra/template.yaml` deployed into it (CloudFormation for tables and queue, Cognito API for
   the pool, client and groups);
3. the stream runner polling every table stream and invoking the app's stream handlers;
4. the API (Chalice's local server) on $PORT (default 8000);
5. the WebSocket gateway (`ws_gateway.py`, the stand-in for API Gateway's WebSocket API) on $WS_PORT
   (default 8001), its management API on $WS_MANAGEMENT_PORT (default 8002), invoking the app's
   websocket handlers;
6. `.local/stack.json` written last, once everything answers.

Ctrl-C (or SIGTERM) stops everything; every start is a fresh, empty world. With DEMO=1 (`make dev
DEMO=1`, or `--demo`) the demo data set (`chalicelib/local/demo.py`) is loaded before the state
file is written; `python -m chalicelib.cli` creates users, prints tokens and handles set-aside
stream records.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_STATE = PROJECT_DIR / ".local" / "stack.json"
REGION = "us-east-1"


def local_cursor_secret(environ=os.environ) -> str:
    """The configured CURSOR_SECRET, else a fresh random key for this start.

    The stage default in `config` is written in this repository, so anyone could sign a cursor
    with it; a random key per start also keeps one start's cursors from paging another's world.
    """
    import secrets

    return environ.get("CURSOR_SECRET") or secrets.token_urlsafe(32)


def _wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError(f"{url} did not come up within {timeout} s")
        time.sleep(0.1)


NO_SUCH_ROUTE = json.dumps({"Code": "NotFound", "Message": "No such route"})


#: Connections the kernel holds for the API while its accept loop is busy. socketserver's default
#: of 5 made a burst of 30 concurrent clients lose connections (refused or reset on macOS, stalled
#: for a 1 s SYN retransmit on Linux); the kernel caps it at net.core.somaxconn.
API_LISTEN_BACKLOG = 1024


def _api_server_class():
    """A thread per connection (as Chalice's own local server), with a listen queue for bursts."""
    from chalice.local import ThreadedHTTPServer

    class LocalApiServer(ThreadedHTTPServer):
        request_queue_size = API_LISTEN_BACKLOG
        daemon_threads = True
        block_on_close = False

        def handle_error(self, request, client_address) -> None:
            """A client that hangs up before its answer is sent is not the server's error."""
            if isinstance(sys.exc_info()[1], ConnectionError):
                return
            super().handle_error(request, client_address)

    return LocalApiServer


MEDIA_PATH = "/media/"


def media_response(s3, bucket: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """What CloudFront answers for `GET /media/<key>` in front of the media bucket: the object with
    its type, or a 404 (CloudFront's origin access control hides a missing key the same way)."""
    from urllib.parse import unquote, urlsplit

    key = unquote(urlsplit(path).path[len(MEDIA_PATH):])
    if not key or not bucket:
        return 404, {"Content-Type": "application/json"}, NO_SUCH_ROUTE.encode()
    try:
        found = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return 404, {"Content-Type": "application/json"}, json.dumps(
            {"Code": "NotFound", "Message": "No such object"}).encode()
    body = found["Body"].read()
    return 200, {"Content-Type": found.get("ContentType") or "application/octet-stream",
                 "Cache-Control": "public, max-age=31536000, immutable"}, body


def _api_server(app, stage: str, host: str, port: int, media=None):
    """Chalice's local server, answering methods API Gateway does not route with a JSON 405, and
    unknown routes 404 in the error shape, as the deployed Gateway Responses do (Chalice's own
    answer is API Gateway's default 403, which echoes the caller's Authorization header)."""
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer, RouteMatcher, create_local_server

    routes = RouteMatcher(list(app.routes))

    class ApiRequestHandler(ChaliceRequestHandler):
        def _generic_handle(self) -> None:
            if media is not None and self.command in ("GET", "HEAD") and self.path.startswith(MEDIA_PATH):
                self._serve_media()
                return
            try:
                routes.match_route(self.path)
            except ValueError:
                self._parse_payload()  # read the body, so the connection stays usable
                self._send_http_response(404, self._error_headers(), NO_SUCH_ROUTE)
                return
            super()._generic_handle()

        # Chalice binds each do_<METHOD> to its own `_generic_handle` when its class is made
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def _serve_media(self) -> None:
            """The local stand-in for the CloudFront distribution: objects of moto's media bucket."""
            s3, bucket = media
            status, headers, body = media_response(s3, bucket, self.path)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _method_not_allowed(self) -> None:
            body = json.dumps({"Code": "MethodNotAllowedError", "Message": f"Unsupported method: {self.command}"})
            self._send_http_response(405, self._error_headers(), body)

        def _error_headers(self) -> dict:
            """What the server answers itself carries the CORS headers too, as the Gateway Responses do."""
            from chalicelib.http import cors_headers

            return {"Content-Type": "application/json", **cors_headers(self.headers.get("Origin"))}

        def __getattr__(self, name: str):
            # BaseHTTPRequestHandler looks up `do_<METHOD>`; any method Chalice lacks is a 405
            if name.startswith("do_"):
                return self._method_not_allowed
            raise AttributeError(name)

    config = Config.create(chalice_stage=stage, app_name="jianghu", project_dir=str(PROJECT_DIR))
    from chalice.local import LocalChalice

    if not isinstance(app, LocalChalice):  # a second swap would make the class its own base
        create_local_server(app, config, host, port).server.server_close()  # swaps in Chalice's local app class
    return LocalDevServer(app, config, host, port, handler_cls=ApiRequestHandler, server_cls=_api_server_class())


class LocalStack:
    def __init__(self, *, port: int, moto_port: int, state_file: Path, stage: str = "dev",
                 chaos: bool = False, demo: bool = False, host: str = "127.0.0.1",
                 ws_port: int = 8001, ws_management_port: int = 8002):
        self.port = port
        self.ws_port = ws_port
        self.ws_management_port = ws_management_port
        self.moto_port = moto_port
        self.state_file = state_file
        self.stage = stage
        self.chaos = chaos
        self.demo = demo
        self.host = host
        self.stack_name = f"jianghu-{stage}"
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self.cursor_secret = local_cursor_secret()

    def start(self) -> dict:
        from chalicelib.local.moto_server import MotoServer

        if self.state_file.exists():
            self.state_file.unlink()
        self.moto = MotoServer(self.host, self.moto_port).start()
        endpoint = self.moto.url
        # the app's clients, PynamoDB's included, find moto through the standard variables
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            STAGE=self.stage,
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        import boto3

        from chalicelib.config import stage_environment
        from chalicelib.local.template import deploy, table_names

        session = boto3.Session(region_name=REGION)
        outputs = deploy(session, stack_name=self.stack_name, stage=self.stage, endpoint_url=endpoint)
        env = stage_environment(outputs, region=REGION, stack_name=self.stack_name, api_authorizer=False)
        env["JWKS_URL"] = f"{endpoint}/{outputs['UserPoolId']}/.well-known/jwks.json"
        os.environ.update(env)  # before the app's import: its stream handlers read their ARNs then
        self.api = self._bind_api(session, endpoint, outputs.get("MediaBucketName", ""))
        self.port = self.api.server.server_address[1]
        media_base_url = f"http://{self.host}:{self.port}{MEDIA_PATH}"
        env["MEDIA_BASE_URL"] = media_base_url  # no CloudFront locally: the API serves /media/
        os.environ["MEDIA_BASE_URL"] = media_base_url
        os.environ["CURSOR_SECRET"] = self.cursor_secret  # not in the state file: it signs, nobody reads it
        from chalicelib.auth import reset_jwks_cache
        from chalicelib.config import reset_settings

        reset_settings()
        reset_jwks_cache()

        from app import app

        self._attach_sign_up_trigger(session, endpoint, outputs["UserPoolId"])
        self.ws_gateway = self._start_ws_gateway(app)
        env["WEBSOCKET_MANAGEMENT_URL"] = self.ws_gateway.management_url
        os.environ["WEBSOCKET_MANAGEMENT_URL"] = self.ws_gateway.management_url  # before any handler runs
        from chalicelib.local.stream_runner import StreamRunner

        self.runner = StreamRunner(
            app, session, endpoint_url=endpoint, chaos=self.chaos,
            failures_queue_url=outputs.get("StreamFailuresQueueUrl"),
        )
        self._spawn("stream-runner", self.runner.run_forever)
        # Live rooms: the app's minute schedule (`live_soon`), every LIVE_SCHEDULE_SECONDS here
        self._spawn("live-schedule", self._run_live_schedule)

        self._spawn("api", self.api.serve_forever)
        api_url = f"http://{self.host}:{self.port}"
        _wait_until_up(f"{api_url}/health")

        state = {
            "api_url": api_url,
            "aws_endpoint_url": endpoint,
            "region": REGION,
            "stage": self.stage,
            "stack_name": self.stack_name,
            "user_pool_id": outputs["UserPoolId"],
            "user_pool_client_id": outputs["UserPoolClientId"],
            "stream_failures_queue_url": outputs.get("StreamFailuresQueueUrl"),
            "tables": table_names(outputs),
            "media_bucket": outputs.get("MediaBucketName"),
            "media_base_url": media_base_url,
            "ws_url": self.ws_gateway.ws_url,
            "websocket_management_url": self.ws_gateway.management_url,
            "stream_chaos": self.chaos,
            "pid": os.getpid(),
            "environment": env,  # what the app reads (the CLI's `failures replay` runs handlers with it)
        }
        if self.demo:
            state["demo_users"] = self._load_demo(state)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)  # written last, atomically: its presence means "ready"
        return state

    def _bind_api(self, session, endpoint: str, media_bucket: str):
        """The API server, bound before the app starts (its port is in MEDIA_BASE_URL); it serves once spawned."""
        from botocore.config import Config

        from app import app

        s3 = session.client("s3", endpoint_url=endpoint, config=Config(signature_version="s3v4"))
        return _api_server(app, self.stage, self.host, self.port, media=(s3, media_bucket))

    def _start_ws_gateway(self, app):
        """The app's websocket handlers behind a local API Gateway WebSocket API (none: connects refused)."""
        from chalicelib.local.ws_gateway import WebSocketGateway

        return WebSocketGateway.for_app(app, host=self.host, port=self.ws_port,
                                        management_port=self.ws_management_port, stage=self.stage,
                                        region=REGION).start()

    def _attach_sign_up_trigger(self, session, endpoint: str, pool_id: str) -> None:
        """As the deploy does: the app's trigger becomes the pool's PostConfirmation; moto (patched)
        calls the registered local function when the pool confirms a user."""
        from chalicelib import triggers
        from chalicelib.local.moto_patches import register_local_function
        from infra import cognito_trigger

        name = f"jianghu-{self.stage}-{triggers.POST_CONFIRMATION_FUNCTION}"
        arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        register_local_function(arn, triggers.create_profile_on_sign_up)
        cognito_trigger.attach(session.client("cognito-idp", endpoint_url=endpoint), pool_id, arn)

    @staticmethod
    def _load_demo(state: dict) -> list[dict]:
        """The demo data set; whatever goes wrong with it, the stack stays up."""
        try:
            from chalicelib.local.demo import load_demo

            return load_demo(state)
        except Exception as exc:
            print(f"demo: not loaded: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return []

    def _run_live_schedule(self) -> None:
        """Invoke the app's scheduled handler as EventBridge would, at a rate tests can shorten."""
        from chalicelib.api.live_ws import send_live_soon_notices

        seconds = float(os.environ.get("LIVE_SCHEDULE_SECONDS") or 60)
        while not self._stopped.wait(seconds):
            try:
                send_live_soon_notices({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
                                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                        "resources": [], "region": REGION, "account": "123456789012", "id": "local",
                                        "version": "0"}, None)
            except Exception as exc:  # noqa: BLE001 - the next tick tries again, as EventBridge would
                print(f"live-schedule: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def _spawn(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if hasattr(self, "runner"):
            self.runner.stop()
            for thread in self._threads:
                if thread.name == "stream-runner":
                    thread.join(timeout=5)  # let it finish its batch before the AWS it talks to goes
        if hasattr(self, "ws_gateway"):
            self.ws_gateway.stop()  # its $disconnect handlers still reach moto
        if hasattr(self, "api"):
            self.api.server.shutdown()
            self.api.server.server_close()
        if hasattr(self, "moto"):
            self.moto.stop()
        if self.state_file.exists():
            self.state_file.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 5001)))
    parser.add_argument("--ws-port", type=int, default=int(os.environ.get("WS_PORT", 8001)))
    parser.add_argument("--ws-management-port", type=int, default=int(os.environ.get("WS_MANAGEMENT_PORT", 8002)))
    parser.add_argument("--state-file", type=Path, default=Path(os.environ.get("STACK_STATE_FILE", DEFAULT_STATE)))
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--demo", action="store_true", default=os.environ.get("DEMO") == "1",
                        help="load the demo data set once the stack is up")
    parser.add_argument("--chaos", action="store_true", default=os.environ.get("STREAM_CHAOS") == "1",
                        help="deliver every stream record at least twice, batches split at random")
    args = parser.parse_args(argv)
    stack = LocalStack(port=args.port, moto_port=args.moto_port, state_file=args.state_file,
                       stage=args.stage, chaos=args.chaos, demo=args.demo,
                       ws_port=args.ws_port, ws_management_port=args.ws_management_port)

    started = threading.Event()
    stop_requested = threading.Event()

    def request_stop(signum, frame):
        """Only note the request: the main thread stops the stack, outside the handler, where no
        lock it holds (an import, a print) can be waited on by a thread that stop() joins."""
        stop_requested.set()
        if not started.is_set():
            raise KeyboardInterrupt  # leave start() where it is; stop() undoes what it got to

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        state = stack.start()
        started.set()
    except KeyboardInterrupt:
        stack.stop()
        print("Stopped while starting.", flush=True)
        return 130
    except Exception:
        stack.stop()
        raise
    print(f"Jianghu is up: API {state['api_url']}, WebSocket {state['ws_url']}, AWS {state['aws_endpoint_url']}",
          flush=True)
    for user in state.get("demo_users", []):
        print(f"  demo user {user['email']} / {user['password']} ({', '.join(user['groups']) or 'shopper'})",
              flush=True)
    print(f"Stack details in {args.state_file}. Ctrl-C stops everything.", flush=True)
    # A timed wait: Python runs a signal's handler only in the main thread, between bytecodes; a
    # signal the kernel hands to another thread would leave an untimed wait asleep until the next.
    while not stop_requested.wait(0.25):
        pass
    stack.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    exit_code = main()
    # Everything is stopped and the state file is gone: skip the interpreter's teardown, which
    # frees moto's whole in-memory AWS object by object and can take several seconds.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
