"""The fast path must read feeds exactly as feedparser does (after normalisation).

For every XML golden fixture, and for a few hundred generated feeds (RSS 2.0, Atom 1.0, RSS 1.0; CDATA and
escaped HTML; missing fields; relative links and xml:base; many date formats; non-ASCII text; several
encodings), normalise(parse_fast(...)) must equal normalise(parse_with_feedparser(...)) item by item,
and parse_fast must accept every generated feed (they are all well-formed).
"""

from __future__ import annotations

import codecs
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from aggregator.models import Item, ParsedFeed
from aggregator.normalise import normalise_entries
from aggregator.parse import parse_fast, parse_with_feedparser

NOW = datetime(2024, 7, 1, tzinfo=UTC)
GOLDEN_DIR = Path(__file__).parent / "data" / "parse"
GENERATED_FEEDS = 360


def assert_same_items(fast: ParsedFeed, reference: ParsedFeed, context: str) -> None:
    fast_items = normalise_entries("feed", fast, now=NOW)
    reference_items = normalise_entries("feed", reference, now=NOW)
    assert len(fast_items) == len(reference_items), context
    for index, (mine, theirs) in enumerate(zip(fast_items, reference_items, strict=True)):
        if mine != theirs:
            differences = {
                name: (getattr(mine, name), getattr(theirs, name))
                for name in Item.__dataclass_fields__
                if getattr(mine, name) != getattr(theirs, name)
            }
            pytest.fail(
                f"{context}: item {index} differs (fast, feedparser): {differences}\n"
                f"raw fast: {fast.entries[index]}\nraw feedparser: {reference.entries[index]}"
            )


# =====================================================================================================
# Golden fixtures
# =====================================================================================================


def xml_fixtures() -> list[Path]:
    return sorted(folder for folder in GOLDEN_DIR.iterdir() if (folder / "feed.xml").exists())


@pytest.mark.parametrize("folder", xml_fixtures(), ids=lambda path: path.name)
def test_fast_path_matches_feedparser_on_fixtures(folder: Path) -> None:
    body = (folder / "feed.xml").read_bytes()
    headers_file = folder / "headers.json"
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    url = f"https://feeds.example.org/{folder.name}/feed.xml"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    fast = parse_fast(body, headers, url)
    if expected.get("feed", {}).get("parser") == "fast":
        assert fast is not None, "parse_feed used the fast path for this fixture: parse_fast must accept it"
    if fast is None:
        return  # not for the fast path (malformed, an HTML page, a charset disagreement...)
    assert_same_items(fast, parse_with_feedparser(body, headers, url), folder.name)


# =====================================================================================================
# Generated feeds
# =====================================================================================================


def _split(text: str) -> list[str]:
    return text.split()


WORDS = {
    "en": _split(
        "ceasefire talks delegation prisoner exchange mediator envoy grain corridor humanitarian draft "
        "memorandum observers withdrawal summit"
    ),
    "uk": _split(
        "перемовини делегація обмін полоненими посередник перемир'я меморандум спостерігачі Київ Стамбул "
        "гуманітарний"
    ),
    "ru": _split("переговоры делегация обмен пленными посредник перемирие меморандум наблюдатели коридор"),
}
EXTRA_WORDS = ["Zürich", "café", "naïve", "Genève", "—", "“quoted”", "…", "’s", "€5bn", "🕊️", "«мир»", "Ã©"]
SINGLE_BYTE_SAFE = {
    "—": "-",
    "“quoted”": '"quoted"',
    "…": "...",
    "’s": "'s",
    "€5bn": "5bn",
    "🕊️": "",
    "«мир»": "мир",
    "Zürich": "Zurich",
    "café": "cafe",
    "naïve": "naive",
    "Genève": "Geneve",
    "Ã©": "e",
}

