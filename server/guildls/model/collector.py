"""Python's cyclic garbage collector paused while a model or its diagnostics are built.

A model is a large graph of small objects made in one go, and the checks make many
short-lived ones: a collection on the way would only scan them (and the whole young model)
again and again. The server freezes a model once it is built (``gc.freeze``), so nothing
it made is scanned later either; ``guildls check`` frees each model with ``dispose``.
"""

from __future__ import annotations

import gc


class _Resume:
    __slots__ = ("was",)

    def __init__(self, was: bool):
        self.was = was

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        if self.was:
            gc.enable()
        return False


def collector_paused() -> _Resume:
    """``with collector_paused():`` no cyclic collection inside the block; the collector's
    state before it is restored after it, also when the block raises. Nested blocks keep it
    off until the outermost one ends. The collector is off before anything is allocated:
    a context manager made first (a generator, ``contextlib``'s object) could start the
    very collection this avoids, a scan of the model ``load`` just made."""
    was = gc.isenabled()
    gc.disable()
    return _Resume(was)
