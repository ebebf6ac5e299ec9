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
    votes = NumberAttribute(default=0)


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
    by_author = AuthorPostsIndex()
    by_group = GroupPostsIndex()


class PollVote(BaseModel):
    Meta = table_meta("PollVotes")
    post_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    option = NumberAttribute()
    created_at = UnicodeAttribute()


class FeedByPostIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_post"
        projection = KeysOnlyProjection()

    post_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class FeedByReaderAuthorIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_reader_author"
        projection = KeysOnlyProjection()

    reader_author = UnicodeAttribute(hash_key=True)  # "{reader_id}#{author_id}"
    post_id = UnicodeAttribute(range_key=True)


class FeedEntry(BaseModel):
    """One post in one reader's home feed; carries what a feed page shows, so a page is one Query."""

    Meta = table_meta("Feeds")
    user_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    author_id = UnicodeAttribute()
    reader_author = UnicodeAttribute()
    created_at = UnicodeAttribute()
    has_poll = BooleanAttribute(default=False)  # a page asks for the reader's vote only on polls
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL: entries expire instead of being trimmed
    by_post = FeedByPostIndex()
    by_reader_author = FeedByReaderAuthorIndex()

    @staticmethod
    def raw_items(readers, *, post_id: str, author_id: str, created_at: str, has_poll: bool,
                  expires_at: int) -> list[dict]:
        """The entries of one post for many readers, as BatchWriteItem items (DynamoDB JSON).

        `readers` holds (reader id, reader_author key) pairs. A model and `serialize()` per reader
        would do the same work thousands of times over; this builds the shared attributes once and
        adds each reader's two keys (a test pins the result to `FeedEntry(...).serialize()`).
        """
        shared = {
            "post_id": {"S": post_id},
            "author_id": {"S": author_id},
            "created_at": {"S": created_at},
            "has_poll": {"BOOL": bool(has_poll)},
            "expires_at": {"N": str(int(expires_at))},
        }
        return [{**shared, "user_id": {"S": reader_id}, "reader_author": {"S": reader_author}}
                for reader_id, reader_author in readers]


class FeedPullList(BaseModel):
    """The large accounts (served by pull) a reader follows: ONE item in the reader's own feed partition.

    Its sort key (`chalicelib.domain.feed.pull_list_key`, "~pull#<reader>") sorts above every post
    id, so the newest-first Query of a first feed page returns it first, in the same call. It has
    no `reader_author` and no `expires_at`: no feed upkeep finds or expires it.
    """

    Meta = table_meta("Feeds")
    user_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    pull_authors = UnicodeSetAttribute(null=True)


class FanoutJob(BaseModel):
    """Progress of one post's fan-out: where the follower query got to, and whether it finished."""

    Meta = table_meta("FanoutJobs")
    job_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    mode = UnicodeAttribute(default="push")  # push: written to followers' feeds; pull: merged on read
    cursor = UnicodeAttribute(null=True)  # JSON {"bucket": the next audience bucket to read}
    buckets_per_step = NumberAttribute(null=True)  # audience buckets one step reads (~1,000 followers; 200 listing)
    post_created_at = UnicodeAttribute(null=True)  # push: what a step writes into entries, so it reads no post
    has_poll = BooleanAttribute(null=True)
    written = NumberAttribute(default=0)
    steps = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)
    cancelled = BooleanAttribute(default=False)  # the post was deleted before the fan-out finished
    created_at = UnicodeAttribute()
    resumed_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
