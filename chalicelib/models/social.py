"""Likes, comments and the counts of each post kept from their streams."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class LikesByUserIndex(GlobalSecondaryIndex):
    """One user's likes (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    like_key = UnicodeAttribute(range_key=True)


class Like(BaseModel):
    """One user's like of one post, under `services.social.like_key`: a post's likes spread over
    shards (as a poll's votes), and the reader's own like is one key they can name."""

    Meta = table_meta("Likes")
    like_key = UnicodeAttribute(hash_key=True)  # "<post_id>#<shard of user_id>"
    user_id = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_user = LikesByUserIndex()


class LikedPosts(BaseModel):
    """The posts one user likes, of one 8-hour window of post ids (`services.social.liked_key`):
    kept from the Likes stream (set ADD and DELETE, the same under replay), so that a page of posts
    reads one item per window its posts were created in rather than one Like item per post."""

    Meta = table_meta("LikedPosts")
    liked_key = UnicodeAttribute(hash_key=True)  # "<user_id>#<window of the post ids>"
    post_ids = UnicodeSetAttribute(null=True)
    # Set once the window's likes pass `services.social.LIKED_WINDOW_CAP`: the set no longer holds
    # them all, and a page reads this window's Like items instead (the item stays small and cheap)
    overflow = BooleanAttribute(null=True)


class PostCounts(BaseModel):
    """A post's like and comment counts, summed per stream batch from Likes and Comments (one update
    per batch of each stream); a missing item counts nothing."""

    Meta = table_meta("PostCounts")
    post_id = UnicodeAttribute(hash_key=True)
    like_count = NumberAttribute(null=True)
    comment_count = NumberAttribute(null=True)
    # a deleted post's item keeps only these (later count updates are refused on it) until TTL
    deleted_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class CommentIdIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_comment_id"
        projection = AllProjection()

    comment_id = UnicodeAttribute(hash_key=True)


class CommentsByAuthorIndex(GlobalSecondaryIndex):
    """One user's comments (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_author"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)


class Comment(BaseModel):
    """A comment under a post; ULID ids, so a post's partition reads oldest first."""

    Meta = table_meta("Comments")
    post_id = UnicodeAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)
    author_id = UnicodeAttribute()
    post_author_id = UnicodeAttribute()  # copied at creation: the notice and the delete right need it
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()
    removed_at = UnicodeAttribute(null=True)  # set by moderation: the comment leaves every list
    by_comment_id = CommentIdIndex()
    by_author = CommentsByAuthorIndex()
