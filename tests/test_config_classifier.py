"""The [classifier] section of feeds.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.classify import load_rules
from aggregator.config import ClassifierConfig, load_config
from aggregator.errors import ConfigError

ONE_FEED = '[[feeds]]\nname = "a"\nurl = "https://a.example/feed"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text + ONE_FEED, encoding="utf-8")
    return path


def config_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_without_the_section_the_packaged_rules_are_used(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.classifier == ClassifierConfig()
    assert config.classifier.load_rules().version == load_rules().version


def test_rules_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[[rules]]\nname = "t"\nconcept = "talks"\nterms = ["talks"]\n', "utf-8"
    )
    config = load_config(write(tmp_path, '[classifier]\nrules = "mine.toml"\nthreshold = 0.7\n'))
    assert config.classifier.rules_path == tmp_path / "mine.toml"
    rules = config.classifier.load_rules()
    assert len(rules.rules) == 1 and rules.threshold == 0.7


def test_inline_terms_are_added(tmp_path: Path) -> None:
    text = (
        '[classifier]\n[[classifier.terms]]\nname = "talks.extra"\nconcept = "talks"\n'
        'weight = 0.9\nterms = ["parley"]\n'
    )
    config = load_config(write(tmp_path, text))
    rules = config.classifier.load_rules()
    assert rules.rule("talks.extra").terms == ("parley",)
    assert rules.version != load_rules().version


@pytest.mark.parametrize(
    ("section", "key", "fragment"),
    [
        ('[classifier]\nmodel = "x"\n', "classifier.model", "unknown key"),
        ("[classifier]\nthreshold = 2\n", "classifier.threshold", "between 0 and 1"),
        ('[classifier]\nthreshold = "high"\n', "classifier.threshold", "expected a number"),
        ('[classifier]\nrules = "missing.toml"\n', "classifier.rules", "not found"),
        (
            '[classifier]\n[[classifier.terms]]\nname = "x"\nconcept = "talks"\nterms = ["a"]\ncolour = 1\n',
            "classifier.terms[0].colour",
            "unknown key",
        ),
        (
            '[classifier]\n[[classifier.terms]]\nname = "x"\nconcept = "talks"\npattern = "("\n',
            "classifier.terms[0] (x)",
            "does not compile",
        ),
    ],
)
def test_problems_name_the_key(tmp_path: Path, section: str, key: str, fragment: str) -> None:
    error = config_error(write(tmp_path, section))
    assert error.key == key
    assert fragment in error.problem


def test_a_bad_rule_in_the_rules_file_names_that_file_and_rule(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        '[[rules]]\nname = "r.x"\nconcept = "round"\npattern = "(x"\n', "utf-8"
    )
    error = config_error(write(tmp_path, '[classifier]\nrules = "bad.toml"\n'))
    assert error.key == "classifier.rules"
    assert "bad.toml: rules[0] (r.x): pattern" in error.problem
