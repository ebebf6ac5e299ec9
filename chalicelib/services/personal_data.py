"""Where a user's data lives: for EVERY table of infra/template.yaml, how to reach one user's rows
by a key or an index (never a full-table read), for the export (`services.exports`) and the erasure
(`services.erasure`), or why the table holds nothing personal.

`tests/unit/test_personal_data.py` parses the template and fails while a table is neither here nor
listed with a reason: a table added later cannot be forgotten. Registering one is a line:

    REGISTRY.add(Owned("LiveRooms", (Reach(LiveRoom, "by_host"),), erase="live_rooms"))
    REGISTRY.add(NothingPersonal("LiveStats", "aggregate counts per room"))

`Owned.erase` names the erasure phase that handles the table (`services.erasure.PHASES`; a feature
adds its own phase with `services.erasure.add_phase`), or says why the rows are kept (`KEPT`).

Indexes added for this (all KEYS_ONLY, so each costs one small index write per row and no more
storage than the keys: the export reads the items themselves in BatchGetItem, the erasure needs
only the keys): Posts.by_writer, PollVotes.by_user, Likes.by_user, Comments.by_author,
Questions.by_asker, Answers.by_author, AnswerVotes.by_voter, Reviews.by_author,
HelpfulMarks.by_user, Ratings.by_judge, LiveChat.by_user, and the sparse LiveActivity.by_viewer
and ModerationLog.by_affected (docs/scale.md "Export and erasure").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.models.activity import Activity, SharingSettings
from chalicelib.models.advice import Answer, AnswerVote, HelpfulMark, Product, Question, Review, WishlistEntry
from chalicelib.models.graph import Block, Follow, FollowerBucket, followers_keys
from chalicelib.models.groups import GroupMember
from chalicelib.models.live import LiveActivity, LiveChatMessage, LiveRoom
from chalicelib.models.merchants import Merchant, Rating
from chalicelib.models.moderation import ModerationAction, Report
from chalicelib.models.notifications import Notification
from chalicelib.models.points import (
    LEDGER_SHARDS,
    STANDING_SHARDS,
    Campaign,
    Coupon,
    CouponClaim,
    ExpertScore,
    LedgerEntry,
    Wallet,
)
from chalicelib.models.posts import FeedEntry, PollVote, Post, RecentPosts
from chalicelib.models.social import Comment, Like
from chalicelib.models.users import UserProfile

KEPT = "kept: "  # an `erase` starting so names why erasure leaves the rows


def _one(user_id: str) -> list[str]:
    return [user_id]


def _ledger_partitions(user_id: str) -> list[str]:
    from chalicelib.domain.sharded_lists import shard_key

    return ([shard_key(user_id, shard) for shard in range(LEDGER_SHARDS)]
            + [f"{user_id}#standing#{shard}" for shard in range(STANDING_SHARDS)])


def _activities(model: Any) -> Any:
    from chalicelib.domain.activity import ACTIVITIES_UPPER_BOUND

    return model.activity_id < ACTIVITIES_UPPER_BOUND


def _sharing_settings(model: Any) -> Any:
    from chalicelib.domain.activity import SETTINGS_KEY

    return model.activity_id == SETTINGS_KEY


def _audience_partitions(user_id: str) -> list[str]:
    from chalicelib.domain import feed

    return [feed.audience_key(user_id, shard) for shard in range(feed.AUDIENCE_SHARDS)]


@dataclass(frozen=True)
class Reach:
    """One Query that finds a user's rows: of the table's key (`index` None) or of the model's
    index named by its attribute, under each hash-key value `keys` derives from the user id."""

    model: Any
    index: str | None = None
    keys: Callable[[str], list[str]] = _one
    what: str = ""
    #: the model -> a sort-key condition, where one partition holds items of two models
    condition: Callable[[Any], Any] | None = None

    @property
    def table(self) -> str:
        return str(self.model.Meta.logical_name)

    @property
    def index_name(self) -> str | None:
        return getattr(self.model, self.index).Meta.index_name if self.index else None

    @property
    def keys_only(self) -> bool:
        from pynamodb.indexes import KeysOnlyProjection

        if self.index is None:
            return False
        return isinstance(getattr(self.model, self.index).Meta.projection, KeysOnlyProjection)

    def page(self, hash_key: str, limit: int, after: dict | None) -> tuple[list, dict | None]:
        """One Query page of this reach under one hash key: the rows (keys only for a KEYS_ONLY
        index) and where the next page starts (None: no more)."""
        source = getattr(self.model, self.index) if self.index else self.model
        condition = self.condition(self.model) if self.condition else None
        result = source.query(hash_key, range_key_condition=condition, limit=limit, last_evaluated_key=after)
        rows = list(result)
        return rows, result.last_evaluated_key


@dataclass(frozen=True)
class Owned:
    """A table a user owns rows in, the queries that find them, and what erasure does to them."""

    table: str
    reaches: tuple[Reach, ...]
    erase: str


@dataclass(frozen=True)
class NothingPersonal:
    """A table with nothing of a user's own (derived, aggregated or expiring within hours), and why."""

    table: str
    reason: str


