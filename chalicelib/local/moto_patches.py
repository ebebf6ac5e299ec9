"""Corrections to moto where it departs from DynamoDB in ways the local stack and the suite notice.

`roll_back_transactions_by_key`: before every TransactWriteItems moto deep-copies each table the
transaction names, items and stream records included, and when the transaction is cancelled it
puts the copies in place of the tables. Two things went wrong with that:

- the cost: every stream effect is a transaction with its marker in Effects, whose items and
  stream records only grow, so each transaction cost more the longer the stack ran (with 5,000
  markers, a burst of 9 answer votes took over 60 s to reach the author's balance: three
  transactions a vote, each copying the Effects table whole, under the lock every request waits on);
- the stream: after a rollback, shard iterators already handed out still pointed at the *old*
  shard object, which no longer received records, so every reader of that table's stream went
  silent for good, without an error (any replayed `apply_once` marker, any 409 from a guarded
  transaction, triggered it).

The patch has moto's copy keep only what the transaction can change (the items at its keys, and
how many records each table's stream held) and, on a rollback, puts exactly that back on the same
table object: iterators keep reading, and the cancelled transaction leaves no items and no records,
as in DynamoDB.

`enforce_client_write_attributes`: Cognito refuses a `SignUp` or `UpdateUserAttributes` that
writes an attribute outside the app client's `WriteAttributes` (NotAuthorizedException); moto
writes anything. The patch refuses as Cognito does, so the local pool is as strict as AWS about
who may write `name`.

`invoke_post_confirmation_trigger`: Cognito invokes the pool's `LambdaConfig.PostConfirmation`
function after `ConfirmSignUp` and `AdminConfirmSignUp`; moto invokes nothing. The patch calls
the local function registered for that ARN (`register_local_function`) with Cognito's event
shape, so the local stack runs the same handler a deployed pool does.

`enforce_presigned_post_policy`: S3 checks a browser's form POST against the form's policy (its
SigV4 signature, its expiration, and every condition: bucket, key, Content-Type,
content-length-range, and no field the policy does not name); moto stores whatever is posted.
The patch refuses as S3 does: 403 AccessDenied ("Invalid according to Policy: ..."), 403
SignatureDoesNotMatch, 400 EntityTooLarge / EntityTooSmall, with S3's XML error body. The secret
that checks the signature is the one of the access key in this process's environment (the local
stack's and the tests'); any other access key is refused (403 InvalidAccessKeyId).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Lambda function ARN -> the local callable (event, context) -> event; see register_local_function.
LOCAL_FUNCTIONS: dict[str, Callable[[dict, Any], Any]] = {}

_transaction = threading.local()  # the keys of the TransactWriteItems this thread is running, by table


class RollbackPoint:
    """What moto keeps of a table during one transaction: the items at the transaction's keys, as they
    were, and how many records the table's stream held. `restore` puts them back on the same table."""

    def __init__(self, table, keys: list[dict]):
        self.table = table
        self.stream_length = len(table.stream_shard.items) if table.stream_shard is not None else None
        self.items = []
        for key in keys:
            hash_value, range_value = _key_values(table, key)
            if hash_value is None:
                continue
            current = table.get_item(hash_value, range_value) if (range_value or not table.has_range_key) else None
            self.items.append((hash_value, range_value, copy.deepcopy(current)))

    def restore(self):
        table = self.table
        for hash_value, range_value, item in reversed(self.items):
            if range_value is not None:
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        if self.stream_length is not None:
            del table.stream_shard.items[self.stream_length:]
        return table


def _key_values(table, key: dict):
    from moto.dynamodb.models.dynamo_type import DynamoType

    if table.hash_key_attr not in key:
        return None, None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    return hash_value, range_value


def _transaction_keys(backend, transact_items: list[dict]) -> dict[str, list[dict]]:
    keys: dict[str, list[dict]] = {}
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        if op_type == "Put":
            item = op.get("Item") or {}
            key = {name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name in item}
        else:
            key = op.get("Key") or {}
        keys.setdefault(table.name, []).append(key)
    return keys


