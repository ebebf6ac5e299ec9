"""Reading shared activities: the caller's list, a follower's view of it, feed items, and who may
see a wish list.

A follower sees a user's shared activities except wish-list adds of a private wish list; nobody
across a block sees either. Every read is one Query (or the feed's own batched read) and one
BatchGetItem for the cards (users, products and their stores, the stores followed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from chalicelib.domain import activity as rules
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.activity import Activity, SharingSettings
from chalicelib.models.base import batch_get
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.activity import ActivityItemOut, ActivityOut, CampaignRef, QuestionRef
    from chalicelib.schemas.cards import UserCard
else:
    (
        ActivityItemOut, ActivityOut, CampaignRef, QuestionRef,
    ) = lazy_models(
        "chalicelib.schemas.activity",
        "ActivityItemOut", "ActivityOut", "CampaignRef", "QuestionRef",
    )
    UserCard, = lazy_models("chalicelib.schemas.cards", "UserCard")


# -- presenting -----------------------------------------------------------------------------------------
def present(activities: list[Activity], users: dict[str, UserCard] | None = None) -> list[ActivityOut]:
    """The activities with their cards: ONE BatchGetItem (users unless given, products with their
    stores, the stores followed or redeemed at); none for no activity."""
    from chalicelib.models.merchants import Merchant
    from chalicelib.services.cards import CardRead, store_card

    if not activities:
        return []
    with_product = [a for a in activities if a.product_id]
    read = CardRead(user_ids=[] if users is not None else [a.user_id for a in activities],
                    product_ids=[a.product_id for a in with_product if a.product_id],
                    merchant_of={a.product_id: a.merchant_id for a in with_product if a.product_id and a.merchant_id})
    store_ids = list(dict.fromkeys(a.merchant_id for a in activities if a.merchant_id and not a.product_id))
    card_keys = read.keys()
    keys = card_keys + [(Merchant, m, None) for m in store_ids]
    found = batch_get(keys) if keys else []
    cards = read.build(found[:len(card_keys)])
    stores = dict(zip(store_ids, found[len(card_keys):], strict=True))
    user_cards = users if users is not None else cards.users
    shown = []
    for item in activities:
        store = None
        if item.merchant_id and not item.product_id:
            store = store_card(item.merchant_id, stores.get(item.merchant_id))  # type: ignore[arg-type]
        shown.append(ActivityOut(
            activity_id=item.activity_id, type=item.type,  # type: ignore[arg-type]
            user=user_cards.get(item.user_id) or UserCard.deleted(),
            product=cards.products.get(item.product_id) if item.product_id else None,
            question=QuestionRef(question_id=item.question_id, title=item.question_title) if item.question_id else None,
            store=store,
            campaign=CampaignRef(campaign_id=item.campaign_id, title=item.campaign_title) if item.campaign_id else None,
            created_at=item.created_at,
        ))
    return shown


def as_feed_items(activities: list[ActivityOut]) -> list[ActivityItemOut]:
    return [ActivityItemOut(activity=activity) for activity in activities]


# -- the caller's own ---------------------------------------------------------------------------------
def _shared_page(user_id: str, page: PageRequest):
    """ONE newest-first Query of the user's partition below the settings item, withdrawn ones filtered."""
    return Activity.query(user_id, Activity.activity_id < rules.ACTIVITIES_UPPER_BOUND,
                          filter_condition=Activity.withdrawn_at.does_not_exist(), scan_index_forward=False,
                          limit=page.limit, last_evaluated_key=page.start_key(Activity, user_id))


def list_shared(user_id: str, page: PageRequest) -> Page:
    """`GET /me/activity`: what the caller has shared and not withdrawn, newest first."""
    results = _shared_page(user_id, page)
    items = present(list(results))
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def preview(user_id: str, page: PageRequest) -> Page:
    """`GET /me/sharing/preview`: the caller's activity as a follower's feed shows it (the same items)."""
    from chalicelib.services.activity import settings_image

    results = _shared_page(user_id, page)
    activities = list(results)
    settings = batch_get([(SharingSettings, user_id, rules.SETTINGS_KEY)])[0] if activities else None
    visibility = rules.visibility_of(settings_image(settings))  # type: ignore[arg-type]
    visible = [a for a in activities if rules.shown_to_follower(a.type, visibility)]
    return Page(items=as_feed_items(present(visible)), next_cursor=page.next_cursor(results.last_evaluated_key))


# -- in the home feed -----------------------------------------------------------------------------------
class FeedActivityReads:
    """The activities a feed page shows, read in the page's one batched read: each activity, and its
    user's settings (a private wish list hides its adds)."""

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        self.wanted = list(dict.fromkeys(keys))  # (user id, activity id)
        self.user_ids = list(dict.fromkeys(user_id for user_id, _ in self.wanted))

    def keys(self) -> list[tuple]:
        return ([(Activity, user_id, activity_id) for user_id, activity_id in self.wanted]
                + [(SharingSettings, user_id, rules.SETTINGS_KEY) for user_id in self.user_ids])

    def take(self, found: Iterator) -> dict[str, Activity]:
        """{activity id: activity} of those a follower may see now (not withdrawn, not hidden)."""
        from chalicelib.services.activity import settings_image

        activities = [next(found) for _ in self.wanted]
        settings = {user_id: settings_image(next(found)) for user_id in self.user_ids}
        return {item.activity_id: item for item in activities
                if item is not None and item.withdrawn_at is None
                and rules.shown_to_follower(item.type, rules.visibility_of(settings[item.user_id]))}


# -- wish-list visibility -------------------------------------------------------------------------------
def require_wishlist_visible(viewer_id: str, owner_id: str) -> None:
    """403 unless the viewer may see the owner's wish list: ONE BatchGetItem (the owner's settings,
    the viewer's follow, blocks both ways); nothing read for the owner themself."""
    from chalicelib.domain.advice import MAX_ID_LENGTH, plausible_id
    from chalicelib.models.graph import Block, Follow
    from chalicelib.services.activity import settings_image

    if viewer_id == owner_id:
        return
    if not plausible_id(owner_id):
        raise NotFound(f"No user {owner_id[:MAX_ID_LENGTH]}")
    settings, follow, blocks, blocked = batch_get([
        (SharingSettings, owner_id, rules.SETTINGS_KEY), (Follow, viewer_id, owner_id),
        (Block, owner_id, viewer_id), (Block, viewer_id, owner_id),
    ])
    visibility = rules.visibility_of(settings_image(settings))  # type: ignore[arg-type]
    if not rules.may_see_wishlist(visibility, is_owner=False, follows_owner=follow is not None,
                                  blocked=blocks is not None or blocked is not None):
        raise Forbidden("This wish list is not shared with you")
