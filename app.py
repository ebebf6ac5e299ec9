"""Jianghu: the Chalice app. Creates the app and wires middleware, blueprints and stream handlers."""

from chalice import Chalice

from chalicelib import observability
from chalicelib.api import meta, notifications, profiles
from chalicelib.streams import graph as graph_streams

app = Chalice(app_name="jianghu")
app.api.cors = False
observability.register(app)

for feature in (meta, profiles, notifications):
    app.register_blueprint(feature.blueprint)

for streams in (graph_streams,):
    app.register_blueprint(streams.blueprint)
