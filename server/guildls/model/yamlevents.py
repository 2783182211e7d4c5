"""libyaml's parse events as argument tuples, for the event builder (see nodes._EventBuilder).

PyYAML's C parser (``yaml._yaml.CParser``) makes each event by calling the event class
found in its module, ``yaml._yaml.ScalarEvent`` and so on. Those are the pure-Python
classes of ``yaml.events``, whose ``__init__`` is a Python function: for a guild file that
call is a quarter of all the parser's time. While :func:`args_events` is in effect, the
module names the classes below instead. Each is a subclass of PyYAML's own class (so
``isinstance`` holds and every attribute reads as before, through a property) and of
``BaseException``, whose constructor is C code that keeps the arguments, in the parser's
order, as ``args``: the builder unpacks that tuple.

Only the C parser's events change. PyYAML's pure-Python parser, the C composer (what
``yaml.compose``/``yaml.load`` with a C loader use) and the C emitter's ``dump`` (which
makes its events in C from nodes) never call these names. ``yaml.emit`` of event objects
through a C dumper does: it would reject PyYAML's own events while the classes are
replaced, so they are replaced only while a builder reads a text, and restored when the
last reader (of any thread) is done.

When the installed PyYAML does not name its events this way, or its events do not come
out as expected, :data:`AVAILABLE` is false and the builder is not used (the model is
then built from ``yaml.compose``'s nodes, which is slower, and the same).
"""

from __future__ import annotations

import threading

import yaml.events as _events

try:  # pragma: no cover - depends on the PyYAML build
    import yaml._yaml as _cyaml
except ImportError:  # pragma: no cover
    _cyaml = None

# each event class's arguments, in the order the C parser passes them
_FIELDS = {
    "StreamStartEvent": ("start_mark", "end_mark", "encoding"),
    "StreamEndEvent": ("start_mark", "end_mark"),
    "DocumentStartEvent": ("start_mark", "end_mark", "explicit", "version", "tags"),
    "DocumentEndEvent": ("start_mark", "end_mark", "explicit"),
    "AliasEvent": ("anchor", "start_mark", "end_mark"),
    "ScalarEvent": ("anchor", "tag", "implicit", "value", "start_mark", "end_mark", "style"),
    "SequenceStartEvent": ("anchor", "tag", "implicit", "start_mark", "end_mark", "flow_style"),
    "SequenceEndEvent": ("start_mark", "end_mark"),
    "MappingStartEvent": ("anchor", "tag", "implicit", "start_mark", "end_mark", "flow_style"),
    "MappingEndEvent": ("start_mark", "end_mark"),
}


def _arg(i):
    return property(lambda self: self.args[i])


def _args_class(name: str):
    base = getattr(_events, name)
    ns = {"__init__": BaseException.__init__, "__slots__": (), "__module__": __name__}
    for i, field in enumerate(_FIELDS[name]):
        ns[field] = _arg(i)
    return type(name, (base, BaseException), ns)


_ARGS = {name: _args_class(name) for name in _FIELDS}
_OWN = {name: getattr(_events, name) for name in _FIELDS}

StreamEndEvent = _ARGS["StreamEndEvent"]
AliasEvent = _ARGS["AliasEvent"]
ScalarEvent = _ARGS["ScalarEvent"]
SequenceStartEvent = _ARGS["SequenceStartEvent"]
MappingStartEvent = _ARGS["MappingStartEvent"]
SequenceEndEvent = _ARGS["SequenceEndEvent"]
MappingEndEvent = _ARGS["MappingEndEvent"]

_lock = threading.Lock()
_readers = 0


def _install(classes: dict) -> None:
    for name, cls in classes.items():
        setattr(_cyaml, name, cls)


class _ArgsEvents:
    """``with args_events:`` the C parser's events are the classes above (nested and
    concurrent uses share one replacement)."""

    __slots__ = ()

    def __enter__(self):
        global _readers
        with _lock:
            if _readers == 0:
                _install(_ARGS)
            _readers += 1

    def __exit__(self, *exc):
        global _readers
        with _lock:
            _readers -= 1
            if _readers == 0:
                _install(_OWN)
        return False


args_events = _ArgsEvents()


def _works() -> bool:
    """The C parser names its event classes as expected and passes the arguments in the
    order above (checked once, on a text with every kind of event)."""
    if _cyaml is None or not hasattr(_cyaml, "CParser"):
        return False
    if any(getattr(_cyaml, name, None) is not own for name, own in _OWN.items()):
        return False  # not PyYAML's own classes: somebody else replaced them
    text = "%YAML 1.1\n---\na: &x [1, 'b']\n? c\n: *x\n...\n"
    def events():
        get = _cyaml.CParser(text).get_event
        out = [get()]
        while out[-1].__class__.__name__ != "StreamEndEvent":
            out.append(get())
        return out

    try:
        plain = events()
        with args_events:
            fast = events()
    except Exception:
        return False
    if [e.__class__.__name__ for e in plain] != [e.__class__.__name__ for e in fast]:
        return False
    for p, f in zip(plain, fast):
        if f.__class__ is not _ARGS.get(f.__class__.__name__):
            return False
        for field in _FIELDS[f.__class__.__name__]:
            a, b = getattr(p, field), getattr(f, field)
            if field.endswith("_mark"):
                a, b = (a.line, a.column, a.index), (b.line, b.column, b.index)
            if a != b:
                return False
    return True


AVAILABLE = _works()
