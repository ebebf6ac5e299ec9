"""What `import app` builds: nothing that a request can build when it needs it (issue #13, cold start).

Counts, not times: a fresh interpreter imports the app as a Lambda function does and reports which
pydantic models are complete (every request and response model is `defer_build`, so none should be),
whether pydantic's `RootModel` was imported (it builds itself on import: the unions are `Deferred`),
and whether the garbage collector is running again afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.cold_start import lambda_environment

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import app
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = [m for m in subclasses(BaseModel) if m.__module__.startswith("chalicelib")]
print(json.dumps({
    "models": len(models),
    "built": sorted(f"{m.__module__}.{m.__qualname__}" for m in models if m.__pydantic_complete__),
    "root_model_imported": "pydantic.root_model" in sys.modules,
    "gc_enabled": gc.isenabled(),
}))
"""


def _import_app() -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=lambda_environment(),
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_app_builds_no_model_and_leaves_the_collector_on():
    state = _import_app()
    assert state["models"] > 50  # the probe sees the app's models at all
    assert state["built"] == []
    assert state["root_model_imported"] is False
    assert state["gc_enabled"] is True


def test_a_deferred_union_is_the_model_it_stands_for():
    from chalicelib.http import resolve_model
    from chalicelib.schemas.notifications import NotificationOut
    from chalicelib.schemas.posts import FeedItemOut

    for deferred, name in ((NotificationOut, "NotificationOut"), (FeedItemOut, "FeedItemOut")):
        model = resolve_model(deferred)
        assert isinstance(model, type) and model.__name__ == name
        assert resolve_model(deferred) is model  # made once
        assert deferred.model_validate is not None and deferred.model_json_schema() == model.model_json_schema()
