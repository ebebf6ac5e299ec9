"""Who is calling: the app's own check of a Cognito token.

API Gateway's Cognito authorizer guards the deployed routes too, but `chalice local` and the
local stack only decode tokens, so the app verifies every token itself: RS256 signature against
the pool's JWKS (fetched once and cached), issuer, audience or client id, expiry and token_use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from chalicelib.config import COGNITO_GROUPS, get_settings
from chalicelib.domain.names import display_name_or_none
from chalicelib.errors import ServiceUnavailable, Unauthorized

GROUPS = COGNITO_GROUPS
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "token_use"]


@dataclass(frozen=True)
class Caller:
    user_id: str
    username: str
    groups: frozenset[str]
    # The token's standard `name` claim: the display name as it was when the token was issued
    # (PUT /me sets it in Cognito too), so a write can name its author without reading the profile.
    display_name: str | None = None

    def in_group(self, group: str) -> bool:
        return group in self.groups


@functools.lru_cache(maxsize=4)
def _jwks_client(url: str):
    from jwt import PyJWKClient

    return PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def reset_jwks_cache() -> None:
    _jwks_client.cache_clear()


def bearer_token(header_value: str | None) -> str:
    if not header_value:
        raise Unauthorized("Missing Authorization header")
    parts = header_value.split()
    if parts and parts[0].lower() == "bearer":
        parts = parts[1:]
    if len(parts) != 1:
        raise Unauthorized("Missing token")
    return parts[0]


def verify_token(token: str) -> Caller:
    import jwt

    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("Malformed token") from None
    if header.get("alg") != "RS256":
        raise Unauthorized("Token must be signed with RS256")
    try:
        signing_key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise ServiceUnavailable("Token keys are unreachable; try again shortly",
                                 headers={"Retry-After": "5"}) from None
    except jwt.PyJWTError:
        raise Unauthorized("Token is not signed by a known key") from None
    try:
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            issuer=settings.token_issuer,
            options={"require": _REQUIRED_CLAIMS, "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Invalid token: {exc}") from None
    token_use = claims.get("token_use")
    if token_use == "id":
        client_id = claims.get("aud")
    elif token_use == "access":
        client_id = claims.get("client_id")
    else:
        raise Unauthorized("token_use must be id or access")
    if not settings.user_pool_client_id or client_id != settings.user_pool_client_id:
        raise Unauthorized("Token was issued to another client")
    return _caller_from(claims)


# Cognito's `sub` is a UUID and its usernames and group names are at most 128 characters: a
# claim of another type or size names nobody (and a 3,000-character id would reach DynamoDB as
# an oversized key), so it is a 401 here rather than an error further on.
MAX_CLAIM_LENGTH = 128
_USER_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_CLAIM_LENGTH}}}")  # printable ASCII, no spaces
_STRING_CLAIMS = ("email", "cognito:username", "username")


def _caller_from(claims: dict) -> Caller:
    """The caller named by signature-checked claims, once each claim has Cognito's type and size."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _USER_ID.fullmatch(sub):
        raise Unauthorized("Invalid token: sub must be a user id")
    for name in _STRING_CLAIMS:
        value = claims.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= MAX_CLAIM_LENGTH):
            raise Unauthorized(f"Invalid token: {name} must be a string of at most {MAX_CLAIM_LENGTH} characters")
    groups = claims.get("cognito:groups")
    if groups is None:
        groups = []
    elif isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, str) and 0 < len(g) <= MAX_CLAIM_LENGTH
                                               for g in groups):
        raise Unauthorized("Invalid token: cognito:groups must be a list of group names")
    username = claims.get("cognito:username") or claims.get("username") or sub
    display_name = display_name_or_none(claims.get("name"))  # a bad or mistyped claim: the default name instead
    return Caller(user_id=sub, username=username, groups=frozenset(groups), display_name=display_name)
