"""Building blocks for request and response models.

Request models forbid unknown fields and coerce nothing (a string is not a number), so a client's
mistake is a 400 naming the field rather than a surprise.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from chalicelib.domain.labels import LABEL_IDS, MAX_LABELS
from chalicelib.domain.urls import MAX_URL_LENGTH, https_url_problem


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


def _known_label(value: str) -> str:
    if value not in LABEL_IDS:
        raise ValueError(f"unknown label {value!r}; see GET /labels")
    return value


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an entry")
    return values


def _https(value: str) -> str:
    problem = https_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Label = Annotated[str, AfterValidator(_known_label)]
Labels = Annotated[list[Label], Field(max_length=MAX_LABELS), AfterValidator(_unique)]
HttpsUrl = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH), AfterValidator(_https)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
PostText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ErrorOut(ResponseModel):
    Code: str
    Message: str


@functools.cache
def page_of(item_model: type[BaseModel]) -> type[BaseModel]:
    """The `{"items": [...], "next_cursor": ...}` envelope of a list route."""
    return create_model(
        f"{item_model.__name__}Page",
        __base__=ResponseModel,
        items=(list[item_model], ...),
        next_cursor=(str | None, None),
    )
