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

import gc  # noqa: E402

# start-up creates many long-lived objects (modules, classes): a cyclic collection
# triggered half-way rescans them all for nothing (see cli.imports_settled)
gc.disable()
from guildls.cli import main  # noqa: E402

raise SystemExit(main())
