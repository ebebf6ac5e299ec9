from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta


class Notification(BaseModel):
    """One notice to one user. `notification_id` sorts by time and is derived from its cause.

    `count` is set on grouped notices only (`new_follower`: how many followers that second).
    """

    Meta = table_meta("Notifications")
    user_id = UnicodeAttribute(hash_key=True)
    notification_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    data = MapAttribute(default=dict)
    expires_at = NumberAttribute(null=True)
    count = NumberAttribute(null=True)
