"""Classification through the command line and the poll: eval, classify, stored verdicts, reclassify."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from feedserver import FeedServer

ROUND = (
    "Third round of Russia-Ukraine talks to open in Istanbul on Wednesday",
    "The Kremlin confirmed that Russian and Ukrainian delegations will meet in Istanbul on Wednesday, "
    "23 July, for a third round of direct negotiations, its spokesman told reporters on Monday.",
)
NOISE = (
    "Moscow Exchange index slips as rouble weakens",
    "Shares on the Moscow Exchange fell 1.2% on Monday.",
)


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        cwd=cwd,
    )


def corpus(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "a",
            "source": "wire",
            "url": None,
            "published": "2025-07-21",
            "title": ROUND[0],
            "summary": ROUND[1],
            "relevant": True,
            "events": ["NEW_ROUND"],
            "facts": {"round": 3, "place": "Istanbul", "date": "2025-07-23"},
            "story": "r3",
            "extra": "ignored",
        },
        {
            "id": "b",
            "source": "markets",
            "url": None,
            "published": "2025-07-21",
            "title": NOISE[0],
            "summary": NOISE[1],
            "relevant": False,
            "events": [],
            "facts": {},
            "story": "m",
        },
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_eval_json_is_exactly_one_object_with_the_documented_shape(tmp_path: Path) -> None:
    result = run("eval", str(corpus(tmp_path)), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 2
    assert {"precision", "recall", "f1"} <= report["relevance"].keys()
    assert set(report["events"]) == {"NEW_ROUND", "EXCHANGE", "DEADLINE"}
    assert set(report["facts"]) == {"round", "place", "date", "count", "deadline"}
    assert report["facts"]["round"]["n"] == 1 and report["facts"]["count"]["n"] == 0
    assert report["relevance"]["f1"] == 1.0  # two easy cases: the wire round and the stock market


def test_eval_text_lists_every_error_with_its_evidence(tmp_path: Path) -> None:
    path = corpus(tmp_path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["relevant"] = True  # a wrong label: the market item now counts as a miss
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = run("eval", str(path), cwd=tmp_path)
    assert result.returncode == 0
    assert "relevance missed" in result.stdout and "[b]" in result.stdout


def test_eval_replays_with_the_configured_story_settings(tmp_path: Path) -> None:
    # one outlet's report of talks it reads only weakly: it waits for a second outlet, unless the
    # configuration turns that off
    weak_round = (
        "Russia and Ukraine agree to swap 1,000 prisoners each at Istanbul talks",
        "Russian and Ukrainian delegations meeting in Istanbul agreed to exchange 1,000 prisoners of war "
        "each, the head of the Ukrainian delegation said.",
    )
    path = corpus(tmp_path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0].update(title=weak_round[0], summary=weak_round[1], events=["NEW_ROUND", "EXCHANGE"], facts={})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    sent = {}
    for corroborate in ("true", "false"):
        (tmp_path / "feeds.toml").write_text(
            f'[settings]\ncorroborate_weak = {corroborate}\n\n[[feeds]]\nname = "a"\nurl = "https://a.example/rss"\n'
        )
        result = run("eval", str(path), "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        sent[corroborate] = json.loads(result.stdout)["alerts"]["sent"]
    assert sent == {"true": 1, "false": 2}


def test_eval_reports_a_broken_corpus_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "title": "t", "summary": "s", "relevant": true, "events": ["WAR"]}\n')
    result = run("eval", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.jsonl:1" in result.stderr and "events" in result.stderr


def test_classify_plain_text_marks_the_evidence(tmp_path: Path) -> None:
    result = run(
        "classify", "-", "--published", "2025-07-21", stdin=f"{ROUND[0]}\n\n{ROUND[1]}\n", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("RELEVANT")
    assert "NEW_ROUND" in result.stdout and "«" in result.stdout
    as_json = run(
        "classify", "-", "--json", stdin=json.dumps({"title": NOISE[0], "summary": NOISE[1]}), cwd=tmp_path
    )
    verdict = json.loads(as_json.stdout)
    assert verdict["relevant"] is False and verdict["events"] == []


def test_poll_stores_verdicts_and_reclassify_recomputes_them(tmp_path: Path, feed_server: FeedServer) -> None:
    items = "".join(
        f"<item><guid>{i}</guid><title>{title}</title><description>{summary}</description>"
        f"<pubDate>Mon, 21 Jul 2025 09:00:00 GMT</pubDate></item>"
        for i, (title, summary) in enumerate((ROUND, NOISE))
    )
    url = feed_server.route(
        "/f.xml", f"<rss version='2.0'><channel><title>w</title>{items}</channel></rss>".encode()
    )
    config = tmp_path / "feeds.toml"
    config.write_text(
        f'[settings]\ndatabase = "sqlite:///c.db"\nallow_private_networks = true\n'
        f'[[feeds]]\nname = "wire"\nurl = "{url}"\n'
    )
    assert run("--config", str(config), "poll", "--once").returncode == 0
    query = (
        "SELECT items.title, relevant, event_types, events, rules_version FROM classifications "
        "JOIN items ON items.id = classifications.item_id ORDER BY items.key"
    )
    with closing(sqlite3.connect(tmp_path / "c.db")) as db:
        rows = db.execute(query).fetchall()
    assert [(title, bool(relevant), types) for title, relevant, types, _, _ in rows] == [
        (ROUND[0], True, "NEW_ROUND"),
        (NOISE[0], False, ""),
    ]
    facts = json.loads(rows[0][3])[0]["facts"]
    assert facts["round"] == 3 and facts["place"] == "Istanbul"
    listed = json.loads(run("--config", str(config), "items", "--relevant", "--json").stdout)
    assert [(i["title"], i["relevant"], i["events"]) for i in listed] == [(ROUND[0], True, ["NEW_ROUND"])]
    with closing(sqlite3.connect(tmp_path / "c.db")) as db:
        db.execute("UPDATE classifications SET relevant = 0, event_types = '', rules_version = 'old'")
        db.commit()
    result = run("--config", str(config), "reclassify", "--since", "2025-07-01")
    assert result.returncode == 0, result.stderr
    assert "reclassified 2 items" in result.stdout and "1 relevant" in result.stdout
    with closing(sqlite3.connect(tmp_path / "c.db")) as db:
        again = db.execute(query).fetchall()
    assert [bool(r[1]) for r in again] == [True, False] and again[0][4] != "old"
