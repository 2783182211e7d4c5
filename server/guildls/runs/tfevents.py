"""Reading scalars from TensorBoard event files (`*.tfevents.*`), as Guild does.

Framing: TFRecord (`uint64 length, uint32 masked crc(length), data, uint32 masked crc(data)`);
a record cut short (a writer still running, a killed process) ends the file quietly. Each
record is an `Event` protocol buffer, decoded by the `protobuf` library (Google's, the one
TensorBoard uses) from a five-message schema declared here — TensorBoard itself (grpcio,
numpy, werkzeug ...) is far too heavy to bundle with an editor extension.

Scalars are `summary.value[].simple_value` (Guild, PyTorch's SummaryWriter, tensorboardX)
or a float `tensor` holding one number (TF 2's `tf.summary.scalar`), like Guild's reader.

Results are cached per file by (size, mtime), so listing many runs again costs one stat
per event file.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from typing import Optional

log = logging.getLogger("guildls.runs")

_EVENT_CLS = None
_LOAD_ERROR: Optional[str] = None
_cache: dict = {}
_cache_lock = threading.Lock()


def _file_descriptor_proto():
    """The schema: the fields of TensorFlow's event.proto / summary.proto / tensor.proto that
    carry scalars, same field numbers. `_SERIALIZED` is this, serialized (as generated `_pb2`
    modules embed theirs: importing descriptor_pb2 at run time costs ~60 ms); a test checks
    the two agree."""
    from google.protobuf import descriptor_pb2

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="guildls_tfevents.proto", package="guildls.tb",
                                             syntax="proto3")

    def msg(name, *fields):
        m = fdp.message_type.add(name=name)
        for fname, num, ftype, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                f.type_name = tname

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("TensorProto",
        ("dtype", 1, F.TYPE_INT32, opt, None),
        ("tensor_content", 4, F.TYPE_BYTES, opt, None),
        ("float_val", 5, F.TYPE_FLOAT, rep, None),
        ("double_val", 6, F.TYPE_DOUBLE, rep, None))
    msg("Value",
        ("tag", 1, F.TYPE_STRING, opt, None),
        ("simple_value", 2, F.TYPE_FLOAT, opt, None),
        ("tensor", 8, F.TYPE_MESSAGE, opt, ".guildls.tb.TensorProto"))
    msg("Summary", ("value", 1, F.TYPE_MESSAGE, rep, ".guildls.tb.Value"))
    msg("Event",
        ("wall_time", 1, F.TYPE_DOUBLE, opt, None),
        ("step", 2, F.TYPE_INT64, opt, None),
        ("file_version", 3, F.TYPE_STRING, opt, None),
        ("summary", 5, F.TYPE_MESSAGE, opt, ".guildls.tb.Summary"))
    # proto3 has no presence for scalars: simple_value is proto3 `optional` (a synthetic
    # oneof) so that a 0.0 simple_value is told apart from none
    value = fdp.message_type[1]
    value.oneof_decl.add(name="_simple_value")
    value.field[1].oneof_index = 0
    value.field[1].proto3_optional = True
    return fdp


_SERIALIZED = (
    b'\n\x16guildls_tfevents.proto\x12\nguildls.tb"[\n\x0bTensorProto\x12\r\n\x05dtype\x18\x01 '
    b'\x01(\x05\x12\x16\n\x0etensor_content\x18\x04 \x01(\x0c\x12\x11\n\tfloat_val\x18\x05 '
    b'\x03(\x02\x12\x12\n\ndouble_val\x18\x06 \x03(\x01"i\n\x05Value\x12\x0b\n\x03tag\x18\x01 '
    b'\x01(\t\x12\x19\n\x0csimple_value\x18\x02 \x01(\x02H\x00\x88\x01\x01\x12\'\n\x06tensor'
    b'\x18\x08 \x01(\x0b2\x17.guildls.tb.TensorProtoB\x0f\n\r_simple_value"+\n\x07Summary\x12 '
    b'\n\x05value\x18\x01 \x03(\x0b2\x11.guildls.tb.Value"d\n\x05Event\x12\x11\n\twall_time'
    b'\x18\x01 \x01(\x01\x12\x0c\n\x04step\x18\x02 \x01(\x03\x12\x14\n\x0cfile_version\x18'
    b'\x03 \x01(\t\x12$\n\x07summary\x18\x05 \x01(\x0b2\x13.guildls.tb.Summaryb\x06proto3'
)


def _event_class():
    """The `Event` message class, built once from the serialized schema (no generated code)."""
    global _EVENT_CLS, _LOAD_ERROR
    if _EVENT_CLS is not None or _LOAD_ERROR is not None:
        return _EVENT_CLS
    try:
        from google.protobuf import descriptor_pool, message_factory
    except ImportError as e:  # pragma: no cover - protobuf is a dependency
        _LOAD_ERROR = f"the protobuf library is not installed ({e}); scalars are not read"
        log.warning("%s", _LOAD_ERROR)
        return None
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(_SERIALIZED)
    desc = pool.FindMessageTypeByName("guildls.tb.Event")
    get = getattr(message_factory, "GetMessageClass", None)
    _EVENT_CLS = get(desc) if get else message_factory.MessageFactory(pool).GetPrototype(desc)
    return _EVENT_CLS


def is_event_file(name: str) -> bool:
    return ".tfevents." in name


def _records(data: bytes):
    pos, n = 0, len(data)
    while pos + 12 <= n:
        (length,) = struct.unpack_from("<Q", data, pos)
        start = pos + 12
        end = start + length
        if end + 4 > n:
            return  # cut short: a writer is still writing or was killed
        yield data[start:end]
        pos = end + 4


def _tensor_value(t) -> Optional[float]:
    if t.dtype not in (1, 2):  # DT_FLOAT, DT_DOUBLE
        return None
    if len(t.float_val) == 1:
        return float(t.float_val[0])
    if len(t.double_val) == 1:
        return float(t.double_val[0])
    c = t.tensor_content
    if t.dtype == 1 and len(c) == 4:
        return struct.unpack("<f", c)[0]
    if t.dtype == 2 and len(c) == 8:
        return struct.unpack("<d", c)[0]
    return None


def read_event_file(path: str) -> dict:
    """{tag: [(step, value), ...]} of one event file, in file order; {} when unreadable
    (the reason is logged)."""
    try:
        st = os.stat(path)
    except OSError as e:
        log.info("skipping event file %s: %s", path, e)
        return {}
    key = (st.st_size, st.st_mtime_ns)
    with _cache_lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    series = _parse(path)
    with _cache_lock:
        _cache[path] = (key, series)
    return series


def _parse(path: str) -> dict:
    cls = _event_class()
    if cls is None:
        return {}
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        log.info("skipping event file %s: %s", path, e)
        return {}
    series: dict = {}
    ev = cls()
    for rec in _records(data):
        try:
            ev.Clear()
            ev.ParseFromString(rec)
        except Exception as e:  # DecodeError and friends: a foreign or damaged record
            log.info("skipping a damaged record in %s: %s", path, e)
            continue
        if not ev.HasField("summary"):
            continue
        for v in ev.summary.value:
            if v.HasField("simple_value"):
                val = float(v.simple_value)
            elif v.HasField("tensor"):
                val = _tensor_value(v.tensor)
                if val is None:
                    continue
            else:
                continue
            series.setdefault(v.tag, []).append((int(ev.step), val))
    return series


_GUILD_DIR = os.sep + ".guild"


def own_event_dirs(run_dir: str) -> list[str]:
    """Directories of the run's own tree (links not followed) holding event files."""
    out = []
    stack = [run_dir]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        found = False
        subdirs = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    if not (e.name == "attrs" and d.endswith(_GUILD_DIR)):  # YAML only
                        subdirs.append(e.path)
                elif not found and is_event_file(e.name) and e.is_file(follow_symlinks=False):
                    found = True
            except OSError:
                continue
        if found:
            out.append(d)
        stack.extend(sorted(subdirs, reverse=True))
    return out