DATE_FORMATS = [
    "%a, %d %b %Y %H:%M:%S +0000",
    "%a, %d %b %Y %H:%M:%S GMT",
    "%d %b %Y %H:%M:%S +0300",
    "%a, %d %b %Y %H:%M EST",
    "%a, %d %b %y %H:%M:%S Z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S+02:00",
    "%Y-%m-%dT%H:%M:%S.123-05:00",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y",
    "not a date",
    "",
]


@dataclass
class Generator:
    rng: random.Random
    language: str

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def words(self, count: int) -> str:
        pool = WORDS[self.language] + EXTRA_WORDS
        return " ".join(self.rng.choice(pool) for _ in range(count))

    def date(self) -> str:
        moment = datetime(
            self.rng.choice([1985, 2023, 2024, 2031]),
            self.rng.randint(1, 12),
            self.rng.randint(1, 28),
            self.rng.randint(0, 23),
            self.rng.randint(0, 59),
            self.rng.randint(0, 59),
            tzinfo=UTC,
        )
        return moment.strftime(self.rng.choice(DATE_FORMATS))

    def html(self) -> str:
        parts = [f"<p>{escape(self.words(self.rng.randint(3, 12)))}</p>"]
        if self.chance(0.4):
            parts.append(
                f'<p>See <a href="/more/{self.rng.randint(1, 99)}">{escape(self.words(2))}</a> &amp; x.</p>'
            )
        if self.chance(0.2):
            parts.append("<ul><li>one</li><li>two &#8211; three &nbsp;four</li></ul>")
        if self.chance(0.15):
            parts.append("<script>alert('x')</script><style>p{}</style>")
        if self.chance(0.15):
            parts.append("<br/>Line<br />two<hr>")
        if self.chance(0.1):
            parts.append("<table><tr><th>h</th><td>a</td><td>b</td></tr></table>")
        if self.chance(0.1):
            parts.append("<!-- note --><img src='x.jpg' alt='photo'><blockquote>quoted</blockquote>")
        if self.chance(0.1):
            parts.append("&lt;b&gt;double-escaped&lt;/b&gt; &amp;amp; &#150;&#x97;")
        return "".join(parts)

    def rss_text(self, html: str) -> str:
        """HTML put in an RSS element: CDATA or escaped."""
        return f"<![CDATA[{html}]]>" if self.chance(0.5) else escape(html)

    def plain_title(self) -> str:
        text = escape(self.words(self.rng.randint(2, 9)))
        roll = self.rng.random()
        if roll < 0.12:
            text += " &amp; AT&amp;T"
        elif roll < 0.22:
            text += " &amp;amp; more"
        elif roll < 0.28:
            text += " &lt;b&gt;bold&lt;/b&gt;"
        elif roll < 0.34:
            text += " &#8216;quoted&#8217; &#x2014; &#150;"
        elif roll < 0.4:
            text = f"<![CDATA[{text} <i>it</i>]]>"
        elif roll < 0.43:
            text = ""
        elif roll < 0.46:
            text = "   "
        return text

    # --- RSS 2.0 ------------------------------------------------------------------------------

    def rss_item(self, index: int) -> str:
        fields = []
        if self.chance(0.9):
            fields.append(f"<title>{self.plain_title()}</title>")
        if self.chance(0.08):
            fields.append(f"<dc:title>{escape(self.words(3))}</dc:title>")
        roll = self.rng.random()
        if roll < 0.45:
            fields.append(
                f"<link>https://news.example.org/{index}/story?id={index}&amp;utm_source=rss</link>"
            )
        elif roll < 0.6:
            fields.append(f"<link>/relative/{index}.html</link>")
        elif roll < 0.65:
            fields.append(f"<link>  https://news.example.org/space/{index}  </link>")
        elif roll < 0.7:
            fields.append(f"<link>https://news.example.org/q?a=1&amp;amp;b=2&amp;c;={index}</link>")
        elif roll < 0.73:
            fields.append('<atom:link rel="alternate" href="/via-atom-link"/>')
        roll = self.rng.random()
        if roll < 0.25:
            fields.append(
                f'<guid isPermaLink="false">urn:story:{index % 3 if self.chance(0.3) else index}</guid>'
            )
        elif roll < 0.4:
            fields.append(f"<guid>https://news.example.org/p/{index}</guid>")
        elif roll < 0.5:
            fields.append(f"<guid>p{index}</guid>")
        elif roll < 0.55:
            fields.append(
                f'<guid isPermaLink="{self.rng.choice(["true", "True", "FALSE"])}">/rel/{index}</guid>'
            )
        if self.chance(0.75):
            fields.append(f"<description>{self.rss_text(self.html())}</description>")
        elif self.chance(0.3):
            fields.append(f"<description>{escape(self.words(8))}</description>")
        if self.chance(0.08):
            fields.append(f"<description>{escape(self.words(4))} second</description>")
        if self.chance(0.3):
            fields.append(f"<content:encoded>{self.rss_text(self.html() * 2)}</content:encoded>")
        if self.chance(0.08):
            fields.append(f"<itunes:summary>{escape(self.words(6))}</itunes:summary>")
        if self.chance(0.1):
            fields.append(
                f"<media:group><media:title>{escape(self.words(3))}</media:title>"
                f"<media:description>{escape(self.words(5))}</media:description>"
                f'<media:content url="https://img.example.org/{index}.jpg"/></media:group>'
            )
        if self.chance(0.7):
            fields.append(f"<pubDate>{self.date()}</pubDate>")
        if self.chance(0.2):
            fields.append(f"<dc:date>{self.date()}</dc:date>")
        roll = self.rng.random()
        if roll < 0.3:
            fields.append(f"<dc:creator>{escape(self.words(2))}</dc:creator>")
        elif roll < 0.42:
            fields.append("<author>desk@example.org (News Desk)</author>")
        elif roll < 0.47:
            fields.append("<author>desk@example.org</author><dc:creator>Second Voice</dc:creator>")
        if self.chance(0.2):
            fields.append(f"<dc:language>{self.rng.choice(['uk', 'ru', 'en-GB', 'de', ''])}</dc:language>")
        if self.chance(0.4):
            fields.append("<category>Diplomacy</category><category domain='x'>Talks</category>")
        if self.chance(0.2):
            fields.append(
                f'<enclosure url="https://img.example.org/{index}.jpg" length="1" type="image/jpeg"/>'
            )
        if self.chance(0.2):
            fields.append(f'<media:thumbnail url="https://img.example.org/{index}.jpg"/>')
        if self.chance(0.1):
            fields.append(f'<source url="https://other.example.com/rss">Other {index}</source>')
        if self.chance(0.1):
            fields.append("<comments>https://news.example.org/c</comments><slash:comments>4</slash:comments>")
        if self.chance(0.05):
            fields.append("<feedburner:origLink>https://origin.example.org/x</feedburner:origLink>")
        self.rng.shuffle(fields)
        base = ' xml:base="https://mirror.example.net/rss/"' if self.chance(0.08) else ""
        return f"<item{base}>" + "".join(fields) + "</item>"

    def rss(self, count: int) -> str:
        items = "\n".join(self.rss_item(index) for index in range(count))
        language = (
            f"<language>{self.rng.choice(['uk', 'ru-RU', 'en', 'EN-us', 'en_GB'])}</language>"
            if self.chance(0.6)
            else ""
        )
        image = (
            (
                "<image><url>https://news.example.org/logo.png</url><title>Logo</title>"
                "<link>https://news.example.org/</link></image>"
            )
            if self.chance(0.3)
            else ""
        )
        version = self.rng.choice(["2.0", "2.0", "0.92", "0.91"])
        return (
            f'<rss version="{version}" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" '
            'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
            'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">'
            f"<channel><title>Desk</title><link>https://news.example.org/</link><description>d</description>"
            f'{language}{image}<atom:link rel="self" href="https://news.example.org/feed.xml"/>'
            f"{items}</channel></rss>"
        )

    # --- Atom 1.0 -----------------------------------------------------------------------------

    def atom_text(self, tag: str) -> str:
        kind = self.rng.choice(["text", "html", "xhtml", None])
        if kind == "html":
            return f'<{tag} type="html">{escape(self.html())}</{tag}>'
        if kind == "xhtml":
            return (
                f'<{tag} type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(self.words(5))}</p>'
                f'<p><b>{escape(self.words(2))}</b> &amp; <a href="x">link</a><br/>after</p></div></{tag}>'
            )
        attribute = ' type="text"' if kind else ""
        return f"<{tag}{attribute}>{escape(self.words(self.rng.randint(2, 8)))} &amp; co</{tag}>"

    def atom_entry(self, index: int) -> str:
        fields = []
        if self.chance(0.9):
            fields.append(self.atom_text("title"))
        if self.chance(0.85):
            prefix = self.rng.choice(
                ["urn:uuid:", "tag:news.example.org,2024:", "https://news.example.org/e/", ""]
            )
            fields.append(f"<id>{prefix}{index}</id>")
        roll = self.rng.random()
        if roll < 0.45:
            fields.append(
                f'<link rel="alternate" type="text/html" href="/{index}/story?utm_medium=rss&amp;x={index}"/>'
            )
        elif roll < 0.6:
            fields.append(f'<link href="https://news.example.org/{index}"/>')
        elif roll < 0.7:
            fields.append(
                f'<link rel="enclosure" href="/{index}.mp3"/>'
                f'<link rel="alternate" href="{index}.html" xml:base="/deep/path/"/>'
            )
        elif roll < 0.75:
            fields.append(f'<link rel="alternate" type="application/pdf" href="/{index}.pdf"/>')
        if self.chance(0.6):
            fields.append(self.atom_text("summary"))
        if self.chance(0.4):
            fields.append(self.atom_text("content"))
        if self.chance(0.05):
            fields.append(self.atom_text("summary"))
        if self.chance(0.7):
            fields.append(f"<published>{self.date()}</published>")
        if self.chance(0.7):
            fields.append(f"<updated>{self.date()}</updated>")
        roll = self.rng.random()
        if roll < 0.35:
            fields.append(f"<author><name>{escape(self.words(2))}</name></author>")
        elif roll < 0.5:
            fields.append("<author><name>Olena</name><email>o@example.org</email><uri>/team/o</uri></author>")
        elif roll < 0.55:
            fields.append("<author><email>only@example.org</email></author>")
        elif roll < 0.6:
            fields.append(
                "<author><name>First</name></author><author><email>second@example.org</email></author>"
            )
        elif roll < 0.63:
            fields.append("<author><uri>https://news.example.org/team</uri></author>")
        if self.chance(0.3):
            fields.append('<category term="talks"/>')
        if self.chance(0.1):
            fields.append(
                "<source><id>urn:src</id><title>Source title</title>"
                "<author><name>Source Author</name></author><link href='https://src.example.com/'/>"
                "<updated>2024-01-01T00:00:00Z</updated></source>"
            )
        self.rng.shuffle(fields)
        language = f' xml:lang="{self.rng.choice(["uk", "ru", "en-US", ""])}"' if self.chance(0.3) else ""
        base = ' xml:base="https://mirror.example.net/sub/"' if self.chance(0.15) else ""
        return f"<entry{language}{base}>" + "".join(fields) + "</entry>"

    def atom(self, count: int) -> str:
        entries = "\n".join(self.atom_entry(index) for index in range(count))
        language = f' xml:lang="{self.rng.choice(["uk", "ru", "en"])}"' if self.chance(0.5) else ""
        base = ' xml:base="https://news.example.org/base/"' if self.chance(0.3) else ""
        return (
            f'<feed xmlns="http://www.w3.org/2005/Atom"{language}{base}><title>Desk</title>'
            '<id>urn:feed</id><updated>2024-06-01T00:00:00Z</updated><link href="/"/>'
            f"<author><name>Desk</name></author>{entries}</feed>"
        )

    # --- RSS 1.0 ------------------------------------------------------------------------------

    def rdf_item(self, index: int) -> str:
        fields = []
        if self.chance(0.9):
            fields.append(f"<title>{self.plain_title()}</title>")
        if self.chance(0.8):
            fields.append(f"<link>https://news.example.org/rdf/{index}</link>")
        if self.chance(0.8):
            fields.append(f"<description>{self.rss_text(self.html())}</description>")
        if self.chance(0.1):
            fields.append(f"<dc:description>{escape(self.words(5))}</dc:description>")
        if self.chance(0.7):
            fields.append(f"<dc:date>{self.date()}</dc:date>")
        if self.chance(0.5):
            fields.append(f"<dc:creator>{escape(self.words(2))}</dc:creator>")
        if self.chance(0.3):
            fields.append("<dc:subject>talks</dc:subject>")
        self.rng.shuffle(fields)
        about = f' rdf:about="https://news.example.org/rdf/{index}"' if self.chance(0.8) else ""
        return f"<item{about}>" + "".join(fields) + "</item>"

    def rdf(self, count: int) -> str:
        items = "\n".join(self.rdf_item(index) for index in range(count))
        language = f"<dc:language>{self.rng.choice(['uk', 'ru'])}</dc:language>" if self.chance(0.5) else ""
        return (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<channel rdf:about="https://news.example.org/"><title>Desk</title>'
            f"<link>https://news.example.org/</link><description>d</description>{language}"
            '<items><rdf:Seq><rdf:li rdf:resource="https://news.example.org/rdf/0"/></rdf:Seq></items>'
            f"</channel>{items}</rdf:RDF>"
        )


