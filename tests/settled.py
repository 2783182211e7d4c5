"""Directories made to look settled: guildls keeps a directory's listing for the next pass
only when the directory's mtime was already old when it was read (model/scriptflags.py,
SourceFinder; most project directories are older than that margin). Tests that check the
kept listings give their directories old and distinct mtimes."""

import os
import time


class Settler:
    """``settle(dir, ...)`` gives each directory an old mtime, a different one each time
    (so that a change of a kept listing's directory always changes its stat)."""

    def __init__(self):
        self.stamp = time.time_ns() - 10**15  # about 11 days ago

    def __call__(self, *dirs) -> None:
        for d in dirs:
            self.stamp += 1_000_000_007
            os.utime(d, ns=(self.stamp, self.stamp))

    def tree(self, root) -> None:
        """Every directory under `root`, `root` included."""
        self(*(d for d, _dirs, _files in os.walk(root)))
