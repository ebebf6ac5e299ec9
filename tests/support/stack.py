"""Boot the real local stack (`python -m chalicelib.local.stack`) in a subprocess for e2e tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import jwt
import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-horse-9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StackUser:
    user_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class RunningStack:
    def __init__(self, state: dict, process: subprocess.Popen, log_path: Path):
        self.state = state
        self.process = process
        self.log_path = log_path
        self.state_file = log_path.parent / "stack.json"
        self.api_url = state["api_url"]
        self.ws_url = state.get("ws_url", "")
        self.session = boto3.Session(
            region_name=state["region"], aws_access_key_id="local", aws_secret_access_key="local"
        )
        self.cognito = self.client("cognito-idp")
        self.http = requests.Session()

    def client(self, service: str):
        return self.session.client(service, endpoint_url=self.state["aws_endpoint_url"])

    def sign_up(self, name: str = "shopper", groups: tuple[str, ...] = ()) -> StackUser:
        """What a client does: sign_up, (an admin confirms and adds groups), initiate_auth."""
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        client_id = self.state["user_pool_client_id"]
        pool_id = self.state["user_pool_id"]
        self.cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": email}])
        self.cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        result = self.cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        token = result["AuthenticationResult"]["IdToken"]
        return StackUser(jwt.decode(token, options={"verify_signature": False})["sub"], email, token)

    def call(self, method: str, path: str, user: StackUser | None = None, body=None, **kwargs):
        headers = dict(user.headers if user else {})
        headers.update(kwargs.pop("headers", {}))
        return self.http.request(method, self.api_url + path, json=body, headers=headers, timeout=30, **kwargs)

    def eventually(self, probe, timeout: float = 5.0, interval: float = 0.1):
        """Poll `probe` until it returns something truthy (streams deliver within ~2 s)."""
        deadline = time.time() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.time() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; last result {result!r}")
            time.sleep(interval)


def start_stack(tmp_dir: Path, *, chaos: bool | None = None, extra_env: dict | None = None) -> RunningStack:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    state_file = tmp_dir / "stack.json"
    log_path = tmp_dir / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STREAM_ARN_", "JWKS", "TOKEN_"))}
    env.update(
        PORT=str(free_port()), MOTO_PORT=str(free_port()), STACK_STATE_FILE=str(state_file),
        WS_PORT=str(free_port()), WS_MANAGEMENT_PORT=str(free_port()),
        AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
        POWERTOOLS_LOG_LEVEL="WARNING", TABLE_PREFIX="jianghu-dev", STAGE="dev",
    )
    env.pop("USER_POOL_ID", None)
    env.pop("USER_POOL_CLIENT_ID", None)
    if chaos is not None:
        env["STREAM_CHAOS"] = "1" if chaos else "0"
    env.update(extra_env or {})
    log = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "-m", "chalicelib.local.stack"], cwd=PROJECT_DIR, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while not state_file.exists():
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            raise RuntimeError(f"local stack did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)
    running = RunningStack(json.loads(state_file.read_text()), process, log_path)
    running.state_file = state_file
    return running


def stop_stack(stack: RunningStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        stack.process.kill()
