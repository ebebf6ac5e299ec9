"""What `import app` loads and builds: nothing a request can load or build when it needs it (issue #13).

Counts, not times: a fresh interpreter imports the app as a Lambda function does and reports whether
pydantic or any model module was loaded (route and service modules name their models through
`schemas.lazy_models`), and whether the garbage collector is running again afterwards. Then it loads
every model module, as requests would over a container's life, and reports which pydantic models are
complete (every request and response model is `defer_build`, so none should be) and whether pydantic's
`RootModel` was imported (it builds itself on import: the unions are `Deferred`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.cold_start import lambda_environment

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, importlib, json, pkgutil, sys
import app
loaded_at_import = sorted(m for m in sys.modules if m.partition(".")[0] == "pydantic"
                          or m.startswith("chalicelib.schemas."))
gc_enabled = gc.isenabled()

import chalicelib.schemas
for module in pkgutil.iter_modules(chalicelib.schemas.__path__):
    importlib.import_module(f"chalicelib.schemas.{module.name}")
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = [m for m in subclasses(BaseModel) if m.__module__.startswith("chalicelib")]
print(json.dumps({
    "loaded_at_import": loaded_at_import,
    "gc_enabled": gc_enabled,
    "models": len(models),
    "built": sorted(f"{m.__module__}.{m.__qualname__}" for m in models if m.__pydantic_complete__),
    "root_model_imported": "pydantic.root_model" in sys.modules,
}))
"""


def _import_app() -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=lambda_environment(),
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_app_loads_no_model_and_leaves_the_collector_on():
    state = _import_app()
    assert state["loaded_at_import"] == []
    assert state["gc_enabled"] is True


def test_loading_every_model_module_builds_no_model():
    state = _import_app()
    assert state["models"] > 50  # the probe sees the app's models at all
    assert state["built"] == []
    assert state["root_model_imported"] is False


def test_a_deferred_union_is_the_model_it_stands_for():
    from chalicelib.http import resolve_model
    from chalicelib.schemas.notifications import NotificationOut
    from chalicelib.schemas.posts import FeedItemOut

    for deferred, name in ((NotificationOut, "NotificationOut"), (FeedItemOut, "FeedItemOut")):
        model = resolve_model(deferred)
        assert isinstance(model, type) and model.__name__ == name
        assert resolve_model(deferred) is model  # made once
        assert deferred.model_validate is not None and deferred.model_json_schema() == model.model_json_schema()


def test_a_lazy_model_is_the_model_it_names():
    from chalicelib.http import resolve_model
    from chalicelib.schemas import lazy_models
    from chalicelib.schemas.posts import PostOut
    from chalicelib.schemas.social import LikeOut

    (lazy_like,) = lazy_models("chalicelib.schemas.social", "LikeOut")
    (lazy_feed_item,) = lazy_models("chalicelib.schemas.posts", "FeedItemOut")
    assert resolve_model(lazy_like) is LikeOut
    like = lazy_like(post_id="p1", liked=True, like_count=3)  # a call constructs the model
    assert isinstance(like, LikeOut) and isinstance(like, lazy_like)
    assert lazy_like.model_fields is LikeOut.model_fields  # attributes pass through
    assert not isinstance(object(), lazy_like)
    feed_item = resolve_model(lazy_feed_item)  # a Deferred union behind a lazy name: the class it makes
    assert isinstance(feed_item, type) and feed_item.__name__ == "FeedItemOut"
    assert resolve_model(PostOut) is PostOut
