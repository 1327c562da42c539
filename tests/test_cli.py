"""The command line as users run it: exit codes, one-line errors, JSON shapes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from feedserver import FeedServer

import aggregator.cli
from aggregator import __main__ as program

POLL_KEYS = {"feeds", "fetched", "not_modified", "errors", "new_items", "updated_items", "duration_s"}


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def rss(n: int, host: str = "wire.example") -> bytes:
    items = "".join(
        f"<item><guid>{host}-{i}</guid><link>https://{host}/{i}</link><title>Talks update {i}</title>"
        f"<description>Delegations met in Istanbul, day {i}.</description></item>"
        for i in range(n)
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def config_file(tmp_path: Path, feeds: dict[str, str]) -> Path:
    text = (
        '[settings]\ndatabase = "sqlite:///var/cli.db"\nallow_private_networks = true\nfetch_timeout = "3s"\n'
    )
    for name, url in feeds.items():
        text += f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n'
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


def test_poll_once_json_is_one_object_and_failures_still_exit_0(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    good = feed_server.route("/good.xml", rss(3))
    bad = feed_server.route("/bad.xml", b"nope", status=404)
    config = config_file(tmp_path, {"good": good, "bad": bad})
    result = run("--config", str(config), "poll", "--once", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert report.keys() >= POLL_KEYS
    assert (report["feeds"], report["fetched"], report["errors"], report["new_items"]) == (2, 1, 1, 3)
    assert (tmp_path / "var" / "cli.db").exists()  # relative to the config file, not the working directory
    again = json.loads(run("--config", str(config), "poll", "--once", "--json", "--feed", "good").stdout)
    # forced, not due: the server sent no validators, so the same body comes back and is not parsed again
    assert (again["feeds"], again["fetched"], again["new_items"]) == (1, 1, 0)
    assert again["results"][0]["outcome"] == "unchanged"


def test_feeds_and_items_commands(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.route("/good.xml", rss(2))
    config = config_file(tmp_path, {"good": url, "later": feed_server.route("/x.xml", b"", status=500)})
    assert run("--config", str(config), "poll", "--once").returncode == 0
    feeds = json.loads(run("--config", str(config), "feeds", "--json").stdout)
    by_name = {f["name"]: f for f in feeds}
    assert by_name["good"]["status"] == "ok" and by_name["good"]["next_due"]
    assert by_name["later"]["status"] == "error" and "500" in by_name["later"]["last_error"]
    text = run("--config", str(config), "feeds").stdout
    assert "later" in text and "HTTP 500" in text
    items = json.loads(run("--config", str(config), "items", "--json", "--limit", "1").stdout)
    assert len(items) == 1 and items[0]["title"].startswith("Talks update")
    only = json.loads(run("--config", str(config), "items", "--json", "--feed", "good").stdout)
    assert {i["feed"] for i in only} == {"good"} and len(only) == 2


def test_config_error_exits_2_with_file_key_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[settings]\npoll_interval = "5x"\n[[feeds]]\nname = "a"\nurl = "https://a.example/rss"\n'
    )
    result = run("--config", str(path), "config", "check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "feeds.toml: settings.poll_interval:" in result.stderr and '"5x"' in result.stderr


def test_config_check_prints_a_summary(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"a": "https://a.example/rss"})
    result = run("--config", str(path), "config", "check")
    assert result.returncode == 0
    assert "https://a.example/rss" in result.stdout and "configuration OK" in result.stdout


def test_missing_config_and_unknown_feed_are_config_errors(tmp_path: Path) -> None:
    missing = run("--config", str(tmp_path / "nope.toml"), "feeds")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr
    path = config_file(tmp_path, {"a": "https://a.example/rss"})
    unknown = run("--config", str(path), "poll", "--once", "--feed", "zzz")
    assert unknown.returncode == 2 and "zzz" in unknown.stderr


def test_config_from_environment_variable(tmp_path: Path) -> None:
    import os

    path = config_file(tmp_path, {"a": "https://a.example/rss"})
    env = {**os.environ, "AGGREGATOR_CONFIG": str(path)}
    result = run("config", "check", cwd=tmp_path.parent, env=env)
    assert result.returncode == 0 and str(path) in result.stdout


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"a": "https://a.example/rss"})
    assert run("--config", str(path), "db", "upgrade").returncode == 0
    second = run("--config", str(path), "db", "upgrade")
    assert second.returncode == 0 and "up to date" in second.stdout


def test_unreadable_database_is_one_clean_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "cli.db").write_bytes(b"this is not a database" * 100)
    path = config_file(tmp_path, {"a": "https://a.example/rss"})
    result = run("--config", str(path), "feeds")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_program_leaves_its_heap_to_the_exit_uncollected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregator.cli, "main", lambda argv: 3)
    try:
        assert program.run(["status"]) == 3
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