Entry = Owned | NothingPersonal


@dataclass
class Registry:
    entries: dict[str, Entry] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries[entry.table] = entry

    def owned(self) -> list[Owned]:
        return [entry for entry in self.entries.values() if isinstance(entry, Owned)]

    def reaches(self) -> Iterator[tuple[str, Reach]]:
        for entry in self.owned():
            for reach in entry.reaches:
                yield entry.table, reach


REGISTRY = Registry()
for _entry in (
    Owned("Users", (Reach(UserProfile, what="profile"),), erase="profile"),
    Owned("Follows", (Reach(Follow, what="whom they follow"),
                      Reach(Follow, "followers", keys=followers_keys, what="who follows them")), erase="follows"),
    Owned("AudienceBuckets", (Reach(FollowerBucket, keys=_audience_partitions, what="their followers' ids"),),
          erase="audience"),
    Owned("Blocks", (Reach(Block, what="whom they block"), Reach(Block, "blocked_by", what="who blocks them")),
          erase="blocks"),
    Owned("Notifications", (Reach(Notification, what="notifications and read state"),), erase="notifications"),
    NothingPersonal("Effects", "idempotency markers named by stream sequence numbers; expire in 7 days"),
    NothingPersonal("RateLimits", "per-minute write counters expiring within two windows; the erased "
                                  "account's tombstone (no personal data) lives here for an hour"),
    Owned("Posts", (Reach(Post, "by_writer", what="posts, home and circle"),), erase="posts"),
    Owned("PollVotes", (Reach(PollVote, "by_user", what="poll votes"),), erase="poll_votes"),
    NothingPersonal("PollTallies", "per-poll vote sums, no voter ids"),
    Owned("Likes", (Reach(Like, "by_user", what="likes"),), erase="likes"),
    NothingPersonal("PostCounts", "per-post like and comment sums"),
    Owned("Comments", (Reach(Comment, "by_author", what="comments"),), erase="comments"),
    Owned("Feeds", (Reach(FeedEntry, what="their home feed"),), erase="feed"),
    Owned("RecentPosts", (Reach(RecentPosts, what="ids of their newest posts"),), erase="recent_posts"),
    NothingPersonal("FanoutJobs", "fan-out progress of posts (ids only), expires a week after the job"),
    NothingPersonal("Jobs", "job progress (ids only), expires a week after the job; the erasure's "
                            "audit record here holds no personal data"),
    Owned("GroupMembers", (Reach(GroupMember, "by_user", what="circle memberships"),), erase="circles"),
    NothingPersonal("Groups", "circles belong to their members; the owner's circle passes on or goes "
                              "through GroupMembers.by_user (erasure phase `circles`)"),
    Owned("Questions", (Reach(Question, "by_asker", what="questions"),), erase="questions"),
    NothingPersonal("LabelIndex", "label listings derived from questions, products and stores; each "
                                  "goes with its source"),
    Owned("Answers", (Reach(Answer, "by_author", what="answers"),),
          erase=KEPT + "answers stay, shown with the deleted-user card"),
    Owned("AnswerVotes", (Reach(AnswerVote, "by_voter", what="votes on answers"),), erase="answer_votes"),
    Owned("Products", (Reach(Product, "by_merchant", what="their store's products"),), erase="products"),
    Owned("Reviews", (Reach(Review, "by_author", what="reviews"),),
          erase=KEPT + "reviews stay, shown with the deleted-user card"),
    Owned("HelpfulMarks", (Reach(HelpfulMark, "by_user", what="helpful marks"),), erase="helpful_marks"),
    Owned("Wishlists", (Reach(WishlistEntry, what="wish list"),), erase="wishlist"),
    Owned("Wallets", (Reach(Wallet, what="wallet"),), erase="wallet"),
    Owned("Ledger", (Reach(LedgerEntry, keys=_ledger_partitions, what="ledger and standing awards"),),
          erase="ledger"),
    Owned("Experts", (Reach(ExpertScore, what="expert scores"),), erase="experts"),
    Owned("Campaigns", (Reach(Campaign, "by_merchant", what="their store's campaigns"),), erase="campaigns"),
    Owned("Coupons", (Reach(Coupon, "by_owner", what="coupons held"),), erase="coupons"),
    NothingPersonal("CampaignStock", "per-campaign stock shards, no holder ids"),
    Owned("UserCouponClaims", (Reach(CouponClaim, what="coupon claim counts"),), erase="coupons"),
    Owned("Merchants", (Reach(Merchant, what="store"),), erase="store"),
    Owned("Ratings", (Reach(Rating, "by_judge", what="judge scores given"),), erase="judge_scores"),
    NothingPersonal("GoodFinds", "derived from a store's products: they leave it when the products go"),
    # -- activity sharing, likes' index, moderation, search, live rooms ---------------------------------
    Owned("Activities", (Reach(Activity, what="shared activities", condition=_activities),
                         Reach(SharingSettings, what="sharing settings", condition=_sharing_settings)),
          erase="activity"),
    NothingPersonal("LikedPosts", "derived from Likes, which the export holds: `<user>#<window>` items of the "
                                  "posts liked, kept by the Likes stream; the erasure's `likes` phase deletes "
                                  "the window items of the likes it deletes"),
    Owned("Reports", (Reach(Report, "by_reporter", what="reports they made"),), erase="reports"),
    NothingPersonal("ReportTargets", "the moderation queue: report counts per target, no reporter ids; an "
                                     "erased user's own `user#<id>` item and others' reports of the account "
                                     "go in the erasure phase `reports_about`"),
    Owned("ModerationLog", (Reach(ModerationAction, "by_affected", what="moderation actions on their account "
                                                                        "or content"),),
          erase=KEPT + "the audit log of admin actions (the legal basis of a removal or suspension) stays; "
                       "it holds ids, the action and the admin's reason, no name or content"),
    NothingPersonal("SearchIndex", "derived from profiles, stores, products, questions and circles: the "
                                   "entries follow their source through its stream, so a deleted profile, "
                                   "store, product or question leaves search"),
    Owned("LiveRooms", (Reach(LiveRoom, "by_host", what="live rooms hosted"),), erase="live_rooms"),
    NothingPersonal("LiveConnections", "open sockets (room, user id, card), deleted at $disconnect or 410 and "
                                       "by TTL within 2 h 10 min, as each viewer's chat-limit items are; an "
                                       "erased host's rooms end and their viewers leave on the status event"),
    Owned("LiveActivity", (Reach(LiveActivity, "by_viewer", what="first views, store visits, mutes in rooms"),),
          erase="live_activity"),
    Owned("LiveChat", (Reach(LiveChatMessage, "by_user", what="live chat messages"),), erase="live_chat"),
):
    REGISTRY.add(_entry)
