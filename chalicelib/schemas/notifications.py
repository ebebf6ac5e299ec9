"""Notifications as clients see them: a union discriminated by `type`, each with its typed `data`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from chalicelib.schemas.base import Deferred, Id, RequestModel, ResponseModel
from chalicelib.schemas.cards import UserCard

if TYPE_CHECKING:
    from chalicelib.models.notifications import Notification

MAX_MARKED = 100


class NewFollowerData(ResponseModel):
    # `count` is left out rather than null (below), so the document must not call it required
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    follower_id: str = Field(description="The follower (of a grouped notice: the first of that second)")
    count: int | None = Field(None, description="Followers grouped into this notice, when more than one")

    @model_serializer(mode="wrap")
    def _without_count_of_one(self, handler):
        """A single follower's notice has no `count` at all (rather than `"count": null`)."""
        data = handler(self)
        if data.get("count") is None:
            data.pop("count", None)
        return data


class NewAnswerData(ResponseModel):
    question_id: str
    answer_id: str
    question_title: str | None = None
    author_id: str


class AnswerAcceptedData(ResponseModel):
    question_id: str
    answer_id: str
    question_title: str | None = None
    asker_id: str


class ExpertLevelData(ResponseModel):
    label: str
    level: int


class MerchantTierData(ResponseModel):
    merchant_id: str
    tier: str | None = None
    badge: str | None = None
    previous_tier: str | None = None
    judge_count: int | None = None


class NewCommentData(ResponseModel):
    post_id: str
    comment_id: str
    author_id: str
    excerpt: str | None = Field(None, description="The comment's first characters")


class LiveStartedData(ResponseModel):
    room_id: str
    host_id: str
    title: str


class LiveSoonData(ResponseModel):
    room_id: str
    host_id: str
    title: str
    scheduled_at: str


class ModerationData(ResponseModel):
    target_type: Literal["post", "comment", "question", "answer", "review", "user"]
    target_id: str
    action: Literal["remove", "restore", "suspend", "unsuspend"]
    reason: str | None = None


class _Notification(ResponseModel):
    notification_id: str
    created_at: str
    read: bool = Field(description="Marked read by itself, or at or below the last 'mark all read'")
    actor: UserCard | None = Field(None, description="The person who caused it, on the types that have one")


class NewFollowerNotification(_Notification):
    type: Literal["new_follower"]
    data: NewFollowerData


class NewAnswerNotification(_Notification):
    type: Literal["new_answer"]
    data: NewAnswerData


class AnswerAcceptedNotification(_Notification):
    type: Literal["answer_accepted"]
    data: AnswerAcceptedData


class ExpertLevelNotification(_Notification):
    type: Literal["expert_level"]
    data: ExpertLevelData


class MerchantTierNotification(_Notification):
    type: Literal["merchant_tier"]
    data: MerchantTierData


class NewCommentNotification(_Notification):
    type: Literal["new_comment"]
    data: NewCommentData


class LiveStartedNotification(_Notification):
    type: Literal["live_started"]
    data: LiveStartedData


class LiveSoonNotification(_Notification):
    type: Literal["live_soon"]
    data: LiveSoonData


class ModerationNotification(_Notification):
    type: Literal["moderation"]
    data: ModerationData


AnyNotification = Annotated[
    NewFollowerNotification | NewAnswerNotification | AnswerAcceptedNotification | ExpertLevelNotification
    | MerchantTierNotification | NewCommentNotification | LiveStartedNotification | LiveSoonNotification
    | ModerationNotification,
    Field(discriminator="type"),
]


def _notification_out() -> type[BaseModel]:
    from pydantic import RootModel

    class NotificationOut(RootModel[AnyNotification]):
        """One notification: its `type` says which `data` it carries."""

        @classmethod
        def from_item(cls, notification: Notification, data: dict, read: bool,
                      actor: UserCard | None) -> NotificationOut:
            """The notice for its reader; `data` (stored untyped) is parsed here, into its type's model."""
            return cls.model_validate({
                "notification_id": notification.notification_id,
                "type": notification.type,
                "created_at": notification.created_at,
                "read": read,
                "actor": actor,
                "data": data,
            })

    NotificationOut.__qualname__ = "NotificationOut"
    return NotificationOut


#: One notification (a `RootModel` union, made on first use: see `Deferred`).
NotificationOut = Deferred(_notification_out)


class UnreadCount(ResponseModel):
    count: int


class MarkRead(RequestModel):
    """Without `notification_ids`, every notification is marked read."""

    notification_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MARKED)] | None = None
