"""Helpers shared by the LSP tests."""


def _plain(obj):
    if hasattr(obj, "_asdict"):  # pygls turns unknown notification params into namedtuples
        return _plain(obj._asdict())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, (str, int, float, bool)):
        return _plain(vars(obj))
    return obj
