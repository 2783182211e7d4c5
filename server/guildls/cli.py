"""Command line: guildls check | run | serve | schema."""

import sys


def main(argv=None):
    print("guildls: not yet", file=sys.stderr)
    return 2