ENCODINGS = [  # (codec, declared in the document, byte order mark)
    ("utf-8", True, False),
    ("utf-8", False, False),
    ("utf-8", True, True),
    ("windows-1251", True, False),
    ("koi8-r", True, False),
    ("utf-16-le", True, True),
    ("utf-16-be", True, True),
]
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "rdf": "application/rdf+xml"}


def generate_feed(seed: int) -> tuple[bytes, dict[str, str], str]:
    """One well-formed feed: format, fields, encoding and headers all drawn from ``seed``."""
    rng = random.Random(seed)
    generator = Generator(rng, rng.choice(["en", "uk", "ru"]))
    kind = rng.choice(["rss", "atom", "rdf"])
    text = getattr(generator, kind)(rng.randint(0, 6))
    codec, declared, bom = rng.choice(ENCODINGS)
    if codec in ("windows-1251", "koi8-r"):
        for word, replacement in SINGLE_BYTE_SAFE.items():
            text = text.replace(word, replacement)
        text = text.replace("’", "'").replace("“", '"').replace("”", '"')
        text = text.encode(codec, "ignore").decode(codec)  # e.g. Ukrainian "і" has no KOI8-R code
    label = "utf-16" if codec.startswith("utf-16") else codec
    declaration = f'<?xml version="1.0" encoding="{label}"?>\n' if declared else ""
    body = (declaration + text).encode(codec)
    if bom:
        body = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[
            codec
        ] + body
    headers = {"content-type": MEDIA_TYPES[kind]}
    roll = rng.random()
    if roll < 0.15 and not codec.startswith("utf-16"):
        headers["content-type"] = "text/xml"  # RFC 3023: US-ASCII unless said otherwise
    elif roll < 0.25:
        headers["content-type"] = f"application/xml; charset={label}"
    elif roll < 0.3:
        headers = {}
    if rng.random() < 0.1:
        headers["content-language"] = rng.choice(["uk", "en-US"])
    return body, headers, f"https://news.example.org/feeds/{kind}/{seed}.xml"


