"""``python -m aggregator`` and the ``aggregator`` command: the command line (aggregator.cli)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

_VALUED_OPTIONS = ("--config",)  # the options before the command that take a value (cli.build_parser)


def command_of(argv: Sequence[str]) -> str | None:
    """The command the arguments name: the first that is neither an option nor an option's value."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUED_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def run(argv: Sequence[str] | None = None) -> int:
    """The program. The process exits after it (see the end)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if command_of(args) == "poll":
        # A poll parses and classifies in worker processes, forked from a server that first imports the
        # parser and the classifier (0.3 s). Started now, it does that on another core while this process
        # imports the rest of the program (0.3 s), and the workers start as the first feeds arrive. (A poll
        # that parses nothing, every feed unchanged, leaves the server idle until it exits.)
        from . import use_utc_clock
        from .worker import start_forkserver

        use_utc_clock()  # (the server's environment, which the workers inherit, is the CLI's)
        start_forkserver()
    from .cli import main

    try:
        return main(args)
    finally:
        # The interpreter's exit would look for reference cycles through the whole heap, whose memory goes
        # with the process anyway: 0.1 s after a cold poll, on the poll's time. Frozen, it leaves them.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(run())
