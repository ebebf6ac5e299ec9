"""Stream records set aside: the on-failure messages, and how an operator lists and replays them.

A record that keeps failing is sent to the stream failures queue (SQS, from `infra/`), by Lambda's
event source mapping in AWS and by the local stream runner on `make dev`. Lambda's message names
the record only by shard and sequence numbers (`DDBStreamBatchInfo`); the local runner adds the
record itself, the handler (name and Chalice handler string) and the error.

Replaying a message re-reads its records (from the message, or from the stream with an
`AT_SEQUENCE_NUMBER` iterator: streams keep records for 24 hours), invokes the handler with the
Lambda event shape and deletes the message once every record succeeded. Handlers are idempotent,
so a replay of a record that was, after all, applied changes nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.config import table_of_stream_arn
from chalicelib.local.lambda_events import LambdaContext, function_name, invoke, lambda_record, resolve_handler

PEEK_VISIBILITY_SECONDS = 30
REPLAY_VISIBILITY_SECONDS = 300


# -- what the runner records ---------------------------------------------------------------------
def describe_error(exc: BaseException, limit: int = 600) -> str:
    """`Type: message`, followed by the exceptions that caused it (`<- Type: message`)."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 4:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}".strip())
        current = current.__cause__ or current.__context__
    text = " <- ".join(parts)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def failure_message(record: dict, *, shard_id: str, stream_arn: str, function_arn: str, attempts: int,
                    handler: str, handler_string: str, error: str | None) -> dict:
    """Lambda's on-failure message for one stream record, plus what the local runner knows besides."""
    sequence = record["dynamodb"]["SequenceNumber"]
    arrival = _iso(record["dynamodb"]["ApproximateCreationDateTime"])
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "approximateArrivalOfFirstRecord": arrival,
            "approximateArrivalOfLastRecord": arrival,
            "batchSize": 1,
            "streamArn": stream_arn,
        },
        # the local runner's additions (absent from Lambda's messages)
        "handler": handler,
        "handlerString": handler_string,
        "error": error,
        "record": record,
    }


# -- reading the queue ----------------------------------------------------------------------------
@dataclass
class SetAside:
    """One message of the failures queue, received (and so hidden from others) until released."""

    message_id: str
    receipt_handle: str
    body: dict
    receive_count: int = 0

    @property
    def batch_info(self) -> dict:
        return self.body.get("DDBStreamBatchInfo") or {}

    @property
    def function_arn(self) -> str:
        return (self.body.get("requestContext") or {}).get("functionArn", "")

    @property
    def handler(self) -> str:
        """The handler's name: the local runner says it; in AWS, the function name ends with it."""
        if self.body.get("handler"):
            return self.body["handler"]
        return self.function_arn.rsplit(":function:", 1)[-1]

    @property
    def table(self) -> str:
        return table_of_stream_arn(self.batch_info.get("streamArn", ""))

    @property
    def sequence(self) -> str:
        info = self.batch_info
        start, end = info.get("startSequenceNumber", ""), info.get("endSequenceNumber", "")
        return start if start == end else f"{start}..{end}"

    @property
    def record(self) -> dict | None:
        return self.body.get("record")

    def summary(self) -> dict:
        record = self.record or {}
        return {
            "id": self.message_id,
            "handler": self.handler,
            "table": self.table,
            "sequence": self.sequence,
            "event": record.get("eventName"),
            "keys": _plain_keys((record.get("dynamodb") or {}).get("Keys")),
            "error": self.body.get("error"),
            "attempts": (self.body.get("requestContext") or {}).get("approximateInvokeCount"),
            "set_aside_at": self.body.get("timestamp"),
            "receive_count": self.receive_count,
        }


def _plain_keys(keys: dict | None) -> dict | None:
    if not keys:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain = {name: deserializer.deserialize(value) for name, value in keys.items()}
    return {name: (int(v) if hasattr(v, "to_integral_value") and v == v.to_integral_value() else v)
            for name, v in plain.items()}


def receive_all(sqs, queue_url: str, *, visibility: int = PEEK_VISIBILITY_SECONDS) -> list[SetAside]:
    """Receive every message on the queue, hiding each for `visibility` seconds; `release` shows them again."""
    messages: dict[str, SetAside] = {}
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=visibility, WaitTimeSeconds=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        batch = response.get("Messages", [])
        if not batch:
            break
        for message in batch:
            try:
                body = json.loads(message["Body"])
            except ValueError:
                body = {"error": "the message is not JSON", "raw": message["Body"]}
            messages[message["MessageId"]] = SetAside(
                message["MessageId"], message["ReceiptHandle"], body if isinstance(body, dict) else {"raw": body},
                int((message.get("Attributes") or {}).get("ApproximateReceiveCount", 0)),
            )
    return sorted(messages.values(), key=lambda m: (m.body.get("timestamp") or "", m.message_id))


def release(sqs, queue_url: str, messages: list[SetAside]) -> None:
    """Make received messages visible again at once."""
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                     for i, m in enumerate(chunk)],
        )


