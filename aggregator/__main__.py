"""``python -m aggregator`` and the ``aggregator`` command: the command line (aggregator.cli)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence


def run(argv: Sequence[str] | None = None) -> int:
    """The program. The process exits after it (see the end)."""
    from .cli import main

    try:
        return main(argv)
    finally:
        # The interpreter's exit would look for reference cycles through the whole heap, whose memory goes
        # with the process anyway: 0.1 s after a cold poll, on the poll's time. Frozen, it leaves them.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(run())