def roll_back_transactions_by_key() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table, "rolls_back_by_key", False):
        return

    def deepcopy_table(self, memo):
        keys = getattr(_transaction, "keys", None)
        if keys is not None:  # moto's backup of a table before a transaction
            return RollbackPoint(self, keys.get(self.name, []))
        clone = self.__class__.__new__(self.__class__)  # any other copy (a backup, a restore) is whole
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items, *args, **kwargs):
        _transaction.keys = _transaction_keys(self, transact_items)
        try:
            return original(self, transact_items, *args, **kwargs)
        finally:
            _transaction.keys = None
            for name, table in list(self.tables.items()):
                if isinstance(table, RollbackPoint):
                    self.tables[name] = table.restore()

    Table.__deepcopy__ = deepcopy_table
    Table.rolls_back_by_key = True
    DynamoDBBackend.transact_write_items = transact_write_items


def _write_attributes_refused(client, attributes: list[dict] | None) -> bool:
    writable = client.extended_config.get("WriteAttributes") if client is not None else None
    if not writable:  # a client without WriteAttributes may write every attribute
        return False
    return any(attribute["Name"] not in writable for attribute in attributes or [])


def enforce_client_write_attributes() -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend.sign_up, "enforces_write_attributes", False):
        return
    original_sign_up = CognitoIdpBackend.sign_up
    original_update = CognitoIdpBackend.update_user_attributes
    message = "A client attempted to write unauthorized attribute"

    def sign_up(self, client_id, username, password, attributes):
        for pool in self.user_pools.values():
            if _write_attributes_refused(pool.clients.get(client_id), attributes):
                raise NotAuthorizedError(message)
        return original_sign_up(self, client_id, username, password, attributes)

    def update_user_attributes(self, access_token, attributes):
        for pool in self.user_pools.values():
            if access_token in pool.access_tokens:
                client_id, _ = pool.access_tokens[access_token]
                if _write_attributes_refused(pool.clients.get(client_id), attributes):
                    raise NotAuthorizedError(message)
        return original_update(self, access_token, attributes)

    sign_up.enforces_write_attributes = True  # type: ignore[attr-defined]
    CognitoIdpBackend.sign_up = sign_up  # type: ignore[method-assign]
    CognitoIdpBackend.update_user_attributes = update_user_attributes  # type: ignore[method-assign]


def register_local_function(function_arn: str, handler: Callable[[dict, Any], Any]) -> None:
    """Make `handler` what the local pool invokes where its LambdaConfig names `function_arn`."""
    LOCAL_FUNCTIONS[function_arn] = handler


def post_confirmation_event(pool, user, client_id: str | None, trigger_source: str) -> dict:
    """The event Cognito sends a PostConfirmation trigger."""
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user.attributes}
    attributes.update({"sub": user.id, "cognito:user_status": "CONFIRMED"})
    return {
        "version": "1",
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                          "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": trigger_source,
        "request": {"userAttributes": attributes},
        "response": {},
    }


def _run_post_confirmation(pool, user, client_id: str | None) -> None:
    from moto.core.exceptions import JsonRESTError

    function_arn = (pool.extended_config.get("LambdaConfig") or {}).get("PostConfirmation")
    if not function_arn:
        return
    handler = LOCAL_FUNCTIONS.get(function_arn)
    if handler is None:
        raise JsonRESTError("UnexpectedLambdaException", f"no local function for {function_arn}")
    from chalice.local import LambdaContext

    name = function_arn.rsplit(":", 1)[-1]
    try:
        handler(post_confirmation_event(pool, user, client_id, "PostConfirmation_ConfirmSignUp"),
                LambdaContext(function_name=name, memory_size=128))
    except Exception as exc:  # the user stays confirmed; the caller hears of it, as from Cognito
        raise JsonRESTError("UserLambdaValidationException",
                            f"PostConfirmation failed with error {exc}.") from None


def invoke_post_confirmation_trigger() -> None:
    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend.confirm_sign_up, "invokes_post_confirmation", False):
        return
    original_confirm = CognitoIdpBackend.confirm_sign_up
    original_admin_confirm = CognitoIdpBackend.admin_confirm_sign_up

    def confirm_sign_up(self, client_id, username):
        result = original_confirm(self, client_id, username)
        pool = next(pool for pool in self.user_pools.values() if client_id in pool.clients)
        _run_post_confirmation(pool, self.admin_get_user(pool.id, username), client_id)
        return result

    def admin_confirm_sign_up(self, user_pool_id, username):
        result = original_admin_confirm(self, user_pool_id, username)
        _run_post_confirmation(self.describe_user_pool(user_pool_id), self.admin_get_user(user_pool_id, username),
                               None)
        return result

    confirm_sign_up.invokes_post_confirmation = True  # type: ignore[attr-defined]
    CognitoIdpBackend.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
    CognitoIdpBackend.admin_confirm_sign_up = admin_confirm_sign_up  # type: ignore[method-assign]