def test_the_generator_covers_the_interesting_cases() -> None:
    """The differential test is only as good as its feeds: check they hold what we claim."""
    entries = [
        entry
        for seed in range(GENERATED_FEEDS)
        for entry in parse_with_feedparser(*generate_feed(seed)).entries
    ]
    formats = {parse_with_feedparser(*generate_feed(seed)).format for seed in range(60)}
    assert {"rss20", "atom10", "rss10"} <= formats
    assert len(entries) > 600
    assert sum(entry.title_html for entry in entries) > 50
    assert sum(bool(entry.content) and entry.content_html for entry in entries) > 50
    assert sum(entry.published is not None for entry in entries) > 200
    assert sum(entry.language is not None for entry in entries) > 100
    assert sum(entry.link is not None and "mirror.example.net" in entry.link for entry in entries) > 5
    assert sum(not entry.title for entry in entries) > 20


@pytest.mark.parametrize("seed", range(GENERATED_FEEDS))
def test_fast_path_matches_feedparser_on_generated_feeds(seed: int) -> None:
    body, headers, url = generate_feed(seed)
    fast = parse_fast(body, headers, url)
    assert fast is not None, f"seed {seed}: the fast path declined a well-formed feed"
    assert_same_items(fast, parse_with_feedparser(body, headers, url), f"seed {seed}")


