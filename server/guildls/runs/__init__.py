"""The one reader and writer of Guild's run layout (`$GUILD_HOME/runs` or `<project>/.guild/runs`).

| module | what |
|---|---|
| `layout.py` | paths, ids, timestamps, opref, atomic attribute writes, `Run` (one run directory) |
| `records.py` | writing a new run's records (`create_run`, `init_common_attrs`, `vcs_commit`) |
| `status.py` | status as Guild derives it (exit status, live LOCK pid) |
| `listing.py` | finding runs in a runs directory |
| `scalars.py` | output scalars -> TensorBoard event files |
"""

from .layout import (Run, atomic_write, decode_opref, encode_attr, encode_opref, file_md5,
                     file_sha1, new_run_id, runs_dir, step_link_name, timestamp)
from .listing import find_run, iter_runs
from .records import create_run, init_common_attrs, vcs_commit
from .status import pid_alive, status_for_exit

__all__ = [
    "Run", "atomic_write", "create_run", "decode_opref", "encode_attr", "encode_opref",
    "file_md5", "file_sha1", "find_run", "init_common_attrs", "iter_runs", "new_run_id",
    "pid_alive", "runs_dir", "status_for_exit", "step_link_name", "timestamp", "vcs_commit",
]
