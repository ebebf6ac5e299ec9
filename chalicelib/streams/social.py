"""The Likes and Comments streams, summed per batch into each post's counts item (and, for likes,
each liker's `LikedPosts` items: `social.index_likes`).

Up to 1,000 records or 1 s a batch (`SUMMED_BATCH_SIZE`): a post's counts item takes one update per
batch of each stream shard holding its like shards, a few a second however hot the post.
"""

from chalice import Blueprint

from chalicelib.services import social
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

LIKE_EFFECTS = (social.count_likes, social.index_likes)
COMMENT_EFFECTS = (social.count_comments, social.notify_post_author)

count_likes = dynamodb_stream(blueprint, "Likes", LIKE_EFFECTS, name="count_likes",
                              batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
track_comments = dynamodb_stream(blueprint, "Comments", COMMENT_EFFECTS, name="track_comments",
                                 batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