# =====================================================================================================
# Pooled oddities: entries assembled at random from a pool of valid but unusual elements (repeated
# titles and descriptions, media groups, empty elements, unknown namespaces, xml:base and xml:lang on
# anything...), where feedparser's bookkeeping (which title wins, when a description becomes content,
# which author is kept) is easiest to get wrong.
# =====================================================================================================

RSS_POOL = [
    "<title>Talks &amp; truce</title>",
    "<title></title>",
    "<title>   </title>",
    "<title>Second title</title>",
    "<dc:title>DC title</dc:title>",
    "<media:title>Media title</media:title>",
    "<media:group><media:title>Group title</media:title>"
    "<media:description>Group &lt;b&gt;text&lt;/b&gt;</media:description></media:group>",
    "<media:content url='https://img.example.org/y.jpg'><media:title>MC title</media:title>"
    "<media:description type='plain'>MC text</media:description></media:content>",
    "<link>https://a.example.org/1</link>",
    "<link/>",
    "<link>rel/2</link>",
    "<link href='https://h.example.org/x'/>",
    "<link>https://a.example.org/q?x=1&amp;amp;y=2&amp;z;w</link>",
    "<atom:link href='https://al.example.org/alt'/>",
    "<atom:link rel='self' href='https://al.example.org/self'/>",
    "<atom:link rel='alternate' type='application/json' href='https://al.example.org/json'/>",
    "<guid>g-1</guid>",
    "<guid isPermaLink='false'>g-2</guid>",
    "<guid></guid>",
    "<guid isPermaLink='true'>https://g.example.org/3</guid>",
    "<guid isPermaLink='True'>g-4</guid>",
    "<description>Plain text</description>",
    "<description><![CDATA[<p>CDATA <b>text</b></p>]]></description>",
    "<description/>",
    "<description>&lt;p&gt;escaped&lt;/p&gt;</description>",
    "<content:encoded><![CDATA[<p>Encoded body</p>]]></content:encoded>",
    "<content:encoded/>",
    "<summary>Summary element</summary>",
    "<itunes:summary>Podcast summary &amp; notes</itunes:summary>",
    "<itunes:subtitle>sub</itunes:subtitle>",
    "<itunes:author>Podcast Author</itunes:author>",
    "<author>desk@example.org (Desk Name)</author>",
    "<author>Plain Name</author>",
    "<dc:creator>Creator</dc:creator>",
    "<managingEditor>editor@example.org</managingEditor>",
    "<dc:contributor>Contributor</dc:contributor>",
    "<pubDate>Tue, 04 Jun 2024 10:00:00 GMT</pubDate>",
    "<pubDate>garbage</pubDate>",
    "<dc:date>2024-05-01T00:00:00Z</dc:date>",
    "<dcterms:modified>2024-05-02T00:00:00Z</dcterms:modified>",
    "<dcterms:issued>2024-05-03</dcterms:issued>",
    "<date>2024-05-09</date>",
    "<language>de</language>",
    "<dc:language>fr</dc:language>",
    "<dc:language></dc:language>",
    "<category>c</category>",
    "<enclosure url='https://e.example.org/a.mp3' type='audio/mpeg'/>",
    "<comments>https://c.example.org/</comments>",
    "<source url='https://s.example.org/rss'>Source</source>",
    "<media:thumbnail url='https://t.example.org/t.jpg'/>",
    "<foo:bar xmlns:foo='http://unknown.example/ns'>unknown</foo:bar>",
    "<foo:title xmlns:foo='http://unknown.example/ns'>unknown title</foo:title>",
    "<title xml:lang='uk'>Заголовок</title>",
    "<description xml:lang='ru'>Описание</description>",
    "<title>Ã©tÃ© &#150; &#x80;</title>",
    "<description>mojibake Ã© and C1 &#147;quotes&#148;</description>",
]
ATOM_POOL = [
    "<title>Plain</title>",
    "<title type='html'>&lt;i&gt;Marked&lt;/i&gt; up</title>",
    "<title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>X <b>bold</b></div></title>",
    "<title/>",
    "<id>urn:a:1</id>",
    "<id>rel-id</id>",
    "<id></id>",
    "<id>https://id.example.org/1</id>",
    "<link href='https://l.example.org/1'/>",
    "<link rel='alternate' href='rel/1'/>",
    "<link rel='related' href='https://l.example.org/r'/>",
    "<link rel='ALTERNATE' href='https://l.example.org/u'/>",
    "<link href=''/>",
    "<link>text link</link>",
    "<link rel='alternate' href='b/1' xml:base='https://base.example/d/'/>",
    "<summary>S plain</summary>",
    "<summary type='html'>&lt;p&gt;S html&lt;/p&gt;</summary>",
    "<summary type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>S xhtml</p></div></summary>",
    "<summary/>",
    "<content>C plain</content>",
    "<content type='html'>&lt;p&gt;C html&lt;/p&gt;</content>",
    "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>C <em>x</em></p>"
    "<ul><li>l</li></ul></div>"
    "</content>",
    "<content src='https://src.example.org/c' type='text/html'/>",
    "<published>2024-06-01T10:00:00Z</published>",
    "<updated>2024-06-02T10:00:00+02:00</updated>",
    "<published>bad</published>",
    "<author><name>N1</name></author>",
    "<author><name>N2</name><email>n2@example.org</email></author>",
    "<author><email>e3@example.org</email></author>",
    "<author><uri>https://u.example.org/</uri></author>",
    "<author/>",
    "<contributor><name>Cn</name></contributor>",
    "<source><title>Source title</title><id>urn:s</id><link href='https://s.example.org/'/>"
    "<author><name>Source author</name></author></source>",
    "<dc:language>pl</dc:language>",
    "<dc:creator>DC creator</dc:creator>",
    "<media:group><media:description>MD</media:description></media:group>",
    "<title xml:lang=''>Reset language</title>",
    "<summary xml:lang='de' type='text'>Deutsch</summary>",
]
POOL_NAMESPACES = (
    "xmlns:content='http://purl.org/rss/1.0/modules/content/' xmlns:dc='http://purl.org/dc/elements/1.1/' "
    "xmlns:dcterms='http://purl.org/dc/terms/' xmlns:media='http://search.yahoo.com/mrss/' "
    "xmlns:atom='http://www.w3.org/2005/Atom' xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd'"
)
POOLED_FEEDS = 200


