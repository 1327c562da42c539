"""`make bench`: polls generated farms of feeds served from 127.0.0.1, cold then warm, and prints figures.

Two farms: one of foreign news, a quarter of it about the talks (the classifier and the story stage do their
most there), and one of general news (markets and sport), which the classifier mostly turns away.

Cold: every feed is new (fetch, parse, normalise, store every item). Warm: every feed answers 304.
Both run `aggregator poll --once --json` as a real subprocess; peak RSS is sampled over its whole process
tree (the main process and its parse workers) and reported for the main process and the tree.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import MIXES, generate_farm

import aggregator
from aggregator.demo.server import StaticFeedServer


def write_config(directory: Path, server: StaticFeedServer, paths: list[str]) -> Path:
    lines = [
        "[settings]",
        'database = "sqlite:///bench.db"',
        "allow_private_networks = true",
        'poll_interval = "1h"',
        "",
    ]
    for i, path in enumerate(paths):
        lines += ["[[feeds]]", f'name = "feed-{i:04d}"', f'url = "{server.url(path)}"', ""]
    config = directory / "feeds.toml"
    config.write_text("\n".join(lines))
    return config


@dataclass
class PollFigures:
    report: dict[str, object]
    wall_s: float
    peak_main: int  # bytes of RSS
    peak_tree: int
    peak_pss: int  # the tree's, shared pages counted once
    cpu_main_s: float = 0.0  # CPU time (user + system) of the main process
    cpu_workers_s: float = 0.0  # and of its children (forkserver and parse workers)


def run_poll(config: Path, *extra: str) -> PollFigures:
    """Run one poll and sample its process tree: memory, and the CPU time each process used."""
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "aggregator", "--config", str(config), "poll", "--once", "--json", *extra]
    # Output goes to files: a report larger than a pipe's buffer would block the child while we only sample.
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file)
        main = psutil.Process(proc.pid)
        peak_main = peak_tree = peak_pss = 0
        samples = 0
        cpu: dict[int, float] = {}  # pid -> latest CPU seconds seen (a process's last sample stands)
        while proc.poll() is None:
            try:
                tree = [main, *main.children(recursive=True)]
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        times = process.cpu_times()
                        cpu[process.pid] = times.user + times.system
                rss_main = main.memory_info().rss
                rss_tree = sum(p.memory_info().rss for p in tree)
                # RSS counts the pages the workers share with their forkserver once per process; PSS
                # divides shared pages among their users: the memory the tree really takes. Slower to
                # read (smaps), so sampled less often.
                pss_tree = sum(p.memory_full_info().pss for p in tree) if samples % 5 == 0 else 0
            except psutil.Error:
                rss_main = rss_tree = pss_tree = 0
            peak_main, peak_tree = max(peak_main, rss_main), max(peak_tree, rss_tree)
            peak_pss = max(peak_pss, pss_tree)
            samples += 1
            time.sleep(0.02)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"poll failed ({proc.returncode}): {err.decode(errors='replace')}")
    cpu_main = cpu.pop(proc.pid, 0.0)
    return PollFigures(json.loads(out), wall, peak_main, peak_tree, peak_pss, cpu_main, sum(cpu.values()))


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def poll_farm(feeds: int, mix: str) -> None:
    """Generate a farm of ``mix`` news, serve it, and print a cold and a warm poll of it."""
    t0 = time.perf_counter()
    farm = generate_farm(feeds, mix=mix)
    print(
        f"farm ({mix} news): {len(farm.feed_paths)} feeds, {farm.total_items} items, "
        f"{farm.total_bytes / 1e6:.1f} MB (generated in {time.perf_counter() - t0:.1f} s)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="aggregator-bench-") as tmp,
        StaticFeedServer(farm.documents) as server,
    ):
        config = write_config(Path(tmp), server, farm.feed_paths)
        for label, extra in (("cold", ()), ("warm", ("--force",))):
            before = server.requests_served, server.not_modified_served
            figures = run_poll(config, *extra)
            report, wall = figures.report, figures.wall_s
            requests = server.requests_served - before[0]
            not_modified = server.not_modified_served - before[1]
            entries = sum(int(r["entries"]) for r in report["results"])  # type: ignore[attr-defined]
            rate = entries / wall if wall else 0.0
            print(
                f"{label}: wall {wall:.2f} s (poll {report['duration_s']} s), {entries} items processed, "
                f"{report['new_items']} new ({report['relevant_items']} about the talks), "
                f"{rate:,.0f} items/s end to end, {report['other_source']} duplicates recorded as sources, "
                f"{requests} requests, {not_modified} answered 304, errors {report['errors']}, "
                f"peak RSS {mib(figures.peak_main)} main / {mib(figures.peak_tree)} with workers "
                f"({mib(figures.peak_pss)} PSS: shared pages counted once), "
                f"CPU {figures.cpu_main_s:.1f} s main + {figures.cpu_workers_s:.1f} s workers"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument(
        "--mix",
        choices=(*MIXES, "both"),
        default="both",
        help="the farm's news: about the talks, general (markets and sport), or one of each (default)",
    )
    args = parser.parse_args()

    # An installed service runs from cached bytecode. A shell with PYTHONDONTWRITEBYTECODE set (this
    # project's sandbox has it) would otherwise compile every module changed since its last .pyc at each
    # start, and the warm poll would time the compiler (about 0.4 s), not the poll
    compileall.compile_dir(str(Path(aggregator.__file__).parent), quiet=1)
    for mix in MIXES if args.mix == "both" else (args.mix,):
        poll_farm(args.feeds, mix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
