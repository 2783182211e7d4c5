"""Run records in Guild's layout, so `guild runs`, `guild runs info`, `guild compare` read them.

Layout (checked against Guild 0.9.0):

    <runs dir>/<32-hex id>/
        .guild/opref            guildfile:<abs path> <md5 of guild file> <model> <op>  (shell-quoted)
        .guild/attrs/<name>     one YAML-encoded value per file: id, initialized, started, stopped,
                                exit_status, flags, user_flags, cmd, label, tags, steps, deps, env,
                                host, user, platform, sourcecode_digest, run_params ...
        .guild/output           combined stdout/stderr bytes
        .guild/output.index     per output line: struct '!QB' (ms timestamp, 0=stdout 1=stderr)
        .guild/manifest         `s <path> <sha1> <path>` source copies, `d <path> <sha1> <dep>` deps
        .guild/LOCK             pid while running (Guild reports `running` while that pid lives)
        <step link>             in a workflow run: relative symlink `../<step run id>`

Status is derived exactly as Guild does: exit_status 0 -> completed, > 0 -> error, < 0 ->
terminated; no exit_status -> running if LOCK names a live pid, else error.

Every attribute write is atomic (temp file in the same directory + os.replace), so a runner
killed at any point never leaves a half-written attribute.
"""

from __future__ import annotations

import os
import re
import shlex
import struct
import threading
import time
from typing import Any, Iterable, Optional

from .. import fslinks
from .status import pid_alive, status_for_exit

_ts_lock = threading.Lock()
_last_ts = 0


def timestamp() -> int:
    """Microseconds since the epoch, strictly increasing within this process (like Guild)."""
    global _last_ts
    ts = int(time.time() * 1_000_000)
    with _ts_lock:
        if ts <= _last_ts:
            ts = _last_ts + 1
        _last_ts = ts
    return ts


def new_run_id() -> str:
    import uuid

    return uuid.uuid4().hex


def runs_dir(project_dir: str, env: Optional[dict] = None) -> str:
    """`$GUILD_HOME/runs` when GUILD_HOME is set, else `<project>/.guild/runs`."""
    env = os.environ if env is None else env
    home = env.get("GUILD_HOME")
    if home:
        return os.path.join(os.path.abspath(home), "runs")
    return os.path.join(os.path.abspath(project_dir), ".guild", "runs")


# Guild reads and writes attributes with its own resolver rules ('1e-3' is a float). yaml and
# the model's loader are imported on first use: listing cached runs needs neither.

def encode_attr(val: Any) -> str:
    import yaml

    from ..model.nodes import GuildDumper

    encoded = yaml.dump(val, Dumper=GuildDumper, default_flow_style=False, indent=2).strip()
    if encoded.endswith("\n..."):
        encoded = encoded[:-4]
    return encoded


def atomic_write(path: str, data: bytes | str) -> None:
    d = os.path.dirname(path)
    import tempfile  # (with hashlib and uuid: imported where used, the reader needs none)

    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def file_md5(path: str) -> str:
    import hashlib

    h = hashlib.md5()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def file_sha1(path: str) -> str:
    import hashlib

    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def encode_opref(guildfile_path: str, model: str, op: str, version: Optional[str] = None) -> str:
    path = os.path.abspath(guildfile_path)
    if version is None:
        try:
            version = file_md5(path)
        except OSError:
            version = "0"
    q = shlex.quote
    return f"guildfile:{q(path)} {q(version)} {q(model)} {q(op)}"


# a word of an opref as shlex.quote writes it: bare text and '...' pieces (shlex.split is
# ten times slower, and listing a thousand runs for the first time decodes a thousand oprefs)
_OPREF_WORD = re.compile(r"(?:[^\s'\"\\]+|'[^']*')+")
_QUOTED = re.compile(r"'([^']*)'")


def decode_opref(text: str) -> Optional[dict]:
    if '"' not in text and "\\" not in text and text.count("'") % 2 == 0:
        parts = [_QUOTED.sub(r"\1", w) for w in _OPREF_WORD.findall(text)]
    else:
        try:
            parts = shlex.split(text)
        except ValueError:
            return None
    if len(parts) != 4:
        return None
    pkg, version, model, op = parts
    pkg_type, _, pkg_name = pkg.partition(":")
    return {"pkg_type": pkg_type, "pkg_name": pkg_name, "version": version, "model": model, "op": op}


def step_link_name(step_name: str) -> str:
    return re.sub(r"[ :/\\]", "-", str(step_name))


