"""The local stream runner behaves like Lambda's event source mapping, poison records included.

A throwaway Chalice app with its own handlers on the Follows table's stream: one written the way
every feature writes them (`dynamodb_stream`, powertools batch processing, per-record failures),
and one plain `on_dynamodb_record` handler that sees the raw event and fails its whole batch.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from chalice import Blueprint, Chalice

from chalicelib.config import stream_arn
from chalicelib.domain.changes import Change
from chalicelib.local.failures import (
    InProcessInvoker,
    LambdaInvoker,
    list_set_aside,
    receive_all,
    release,
    replay,
)
from chalicelib.local.stream_runner import StreamRunner
from chalicelib.streams.events import dynamodb_stream

DELIVERED: list[str] = []  # follower ids, in the order the per-record handler saw them
POISON: set[str] = set()  # follower ids whose records fail on purpose
RAW_BATCHES: list[tuple[dict, object]] = []  # (event, context) as the plain handler received them
CHANGES: list[Change] = []


def _apply(change: Change) -> None:
    CHANGES.append(change)
    follower = change.item["follower_id"]
    DELIVERED.append(follower)
    if follower in POISON:
        raise ValueError(f"{follower} is poison")


per_record = Blueprint(__name__)
record_test_follows = dynamodb_stream(per_record, "Follows", (_apply,), name="record_test_follows")

whole_batch = Blueprint(__name__)


@whole_batch.on_dynamodb_record(stream_arn=stream_arn("Follows"), batch_size=100, name="raw_test_follows")
def raw_test_follows(event):
    RAW_BATCHES.append((event.to_dict(), event.context))
    if any(r["dynamodb"]["Keys"]["follower_id"]["S"] in POISON for r in event.to_dict()["Records"]):
        raise RuntimeError("a poison record in this batch")


def _app(blueprint: Blueprint) -> Chalice:
    app = Chalice(app_name="stream-runner-test")
    app.register_blueprint(blueprint)
    return app


@pytest.fixture
def world(tables):
    """Empty tables, an empty failures queue, no poison, nothing delivered yet."""
    DELIVERED.clear()
    POISON.clear()
    RAW_BATCHES.clear()
    CHANGES.clear()
    sqs = tables.session.client("sqs")
    queue_url = tables.outputs["StreamFailuresQueueUrl"]
    for message in receive_all(sqs, queue_url):  # PurgeQueue is allowed once a minute only
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)
    yield tables
    POISON.clear()


def _runner(world, blueprint: Blueprint = per_record, **kwargs) -> StreamRunner:
    kwargs.setdefault("failures_queue_url", world.outputs["StreamFailuresQueueUrl"])
    return StreamRunner(_app(blueprint), world.session, **kwargs)


def _follow(world, *followers: str, followee: str = "star") -> None:
    client = world.session.client("dynamodb")
    for follower in followers:
        client.put_item(TableName=f"{world.stack_name}-follows",
                        Item={"follower_id": {"S": follower}, "followee_id": {"S": followee}})


def _queue(world) -> list[dict]:
    """The failures queue's messages, as an operator reads them with receive_message."""
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    messages = receive_all(sqs, queue_url)
    release(sqs, queue_url, messages)
    return [m.body for m in messages]


# -- poison records -----------------------------------------------------------------------------
def test_a_poison_record_is_retried_then_set_aside_while_the_records_behind_it_flow_on(world):
    # Given a handler that fails on one record, and five writes with that record in the middle
    POISON.add("p")
    runner = _runner(world, max_attempts=3)
    _follow(world, "a", "b", "p", "c", "d")
    # When the runner delivers the stream
    runner.drain()
    # Then the poison record was tried exactly max_attempts times, and every other record arrived
    assert DELIVERED.count("p") == 3
    assert {"a", "b", "c", "d"} <= set(DELIVERED)
    # And the record is set aside on the failures queue, with Lambda's metadata and the record itself
    [message] = _queue(world)
    sequence = message["record"]["dynamodb"]["SequenceNumber"]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == sequence
    assert message["DDBStreamBatchInfo"]["streamArn"] == runner.subscriptions[0].stream_arn
    assert message["DDBStreamBatchInfo"]["shardId"] in runner.subscriptions[0].checkpoints
    assert message["record"]["dynamodb"]["Keys"] == {"follower_id": {"S": "p"}, "followee_id": {"S": "star"}}
    assert message["handler"] == "record_test_follows"
    assert message["error"] == "ValueError: p is poison"
    assert runner.set_aside == [message] or runner.set_aside[0]["record"] == message["record"]


