"""Posts, poll votes, home feeds and fan-out jobs."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class PollOption(MapAttribute):
    text = UnicodeAttribute()
    product_id = UnicodeAttribute(null=True)


class Poll(MapAttribute):
    options = ListAttribute(of=PollOption)
    closes_at = UnicodeAttribute()


class AuthorPostsIndex(GlobalSecondaryIndex):
    """Sparse: only posts outside circles carry `home_author_id`."""

    class Meta:
        index_name = "by_author"
        projection = AllProjection()

    home_author_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class GroupPostsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_group"
        projection = AllProjection()

    group_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class PostsByWriterIndex(GlobalSecondaryIndex):
    """Every post of one author, home and circle (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_writer"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class Post(BaseModel):
    Meta = table_meta("Posts")
    post_id = UnicodeAttribute(hash_key=True)
    author_id = UnicodeAttribute()
    home_author_id = UnicodeAttribute(null=True)
    group_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    image_urls = ListAttribute(of=UnicodeAttribute, default=list)
    product_ids = ListAttribute(of=UnicodeAttribute, default=list)
    # {product_id: merchant_id} of every product the post names (poll options too), copied at creation
    # (a product never changes store), so a page reads the products and their stores in one call
    product_merchants: MapAttribute = MapAttribute(default=dict)
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    poll = Poll(null=True)
    created_at = UnicodeAttribute()
    edited_at = UnicodeAttribute(null=True)  # PATCH /posts/{post_id}
    removed_at = UnicodeAttribute(null=True)  # set by moderation: the post leaves every feed and list
    live_room_id = UnicodeAttribute(null=True)  # a live room's feed item (`kind: "live"`), not a post
    by_author = AuthorPostsIndex()
    by_group = GroupPostsIndex()
    by_writer = PostsByWriterIndex()


class PollVotesByUserIndex(GlobalSecondaryIndex):
    """One user's poll votes (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    vote_key = UnicodeAttribute(range_key=True)


class PollVote(BaseModel):
    """One voter's vote in one poll, under `domain.polls.vote_key`: a poll's votes spread over shards."""

    Meta = table_meta("PollVotes")
    vote_key = UnicodeAttribute(hash_key=True)  # "<post_id>#<vote shard of user_id>"
    user_id = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute()
    option = NumberAttribute()  # the stream record of a change carries the option before and after
    created_at = UnicodeAttribute()
    changed_at = UnicodeAttribute(null=True)
    by_user = PollVotesByUserIndex()


class PollTally(BaseModel):
    """One of a poll's tally items (`domain.polls.tally_key`): the votes counted in it, per option.

    Kept from the PollVotes stream, one update per item per batch; a reader sums the poll's items.
    A deleted post's items keep only `deleted_at` (later tally updates are refused on it) until
    `expires_at` (TTL), past the stream's 24-hour retention.
    """

    Meta = table_meta("PollTallies")
    tally_key = UnicodeAttribute(hash_key=True)
    votes_0 = NumberAttribute(null=True)
    votes_1 = NumberAttribute(null=True)
    votes_2 = NumberAttribute(null=True)
    votes_3 = NumberAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)

    @classmethod
    def option_attribute(cls, option: int) -> NumberAttribute:
        return {0: cls.votes_0, 1: cls.votes_1, 2: cls.votes_2, 3: cls.votes_3}[option]

    def counts(self) -> dict[int, int]:
        """{option: votes counted here}; nothing for a deleted post's item."""
        if self.deleted_at is not None:
            return {}
        return {option: int(getattr(self, f"votes_{option}") or 0) for option in range(4)}


class FeedEntry(BaseModel):
    """One post in one reader's home feed: what a page needs to merge and fetch it, nothing more.

    No secondary index: removals find their entries from the reader's side (an unfollow or block
    reads the reader's own partition, filtered by author) or from the post's side (a deleted post's
    removal job walks the author's followers). See docs/scale.md "Feeds' indexes": the two GSIs
    this table had cost two of every entry's three write units.
    """

    Meta = table_meta("Feeds")
    user_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    author_id = UnicodeAttribute()
    has_poll = BooleanAttribute(default=False)  # a page asks for the reader's vote only on polls
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL: entries expire instead of being trimmed
    # absent for a post; "activity" for a shared activity (`post_id` is then the activity id, `author_id`
    # the user who did it): a page reads each from its own table
    kind = UnicodeAttribute(null=True)

    @staticmethod
    def raw_items(reader_ids, *, post_id: str, author_id: str, has_poll: bool, expires_at: int,
                  kind: str | None = None) -> list[dict]:
        """The entries of one post for many readers, as BatchWriteItem items (DynamoDB JSON).

        A model and `serialize()` per reader would do the same work thousands of times over; this
        builds the shared attributes once and adds each reader's key (a test pins the result to
        `FeedEntry(...).serialize()`).
        """
        shared = {
            "post_id": {"S": post_id},
            "author_id": {"S": author_id},
            "has_poll": {"BOOL": bool(has_poll)},
            "expires_at": {"N": str(int(expires_at))},
        }
        if kind:
            shared["kind"] = {"S": kind}
        return [{**shared, "user_id": {"S": reader_id}} for reader_id in reader_ids]


class FeedPullList(BaseModel):
    """The large accounts (served by pull) a reader follows: ONE item in the reader's own feed partition.

    Its sort key (`chalicelib.domain.feed.pull_list_key`, "~pull#<reader>") sorts above every post
    id, so the newest-first Query of a first feed page returns it first, in the same call. It has
    no `author_id` and no `expires_at`: no feed upkeep finds or expires it.
    """

    Meta = table_meta("Feeds")
    user_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    pull_authors = UnicodeSetAttribute(null=True)


class RecentPosts(BaseModel):
    """An author's newest home posts (ids, and which of them have a poll), kept by the Posts stream.

    Readers merge the large accounts they follow from these items: ONE BatchGetItem for up to 100
    authors instead of a Query each. Ids are ULIDs, so a set is enough to order them. `floor`: the
    newest id a trim dropped; every post newer than it is listed (`domain.feed.recent_below`), and a
    read that needs older ones Queries `by_author`.
    """

    Meta = table_meta("RecentPosts")
    author_id = UnicodeAttribute(hash_key=True)
    post_ids = UnicodeSetAttribute(null=True)
    poll_ids = UnicodeSetAttribute(null=True)
    activity_ids = UnicodeSetAttribute(null=True)  # which of `post_ids` are shared activities
    floor = UnicodeAttribute(null=True)


class FanoutJob(BaseModel):
    """Progress of one post's fan-out: where the follower query got to, and whether it finished."""

    Meta = table_meta("FanoutJobs")
    job_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    # push: written to followers' feeds; pull: merged on read; pull-list: a threshold crossing;
    # remove: a deleted post's entries taken out of its author's followers' feeds
    mode = UnicodeAttribute(default="push")
    cursor = UnicodeAttribute(null=True)  # JSON: {"bucket": next audience bucket} or {"after": a followers page's key}
    buckets_per_step = NumberAttribute(null=True)  # audience buckets one step reads (~1,000 followers; 200 listing)
    post_created_at = UnicodeAttribute(null=True)  # push: what a step writes into entries, so it reads no post
    has_poll = BooleanAttribute(null=True)
    item_kind = UnicodeAttribute(null=True)  # "activity" for a shared activity's job (post_id: its id)
    written = NumberAttribute(default=0)
    steps = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)
    cancelled = BooleanAttribute(default=False)  # the post was deleted before the fan-out finished
    created_at = UnicodeAttribute()
    resumed_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
