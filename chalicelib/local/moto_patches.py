"""Corrections to moto where it departs from DynamoDB in ways the local stack and the suite notice.

`keep_stream_shards_on_rollback`: when a TransactWriteItems is cancelled (a condition failed),
moto restores every table it touched from a deep copy taken before the transaction, stream shard
included. Shard iterators already handed out still point at the *old* shard object, which no
longer receives records, so every reader of that table's stream goes silent for good, without an
error. (Any replayed `apply_once` marker, any 409 from a guarded transaction, triggers it.) The
patch puts the original shard object back into the restored table, holding the restored records,
so iterators keep reading and the cancelled transaction leaves no records, as in DynamoDB.

`enforce_client_write_attributes`: Cognito refuses a `SignUp` or `UpdateUserAttributes` that
writes an attribute outside the app client's `WriteAttributes` (NotAuthorizedException); moto
writes anything. The patch refuses as Cognito does, so the local pool is as strict as AWS about
who may write `name`.

`invoke_post_confirmation_trigger`: Cognito invokes the pool's `LambdaConfig.PostConfirmation`
function after `ConfirmSignUp` and `AdminConfirmSignUp`; moto invokes nothing. The patch calls
the local function registered for that ARN (`register_local_function`) with Cognito's event
shape, so the local stack runs the same handler a deployed pool does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Lambda function ARN -> the local callable (event, context) -> event; see register_local_function.
LOCAL_FUNCTIONS: dict[str, Callable[[dict, Any], Any]] = {}


def keep_stream_shards_on_rollback() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "keeps_stream_shards", False):
        return

    def transact_write_items(self, *args, **kwargs):
        before = dict(self.tables)
        try:
            return original(self, *args, **kwargs)
        finally:
            for name, old_table in before.items():
                restored = self.tables.get(name)
                if restored is None or restored is old_table:
                    continue
                shard, restored_shard = old_table.stream_shard, restored.stream_shard
                if shard is None or restored_shard is None:
                    continue
                shard.items = restored_shard.items
                shard.table = restored
                restored.stream_shard = shard

    transact_write_items.keeps_stream_shards = True  # type: ignore[attr-defined]
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


def apply_all() -> None:
    keep_stream_shards_on_rollback()
    enforce_client_write_attributes()
    invoke_post_confirmation_trigger()
