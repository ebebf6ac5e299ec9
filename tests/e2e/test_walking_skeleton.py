"""A shopper's first minutes, on the real local stack: sign-up, token, profile, follow, counters."""

import json


def test_stack_json_names_everything_a_client_needs(stack):
    for key in ("api_url", "aws_endpoint_url", "region", "user_pool_id", "user_pool_client_id", "tables"):
        assert stack.state[key], key
    assert "Follows" in stack.state["tables"]
    groups = stack.cognito.list_groups(UserPoolId=stack.state["user_pool_id"])["Groups"]
    assert {g["GroupName"] for g in groups} >= {"merchants", "judges", "admins"}


def test_sign_up_token_profile_follow_counter_and_notification(stack):
    # Given two shoppers who signed up the way a client does
    alice, bob = stack.sign_up("alice"), stack.sign_up("bob")
    assert stack.call("GET", "/me").status_code == 401
    assert stack.call("GET", "/me", alice).status_code == 200
    assert stack.call("PUT", "/me", bob, {"display_name": "Bob"}).status_code == 200
    # When alice follows bob
    assert stack.call("PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
    # Then, through the real stream, bob's counter moves and he is notified
    stack.eventually(lambda: stack.call("GET", f"/users/{bob.user_id}", alice).json()["follower_count"] == 1,
                     timeout=2.5)
    notes = stack.eventually(lambda: stack.call("GET", "/me/notifications", bob).json()["items"])
    assert notes[0]["type"] == "new_follower"
    assert notes[0]["data"]["follower_id"] == alice.user_id


def test_tokens_are_checked_for_real(stack):
    alice = stack.sign_up()
    header, payload, signature = alice.token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for token in ("garbage", f"{header}.{forged}.{signature}", f"{header}.{payload}."):
        response = stack.call("GET", "/me", headers={"Authorization": token})
        assert response.status_code == 401, token
        assert response.json()["Code"] == "UnauthorizedError"
