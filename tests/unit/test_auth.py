"""Token checks: only a live RS256 token from our pool, for our client, gets through."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth import bearer_token, reset_jwks_cache, verify_token
from chalicelib.config import reset_settings
from chalicelib.errors import Unauthorized
from tests.support.aws import serve_bytes

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT_ID = "test-client"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pool(signing_key, monkeypatch):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid="key-1", alg="RS256", use="sig")
    with serve_bytes(json.dumps({"keys": [jwk]}).encode()) as url:
        monkeypatch.setenv("JWKS_URL", url)
        monkeypatch.setenv("TOKEN_ISSUER", ISSUER)
        monkeypatch.setenv("USER_POOL_CLIENT_ID", CLIENT_ID)
        reset_settings()
        reset_jwks_cache()
        yield
    reset_settings()
    reset_jwks_cache()


def make_token(key, **overrides):
    now = int(time.time())
    claims = {"sub": "user-1", "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id", "iat": now,
              "exp": now + 600, "cognito:username": "alice", "cognito:groups": ["judges"]}
    headers = {"kid": overrides.pop("kid", "key-1")}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    # signed as raw JWS: a forger is not held to the claim types PyJWT's encode insists on
    return jwt.api_jws.encode(json.dumps(claims).encode(), key, algorithm="RS256", headers=headers)


def test_a_valid_id_token_names_the_caller_and_groups(pool, signing_key):
    caller = verify_token(make_token(signing_key))
    assert caller.user_id == "user-1"
    assert caller.in_group("judges") and not caller.in_group("merchants")


def test_an_access_token_is_checked_against_client_id(pool, signing_key):
    token = make_token(signing_key, token_use="access", aud=None, client_id=CLIENT_ID)
    assert verify_token(token).user_id == "user-1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 5},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/other-pool"},
        {"aud": "another-client"},
        {"token_use": "refresh"},
        {"token_use": None},
        {"kid": "unknown-key"},
    ],
    ids=["expired", "issuer", "audience", "token_use", "no-token_use", "unknown-kid"],
)
def test_tokens_that_must_be_refused(pool, signing_key, overrides):
    with pytest.raises(Unauthorized):
        verify_token(make_token(signing_key, **overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        {"cognito:groups": 7},
        {"cognito:groups": {"judges": True}},
        {"cognito:groups": ["judges", 7]},
        {"cognito:groups": [["judges"]]},
        {"cognito:groups": ["x" * 3000]},
        {"sub": ""},
        {"sub": "u" * 3000},
        {"sub": 42},
        {"sub": ["user-1"]},
        {"sub": "user 1"},
        {"sub": "user-\u202e1"},
        {"token_use": 1},
        {"token_use": ["id"]},
        {"email": 5},
        {"email": {"a": 1}},
        {"cognito:username": ["alice"]},
        {"cognito:username": "a" * 3000},
        {"username": 3},
        {"iat": "yesterday"},
        {"exp": "never"},
        {"iss": ["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"]},
        {"aud": [CLIENT_ID]},
    ],
    ids=lambda overrides: next(iter(overrides)) + "=" + type(next(iter(overrides.values()))).__name__,
)
def test_badly_typed_or_sized_claims_are_a_401(pool, signing_key, overrides):
    # A signed token whose claims have the wrong type or size names nobody: 401, never an error further on
    with pytest.raises(Unauthorized):
        verify_token(make_token(signing_key, **overrides))


@pytest.mark.parametrize("name", [5, ["Ana"], {"first": "Ana"}, True])
def test_a_name_claim_of_the_wrong_type_falls_back_to_the_default(pool, signing_key, name):
    assert verify_token(make_token(signing_key, name=name)).display_name is None


def test_groups_may_be_one_string_or_absent(pool, signing_key):
    assert verify_token(make_token(signing_key, **{"cognito:groups": "judges"})).in_group("judges")
    assert verify_token(make_token(signing_key, **{"cognito:groups": None})).groups == frozenset()


def test_unsigned_and_foreign_tokens_are_refused(pool, signing_key):
    unsigned = jwt.encode({"sub": "x", "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id"}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        verify_token(unsigned)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        verify_token(make_token(stranger))
    with pytest.raises(Unauthorized):
        verify_token("not-a-jwt")


def test_bearer_prefix_is_optional_and_missing_header_is_refused():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("abc") == "abc"
    for value in (None, "", "Bearer ", "   "):
        with pytest.raises(Unauthorized):
            bearer_token(value)
