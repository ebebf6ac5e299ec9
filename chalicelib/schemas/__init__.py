"""Request and response models (pydantic), loaded when a request first uses one.

Route and service modules name their models through `lazy_models` (with the real import under
`TYPE_CHECKING`, for mypy). Importing the app then loads neither pydantic nor any model module: a
cold container's first request loads pydantic and the model modules it touches, and the other
model modules are never loaded at all (issue #13, cold start; `tests/unit/test_cold_start.py`).
This module itself must not import pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModel:
    """Stands for `module.name` until first used: an attribute, a call or `isinstance` loads it.

    `resolve()` gives the model itself (and the class behind a `schemas.base.Deferred` union), which
    is what `chalicelib.http.resolve_model` hands to pydantic and the OpenAPI document.
    """

    __slots__ = ("_module", "_name", "_target")

    def __init__(self, module: str, name: str):
        self._module = module
        self._name = name
        self._target: Any = None

    def resolve(self) -> Any:
        if self._target is None:
            target = getattr(importlib.import_module(self._module), self._name)
            if not isinstance(target, type) and callable(getattr(target, "resolve", None)):
                target = target.resolve()  # a Deferred union: the class it makes
            self._target = target
        return self._target

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.resolve(), attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self.resolve())

    def __repr__(self) -> str:
        state = "loaded" if self._target is not None else "not loaded"
        return f"<LazyModel {self._module}.{self._name} ({state})>"


def lazy_models(module: str, *names: str) -> tuple[Any, ...]:
    """Stand-ins for `from <module> import <names>`, loaded on first use (see `LazyModel`)."""
    return tuple(LazyModel(module, name) for name in names)