def pooled_feed(seed: int) -> tuple[bytes, dict[str, str], str]:
    rng = random.Random(seed)
    atom = rng.random() < 0.5
    pool = ATOM_POOL if atom else RSS_POOL
    entry_attributes = ["", "", " xml:base='https://eb.example.org/e/'", " xml:lang='uk'", " lang='fi'"]
    tag = "entry" if atom else "item"
    entries = "".join(
        f"<{tag}{rng.choice(entry_attributes)}>"
        + "".join(rng.choice(pool) for _ in range(rng.randint(0, 9)))
        + f"</{tag}>"
        for _ in range(rng.randint(1, 4))
    )
    root_attributes = rng.choice(["", " xml:lang='pt'", " xml:base='https://root.example.org/base/'"])
    if atom:
        text = (
            f"<feed xmlns='http://www.w3.org/2005/Atom'{root_attributes} {POOL_NAMESPACES}>"
            f"<title>F</title><id>urn:f</id>{entries}</feed>"
        )
    else:
        channel = rng.choice(
            [
                "",
                "<language>en</language>",
                "<dc:language>ru</dc:language>",
                "<itunes:summary>podcast</itunes:summary>",
                "<image><url>u</url><title>i</title></image>",
            ]
        )
        text = (
            f"<rss version='2.0'{root_attributes} {POOL_NAMESPACES}><channel><title>C</title>{channel}"
            f"{entries}</channel></rss>"
        )
    headers = rng.choice(
        [
            {"content-type": "application/xml"},
            {"content-type": "text/xml; charset=utf-8"},
            {"content-type": "application/rss+xml", "content-language": "en_US"},
        ]
    )
    return text.encode(), headers, "https://feed.example.org/path/feed.xml"


