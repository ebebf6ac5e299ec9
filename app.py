"""Jianghu: the Chalice app. Creates the app and wires middleware, blueprints and stream handlers."""
# ruff: noqa: E402 - the collector is paused before the first import (see the end of the module)

import gc

gc.disable()

from chalice import Chalice

from chalicelib import observability, triggers
from chalicelib.api import account as account_routes
from chalicelib.api import activity as activity_routes
from chalicelib.api import comments as comment_routes
from chalicelib.api import coupons as coupon_routes
from chalicelib.api import groups as group_routes
from chalicelib.api import live as live_routes
from chalicelib.api import live_ws, meta, notifications, profiles
from chalicelib.api import merchants as merchant_routes
from chalicelib.api import moderation as moderation_routes
from chalicelib.api import points as point_routes
from chalicelib.api import posts as post_routes
from chalicelib.api import products as product_routes
from chalicelib.api import questions as question_routes
from chalicelib.api import search as search_routes
from chalicelib.api import uploads as upload_routes
from chalicelib.streams import activity as activity_streams
from chalicelib.streams import advice as advice_streams
from chalicelib.streams import coupons as coupon_streams
from chalicelib.streams import feed as feed_streams
from chalicelib.streams import graph as graph_streams
from chalicelib.streams import groups as group_streams
from chalicelib.streams import jobs as job_streams
from chalicelib.streams import live as live_streams
from chalicelib.streams import merchants as merchant_streams
from chalicelib.streams import moderation as moderation_streams
from chalicelib.streams import notifications as notification_streams
from chalicelib.streams import polls as poll_streams
from chalicelib.streams import search as search_streams
from chalicelib.streams import social as social_streams

app = Chalice(app_name="jianghu")
# websocket handlers (an API Gateway WebSocket API when deployed) are a Chalice feature it still flags
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.api.cors = False
observability.register(app)

for feature in (meta, profiles, notifications, question_routes, product_routes, merchant_routes,
                post_routes, comment_routes, group_routes,
                point_routes, coupon_routes, upload_routes, moderation_routes, activity_routes,
                search_routes, account_routes, live_routes, live_ws):
    app.register_blueprint(feature.blueprint)

for streams in (graph_streams, advice_streams, merchant_streams, feed_streams, group_streams, job_streams,
                coupon_streams, notification_streams, poll_streams, social_streams, moderation_streams,
                activity_streams, search_streams, live_streams):
    app.register_blueprint(streams.blueprint)

app.register_blueprint(triggers.blueprint)

# Live rooms' WebSocket API: on the app itself (Chalice does not wrap a blueprint's websocket handlers)
@app.on_ws_connect()
def on_ws_connect(event):
    return live_ws.connect(event)


@app.on_ws_message()
def on_ws_message(event):
    live_ws.message(event)


@app.on_ws_disconnect()
def on_ws_disconnect(event):
    live_ws.disconnect(event)


# Cold start: importing the app builds only long-lived objects (modules, classes, routes), so the
# collections that would run during it (about 130, one of them full: ~35 ms of the import here)
# free nothing. The collector is paused for the import, and what it built is moved to the permanent
# generation so that the collections of request handling never walk it again.
gc.freeze()
gc.enable()