def test_the_stream_flows_on_after_a_record_is_set_aside(world):
    # Given a poison record that was set aside
    POISON.add("p")
    runner = _runner(world, max_attempts=2)
    _follow(world, "p")
    runner.drain()
    DELIVERED.clear()
    # When later records arrive
    _follow(world, "e", "f")
    runner.drain()
    # Then they are delivered once each, and the poison record is not tried again
    assert DELIVERED == ["e", "f"]
    assert len(_queue(world)) == 1


def test_batch_item_failures_retry_only_the_failing_record_and_those_after_it(world):
    # Given a per-record handler (powertools) and a poison record third in its batch
    POISON.add("p")
    runner = _runner(world, max_attempts=3)
    _follow(world, "a", "b", "p", "d")
    # When the batch is delivered
    runner.drain()
    # Then the records before the failure were checkpointed: delivered once, never retried
    assert DELIVERED.count("a") == 1
    assert DELIVERED.count("b") == 1
    # And the retries started at the failing record (which Lambda retries together with those after it)
    assert DELIVERED.count("p") == 3
    assert DELIVERED[:4] == ["a", "b", "p", "d"]
    assert DELIVERED[4:] == ["p", "d", "p", "d", "d"]


def test_max_attempts_bounds_the_tries_of_a_record(world):
    POISON.add("p")
    runner = _runner(world, max_attempts=1)
    _follow(world, "p", "q")
    runner.drain()
    assert DELIVERED.count("p") == 1
    assert "q" in DELIVERED
    assert len(_queue(world)) == 1


def test_a_batch_that_fails_whole_is_bisected_until_the_poison_record_is_alone(world):
    # Given a handler that raises (failing its whole batch) whenever the poison record is in it
    POISON.add("p")
    runner = _runner(world, whole_batch, max_attempts=3)
    _follow(world, "a", "b", "c", "p", "e", "f")
    # When the runner delivers the stream
    runner.drain()
    # Then the batch was split until the poison record was alone, tried max_attempts times, set aside
    batches = [[r["dynamodb"]["Keys"]["follower_id"]["S"] for r in event["Records"]] for event, _ in RAW_BATCHES]
    assert batches[0] == ["a", "b", "c", "p", "e", "f"]
    assert batches.count(["p"]) == 3
    assert all(len(batch) < 6 for batch in batches[1:])
    # And every other record got through in a batch without the poison record
    succeeded = {key for batch in batches if "p" not in batch for key in batch}
    assert succeeded == {"a", "b", "c", "e", "f"}
    [message] = _queue(world)
    assert message["record"]["dynamodb"]["Keys"]["follower_id"] == {"S": "p"}
    assert message["handler"] == "raw_test_follows"
    assert message["error"] == "RuntimeError: a poison record in this batch"


def test_a_response_naming_an_unknown_record_fails_the_whole_batch(world, monkeypatch):
    # Given a handler whose batchItemFailures names a record that is not in the batch (AWS: whole batch failed)
    runner = _runner(world, max_attempts=2)
    calls = []

    def bogus(event, context):
        calls.append(len(event["Records"]))
        return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}

    monkeypatch.setattr(runner.subscriptions[0], "handler", bogus)
    _follow(world, "a")
    runner.drain()
    # Then the record counts as failed: retried, then set aside
    assert calls == [1, 1]
    assert len(runner.set_aside) == 1


