"""Profiles: the caller's own (created on first use) and anyone's public view."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.config import get_settings
from chalicelib.domain import names
from chalicelib.domain.ids import now_iso
from chalicelib.errors import AccountDeleted, NotFound
from chalicelib.models.base import batch_get, get_or_404
from chalicelib.models.merchants import Merchant
from chalicelib.models.points import ExpertScore, Wallet
from chalicelib.models.users import UserProfile
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.profiles import ExpertLevel, MerchantBlock, ProfileOut, Relationship
else:
    (
        ExpertLevel, MerchantBlock, ProfileOut, Relationship,
    ) = lazy_models(
        "chalicelib.schemas.profiles",
        "ExpertLevel", "MerchantBlock", "ProfileOut", "Relationship",
    )


def display_name_of(profile: UserProfile | None, user_id: str) -> str:
    if profile is not None and profile.display_name:
        return profile.display_name
    return names.default_display_name(user_id)


def default_display_name(caller: Caller) -> str:
    """The name a first-use profile gets: the token's `name` (checked by `auth`), else `shopper-<id>`.

    Never the username: in this pool it is the email address (or the sub), not for display.
    """
    return caller.display_name or names.default_display_name(caller.user_id)


@functools.lru_cache(maxsize=1)
def _cognito():
    import boto3

    return boto3.client("cognito-idp", region_name=get_settings().region)


def sync_token_name(caller: Caller, display_name: str) -> None:
    """Set the Cognito attribute `name`, so the caller's next tokens carry the display name.

    The profile stays the source of truth: a failure is logged and the request goes on (the
    token's name only spares reads, and writes without it read the profile instead).
    """
    settings = get_settings()
    if not settings.user_pool_id:
        return
    try:
        _cognito().admin_update_user_attributes(
            UserPoolId=settings.user_pool_id,
            Username=caller.username,
            UserAttributes=[{"Name": "name", "Value": display_name}],
        )
    except Exception:  # noqa: BLE001 - any failure (throttling, IAM, network) must not fail the profile update
        from chalicelib.observability import logger

        logger.warning("could not set the Cognito name attribute", exc_info=True, extra={"user_id": caller.user_id})


def _ensure(caller: Caller, **updates) -> UserProfile:
    """One UpdateItem that creates the profile if needed and applies `updates`."""
    profile = UserProfile(caller.user_id)
    now = now_iso()
    actions = [
        UserProfile.created_at.set(UserProfile.created_at | now),
        UserProfile.follower_count.set(UserProfile.follower_count | 0),
        UserProfile.following_count.set(UserProfile.following_count | 0),
    ]
    if "display_name" in updates:
        actions.append(UserProfile.display_name.set(updates["display_name"]))
        actions.append(UserProfile.updated_at.set(now))
    else:
        default_name = default_display_name(caller)
        actions.append(UserProfile.display_name.set(UserProfile.display_name | default_name))
    if "bio" in updates:
        actions.append(UserProfile.bio.set(updates["bio"]))
    if "labels" in updates:
        actions.append(UserProfile.labels.set(list(updates["labels"])))
    profile.update(actions=actions)
    return profile


def create_profile_if_missing(user_id: str, display_name: str | None) -> bool:
    """Create a fresh profile unless one exists; True if this call created it.

    One conditional PutItem and no read: an existing profile (and its counters) is never touched,
    so the sign-up trigger, a retried trigger and the first-write fallback can all call it.
    """
    from pynamodb.exceptions import PutError

    name = names.display_name_or_none(display_name) or names.default_display_name(user_id)
    profile = UserProfile(user_id, display_name=name, created_at=now_iso(), follower_count=0, following_count=0)
    try:
        profile.save(condition=UserProfile.user_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


#: Users this warm container has seen a profile for: their writes need no fallback put. Bounded,
#: and only ever an optimisation (a miss costs one conditional put that changes nothing).
_KNOWN_PROFILES: set[str] = set()
_KNOWN_PROFILES_MAX = 10_000


def _remember_profile(user_id: str) -> None:
    if len(_KNOWN_PROFILES) >= _KNOWN_PROFILES_MAX:
        _KNOWN_PROFILES.clear()
    _KNOWN_PROFILES.add(user_id)


def ensure_caller_profile(caller: Caller) -> bool:
    """The fallback for users the sign-up trigger missed (created by an admin, or before it existed)."""
    if caller.user_id in _KNOWN_PROFILES:
        return False
    created = create_profile_if_missing(caller.user_id, default_display_name(caller))
    _remember_profile(caller.user_id)
    return created


def create_profile_on_sign_up(user_attributes: dict) -> bool:
    """The post-confirmation trigger's use case: the profile exists from sign-up on.

    `user_attributes` is Cognito's `request.userAttributes`; a `name` that breaks the rule
    gives the default name (users cannot write `name` through the app client, but an admin can).
    """
    user_id = user_attributes.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("the sign-up event carries no sub")
    return create_profile_if_missing(user_id, user_attributes.get("name"))


def get_me(caller: Caller) -> ProfileOut:
    from chalicelib.models.effects import RateBucket
    from chalicelib.services.rate_limits import is_tombstone, writes_bucket

    # the writes counter rides in the same BatchGetItem: an erased account's carries its tombstone
    profile, wallet, merchant, counter = _read(caller.user_id,
                                               extra=[(RateBucket, writes_bucket(caller.user_id), None)])
    if is_tombstone(counter):
        raise AccountDeleted()
    if profile is None or not (profile.display_name and profile.created_at):
        profile = _ensure(caller)
        if not caller.display_name:
            # so the caller's next tokens name them and their posts need no profile read
            sync_token_name(caller, display_name_of(profile, caller.user_id))
    _remember_profile(caller.user_id)
    return public_view(profile, wallet, merchant, _expertise(caller.user_id))


def update_me(caller: Caller, display_name: str, bio: str | None, labels: list[str] | None) -> ProfileOut:
    updates: dict = {"display_name": display_name}
    if bio is not None:
        updates["bio"] = bio
    if labels is not None:
        updates["labels"] = labels
    profile = _ensure(caller, **updates)
    sync_token_name(caller, display_name)
    _, wallet, merchant = _read(caller.user_id, with_profile=False)
    return public_view(profile, wallet, merchant, _expertise(caller.user_id))


def get_public_profile(user_id: str, viewer_id: str | None = None) -> ProfileOut:
    """One BatchGetItem (profile, wallet, store and, for a viewer, the follows and the block between
    the two) and one Query (expertise)."""
    relation_keys = _relationship_keys(viewer_id, user_id)
    profile, wallet, merchant, *relation = _read(user_id, extra=relation_keys)
    if profile is None:
        raise NotFound(f"No user {user_id}")
    relationship = relationship_of(relation) if viewer_id is not None else None
    return public_view(profile, wallet, merchant, _expertise(user_id), relationship)


def _relationship_keys(viewer_id: str | None, user_id: str) -> list:
    from chalicelib.models.graph import Block, Follow

    if viewer_id is None or viewer_id == user_id:
        return []
    return [(Follow, viewer_id, user_id), (Follow, user_id, viewer_id), (Block, viewer_id, user_id)]


def relationship_of(found: list) -> Relationship:
    """`{following, followed_by, blocking}` from the viewer's view; all false on one's own profile."""
    following, followed_by, blocking = found or (None, None, None)
    return Relationship(following=following is not None, followed_by=followed_by is not None,
                        blocking=blocking is not None)


def get_profile(user_id: str) -> UserProfile:
    return get_or_404(UserProfile, user_id, what="user")


def _read(user_id: str, with_profile: bool = True, extra: list | None = None):
    keys = [(Wallet, user_id, None), (Merchant, user_id, None)]
    if with_profile:
        keys.insert(0, (UserProfile, user_id, None))
        return tuple(batch_get(keys + list(extra or [])))
    return (None, *batch_get(keys))


def _expertise(user_id: str) -> list[ExpertLevel]:
    return [
        ExpertLevel(label=score.label, level=int(score.level), score=int(score.score))
        for score in ExpertScore.query(user_id)
        if score.level and score.level > 0
    ]


def merchant_block(merchant: Merchant | None) -> MerchantBlock | None:
    if merchant is None or not merchant.store_name:
        return None
    return MerchantBlock(store_name=merchant.store_name, tier=merchant.tier, badge=merchant.badge)


def public_view(profile: UserProfile, wallet: Wallet | None = None, merchant: Merchant | None = None,
                expert: list[ExpertLevel] | None = None, relationship: Relationship | None = None) -> ProfileOut:
    """The `GET /users/{id}` shape, built once from the items."""
    return ProfileOut(
        user_id=profile.user_id,
        display_name=display_name_of(profile, profile.user_id),
        bio=profile.bio or "",
        labels=list(profile.labels or []),
        follower_count=int(profile.follower_count or 0),
        following_count=int(profile.following_count or 0),
        points=int(wallet.balance) if wallet is not None else 0,
        expert=expert or [],
        merchant=merchant_block(merchant),
        created_at=profile.created_at,
        relationship=relationship,
    )
