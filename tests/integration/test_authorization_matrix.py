"""Every route of the contract refuses callers it should not serve.

The route list comes from the app's own declarations, so a route added later is covered the
moment it exists. Ownership and group refusals (another user's token, a token without the needed
group) are checked route by route in each feature's tests and in `test_nobody_acts_for_another`.
"""

from __future__ import annotations

import re
import time

import jwt
import pytest

from chalicelib.http import ROUTES
from tests.support.api import call

PUBLIC = {("GET", "/health"), ("GET", "/openapi.json")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def _protected_routes():
    import app  # noqa: F401  (registers every route)

    return [spec for spec in ROUTES if (spec.method, spec.path) not in PUBLIC]


def test_only_health_and_openapi_are_public():
    import app  # noqa: F401

    assert {(spec.method, spec.path) for spec in ROUTES if spec.public} == PUBLIC


def test_every_other_route_refuses_missing_and_bad_tokens(client, users):
    someone = users()
    claims = jwt.decode(someone.token, options={"verify_signature": False})
    expired = dict(claims, exp=int(time.time()) - 60)
    forged_header, _, signature = someone.token.split(".")
    import base64
    import json

    forged_payload = base64.urlsafe_b64encode(json.dumps(expired).encode()).rstrip(b"=").decode()
    bad_tokens = {
        "missing": None,
        "garbage": "not.a.token",
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "altered": f"{forged_header}.{forged_payload}.{signature}",
    }
    routes = _protected_routes()
    assert len(routes) >= 10
    for spec in routes:
        for name, token in bad_tokens.items():
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = token
            response = client.http.request(spec.method, _concrete(spec.path), headers=headers, body="{}")
            assert response.status_code == 401, f"{spec.method} {spec.path} with {name} token"


@pytest.mark.parametrize("prefix", ["", "Bearer ", "bearer "])
def test_a_good_token_is_accepted_with_or_without_bearer(client, users, prefix):
    someone = users()
    response = call(client, "GET", "/me", headers={"Authorization": prefix + someone.token})
    assert response.status_code == 200
