"""Output scalars: `loss: 0.25` lines in a step's output -> a TensorBoard event file in the
run's `.guild/` directory, as Guild does, so `guild runs info`, `guild compare` and
TensorBoard show them (and a workflow run rolls them up through its step links).

Patterns and their `\\key`/`\\value`/`\\step` aliases are Guild 0.9's (guild/summary.py);
the event file is written without TensorFlow: TFRecord framing with masked CRC32C and a
hand-encoded `Event{wall_time, step, summary{value{tag, simple_value}}}` protobuf.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import time
from typing import Any, Optional

ALIASES = [
    (re.compile(r"\\key"), "[^ \t]+"),
    (re.compile(r"\\value"), "[0-9\\.e\\-]+"),
    (re.compile(r"\\step"), "[0-9]+"),
]

DEFAULT_OUTPUT_SCALARS = [
    r"\key: +\value\s+\((?:step\s+)?(?P<step>\step)\)$",
    r"^(\key):\s+(\value)(?:\s+\(.*\))?$",
]


def _compile(val: Any, key: Optional[str]):
    if not isinstance(val, str):
        return []
    for alias, repl in ALIASES:
        val = alias.sub(repl, val)
    try:
        return [(key, re.compile(val))]
    except re.error:
        return []


def patterns_for(config: Any) -> list:
    """Compiled patterns for an operation's `output-scalars` value (None = Guild's default)."""
    if config is None:
        config = DEFAULT_OUTPUT_SCALARS
    if config is False:
        return []
    if isinstance(config, (str, dict)):
        config = [config]
    if not isinstance(config, list):
        return []
    out = []
    for item in config:
        if isinstance(item, dict):
            for key, val in sorted(item.items()):
                out += _compile(val, str(key))
        elif isinstance(item, str):
            out += _compile(item, None)
    return out


def match_line(line: str, patterns: list) -> dict:
    vals: dict = {}
    line = line.rstrip()
    for key, p in patterns:
        for m in p.finditer(line):
            gd = m.groupdict()
            if gd:
                if "_key" in gd and "_val" in gd:
                    _float(gd["_val"], gd["_key"], vals)
                else:
                    for k, s in gd.items():
                        _float(s, k, vals)
                continue
            groups = m.groups()
            if len(groups) == 1:
                _float(groups[0], key, vals)
            elif len(groups) == 2:
                _float(groups[1], groups[0], vals)
    return vals


def _float(s, key, vals):
    if key is None:
        return
    try:
        vals[key] = float(s)
    except (TypeError, ValueError):
        pass


# ---------------------------------------------------------------------------------------
# TFRecord / Event encoding

_CRC_TABLE = []


def _crc_table():
    if not _CRC_TABLE:
        poly = 0x82F63B78
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ poly if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    return _CRC_TABLE


def crc32c(data: bytes) -> int:
    t = _crc_table()
    c = 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def encode_event(wall_time: float, step: Optional[int] = None, file_version: Optional[str] = None,
                 scalars: Optional[dict] = None) -> bytes:
    out = b"\x09" + struct.pack("<d", wall_time)
    if step:
        out += b"\x10" + _varint(int(step))
    if file_version is not None:
        out += _len_field(0x1A, file_version.encode())
    if scalars:
        summary = b""
        for tag, val in sorted(scalars.items()):
            value = _len_field(0x0A, tag.encode()) + b"\x15" + struct.pack("<f", float(val))
            summary += _len_field(0x0A, value)
        out += _len_field(0x2A, summary)
    return out


def record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", _masked(crc32c(header))) + data
            + struct.pack("<I", _masked(crc32c(data))))


class ScalarWriter:
    """Per-run output-scalar capture. Feed it output bytes per stream; the event file is
    created on the first scalar found."""

    def __init__(self, guild_dir: str, patterns: list):
        self.guild_dir = guild_dir
        self.patterns = patterns
        self._partial = {0: b"", 1: b""}
        self._f = None
        self._step: Optional[int] = None

    def feed(self, data: bytes, stream: int) -> None:
        if not self.patterns:
            return
        buf = self._partial[stream] + data
        *lines, rest = buf.split(b"\n")
        self._partial[stream] = rest[-65536:]
        for line in lines:
            self._line(line)

    def _line(self, raw: bytes) -> None:
        vals = match_line(raw.decode("utf-8", "ignore"), self.patterns)
        step = vals.pop("step", None)
        if step is not None:
            self._step = int(step)
        if vals:
            self._write(vals)

    def _write(self, vals: dict) -> None:
        if self._f is None:
            now = time.time()
            name = f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}.0"
            self._f = open(os.path.join(self.guild_dir, name), "ab")
            self._f.write(record(encode_event(now, file_version="brain.Event:2")))
        self._f.write(record(encode_event(time.time(), self._step, scalars=vals)))
        self._f.flush()

    def close(self) -> None:
        for stream in (0, 1):
            if self._partial[stream]:
                self._line(self._partial[stream])
                self._partial[stream] = b""
        if self._f is not None:
            self._f.close()
            self._f = None
