"""Docs that cannot rot: every configuration key and every command is in the README and has help text."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from aggregator import config as config_module
from aggregator.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def documented_keys(section: str) -> set[str]:
    """Keys in the README's table under the heading for `section`."""
    start = README.index(f"### `{section}`")  # the heading may go on: "(optional)"
    end = README.index("\n##", start + 4)
    return set(re.findall(r"^\| `([a-z_]+)` \|", README[start:end], flags=re.MULTILINE))


def test_every_settings_key_is_documented() -> None:
    assert set(config_module._SETTINGS_KEYS) == documented_keys("[settings]")


def test_every_feed_key_is_documented() -> None:
    assert set(config_module._FEED_KEYS) == documented_keys("[[feeds]]")


def test_every_classifier_key_is_documented() -> None:
    assert set(config_module._CLASSIFIER_KEYS) == documented_keys("[classifier]")


def test_every_channel_key_is_documented() -> None:
    assert set(config_module._CHANNEL_KEYS) == documented_keys("[[channels]]")


def test_every_top_level_table_has_a_section() -> None:
    for table in config_module._TOP_LEVEL_KEYS:
        assert f"`[{table}]`" in README or f"`[[{table}]]`" in README, table


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix}{name}", sub))
                found += commands(sub, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize("command", [name for name, _ in commands(build_parser())])
def test_every_command_is_in_the_cli_reference(command: str) -> None:
    assert f"`aggregator {command}" in README, f"README's CLI reference lacks `aggregator {command}`"


def test_every_command_and_option_has_help_text() -> None:
    for name, parser in commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            option = action.option_strings or action.dest
            assert action.help, f"`aggregator {name}` option {option} has no help"


def test_every_feed_error_reason_is_in_troubleshooting() -> None:
    package = Path(__file__).resolve().parents[1] / "aggregator"
    source = "\n".join(path.read_text(encoding="utf-8") for path in package.glob("*.py"))
    reasons = set(re.findall(r'reason ?= ?"([a-z_]+)"', source)) - {"feed_error"}  # the base class's default
    missing = sorted(r for r in reasons if f"`{r}`" not in README)
    assert not missing, f"README troubleshooting lacks {missing}"
