"""Modules imported on first use (server start-up pays only for what the first request needs)."""

from __future__ import annotations

import importlib
import types


class _LazyModule(types.ModuleType):
    """Stands for a module until an attribute is read, then imports it and hands over."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _load(self):
        mod = self.__dict__["_lazy_target"]
        if mod is None:
            mod = self.__dict__["_lazy_target"] = importlib.import_module(self.__name__)
        return mod

    def __getattr__(self, attr):  # only called for attributes this stand-in lacks
        return getattr(self._load(), attr)


def lazy_module(name: str) -> types.ModuleType:
    """A stand-in for module `name`, imported when one of its attributes is first read."""
    return _LazyModule(name)
