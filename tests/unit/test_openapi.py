"""The OpenAPI document says what the code does: its error Codes, headers, timestamps, required
fields, notification data and links; and docs/api.md is the document's current table."""

import re
from pathlib import Path

import pytest

import app  # noqa: F401  (registers every route)
from chalicelib.http import ROUTES
from chalicelib.openapi import NAMED_CODES, build_document, error_codes, render_markdown

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document():
    return build_document()


def _operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def _component(document, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_docs_api_md_is_the_current_table_of_the_document(document):
    committed = (PROJECT / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == render_markdown(document), "docs/api.md is stale: run `make docs`"


def _codes_raised_by_services() -> set[str]:
    from chalicelib.services.coupons import MESSAGES

    codes = set(MESSAGES)
    for source in (PROJECT / "chalicelib").rglob("*.py"):
        codes |= set(re.findall(r'\bcode="([A-Za-z]+)"', source.read_text(encoding="utf-8")))
    return codes | {"Busy"}


def test_every_code_a_service_raises_is_declared_with_its_status_on_some_route():
    raised = _codes_raised_by_services()
    assert raised <= set(NAMED_CODES), raised - set(NAMED_CODES)
    declared = {code for spec in ROUTES for codes in error_codes(spec).values() for code in codes}
    assert raised <= declared, raised - declared


def test_redeem_lists_its_five_refusals_and_busy(document):
    responses = document["paths"]["/coupons/{campaign_id}/redeem"]["post"]["responses"]
    conflict = _component(document, responses["409"]["content"]["application/json"]["schema"]["$ref"])
    assert conflict["properties"]["Code"]["enum"] == [
        "Ended", "Expired", "InsufficientPoints", "LimitReached", "SoldOut"]
    busy = _component(document, responses["503"]["content"]["application/json"]["schema"]["$ref"])
    assert "Busy" in busy["properties"]["Code"]["enum"]


def test_every_429_and_503_declares_retry_after(document):
    seen = 0
    for _, _, operation in _operations(document):
        for status in ("429", "503"):
            if status in operation["responses"]:
                seen += 1
                assert operation["responses"][status]["headers"]["Retry-After"]["required"] is True
    assert seen > 50


def test_timestamps_are_date_times_and_every_response_field_is_required(document):
    stamps = 0
    for name, schema in document["components"]["schemas"].items():
        for prop_name, prop in schema.get("properties", {}).items():
            if prop_name.endswith("_at"):
                stamps += 1
                options = prop.get("anyOf", [prop])
                formats = {option.get("format") for option in options if option.get("type") == "string"}
                assert formats == {"date-time"}, (name, prop_name)
        if name.endswith("Out") and "properties" in schema:
            assert set(schema["required"]) == set(schema["properties"]), name
    assert stamps > 15


def test_group_only_routes_say_so_and_may_answer_403(document):
    products = document["paths"]["/products"]["post"]
    assert products["x-required-group"] == "merchants"
    assert "403" in products["responses"]
    assert document["paths"]["/merchants/{merchant_id}/ratings/me"]["put"]["x-required-group"] == "judges"


def test_query_and_path_parameters_carry_their_constraints(document):
    groups = {p["name"]: p for p in document["paths"]["/groups"]["get"]["parameters"]}
    assert groups["label"]["required"] is False  # without a label: the circle directory
    assert groups["label"]["schema"] == {"$ref": "#/components/schemas/Label"}
    assert groups["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert groups["cursor"]["schema"]["type"] == "string"
    board = document["paths"]["/leaderboards/{label}"]["get"]["parameters"][0]
    assert board["schema"] == {"$ref": "#/components/schemas/Label"}
    search = {p["name"]: p for p in document["paths"]["/search"]["get"]["parameters"]}
    assert search["q"]["required"] is True
    assert {k: v for k, v in search["q"]["schema"].items() if k != "pattern"} == {
        "type": "string", "minLength": 1, "maxLength": 100}
    assert re.search(search["q"]["schema"]["pattern"], "上") and re.search(search["q"]["schema"]["pattern"], "a Lens")
    assert search["type"]["schema"]["enum"] == ["user", "store", "product", "question", "circle"]
    post_id = document["paths"]["/posts/{post_id}"]["get"]["parameters"][0]["schema"]
    assert re.fullmatch(post_id["pattern"].strip("^$"), "01M8N0QDG8JK6SHXDZNHMMZE14")


def test_each_notification_type_has_its_own_data_and_feed_items_their_kind(document):
    from chalicelib.services.notifications import NOTIFICATION_TYPES

    notification = document["components"]["schemas"]["NotificationOut"]
    assert set(notification["discriminator"]["mapping"]) == set(NOTIFICATION_TYPES)
    answer = _component(document, notification["discriminator"]["mapping"]["new_answer"])
    data = _component(document, answer["properties"]["data"]["$ref"])
    assert set(data["required"]) == {"question_id", "answer_id", "question_title", "author_id"}
    follower = _component(document, notification["discriminator"]["mapping"]["new_follower"])
    assert _component(document, follower["properties"]["data"]["$ref"])["required"] == ["follower_id"]
    feed_item = document["components"]["schemas"]["FeedItemOut"]
    assert feed_item["discriminator"]["propertyName"] == "kind"


def test_writes_link_to_the_routes_that_take_the_ids_they_return(document):
    created = document["paths"]["/posts"]["post"]["responses"]["201"]["links"]
    assert created["get_post"] == {"operationId": "get_post", "parameters": {"post_id": "$response.body#/post_id"}}
    answered = document["paths"]["/questions/{question_id}/answers"]["post"]["responses"]["201"]["links"]
    assert answered["vote_on_answer"]["parameters"] == {"answer_id": "$response.body#/answer_id"}


def test_request_models_take_a_whole_number_written_with_a_fraction_and_nothing_else():
    from pydantic import ValidationError

    from chalicelib.schemas.points import UseCoupon

    assert UseCoupon.model_validate_json('{"coupon_code": "A", "order_total_cents": 1200.0}').order_total_cents == 1200
    for refused in ('1200.5', '"1200"', 'true'):
        with pytest.raises(ValidationError):
            UseCoupon.model_validate_json(f'{{"coupon_code": "A", "order_total_cents": {refused}}}')


def test_the_notices_stream_effects_write_fit_their_declared_data():
    from chalicelib.domain.changes import inserted, modified
    from chalicelib.schemas import notifications as declared
    from chalicelib.services import advice_effects, ratings

    answer = {"answer_id": "A1", "question_id": "Q1", "question_title": "Which kettle?", "author_id": "helper",
              "asker_id": "asker", "accepted": False}
    store = {"merchant_id": "m1", "tier": "silver", "badge": "tier-silver", "judge_count": 3}
    written = [
        (declared.NewAnswerData, advice_effects.new_answer_notice(inserted("Answers", answer))[1]),
        (declared.AnswerAcceptedData, advice_effects.acceptance_notice(
            modified("Answers", answer, {**answer, "accepted": True}))[1]),
        (declared.MerchantTierData, ratings.tier_notice(
            modified("Merchants", store, {**store, "tier": "gold", "badge": "tier-gold"}))[1]),
    ]
    for model, data in written:
        # every key written is declared, and what the document calls required is written
        assert set(data) == set(model.model_fields), model.__name__
        model.model_validate(data)