@pytest.mark.parametrize("seed", range(POOLED_FEEDS))
def test_fast_path_matches_feedparser_on_pooled_oddities(seed: int) -> None:
    body, headers, url = pooled_feed(seed)
    fast = parse_fast(body, headers, url)
    assert fast is not None, f"seed {seed}: the fast path declined a well-formed feed"
    assert_same_items(fast, parse_with_feedparser(body, headers, url), f"pooled seed {seed}")


# =====================================================================================================
# The shortcut for <author><name>...</name></author>
# =====================================================================================================

_AUTHOR_CASES = [
    "<author><name>Olena Koval</name></author>",
    "<author><name>Olena Koval</name></author>"
    "<author><name>Ivan</name><email>ivan@example.org</email></author>",
    "<author><name>Ivan</name><email>ivan@example.org</email></author><author><name>Olena</name></author>",
    "<author><name>  </name></author>",
    "<author> by <name>Olena</name> desk </author>",
    "<author><name>Olena</name></author><dc:creator>editor@example.org (Desk)</dc:creator>",
    "<dc:creator>Desk</dc:creator><author><name>Olena</name></author>",
    "<source><author><name>Wire</name></author></source><author><name>Olena</name></author>",
]


@pytest.mark.parametrize("authors", _AUTHOR_CASES)
def test_author_name_shortcut_matches_feedparser(authors: str) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<title>t</title><id>urn:feed</id>"
        f"<entry><title>One</title><id>urn:uuid:1</id>{authors}"
        "<updated>2024-06-01T10:00:00Z</updated></entry></feed>"
    ).encode()
    headers = {"content-type": "application/atom+xml"}
    fast = parse_fast(body, headers, "https://feeds.example.org/a.atom")
    assert fast is not None
    reference = parse_with_feedparser(body, headers, "https://feeds.example.org/a.atom")
    assert fast.entries[0].author == reference.entries[0].author
    assert_same_items(fast, reference, authors)
