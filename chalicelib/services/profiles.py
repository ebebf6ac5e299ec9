"""Profiles: the caller's own (created on first use) and anyone's public view."""

from __future__ import annotations

from chalicelib.auth import Caller
from chalicelib.domain.ids import now_iso
from chalicelib.errors import NotFound
from chalicelib.models.users import UserProfile


def display_name_of(profile: UserProfile | None, user_id: str) -> str:
    if profile is not None and profile.display_name:
        return profile.display_name
    return f"shopper-{user_id[:8]}"


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
        actions.append(UserProfile.display_name.set(UserProfile.display_name | caller.username))
    if "bio" in updates:
        actions.append(UserProfile.bio.set(updates["bio"]))
    if "labels" in updates:
        actions.append(UserProfile.labels.set(list(updates["labels"])))
    profile.update(actions=actions)
    return profile


def get_me(caller: Caller) -> UserProfile:
    try:
        profile = UserProfile.get(caller.user_id)
        if profile.display_name and profile.created_at:
            return profile
    except UserProfile.DoesNotExist:
        pass
    return _ensure(caller)


def update_me(caller: Caller, display_name: str, bio: str | None, labels: list[str] | None) -> UserProfile:
    updates: dict = {"display_name": display_name}
    if bio is not None:
        updates["bio"] = bio
    if labels is not None:
        updates["labels"] = labels
    return _ensure(caller, **updates)


def get_profile(user_id: str) -> UserProfile:
    try:
        return UserProfile.get(user_id)
    except UserProfile.DoesNotExist:
        raise NotFound(f"No user {user_id}") from None


def public_view(profile: UserProfile) -> dict:
    """The `GET /users/{id}` shape. Points, expertise and the store block come from their features."""
    return {
        "user_id": profile.user_id,
        "display_name": display_name_of(profile, profile.user_id),
        "bio": profile.bio or "",
        "labels": list(profile.labels or []),
        "follower_count": int(profile.follower_count or 0),
        "following_count": int(profile.following_count or 0),
        "points": 0,
        "expert": [],
        "merchant": None,
        "created_at": profile.created_at,
    }
