"""Stream handlers of activity sharing: the source tables that had no handler, and the Activities table.

Reviews, Answers and Follows share through effects appended to their existing handlers
(`streams.advice`, `streams.graph`): DynamoDB Streams allows two readers per shard. Wishlists and
Coupons get a handler here, each with its one batch effect: one BatchGetItem of the users'
settings per batch (a flash sale's redeems cost one read per 100 records, and no write for users
who share nothing).
"""

from chalice import Blueprint

from chalicelib.services import activity
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

ACTIVITY_EFFECTS = (activity.fan_out_activity, activity.withdraw_activity, activity.withdraw_turned_off_kinds)

share_wishlist_adds = dynamodb_stream(blueprint, "Wishlists", (activity.share_wishlist_adds,),
                                      name="share_wishlist_adds")
share_coupon_redeems = dynamodb_stream(blueprint, "Coupons", (activity.share_coupon_redeems,),
                                       name="share_coupon_redeems")
track_activities = dynamodb_stream(blueprint, "Activities", ACTIVITY_EFFECTS, name="track_activities")
