"""Reading guild files from disk with limits.

A language server reads files of repositories nobody vetted: a ``guild.yml`` may be a
FIFO (opening it blocks), a link to ``/dev/zero`` (reading never ends) or simply huge.
Only regular files are read, never more than ``MAX_FILE_BYTES``, and the errors say
what is wrong with the file without echoing any of its content.
"""

from __future__ import annotations

import errno
import os
import stat

# Real guild files are under 30 KB (the largest of the shared corpus: 25 KB); the
# benches go up to 8.5 MB. Above this a file is refused with a clear problem rather
# than analysed for minutes.
MAX_FILE_BYTES = 9 * 1024 * 1024


GUILD_FILE_NAMES = ("guild.yml", "guild.yaml")


def is_guild_file_name(name: str) -> bool:
    return name in GUILD_FILE_NAMES or name.endswith((".guild.yml", ".guild.yaml"))


class FileRefused(OSError):
    """Not a regular file, or too large: ``strerror`` says which."""


def too_large_message(size: int) -> str:
    return (f"file is too large to check ({size / 1048576:.1f} MB; guildls reads guild files "
            f"up to {MAX_FILE_BYTES // 1048576} MB)")


def read_bytes(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or :class:`FileRefused`
    (an ``OSError``) / the ``OSError`` of opening it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(errno.EINVAL, "not a regular file", path)
        if st.st_size > limit:
            raise FileRefused(errno.EFBIG, too_large_message(st.st_size), path)
        chunks, total = [], 0
        while True:  # the size may have changed since fstat: never read past the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileRefused(errno.EFBIG, too_large_message(total), path)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str, limit: int = MAX_FILE_BYTES) -> str:
    """:func:`read_bytes` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return read_bytes(path, limit).decode("utf-8")