# -- chaos ---------------------------------------------------------------------------------------
def test_chaos_mode_delivers_every_record_at_least_twice_in_random_batches(world):
    # Given a chaos runner
    runner = _runner(world, whole_batch, chaos=True, seed=11)
    followers = [f"u{i:02d}" for i in range(12)]
    _follow(world, *followers)
    # When it delivers the stream
    runner.drain()
    # Then every record arrived at least twice, in batches split smaller than the stream
    batches = [[r["dynamodb"]["Keys"]["follower_id"]["S"] for r in event["Records"]] for event, _ in RAW_BATCHES]
    seen = [key for batch in batches for key in batch]
    assert all(seen.count(f) >= 2 for f in followers)
    assert any(len(batch) < len(followers) for batch in batches)
    # And in stream order: a record is never delivered before one written earlier was first delivered
    first_seen = sorted(followers, key=seen.index)
    assert first_seen == followers


def test_chaos_mode_still_sets_a_poison_record_aside(world):
    POISON.add("p")
    runner = _runner(world, chaos=True, seed=3, max_attempts=2)
    _follow(world, "a", "p", "b")
    runner.drain()
    assert {"a", "b"} <= set(DELIVERED)
    assert len(_queue(world)) == 1


# -- the Lambda event shape ----------------------------------------------------------------------
def test_records_reach_handlers_in_the_lambda_event_shape(world):
    # Given a follow created, changed and removed
    runner = _runner(world, whole_batch)
    client = world.session.client("dynamodb")
    table = f"{world.stack_name}-follows"
    key = {"follower_id": {"S": "ann"}, "followee_id": {"S": "bob"}}
    before = time.time()
    client.put_item(TableName=table, Item=key)
    client.put_item(TableName=table, Item={**key, "since": {"N": "7"}})
    client.delete_item(TableName=table, Key=key)
    # When the runner delivers them
    runner.drain()
    # Then the handler got one JSON event, each record as Lambda sends it
    [(event, context)] = RAW_BATCHES
    json.dumps(event)  # nothing but JSON types, as from Lambda
    stream = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = event["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for record in records:
        assert record["eventSourceARN"] == stream
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert record["eventID"]
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, int | float) and not isinstance(created, bool)
        assert before - 2 <= created <= time.time() + 1
        assert record["dynamodb"]["SequenceNumber"].isdigit()
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["Keys"] == key
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert "OldImage" not in records[0]["dynamodb"] and records[0]["dynamodb"]["NewImage"] == key
    assert records[1]["dynamodb"]["NewImage"]["since"] == {"N": "7"}
    assert records[2]["dynamodb"]["OldImage"]["since"] == {"N": "7"} and "NewImage" not in records[2]["dynamodb"]
    # And the context carries what powertools and Chalice read
    assert context.function_name == "jianghu-raw_test_follows"
    assert context.invoked_function_arn.endswith(":function:jianghu-raw_test_follows")
    assert context.aws_request_id


def test_handlers_see_changes_with_table_kind_and_creation_time(world):
    runner = _runner(world)
    _follow(world, "zed")
    runner.drain()
    [change] = CHANGES
    assert change.table == f"{world.stack_name}-follows"
    assert change.kind == "INSERT"
    assert change.keys == {"follower_id": "zed", "followee_id": "star"}
    assert abs(change.created_ms / 1000 - time.time()) < 5
    assert change.effect_id("x") == f"x:{world.stack_name}-follows:{change.sequence_number}"


def test_a_table_created_again_is_followed_on_its_new_stream(world):
    # Given a runner reading the Follows stream
    runner = _runner(world)
    _follow(world, "a")
    runner.drain()
    # When the table is dropped and created again (a new stream), and written to
    client = world.session.client("dynamodb")
    name = f"{world.stack_name}-follows"
    description = client.describe_table(TableName=name)["Table"]
    client.delete_table(TableName=name)
    key_names = {key["AttributeName"] for key in description["KeySchema"]}  # its indexes are not needed here
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[d for d in description["AttributeDefinitions"] if d["AttributeName"] in key_names],
        KeySchema=description["KeySchema"],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    _follow(world, "b")
    runner.refresh()
    runner.drain()
    # Then the new record is delivered from the new stream
    assert DELIVERED == ["a", "b"]


# -- the operator: list and replay -----------------------------------------------------------------
def _set_aside_poison(world, *followers: str) -> StreamRunner:
    POISON.update(followers)
    runner = _runner(world, max_attempts=1)
    _follow(world, *followers)
    runner.drain()
    return runner