class Run:
    """One run directory. Cheap to construct; reads attributes lazily."""

    def __init__(self, run_id: str, path: str):
        self.id = run_id
        self.path = path
        self._output_lock = threading.Lock()
        self._out = None
        self._index = None
        self._line_open = [False, False]

    # -- paths ---------------------------------------------------------------------------
    @property
    def dir(self) -> str:
        return self.path

    def guild_path(self, *parts: str) -> str:
        return os.path.join(self.path, ".guild", *parts)

    # -- attributes ----------------------------------------------------------------------
    def init_skel(self) -> None:
        os.makedirs(self.guild_path("attrs"), exist_ok=True)
        self.write_attr("id", self.id)
        self.write_attr("initialized", timestamp())

    def write_attr(self, name: str, val: Any) -> None:
        atomic_write(self.guild_path("attrs", name), encode_attr(val) + "\n")

    def del_attr(self, name: str) -> None:
        try:
            os.remove(self.guild_path("attrs", name))
        except OSError:
            pass

    def get(self, name: str, default: Any = None) -> Any:
        import yaml

        from ..model.nodes import GuildLoader

        try:
            with open(self.guild_path("attrs", name)) as f:
                val = yaml.load(f, Loader=GuildLoader)
        except (OSError, yaml.YAMLError):
            return default
        return default if val is None else val

    def write_opref(self, encoded: str) -> None:
        atomic_write(self.guild_path("opref"), encoded)

    @property
    def opref(self) -> Optional[dict]:
        try:
            with open(self.guild_path("opref")) as f:
                return decode_opref(f.read())
        except OSError:
            return None

    @property
    def op_name(self) -> str:
        o = self.opref or {}
        return f"{o['model']}:{o['op']}" if o.get("model") else o.get("op", "")

    @property
    def status(self) -> str:
        if os.path.exists(self.guild_path("PENDING")):
            return "pending"
        exit_status = self.get("exit_status")
        if exit_status is not None:
            return status_for_exit(exit_status)
        pid = self.lock_pid()
        if pid is not None and pid_alive(pid):
            return "running"
        return "error"

    @property
    def timestamp(self) -> int:
        return self.get("started") or self.get("initialized") or 0

    # -- lifecycle -----------------------------------------------------------------------
    def write_lock(self, pid: int) -> None:
        atomic_write(self.guild_path("LOCK"), str(pid))

    def lock_pid(self) -> Optional[int]:
        try:
            with open(self.guild_path("LOCK")) as f:
                return int(f.read(10))
        except (OSError, ValueError):
            return None

    def delete_lock(self) -> None:
        try:
            os.remove(self.guild_path("LOCK"))
        except OSError:
            pass

    def mark_pending(self) -> None:
        """Guild's `.guild/PENDING` marker: a batch trial not started yet."""
        atomic_write(self.guild_path("PENDING"), "")

    def clear_pending(self) -> None:
        try:
            os.remove(self.guild_path("PENDING"))
        except OSError:
            pass

    def mark_started(self) -> int:
        ts = timestamp()
        self.write_attr("started", ts)
        return ts

    def finalize(self, exit_status: int) -> None:
        self.close_output()
        if not os.path.isdir(self.guild_path()):
            return
        self.write_attr("exit_status", int(exit_status))
        self.write_attr("stopped", timestamp())
        self.delete_lock()

    # -- output --------------------------------------------------------------------------
    def open_output(self) -> None:
        if self._out is None:
            self._out = open(self.guild_path("output"), "ab", buffering=0)
            self._index = open(self.guild_path("output.index"), "ab", buffering=0)

    def write_output(self, data: bytes, stream: int = 0) -> None:
        """Append bytes to .guild/output and one index entry per line started (Guild's format)."""
        if self._out is None:
            return
        with self._output_lock:
            self._out.write(data)
            entries = []
            now = int(time.time() * 1000)
            for line in data.splitlines(keepends=True):
                if not self._line_open[stream]:
                    entries.append(struct.pack("!QB", now, stream))
                self._line_open[stream] = not line.endswith(b"\n")
            if entries:
                self._index.write(b"".join(entries))

    def close_output(self) -> None:
        with self._output_lock:
            for f in (self._out, self._index):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass
            self._out = self._index = None

    def read_output(self) -> str:
        try:
            with open(self.guild_path("output"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- manifest ------------------------------------------------------------------------
    def append_manifest(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        if not lines:
            return
        with open(self.guild_path("manifest"), "a") as f:
            for line in lines:
                f.write(line + "\n")

    def source_paths(self, kinds: tuple = ("s", "d")) -> set[str]:
        """Paths the manifest marks as source code (`s`) or dependency files (`d`)."""
        out = set()
        try:
            with open(self.guild_path("manifest")) as f:
                for line in f:
                    parts = shlex.split(line) if "'" in line or '"' in line else line.split()
                    if len(parts) >= 2 and parts[0] in kinds:
                        out.add(parts[1])
        except OSError:
            pass
        return out

    # -- links ---------------------------------------------------------------------------
    def link_step(self, step_name: str, step_run: "Run") -> str:
        """Relative symlink `<self>/<name>` -> `../<step id>`; clashes get `_2`, `_3`, ..."""
        base = os.path.join(self.path, step_link_name(step_name))
        path, n = base, 2
        while os.path.lexists(path):
            path = f"{base}_{n}"
            n += 1
        fslinks.symlink(os.path.relpath(step_run.path, os.path.dirname(path)), path)
        return path

    def linked_run_ids(self) -> list[str]:
        ids = []
        try:
            names = os.listdir(self.path)
        except OSError:
            return ids
        for name in names:
            p = os.path.join(self.path, name)
            if os.path.islink(p):
                ids.append(os.path.basename(os.path.normpath(os.readlink(p))))
        return ids

    def __repr__(self) -> str:
        return f"<Run {self.id}>"
