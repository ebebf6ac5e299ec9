"""The local stack runs the WebSocket gateway (`make dev`): its URLs are in `.local/stack.json` and the
app's environment, connects reach the app's handlers, and the management API speaks boto3."""

from __future__ import annotations

import asyncio

import boto3
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def test_stack_json_names_the_gateway_and_the_app_gets_its_management_url(stack):
    state = stack.state
    assert state["ws_url"].startswith("ws://127.0.0.1:")
    assert state["websocket_management_url"].startswith("http://127.0.0.1:")
    assert state["websocket_management_url"].endswith("/" + state["stage"])
    assert state["environment"]["WEBSOCKET_MANAGEMENT_URL"] == state["websocket_management_url"]


def test_a_connect_without_room_or_token_is_refused(stack):
    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(stack.ws_url):
                pass
        return refused.value.response.status_code

    assert 400 <= asyncio.run(scenario()) < 500


def test_the_management_api_answers_gone_for_an_unknown_connection(stack):
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.state["websocket_management_url"],
                          region_name=stack.state["region"], aws_access_key_id="local",
                          aws_secret_access_key="local")
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="bm9uZXhpc3Rlbg=", Data=b"{}")
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId="bm9uZXhpc3Rlbg=")
