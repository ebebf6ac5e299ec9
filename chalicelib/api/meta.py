"""Health, the label catalogue and the OpenAPI document."""

from typing import TYPE_CHECKING

from chalicelib.domain.labels import LABELS
from chalicelib.http import Api
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.profiles import HealthOut, LabelList
else:
    HealthOut, LabelList = lazy_models("chalicelib.schemas.profiles", "HealthOut", "LabelList")

api = Api(__name__, tag="meta")
blueprint = api.blueprint


@api.route("GET", "/health", summary="Liveness", response=HealthOut, public=True)
def health(ctx):
    return {"status": "ok"}


@api.route("GET", "/openapi.json", summary="This API's OpenAPI 3 document", public=True)
def openapi_document(ctx):
    from chalicelib.openapi import build_document

    return build_document()


@api.route("GET", "/labels", summary="The shopping-style label catalogue", response=LabelList)
def list_labels(ctx):
    return {"items": [{"id": label_id, "name": name} for label_id, name in LABELS]}
