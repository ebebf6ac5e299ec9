"""The display name rides in the ID token (`name`), so a plain post names its author without a read."""

from __future__ import annotations

import jwt
import pytest

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from bench.harness import recording
from chalicelib.domain.ids import now_iso
from tests.support.api import call
from tests.support.users import sign_in


def refreshed(users, user):
    """The user's next token, as a client gets it at its hourly refresh."""
    user.token = sign_in(users.cognito, users.client_id, user.email)
    return user


def claims(user) -> dict:
    return jwt.decode(user.token, options={"verify_signature": False})


def given_named(client, users, name: str = "Ana", groups: tuple[str, ...] = ()):
    user = users(name.lower(), groups=groups)
    assert call(client, "PUT", "/me", user, {"display_name": name}).status_code == 200
    return refreshed(users, user)


def test_setting_a_display_name_puts_it_in_the_next_token(client, users):
    # Given a shopper whose token has no name
    ana = users("ana")
    assert "name" not in claims(ana)
    # When she sets her display name and signs in again
    assert call(client, "PUT", "/me", ana, {"display_name": "Ana"}).status_code == 200
    refreshed(users, ana)
    # Then the new token carries it
    assert claims(ana)["name"] == "Ana"


def test_first_use_profile_gives_the_token_its_default_name(client, users):
    # Given a new user whose first GET /me creates the profile
    bo = users("bo")
    created = call(client, "GET", "/me", bo).data
    # When a new token is issued, Then it names them as the profile does
    assert claims(refreshed(users, bo))["name"] == created["display_name"]


def test_first_use_profile_takes_the_tokens_name(client, users):
    # Given a user whose Cognito account already has a name but no profile yet
    cy = users("cy")
    users.cognito.admin_update_user_attributes(UserPoolId=users.pool_id, Username=cy.email,
                                               UserAttributes=[{"Name": "name", "Value": "Cy Young"}])
    refreshed(users, cy)
    # When GET /me creates the profile, Then its display name is the token's name
    assert call(client, "GET", "/me", cy).data["display_name"] == "Cy Young"


def test_a_plain_post_names_its_author_from_the_token_in_two_calls(client, users):
    # Given Ana, who set her display name and holds a fresh token
    ana = given_named(client, users, "Ana")
    # When she posts without a circle or products
    with recording() as log:
        created = call(client, "POST", "/posts", ana, {"text": "street lens?", "labels": ["camera"]})
    # Then the 201 names her, after only the rate limit and the put
    assert created.status_code == 201, created.data
    assert created.data["author"] == {"user_id": ana.user_id, "display_name": "Ana", "merchant": None,
                                      "avatar_url": None, "expert": []}
    assert log.by_operation() == {"UpdateItem": 1, "PutItem": 1}


def test_a_token_issued_before_the_name_was_set_reads_the_profile(client, users):
    # Given Ana renamed herself but still holds her old token (no name claim)
    ana = users("ana")
    assert call(client, "PUT", "/me", ana, {"display_name": "Ana"}).status_code == 200
    # When she posts, Then the profile is read and the 201 still names her correctly
    with recording() as log:
        created = call(client, "POST", "/posts", ana, {"text": "hello"})
    assert created.data["author"]["display_name"] == "Ana"
    assert log.by_operation().get("BatchGetItem") == 1


def test_a_merchants_post_shows_their_store(client, users):
    # Given a merchant with a store, holding a fresh named token
    from chalicelib.models.merchants import Merchant

    shop = given_named(client, users, "Shop", groups=("merchants",))
    Merchant(shop.user_id, store_name="Lens House", tier="gold", badge="verified", created_at=now_iso()).save()
    # When they post, Then the 201's author block carries the store, read in one batched call
    with recording() as log:
        created = call(client, "POST", "/posts", shop, {"text": "new stock"})
    assert created.status_code == 201, created.data
    assert created.data["author"]["display_name"] == "Shop"
    assert created.data["author"]["merchant"]["store_name"] == "Lens House"
    assert log.by_operation().get("BatchGetItem") == 1


def test_a_circle_post_still_checks_the_circle_and_membership(client, users):
    # Given a named shopper who is not in a circle
    ana = given_named(client, users, "Ana")
    owner = given_named(client, users, "Owner")
    group = call(client, "POST", "/groups", owner, {"name": "Lens lovers", "description": "for lens fans",
                                                 "label": "camera"})
    assert group.status_code == 201, group.data
    # When she posts in it, Then she is refused
    refused = call(client, "POST", "/posts", ana, {"text": "hi", "group_id": group.data["group_id"]})
    assert refused.status_code == 403
    # And its member posts there, named from the token
    posted = call(client, "POST", "/posts", owner, {"text": "welcome", "group_id": group.data["group_id"]})
    assert posted.status_code == 201 and posted.data["author"]["display_name"] == "Owner"
    # And an unknown circle is 404
    assert call(client, "POST", "/posts", ana, {"text": "hi", "group_id": "nope"}).status_code == 404


@pytest.mark.parametrize("field", ["product_ids", "poll"])
def test_a_post_naming_products_still_checks_them(client, users, field):
    # Given a named shopper with a fresh token
    ana = given_named(client, users, "Ana")
    body = {"text": "which?"}
    if field == "product_ids":
        body["product_ids"] = ["no-such-product"]
    else:
        body["poll"] = {"options": [{"text": "a", "product_id": "no-such-product"}, {"text": "b"}]}
    # When she names an unknown product, Then 400 names the field
    refused = call(client, "POST", "/posts", ana, body)
    assert refused.status_code == 400
    assert "no-such-product" in str(refused.data)


def test_a_failing_cognito_update_does_not_fail_the_profile_update(client, users, monkeypatch):
    # Given Cognito refuses the attribute update
    from chalicelib.services import profiles

    class Broken:
        def admin_update_user_attributes(self, **kwargs):
            raise RuntimeError("throttled")

    monkeypatch.setattr(profiles, "_cognito", lambda: Broken())
    ana = users("ana")
    # When she sets her name, Then the profile is still updated
    updated = call(client, "PUT", "/me", ana, {"display_name": "Ana"})
    assert updated.status_code == 200 and updated.data["display_name"] == "Ana"
    assert call(client, "GET", "/me", ana).data["display_name"] == "Ana"
