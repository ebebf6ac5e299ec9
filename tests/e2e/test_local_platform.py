"""The local platform a person uses: the CLI, the demo data set, set-aside records, Ctrl-C, stream latency."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid

import jwt
import pytest

from tests.support.stack import PROJECT_DIR, start_stack, stop_stack


def cli(stack, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    """`python -m chalicelib.cli --stack-file <the stack's state file> ...`, as a person runs it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "STREAM_ARN_", "JWKS", "TOKEN_", "TABLE_PREFIX", "STAGE", "USER_POOL"))}
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "--stack-file", str(stack.state_file), *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def _email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


# -- users and tokens ------------------------------------------------------------------------------
def test_create_user_prints_the_user_id_and_token_prints_only_a_working_token(stack):
    email = _email("cli")
    # When a person creates a user and asks for a token
    user_id = cli(stack, "create-user", email, check=True).stdout.strip()
    token = cli(stack, "token", email, check=True).stdout
    # Then the output is exactly a user id, and exactly one IdToken line that the API accepts
    assert token.count("\n") == 1 and token.strip().count(".") == 2
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    assert claims["sub"] == user_id and claims["token_use"] == "id"
    response = stack.call("GET", "/me", headers={"Authorization": token.strip()})
    assert response.status_code == 200
    assert response.json()["user_id"] == user_id


def test_create_user_puts_the_user_in_the_groups_asked_for(stack):
    email = _email("merchant")
    cli(stack, "create-user", email, "--password", "Another-pass-7", "--group", "merchants", "--group", "judges",
        check=True)
    token = cli(stack, "token", email, "--password", "Another-pass-7", check=True).stdout.strip()
    groups = jwt.decode(token, options={"verify_signature": False})["cognito:groups"]
    assert sorted(groups) == ["judges", "merchants"]