def test_list_shows_each_set_aside_record_and_leaves_the_queue_as_it_was(world):
    # Given a record set aside
    _set_aside_poison(world, "p")
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    # When the operator lists the set-aside records (twice)
    first = list_set_aside(sqs, queue_url)
    second = list_set_aside(sqs, queue_url)
    # Then each shows handler, table, sequence, keys and error, and listing removed nothing
    [row] = first
    assert row["handler"] == "record_test_follows"
    assert row["table"] == f"{world.stack_name}-follows"
    assert row["sequence"].isdigit()
    assert row["keys"] == {"follower_id": "p", "followee_id": "star"}
    assert row["event"] == "INSERT"
    assert row["error"] == "ValueError: p is poison"
    assert [r["id"] for r in second] == [row["id"]]


def test_replay_delivers_the_record_again_once_the_cause_is_fixed_and_removes_it(world):
    # Given a record set aside, whose cause is then fixed
    _set_aside_poison(world, "p")
    POISON.clear()
    DELIVERED.clear()
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    # When the operator replays every set-aside record
    results = replay(sqs, queue_url, world.session.client("dynamodbstreams"), InProcessInvoker(None, "us-east-1"),
                     region="us-east-1")
    # Then the handler got the record and the message is gone
    assert [r.ok for r in results] == [True]
    assert DELIVERED == ["p"]
    assert list_set_aside(sqs, queue_url) == []


def test_replay_of_a_record_that_still_fails_keeps_it_on_the_queue(world):
    _set_aside_poison(world, "p")
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    [result] = replay(sqs, queue_url, world.session.client("dynamodbstreams"), InProcessInvoker(None, "us-east-1"),
                      region="us-east-1")
    assert not result.ok
    assert result.failed_sequences
    assert result.detail == "ValueError: p is poison"
    assert len(list_set_aside(sqs, queue_url)) == 1


def test_replay_of_one_id_leaves_the_others(world):
    _set_aside_poison(world, "p", "q")
    POISON.clear()
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    rows = list_set_aside(sqs, queue_url)
    assert len(rows) == 2
    wanted = rows[0]["id"]
    results = replay(sqs, queue_url, world.session.client("dynamodbstreams"), InProcessInvoker(None, "us-east-1"),
                     region="us-east-1", ids=[wanted[:12]])
    assert [(r.message_id, r.ok) for r in results] == [(wanted, True)]
    assert [r["id"] for r in list_set_aside(sqs, queue_url)] == [rows[1]["id"]]


def test_replay_of_a_lambda_message_reads_the_record_back_from_the_stream(world):
    # Given a message as Lambda sends it: shard and sequence numbers, no record, no handler string
    runner = _set_aside_poison(world, "p")
    POISON.clear()
    DELIVERED.clear()
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    [message] = receive_all(sqs, queue_url)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)
    lambda_message = {k: v for k, v in message.body.items() if k not in ("record", "handler", "handlerString", "error")}
    lambda_message["requestContext"]["functionArn"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:jianghu-dev-record_test_follows"
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(lambda_message))
    [row] = list_set_aside(sqs, queue_url)
    assert row["handler"] == "jianghu-dev-record_test_follows"
    assert row["keys"] is None
    # When it is replayed
    results = replay(sqs, queue_url, world.session.client("dynamodbstreams"),
                     InProcessInvoker(runner.app, "us-east-1"), region="us-east-1")
    # Then the record was read from the stream (AT_SEQUENCE_NUMBER) and delivered in the Lambda shape
    assert [r.ok for r in results] == [True], results
    assert DELIVERED == ["p"]
    assert list_set_aside(sqs, queue_url) == []