def list_set_aside(sqs, queue_url: str) -> list[dict]:
    """Every set-aside record's summary; the queue is left as it was."""
    messages = receive_all(sqs, queue_url)
    release(sqs, queue_url, messages)
    return [message.summary() for message in messages]


# -- replaying -------------------------------------------------------------------------------------
def records_of(message: SetAside, streams, region: str) -> list[dict]:
    """The message's records in Lambda's shape: its own copy, or read back from the stream."""
    info = message.batch_info
    if message.record is not None:
        return [message.record]
    stream_arn, start, end = info.get("streamArn"), info.get("startSequenceNumber"), info.get("endSequenceNumber")
    if not (stream_arn and info.get("shardId") and start and end):
        raise ValueError("the message names no stream records (DDBStreamBatchInfo is incomplete)")
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=start,
    )["ShardIterator"]
    wanted = int(info.get("batchSize") or 1)
    records: list[dict] = []
    for _ in range(100):  # an iterator may return empty pages before it reaches the records
        response = streams.get_records(ShardIterator=iterator, Limit=min(1000, max(wanted, 1)))
        for record in response.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > int(end):
                return records
            records.append(lambda_record(record, stream_arn, region))
        if records and int(records[-1]["dynamodb"]["SequenceNumber"]) >= int(end):
            return records
        iterator = response.get("NextShardIterator")
        if not iterator or (not response.get("Records") and records):
            break
    if not records:
        raise LookupError(f"records {start}..{end} are no longer in the stream (it keeps them 24 hours)")
    return records


@dataclass
class ReplayResult:
    message_id: str
    handler: str
    sequence: str
    ok: bool
    detail: str = ""
    failed_sequences: list[str] = field(default_factory=list)


class InProcessInvoker:
    """Calls the app's own handler in this process, by its Chalice handler string (the local stack)."""

    def __init__(self, app, region: str):
        self.app = app
        self.region = region

    def _handler(self, message: SetAside):
        from chalice.app import DynamoDBEventConfig

        handler_string = message.body.get("handlerString")
        if not handler_string:
            name = message.handler
            for source in self.app.event_sources:
                named = name == source.name or name.endswith(f"-{source.name}")
                if isinstance(source, DynamoDBEventConfig) and named:
                    handler_string = source.handler_string
                    break
        if not handler_string:
            raise LookupError(f"the app has no stream handler called {message.handler!r}")
        return resolve_handler(handler_string)

    def __call__(self, message: SetAside, records: list[dict]) -> dict:
        handler = self._handler(message)
        context = LambdaContext(function_name=function_name(message.handler), region=self.region)
        response, errors = invoke(handler, records, context)
        response = response or {}
        if errors:
            response = {**response, "errors": {sequence: describe_error(exc) for sequence, exc in errors.items()}}
        return response


class LambdaInvoker:
    """Invokes the deployed function named in the message (AWS), synchronously."""

    def __init__(self, lambda_client):
        self.client = lambda_client

    def __call__(self, message: SetAside, records: list[dict]) -> dict:
        if not message.function_arn:
            raise LookupError("the message names no function")
        response = self.client.invoke(
            FunctionName=message.function_arn, InvocationType="RequestResponse",
            Payload=json.dumps({"Records": records}, default=str).encode(),
        )
        payload = response["Payload"].read()
        result = json.loads(payload) if payload else {}
        if response.get("FunctionError"):
            raise RuntimeError(f"{response['FunctionError']}: {result.get('errorMessage', result)}")
        return result if isinstance(result, dict) else {}


def _matches(message: SetAside, ids: list[str] | None) -> bool:
    return ids is None or any(message.message_id.startswith(wanted) for wanted in ids)


def replay(sqs, queue_url: str, streams, invoke, *, region: str, ids: list[str] | None = None) -> list[ReplayResult]:
    """Replay the set-aside records (all of them, or those whose message id starts with one of `ids`).

    A message is deleted once its handler reports no failure; otherwise it stays on the queue.
    """
    messages = receive_all(sqs, queue_url, visibility=REPLAY_VISIBILITY_SECONDS)
    selected = [m for m in messages if _matches(m, ids)]
    release(sqs, queue_url, [m for m in messages if not _matches(m, ids)])
    results = []
    for message in selected:
        result = ReplayResult(message.message_id, message.handler, message.sequence, ok=False)
        try:
            records = records_of(message, streams, region)
            response = invoke(message, records)
            failures = [f.get("itemIdentifier") for f in (response.get("batchItemFailures") or [])]
            if failures:
                result.failed_sequences = [str(f) for f in failures]
                errors = response.get("errors") or {}
                result.detail = "; ".join(errors.get(str(f), "the handler reported it failed") for f in failures)
            else:
                result.ok = True
                result.detail = f"{len(records)} record(s) delivered"
        except Exception as exc:  # the operator sees why; the message stays for another try
            result.detail = f"{type(exc).__name__}: {exc}"
        if result.ok:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)
        else:
            release(sqs, queue_url, [message])
        results.append(result)
    return results