def test_the_cli_refuses_what_it_cannot_do_with_a_message(stack, tmp_path):
    email = _email("twice")
    cli(stack, "create-user", email, check=True)
    again = cli(stack, "create-user", email)
    assert again.returncode == 2 and "already exists" in again.stderr
    wrong = cli(stack, "token", email, "--password", "Not-the-password-1")
    assert wrong.returncode == 2 and "wrong email or password" in wrong.stderr and not wrong.stdout
    unknown_group = cli(stack, "create-user", _email("x"), "--group", "wizards")
    assert unknown_group.returncode == 2 and "invalid choice" in unknown_group.stderr
    no_stack = subprocess.run([sys.executable, "-m", "chalicelib.cli", "--stack-file", str(tmp_path / "none.json"),
                               "token", email], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert no_stack.returncode == 2 and "make dev" in no_stack.stderr


# -- the demo data set -----------------------------------------------------------------------------
def test_demo_loads_users_profiles_and_follows_through_the_api(stack):
    # When the demo is loaded into the running stack
    result = cli(stack, "demo", check=True)
    lines = [line for line in result.stdout.splitlines() if "@demo.jianghu.test" in line]
    users = {line.split()[0].split("@")[0]: line.split("user_id=")[1].strip() for line in lines}
    assert {"mei", "judge-an", "judge-bo", "judge-cy", "lin", "kai", "yu"} <= set(users)
    # Then a demo user can sign in with the printed password and sees the demo world
    token = cli(stack, "token", "lin@demo.jianghu.test", "--password", "Jianghu-demo-1", check=True).stdout.strip()
    headers = {"Authorization": token}
    kai = stack.call("GET", f"/users/{users['kai']}", headers=headers).json()
    assert kai["display_name"] == "Kai"
    assert "camera" in kai["labels"]
    # and the follows went through the streams into the counters (yu and lin follow kai)
    stack.eventually(
        lambda: stack.call("GET", f"/users/{users['kai']}", headers=headers).json()["follower_count"] == 2)
    mei_token = cli(stack, "token", "mei@demo.jianghu.test", "--password", "Jianghu-demo-1", check=True).stdout
    assert "merchants" in jwt.decode(mei_token.strip(), options={"verify_signature": False})["cognito:groups"]
    # And loading it again changes nothing and says so
    again = cli(stack, "demo", check=True)
    assert "already exist" in again.stderr
    assert sorted(again.stdout.splitlines()) == sorted(lines)


# -- audience repair --------------------------------------------------------------------------------
def test_an_operator_rebuilds_a_lost_audience_from_the_follows(stack):
    dynamodb = stack.client("dynamodb")
    from chalicelib.domain.feed import AUDIENCE_SHARDS, audience_key

    buckets_table = stack.state["tables"]["AudienceBuckets"]
    author, run = f"author-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
    fans = sorted(f"fan-{run}-{index}" for index in range(3))

    def buckets() -> list[dict]:
        return [item for shard in range(AUDIENCE_SHARDS) for item in dynamodb.query(
            TableName=buckets_table, KeyConditionExpression="audience_key = :k",
            ExpressionAttributeValues={":k": {"S": audience_key(author, shard)}}, ConsistentRead=True)["Items"]]

    def audience() -> list[str]:
        return sorted(fan for item in buckets() for fan in item.get("follower_ids", {}).get("SS", []))

    # Given follows whose stream effects built the author's audience (written as the Follow model
    # writes them, with their followers-index shard)
    from chalicelib.models.graph import followers_key

    for fan in fans:
        dynamodb.put_item(TableName=_follows_table(stack), Item={
            "follower_id": {"S": fan}, "followee_id": {"S": author}, "created_at": {"S": "2026-11-23T10:00:00Z"},
            "followee_shard": {"S": followers_key(author, fan)}})
    stack.eventually(lambda: audience() == fans, timeout=10)

    # And the buckets lost (a bad restore, a bug) once the streams are done with the follows: under
    # STREAM_CHAOS a record's second delivery may still be on its way and would add its fan back
    def lose_buckets() -> bool:
        for item in buckets():
            dynamodb.delete_item(TableName=buckets_table,
                                 Key={"audience_key": item["audience_key"], "bucket": item["bucket"]})
        time.sleep(1.0)
        return audience() == []

    stack.eventually(lose_buckets, timeout=20)
    # When an operator rebuilds it
    result = cli(stack, "audience", "rebuild", author, check=True)
    # Then it is whole again, from the Follow items
    assert result.stdout.strip() == f"{author}: audience rebuilt from 3 follower(s)"
    assert audience() == fans


# -- set-aside records, end to end -----------------------------------------------------------------
def _follows_table(stack) -> str:
    return stack.state["tables"]["Follows"]


def _failures(stack) -> list[dict]:
    return json.loads(cli(stack, "failures", "list", "--json", check=True).stdout)


def test_a_real_poison_record_is_set_aside_listed_and_kept_when_its_replay_fails_again(stack):
    # Given a follow of oneself written straight into the table (the API refuses it): its counter
    # transaction touches one profile twice, which DynamoDB rejects, every time
    me = f"self-{uuid.uuid4().hex[:8]}"
    stack.client("dynamodb").put_item(TableName=_follows_table(stack),
                                      Item={"follower_id": {"S": me}, "followee_id": {"S": me}})
    # When the stream runner has given up on it
    row = stack.eventually(lambda: next((r for r in _failures(stack) if (r["keys"] or {}).get("follower_id") == me),
                                        None), timeout=20)
    # Then the operator sees the handler, table, sequence, keys and error
    assert row["handler"] == "update_follow_graph"
    assert row["table"] == _follows_table(stack)
    assert row["sequence"].isdigit() and row["event"] == "INSERT"
    assert row["keys"] == {"follower_id": me, "followee_id": me}
    assert "multiple operations on one item" in row["error"] and row["attempts"] == 3
    # And a replay that fails again says so and keeps the record on the queue
    replayed = cli(stack, "failures", "replay", row["id"])
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert "failed again, kept on the queue" in replayed.stdout
    assert "multiple operations on one item" in replayed.stdout
    assert row["id"] in [r["id"] for r in _failures(stack)]
    # (leave the shared stack's queue clean)
    sqs = stack.client("sqs")
    queue_url = stack.state["stream_failures_queue_url"]
    from chalicelib.local.failures import receive_all

    for message in receive_all(sqs, queue_url):
        if message.message_id == row["id"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)


def test_replaying_a_lambda_failure_message_reads_the_stream_and_changes_nothing_twice(stack):
    # Given alice follows bob (bob's count moved once), and a Lambda-style failure message for that record
    alice, bob = stack.sign_up("alice"), stack.sign_up("bob")
    stack.call("GET", "/me", bob)
    assert stack.call("PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
    stack.eventually(lambda: stack.call("GET", f"/users/{bob.user_id}", alice).json()["follower_count"] == 1)
    streams = stack.client("dynamodbstreams")
    stream_arn = stack.client("dynamodb").describe_table(TableName=_follows_table(stack))["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    [record] = [r for r in records if r["dynamodb"]["Keys"]["follower_id"]["S"] == alice.user_id]
    sequence = record["dynamodb"]["SequenceNumber"]
    message = {
        "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted",
                           "functionArn": FUNCTION_ARN + "jianghu-dev-update_follow_graph",
                           "approximateInvokeCount": 3},
        "version": "1.0", "timestamp": "2030-01-01T00:00:00.000Z",
        "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": sequence, "endSequenceNumber": sequence,
                               "batchSize": 1, "streamArn": stream_arn},
    }
    message_id = stack.client("sqs").send_message(QueueUrl=stack.state["stream_failures_queue_url"],
                                                  MessageBody=json.dumps(message))["MessageId"]
    [row] = [r for r in _failures(stack) if r["id"] == message_id]
    assert row["handler"] == "jianghu-dev-update_follow_graph" and row["sequence"] == sequence
    # When the operator replays it
    replayed = cli(stack, "failures", "replay", message_id)
    # Then the handler ran on the record read back from the stream, the message is gone, and the
    # effect it had already applied was not applied twice
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replayed, removed from the queue" in replayed.stdout
    assert message_id not in [r["id"] for r in _failures(stack)]
    # (the CLI ran the handler in its own process: its writes were done before it exited)
    assert stack.call("GET", f"/users/{bob.user_id}", alice).json()["follower_count"] == 1


# -- streams within 2 s ---------------------------------------------------------------------------
def test_a_write_reaches_its_stream_handler_within_two_seconds(stack, record_property):
    # Given a user to be followed
    star = stack.sign_up("star")
    stack.call("GET", "/me", star)
    delays = []
    for n in range(8):
        fan = stack.sign_up(f"fan{n}")
        # When a follow is written
        assert stack.call("PUT", f"/users/{star.user_id}/follow", fan).status_code == 200
        written = time.monotonic()
        # Then the stream handler's counter update is visible within 2 s
        while stack.call("GET", f"/users/{star.user_id}", fan).json()["follower_count"] < n + 1:
            assert time.monotonic() - written < 2.0, f"follow {n} not delivered within 2 s"
            time.sleep(0.02)
        delays.append(time.monotonic() - written)
    record_property("stream_delay_median_s", round(statistics.median(delays), 3))
    record_property("stream_delay_max_s", round(max(delays), 3))
    print(f"stream delivery: median {statistics.median(delays):.3f} s, max {max(delays):.3f} s over {len(delays)}")
    assert max(delays) < 2.0


# -- Ctrl-C ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_stops_the_stack_cleanly_and_the_next_start_is_fresh(tmp_path):
    # Given a running stack with a user and a profile in it
    first = start_stack(tmp_path / "first")
    try:
        user = first.sign_up("gone")
        assert first.call("GET", "/me", user).status_code == 200
        ports = {"PORT": first.api_url.rsplit(":", 1)[1],
                 "MOTO_PORT": first.state["aws_endpoint_url"].rsplit(":", 1)[1]}
        # When the person presses Ctrl-C
        first.process.send_signal(signal.SIGINT)
        code = first.process.wait(timeout=20)
    finally:
        if first.process.poll() is None:
            stop_stack(first)
    # Then every part stopped, the process ended well, and the state file is gone
    assert code == 0, first.log_path.read_text()[-3000:]
    assert not first.state_file.exists()
    log = first.log_path.read_text()
    assert "Stopped." in log and "Traceback" not in log, log[-3000:]
    # And a second start, on the same ports, is a fresh, empty world
    second = start_stack(tmp_path / "second", extra_env=ports)
    try:
        assert second.api_url == first.api_url
        with pytest.raises(second.cognito.exceptions.UserNotFoundException):
            second.cognito.admin_get_user(UserPoolId=second.state["user_pool_id"], Username=user.email)
        users_table = second.state["tables"]["Users"]
        assert second.client("dynamodb").scan(TableName=users_table, Select="COUNT")["Count"] == 0
        assert second.call("GET", "/health").status_code == 200
    finally:
        stop_stack(second)


def _signal_another_thread(pid: int, signum: int) -> int:
    """tgkill(2) to the oldest thread but the main one that is still there (a thread per request
    comes and goes), as the kernel may pick any thread for a process's signal. Returns its id."""
    import ctypes
    import errno
    import platform

    number = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
    if number is None:
        pytest.skip(f"no tgkill number known for {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    for tid in sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid):
        if libc.syscall(number, pid, tid, signum) == 0:
            return tid
        assert ctypes.get_errno() == errno.ESRCH, os.strerror(ctypes.get_errno())
    raise AssertionError("the stack has no thread but its main one")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads are read from /proc")
def test_ctrl_c_stops_the_stack_whichever_thread_the_kernel_hands_it_to(tmp_path):
    # Given a running stack, whose process has the API's, moto's, the runner's and the gateway's threads
    running = start_stack(tmp_path)
    try:
        # When the interrupt lands on a thread other than the main one (Python runs handlers only there)
        assert _signal_another_thread(running.process.pid, signal.SIGINT) != running.process.pid
        code = running.process.wait(timeout=20)
    finally:
        if running.process.poll() is None:
            stop_stack(running)
    # Then the main thread still notices it and stops everything
    assert code == 0, running.log_path.read_text()[-3000:]
    assert not running.state_file.exists()
    assert "Stopped." in running.log_path.read_text()


@pytest.mark.slow
def test_a_stop_while_starting_leaves_no_state_file_behind(tmp_path):
    # Given a stack that is still starting (its moto server is up, its tables not yet)
    from tests.support.stack import free_port

    state_file = tmp_path / "stack.json"
    log_path = tmp_path / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STREAM_ARN_", "JWKS", "TOKEN_"))}
    env.update(PORT=str(free_port()), MOTO_PORT=str(free_port()), WS_PORT=str(free_port()),
               WS_MANAGEMENT_PORT=str(free_port()), STACK_STATE_FILE=str(state_file),
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "chalicelib.local.stack"], cwd=PROJECT_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _accepts_connections(int(env["MOTO_PORT"])):  # moto is up: the template's deploy begins
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.02)
        # When ops stop it (SIGTERM) before it is up
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    # Then it ends, says so, and leaves no state file claiming a stack that is gone
    output = log_path.read_text()
    assert code == 130, output[-3000:]
    assert "Stopped while starting." in output and "Traceback" not in output, output[-3000:]
    assert not state_file.exists()


def _accepts_connections(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_cursor_signed_with_the_public_default_key_is_refused(stack, monkeypatch):
    # The stage default key is written in this repository; the local stack signs with a random one
    import app  # noqa: F401  (registers every route)
    from chalicelib.config import reset_settings
    from chalicelib.http import ROUTES, _page_scope
    from chalicelib.pagination import encode_cursor

    user = stack.sign_up("cursor")
    spec = next(s for s in ROUTES if (s.method, s.path) == ("GET", "/me/notifications"))
    monkeypatch.setenv("CURSOR_SECRET", f"jianghu-{stack.state['stage']}-cursor-key")
    reset_settings()
    try:
        position = {"user_id": {"S": user.user_id}, "notification_id": {"S": "0"}}
        cursor = encode_cursor(position, _page_scope(spec, {}, {}, type("Caller", (), {"user_id": user.user_id})))
    finally:
        monkeypatch.delenv("CURSOR_SECRET")
        reset_settings()
    response = stack.call("GET", "/me/notifications", user, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["Message"].startswith("cursor: ")
