"""The `data` of each notification type, as the OpenAPI document declares it.

Stream effects write these dicts (`services/notifications.notify`); the list route passes them
through. A field here without a default is always present; one with a default may be absent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.schemas.merchants import Badge, Tier


class NoticeData(BaseModel):
    model_config = ConfigDict(defer_build=True)


class NewFollowerData(NoticeData):
    follower_id: str = Field(description="The (first) new follower")
    count: int | None = Field(None, description="Followers grouped into this notice, when more than one")


class NewAnswerData(NoticeData):
    question_id: str
    answer_id: str
    question_title: str | None
    author_id: str


class AnswerAcceptedData(NoticeData):
    question_id: str
    answer_id: str
    question_title: str | None
    asker_id: str


class ExpertLevelData(NoticeData):
    label: str
    level: int


class MerchantTierData(NoticeData):
    merchant_id: str
    tier: Tier | None
    badge: Badge | None
    previous_tier: Tier | None
    judge_count: int | None


#: Every type `notify` writes, with its data (a unit test keeps this and NOTIFICATION_TYPES equal).
NOTIFICATION_DATA: dict[str, type[NoticeData]] = {
    "new_follower": NewFollowerData,
    "new_answer": NewAnswerData,
    "answer_accepted": AnswerAcceptedData,
    "expert_level": ExpertLevelData,
    "merchant_tier": MerchantTierData,
}