# Fields S3 does not hold against the policy (the file itself, the policy and its signature).
_UNCHECKED_FIELDS = frozenset({"file", "policy", "x-amz-signature"})


@dataclass(frozen=True)
class PostRefusal:
    status: int
    code: str
    message: str

    def xml(self) -> str:
        from xml.sax.saxutils import escape

        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + self.code + "</Code><Message>"
                + escape(self.message) + "</Message><RequestId>local</RequestId></Error>")


def _policy_denied(reason: str) -> PostRefusal:
    return PostRefusal(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _signature(secret: str, credential: str, policy_b64: str) -> str:
    import hashlib
    import hmac

    _, date, region, service, terminal = credential.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


def post_policy_refusal(form: dict[str, str], content_length: int, bucket: str, now: float,
                        secrets: dict[str, str]) -> PostRefusal | None:
    """Why S3 would refuse this form POST (`form`: its fields but the file), or None to store it.

    `secrets`: secret access keys by access key id, to check the SigV4 signature with.
    """
    import base64
    import json
    from datetime import datetime

    fields = {name.lower(): value for name, value in form.items()}
    policy_b64 = fields.get("policy")
    if policy_b64 is None:
        return None  # an anonymous POST: the bucket's own permissions decide (none here)
    credential = fields.get("x-amz-credential", "")
    access_key = credential.split("/", 1)[0]
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or credential.count("/") != 4:
        return PostRefusal(400, "InvalidArgument", "POST requires x-amz-algorithm AWS4-HMAC-SHA256 and a credential")
    if access_key not in secrets:
        return PostRefusal(403, "InvalidAccessKeyId",
                           "The AWS Access Key Id you provided does not exist in our records.")
    expected = _signature(secrets[access_key], credential, policy_b64)
    if fields.get("x-amz-signature") != expected:
        return PostRefusal(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided.")
    try:
        policy = json.loads(base64.b64decode(policy_b64))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        return PostRefusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if now >= expiration:
        return _policy_denied("Policy expired.")
    values = {**fields, "bucket": bucket}
    named = {"bucket", "x-amz-signature", "policy", "file"}
    for condition in conditions:
        if isinstance(condition, dict):
            [(name, wanted)] = condition.items()
            condition = ["eq", f"${name}", wanted]
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if content_length > high:
                return PostRefusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if content_length < low:
                return PostRefusal(400, "EntityTooSmall",
                                   "Your proposed upload is smaller than the minimum allowed size")
            continue
        name = str(condition[1]).lstrip("$").lower()
        named.add(name)
        value = values.get(name, "")
        if (operator == "eq" and value != condition[2]) or (
                operator == "starts-with" and not value.startswith(condition[2])):
            return _policy_denied(f"Policy Condition failed: {json.dumps(condition)}")
    extra = sorted(name for name in fields if name not in named and name not in _UNCHECKED_FIELDS
                   and not name.startswith("x-ignore-"))
    if extra:
        return _policy_denied(f"Extra input fields: {extra[0]}")
    return None


def _environment_secrets() -> dict[str, str]:
    import os

    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    return {key: secret} if key and secret else {}


def enforce_presigned_post_policy() -> None:
    from moto.s3.responses import S3Response

    if getattr(S3Response._bucket_response_post, "enforces_post_policy", False):
        return
    original = S3Response._bucket_response_post

    def _bucket_response_post(self, request, bucket_name):
        import time

        form = {name: values[0] for name, values in (self.querystring or {}).items()
                if isinstance(values, list) and values and isinstance(values[0], str)}
        if "policy" in {name.lower() for name in form} and request.headers.get("Content-Length"):
            body = self.body if isinstance(self.body, bytes | str) else b""
            refusal = post_policy_refusal(form, len(body), bucket_name, time.time(), _environment_secrets())
            if refusal is not None:
                return refusal.status, {"Content-Type": "application/xml"}, refusal.xml()
        return original(self, request, bucket_name)

    _bucket_response_post.enforces_post_policy = True  # type: ignore[attr-defined]
    S3Response._bucket_response_post = _bucket_response_post  # type: ignore[method-assign]


def apply_all() -> None:
    roll_back_transactions_by_key()
    enforce_presigned_post_policy()
    enforce_client_write_attributes()
    invoke_post_confirmation_trigger()
