"""Process helpers shared by the tests that check what a stop leaves behind."""
import os


def alive(pid):
    """True while ``pid`` runs; a zombie (ended, not yet reaped) counts as ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        # no /proc (macOS): trust kill(); with /proc the process has just gone
        return not os.path.isdir("/proc")
