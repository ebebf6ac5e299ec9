"""The local stack's identity edges (issue 12): profiles from sign-up through the pool's trigger,
names checked at the CLI, unknown routes 404 in the error shape without echoing the token."""

from __future__ import annotations

import uuid

from tests.e2e.test_local_platform import cli


def _email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def _token(stack, email: str) -> str:
    return cli(stack, "token", email, check=True).stdout.strip()


def test_a_user_the_cli_signs_up_has_a_profile_before_their_first_call(stack):
    # Given a user created (signed up and confirmed) who never calls the API, and another who looks
    user_id = cli(stack, "create-user", _email("quiet"), check=True).stdout.strip()
    named_id = cli(stack, "create-user", _email("named"), "--name", "  Mei Lin ", check=True).stdout.strip()
    viewer = _email("viewer")
    cli(stack, "create-user", viewer, check=True)
    headers = {"Authorization": _token(stack, viewer)}
    # When the other user reads their profiles and follows them, Then they exist from sign-up
    profile = stack.call("GET", f"/users/{user_id}", headers=headers)
    assert profile.status_code == 200, profile.text
    assert profile.json()["display_name"] == f"shopper-{user_id[:8]}"
    assert stack.call("GET", f"/users/{named_id}", headers=headers).json()["display_name"] == "Mei Lin"
    assert stack.call("PUT", f"/users/{user_id}/follow", headers=headers).status_code == 200


def test_the_cli_refuses_a_name_that_breaks_the_rule(stack):
    result = cli(stack, "create-user", _email("bidi"), "--name", "Ana\u202egnp")
    assert result.returncode != 0 and "--name" in result.stderr


def test_an_unknown_route_is_404_notfound_and_echoes_nothing(stack):
    token = "eyJhbGciOiJSUzI1NiJ9.secret-part.signature"
    for method, path in (("GET", "/no/such/route"), ("POST", "/nope"), ("DELETE", "/users/x/y/z")):
        response = stack.call(method, path, headers={"Authorization": token}, body={"a": 1})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"Code": "NotFound", "Message": "No such route"}
        assert "secret-part" not in response.text
    # and the connection stays usable: a known route still answers on the same session
    assert stack.call("GET", "/health").status_code == 200
