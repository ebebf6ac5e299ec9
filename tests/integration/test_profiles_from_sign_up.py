"""Every user has a profile from sign-up (issue 12, defect 6) and every name passes the display-name
rule wherever it comes from (defect 5): PUT /me, the token's `name` claim, Cognito attributes."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import jwt
import pytest
from botocore.exceptions import ClientError

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from bench.harness import recording
from tests.support.api import call
from tests.support.users import PASSWORD, sign_in

BIDI_NAME = "\u202e" + "x" * 1499  # the reported attack: 1,500 characters behind a right-to-left override


@pytest.fixture
def sign_up_trigger(tables):
    """The pool's PostConfirmation trigger attached as the deploy does, the app's handler behind it."""
    from chalicelib import triggers
    from chalicelib.local.moto_patches import register_local_function
    from infra import cognito_trigger

    cognito = tables.session.client("cognito-idp")
    pool_id = tables.outputs["UserPoolId"]
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:jianghu-test-{triggers.POST_CONFIRMATION_FUNCTION}"
    register_local_function(arn, triggers.create_profile_on_sign_up)
    cognito_trigger.attach(cognito, pool_id, arn)
    yield cognito
    cognito_trigger.attach(cognito, pool_id, None)


def sign_up(cognito, client_id: str, attributes: list[dict] | None = None) -> str:
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": email}, *(attributes or [])])
    return email


def test_a_confirmed_sign_up_has_a_profile_before_its_first_call(client, users, sign_up_trigger, tables):
    # Given a shopper who signs up and confirms, then never calls the API
    client_id = tables.outputs["UserPoolClientId"]
    email = sign_up(sign_up_trigger, client_id)
    sign_up_trigger.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="123456")
    user_id = jwt.decode(sign_in(sign_up_trigger, client_id, email), options={"verify_signature": False})["sub"]
    # When someone else looks them up and follows them
    bob = users("bob")
    profile = call(client, "GET", f"/users/{user_id}", bob)
    # Then they exist, with the default name, and can be followed
    assert profile.status_code == 200, profile.data
    assert profile.data["display_name"] == f"shopper-{user_id[:8]}"
    assert call(client, "PUT", f"/users/{user_id}/follow", bob).status_code == 200


def test_an_admin_confirmed_sign_up_runs_the_trigger_too(client, users, sign_up_trigger, tables):
    pool_id = tables.outputs["UserPoolId"]
    email = sign_up(sign_up_trigger, tables.outputs["UserPoolClientId"])
    sign_up_trigger.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    attributes = sign_up_trigger.admin_get_user(UserPoolId=pool_id, Username=email)["UserAttributes"]
    user_id = next(a["Value"] for a in attributes if a["Name"] == "sub")
    assert call(client, "GET", f"/users/{user_id}", users()).status_code == 200


def test_the_trigger_keeps_an_existing_profile_and_refuses_a_bad_name(client, users, tables):
    from chalicelib.triggers import create_profile_on_sign_up

    # Given a user who already named themselves
    ana = users("ana")
    assert call(client, "PUT", "/me", ana, {"display_name": "Ana"}).status_code == 200
    event = {"triggerSource": "PostConfirmation_ConfirmForgotPassword", "userName": ana.user_id,
             "request": {"userAttributes": {"sub": ana.user_id, "name": "Someone else"}}, "response": {}}
    # When the trigger runs for them again (a confirmed password reset), Then it changes nothing
    assert create_profile_on_sign_up(event, None) == event
    assert call(client, "GET", "/me", ana).data["display_name"] == "Ana"
    # And a new user whose `name` attribute (set by an admin) breaks the rule gets the default name
    newcomer = str(uuid.uuid4())
    create_profile_on_sign_up({"request": {"userAttributes": {"sub": newcomer, "name": BIDI_NAME}}}, None)
    assert call(client, "GET", f"/users/{newcomer}", ana).data["display_name"] == f"shopper-{newcomer[:8]}"


def test_a_user_who_never_called_me_exists_for_others_from_their_first_write(client, users):
    # Given a shopper created by an admin (no sign-up trigger), who posts but never calls /me
    ana, bob = users("ana"), users("bob")
    assert call(client, "POST", "/posts", ana, {"text": "first!"}).status_code == 201
    # When another user looks her up and follows her, Then she exists
    assert call(client, "GET", f"/users/{ana.user_id}", bob).status_code == 200
    assert call(client, "PUT", f"/users/{ana.user_id}/follow", bob).status_code == 200


def test_a_first_write_creates_the_profile_with_one_put_and_no_read(client, users, monkeypatch):
    from chalicelib.services import rate_limits

    # Given a clock that stays inside one minute, and a user with no profile
    monkeypatch.setattr(rate_limits, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    ana, bob = users("ana"), users("bob")
    # When she makes her first write of the minute, then a second one of the same kind
    with recording() as first:
        assert call(client, "POST", "/posts", ana, {"text": "one"}).status_code == 201
    with recording() as second:
        assert call(client, "POST", "/posts", ana, {"text": "two"}).status_code == 201
    # Then only the first made one more call, a PutItem (the conditional create), and neither read more
    assert second.by_operation().get("PutItem") == 1  # the post itself
    extra = dict(first.by_operation())
    extra["PutItem"] = extra.get("PutItem", 0) - 1
    assert {k: v for k, v in extra.items() if v} == {k: v for k, v in second.by_operation().items() if v}
    assert call(client, "GET", f"/users/{ana.user_id}", bob).status_code == 200


@pytest.mark.parametrize("name", [
    BIDI_NAME, "Ana\u202egnp", "\u200b\u200b", "   ", "\x00", "\x1b[31m\x1b[0m", "A\u200dna", "x" * 51,
])
def test_put_me_refuses_a_name_that_breaks_the_rule(client, users, name):
    ana = users("ana")
    response = call(client, "PUT", "/me", ana, {"display_name": name})
    assert response.status_code == 400, response.data
    assert "display_name" in response.data["Message"]


def test_put_me_stores_the_name_trimmed(client, users):
    ana = users("ana")
    assert call(client, "PUT", "/me", ana, {"display_name": "  Ana Lim \u3000"}).data["display_name"] == "Ana Lim"


def test_a_bad_name_claim_falls_back_to_the_default_name(client, users):
    # Given a user whose Cognito `name` breaks the rule (an admin wrote it) and a token carrying it
    ana = users("ana")
    users.cognito.admin_update_user_attributes(UserPoolId=users.pool_id, Username=ana.email,
                                               UserAttributes=[{"Name": "name", "Value": BIDI_NAME}])
    ana.token = sign_in(users.cognito, users.client_id, ana.email)
    assert jwt.decode(ana.token, options={"verify_signature": False})["name"] == BIDI_NAME
    # When her first GET /me creates the profile, and she posts
    me = call(client, "GET", "/me", ana).data
    post = call(client, "POST", "/posts", ana, {"text": "hello"}).data
    # Then both name her by the default name, not the claim
    assert me["display_name"] == f"shopper-{ana.user_id[:8]}"
    assert post["author"]["display_name"] == f"shopper-{ana.user_id[:8]}"


def test_users_cannot_write_their_own_name_in_cognito(users, tables):
    # Given the app client of the deployed template (moto, patched to enforce WriteAttributes as Cognito)
    cognito, client_id = users.cognito, tables.outputs["UserPoolClientId"]
    described = cognito.describe_user_pool_client(UserPoolId=users.pool_id, ClientId=client_id)["UserPoolClient"]
    assert "name" not in described["WriteAttributes"] and "name" in described["ReadAttributes"]
    # When a user signs up with a name, Then Cognito refuses it
    with pytest.raises(ClientError) as refused:
        sign_up(cognito, client_id, [{"Name": "name", "Value": BIDI_NAME}])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # When a signed-in user sets their own name with their access token, Then it is refused too
    ana = users("ana")
    access = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": ana.email, "PASSWORD": PASSWORD}
                                   )["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as refused:
        cognito.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": BIDI_NAME}])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
