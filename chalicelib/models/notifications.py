from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta

#: The sort key of each user's `NotificationState` item. "!" sorts below every notification id
#: (Crockford digits and capitals), so the newest-first list never meets it; lists ask for ids >= "0".
STATE_ID = "!state"
FIRST_NOTIFICATION_ID = "0"


class Notification(BaseModel):
    """One notice to one user. `notification_id` sorts by time and is derived from its cause.

    `count` is set on grouped notices only (`new_follower`: how many followers that second).
    `actor_id` names the person who caused it, when one did. `read` is set only on a notice marked
    read by itself; a notice at or below the user's `NotificationState.read_through` is read too.
    """

    Meta = table_meta("Notifications")
    user_id = UnicodeAttribute(hash_key=True)
    notification_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    data = MapAttribute(default=dict)
    expires_at = NumberAttribute(null=True)
    count = NumberAttribute(null=True)
    actor_id = UnicodeAttribute(null=True)
    read = BooleanAttribute(null=True)


class NotificationState(BaseModel):
    """A user's read state, one item beside their notices (sort key `STATE_ID`).

    `unread` counts the notices above `read_through` not marked read one by one; the Notifications
    stream keeps it (`services.notifications.count_unread`), summed per user per batch, exactly once
    per record. `newest` is the highest notice id that stream has counted: marking all read moves
    `read_through` up to it in one write. `version` is the optimistic lock of both writers.
    """

    Meta = table_meta("Notifications")
    user_id = UnicodeAttribute(hash_key=True)
    notification_id = UnicodeAttribute(range_key=True, default=STATE_ID)
    unread = NumberAttribute(default=0)
    read_through = UnicodeAttribute(null=True)
    newest = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