def test_replay_on_aws_invokes_the_function_named_in_the_message(world):
    # Given a set-aside record and a Lambda client (a stand-in: moto cannot run functions without Docker)
    _set_aside_poison(world, "p")
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]
    calls = []

    class FakeLambda:
        def invoke(self, **kwargs):
            calls.append(kwargs)
            return {"StatusCode": 200, "Payload": io.BytesIO(b'{"batchItemFailures": []}')}

    # When it is replayed through Lambda
    results = replay(sqs, queue_url, world.session.client("dynamodbstreams"), LambdaInvoker(FakeLambda()),
                     region="us-east-1")
    # Then the function got a JSON event with the record, synchronously, and the message is gone
    assert [r.ok for r in results] == [True]
    [call] = calls
    assert call["FunctionName"].endswith(":function:jianghu-record_test_follows")
    assert call["InvocationType"] == "RequestResponse"
    [record] = json.loads(call["Payload"])["Records"]
    assert record["dynamodb"]["Keys"]["follower_id"] == {"S": "p"}
    assert list_set_aside(sqs, queue_url) == []


def test_replay_on_aws_keeps_the_message_when_the_function_errors(world):
    _set_aside_poison(world, "p")
    sqs = world.session.client("sqs")
    queue_url = world.outputs["StreamFailuresQueueUrl"]

    class FailingLambda:
        def invoke(self, **kwargs):
            return {"StatusCode": 200, "FunctionError": "Unhandled",
                    "Payload": io.BytesIO(b'{"errorMessage": "boom", "errorType": "ValueError"}')}

    [result] = replay(sqs, queue_url, world.session.client("dynamodbstreams"), LambdaInvoker(FailingLambda()),
                      region="us-east-1")
    assert not result.ok
    assert "boom" in result.detail
    assert len(list_set_aside(sqs, queue_url)) == 1


# -- moto's transactions, under every stream effect -------------------------------------------------
AGED_MARKERS = 2_000


@pytest.fixture
def aged_effects(world):
    """The Effects table as a stack leaves it after a while: thousands of markers, and their records."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[f"{world.stack_name}-effects"]
    for n in range(AGED_MARKERS):
        table.put_item({"effect_id": {"S": f"aged:{n}"}, "expires_at": {"N": "4102444800"}})
    return table


@pytest.fixture
def copied_items(monkeypatch):
    """How many items moto copies to be able to roll a transaction back (one entry per transaction)."""
    import copy

    import moto.dynamodb.models as dynamodb_models

    counts: list[int] = []

    class CountingCopy:
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            result = copy.deepcopy(value, memo)
            counts.append(sum(len(v) if isinstance(v, dict) else 1 for v in result.items.values())
                          if isinstance(result.items, dict) else len(result.items))
            return result

    monkeypatch.setattr(dynamodb_models, "copy", CountingCopy())
    return counts


def test_a_stream_effect_copies_only_the_items_it_writes_however_large_its_tables_grew(aged_effects, copied_items):
    # Given an Effects table holding thousands of markers
    from chalicelib.services.effects import apply_once

    # When a stream effect writes its marker (the transaction under every counter, award and score)
    assert apply_once("test:one-effect", lambda transaction: None) is True
    # Then moto keeps a copy of that one item to roll back, not of the whole table (it copied 2,001,
    # which made each vote's three transactions cost ~2 s on a stack that had run for a while)
    assert copied_items == [1]


def test_a_cancelled_transaction_leaves_no_item_and_no_record_and_the_stream_flows_on(world, aged_effects):
    # Given a runner that has read the Follows stream, and a marker that exists
    client = world.session.client("dynamodb")
    runner = _runner(world)
    _follow(world, "before")
    runner.drain()
    records_before = len(aged_effects.stream_shard.items)
    # When a transaction writes a follow but is cancelled by its marker's condition
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": aged_effects.name, "Item": {"effect_id": {"S": "aged:0"}, "expires_at": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(effect_id)"}},
            {"Put": {"TableName": f"{world.stack_name}-follows",
                     "Item": {"follower_id": {"S": "cancelled"}, "followee_id": {"S": "star"}}}},
        ])
    # Then neither table nor stream holds anything of it
    assert len(aged_effects.stream_shard.items) == records_before
    assert "Item" not in client.get_item(TableName=f"{world.stack_name}-follows",
                                         Key={"follower_id": {"S": "cancelled"}, "followee_id": {"S": "star"}})
    assert client.scan(TableName=aged_effects.name, Select="COUNT")["Count"] == AGED_MARKERS
    # And the runner's iterators, handed out before the rollback, still see what is written after it
    _follow(world, "after")
    runner.drain()
    assert DELIVERED == ["before", "after"]
