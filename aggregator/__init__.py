"""aggregator: watches news feeds for the Russia–Ukraine peace talks and alerts once per real development."""

__version__ = "0.1.0"
USER_AGENT = f"aggregator/{__version__} (+https://github.com/aggregator-news/aggregator; feed monitor)"