def linked_runs(run_dir: str) -> list[str]:
    """Links anywhere in the run's own tree that lead to other runs (Guild follows those)."""
    out = []
    stack = [run_dir]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_symlink():
                    if os.path.exists(os.path.join(e.path, ".guild", "opref")):
                        out.append(e.path)
                elif e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
            except OSError:
                continue
    return out


def event_dirs(run_dir: str) -> list[str]:
    """Directories of a run holding event files, like Guild's scan (`tfevent._tfevent_subdirs`):
    the whole run directory, following links only when they lead to other runs (a workflow's
    steps, a batch's trials) — those after the run's own directories."""
    out: list = []
    seen: set = set()
    todo = [run_dir]
    while todo:
        d = todo.pop(0)
        real = os.path.realpath(d)
        if real in seen:
            continue
        seen.add(real)
        out += own_event_dirs(d)
        todo += linked_runs(d)
    return out


def run_series(run_dir: str, dirs: Optional[list] = None) -> dict:
    """{tag: [(step, value), ...]} for a run, keyed by tag as `guild compare` shows scalars:
    a tag found in several directories (a workflow and its steps) takes the first directory's
    series, the run's own before its linked runs'. `dirs`: only these directories."""
    out: dict = {}
    for d in (event_dirs(run_dir) if dirs is None else dirs):
        try:
            names = sorted(n for n in os.listdir(d) if is_event_file(n))
        except OSError:
            continue
        here: dict = {}
        for name in names:
            for tag, points in read_event_file(os.path.join(d, name)).items():
                here.setdefault(tag, []).extend(points)
        for tag, points in here.items():
            out.setdefault(tag, points)
    return out


def last_values(series: dict) -> dict:
    """{key: {"last": value, "step": step}} from run_series()."""
    return {k: {"last": pts[-1][1], "step": pts[-1][0]} for k, pts in series.items() if pts}
