import os
import sys


def _workspace_off_sys_path() -> None:
    """``python -m guildls`` puts the working directory first on ``sys.path``: for a
    language server that is the user's workspace, whose ``yaml.py`` or ``lsprotocol/``
    would then be imported instead of ours. Only the package itself was imported from
    there so far (the editor launchers pass ``-I``, which avoids even that)."""
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:
        cwd = None
    sys.path[:] = [p for p in sys.path if p != "" and (cwd is None or os.path.realpath(p) != cwd)]


_workspace_off_sys_path()

from guildls.cli import main  # noqa: E402

raise SystemExit(main())
