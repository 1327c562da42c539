"""The benchmark's feed farm: hundreds of realistic, deterministic feeds generated in memory.

``generate_farm(500)`` builds 500 feeds (60% RSS 2.0, 30% Atom 1.0, 10% JSON Feed 1.1) of 30-100 items each,
with news-like text about diplomacy, the war, markets and sport: about 32,000 items and 65-70 MB. About a
tenth of the items are carried by 2-5 feeds at once, either as wire copy (the agency's link, tagged with
each carrier's utm parameters) or as syndicated text (the same title and summary under the carrier's own
link). The same seed and ``now`` always give the same bytes.

By hand: ``python bench/farm.py --feeds 500 --serve`` serves the farm on 127.0.0.1 and prints its address.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import signal
import string
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from aggregator.demo.server import Document, StaticFeedServer

__all__ = ["Farm", "generate_farm"]

FORMAT_SHARES = (("rss", 0.6), ("atom", 0.3), ("json", 0.1))
SHARED_FRACTION = 0.10  # of all items, carried by more than one feed
SHARED_COPIES = (2, 5)  # feeds per shared story
SHARED_TOPICS = ("diplomacy", "diplomacy", "war", "markets", "sports")
WIRE_SHARE = 0.6  # of shared stories, wire copy; the rest are syndicated text
WINDOW = timedelta(days=30)  # items are published within this long before ``now``
SENTENCE_POOL_SIZE = 3000  # filled sentences per topic; items draw from these
PARAGRAPH_POOL_SIZE = 3000  # paragraphs of 3-5 of those sentences, per topic
TITLE_WORDS = (8, 15)

SUFFIXES = {"rss": "xml", "atom": "atom", "json": "json"}
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@dataclass(frozen=True)
class Farm:
    documents: dict[str, Document]  # path -> feed, in feed_paths order
    feed_paths: list[str]
    total_items: int
    total_bytes: int


# --- vocabulary --------------------------------------------------------------------------------------
# Templates name their slots after these lists. A capitalised slot ({Official}) starts a sentence; a digit
# suffix ({country2}) draws a second, different value from the same list; a repeated name repeats a value.

# Numbers are drawn fresh each time, which keeps otherwise similar headlines apart.
NUMBERS: dict[str, Callable[[random.Random], str]] = {
    "drones": lambda rng: str(rng.randint(7, 420)),
    "pct": lambda rng: f"{rng.uniform(0.1, 6.0):.1f}",
    "rate": lambda rng: f"{rng.uniform(74.0, 98.0):.2f}",
    "minutes": lambda rng: str(rng.randint(40, 300)),
    "days": lambda rng: str(rng.randint(10, 60)),
    "hours": lambda rng: str(rng.randint(2, 14)),
    "attacks": lambda rng: str(rng.randint(3, 45)),
    "blocks": lambda rng: str(rng.randint(2, 40)),
    "homes": lambda rng: f"{rng.randint(12, 950) * 100:,}",
    "key_rate": lambda rng: f"{rng.randint(20, 84) / 4:.2f}",
    "fine": lambda rng: f"{rng.randint(5, 250) * 1000:,}",
}

# Word lists read best packed.
# fmt: off
VOCABULARY: dict[str, tuple[str, ...]] = {
    # Headline words: shorter than their counterparts in running text.
    "source": (
        "Kremlin", "Kyiv", "White House", "US envoy", "EU envoy", "NATO chief", "Turkish minister",
        "UN chief", "Ukrainian negotiator", "Russian diplomat", "Berlin", "Paris", "Warsaw", "Ankara",
        "Vatican envoy",
    ),
    "deal_short": (
        "a ceasefire", "prisoner exchanges", "deported children", "the nuclear plant", "Black Sea shipping",
        "humanitarian corridors", "returning the fallen", "an energy truce", "security guarantees",
        "sanctions relief",
    ),
    "factor_short": (
        "sanctions fears", "ceasefire hopes", "weak China data", "a rate surprise", "higher oil duties",
        "a hawkish central bank", "refinery attacks", "strong earnings", "falling commodities",
        "peace-deal talk", "rising yields", "tariff threats",
    ),
    # Running text.
    "official": (
        "the Kremlin spokesman", "a senior Kremlin aide", "the Ukrainian foreign minister",
        "the head of the Ukrainian presidential office", "the US special envoy",
        "a State Department spokesperson", "the Turkish foreign minister", "a senior EU diplomat",
        "the NATO secretary general", "a UN spokesperson", "the Swiss foreign ministry",
        "a Saudi official close to the preparations", "the German chancellor",
        "the French president's diplomatic adviser", "a Qatari mediator", "a senior Ukrainian negotiator",
        "the Russian deputy foreign minister", "the Polish prime minister", "a White House official",
        "the Finnish president", "the Vatican's special envoy",
    ),
    "venue": (
        "Istanbul", "Geneva", "Vienna", "Riyadh", "Doha", "Helsinki", "Ankara", "Oslo", "Zürich",
        "Abu Dhabi", "Jeddah", "Minsk", "Brussels", "Budapest", "Rome",
    ),
    "capital": (
        "Kyiv", "Moscow", "Washington", "Beijing", "Berlin", "Paris", "London", "Warsaw", "Ankara",
        "Brussels", "Tallinn", "Vilnius", "Riga", "Bratislava", "Prague",
    ),
    "front_city": (
        "Kharkiv", "Zaporizhzhia", "Dnipro", "Odesa", "Sumy", "Kherson", "Pokrovsk", "Kramatorsk",
        "Mykolaiv", "Chernihiv", "Kostiantynivka", "Belgorod", "Kursk", "Bryansk", "Rostov-on-Don",
    ),
    "region": (
        "Kharkiv", "Zaporizhzhia", "Dnipropetrovsk", "Odesa", "Sumy", "Kherson", "Donetsk", "Mykolaiv",
        "Chernihiv", "Poltava", "Kyiv", "Khmelnytskyi",
    ),
    "ru_region": (
        "Belgorod", "Kursk", "Bryansk", "Voronezh", "Rostov", "Krasnodar", "Tambov", "Oryol", "Lipetsk",
    ),
    "country": (
        "Russia", "Ukraine", "the United States", "Turkey", "China", "India", "Brazil", "Saudi Arabia",
        "Qatar", "Switzerland", "Poland", "Germany", "France", "Hungary", "Slovakia", "Japan",
        "the United Kingdom",
    ),
    "weekday": (
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ),
    "ordinal": (
        "second", "third", "fourth", "fifth", "sixth", "seventh", "next", "latest",
    ),
    "small": (
        "two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve",
    ),
    "count": (
        "84", "120", "150", "200", "250", "300", "390", "500", "640", "1,000", "1,200", "6,000",
    ),
    "direction": (
        "higher", "lower", "flat", "sharply higher", "slightly lower", "modestly higher",
    ),
    "index": (
        "the MOEX index", "the RTS index", "the Stoxx 600", "the S&P 500", "the Nikkei 225", "the DAX",
        "the FTSE 100", "the Warsaw WIG20", "the Hang Seng", "the Nasdaq Composite",
    ),
    "commodity": (
        "Brent crude", "West Texas Intermediate", "wheat futures", "gold", "natural gas in Europe", "copper",
        "Urals crude", "aluminium", "palladium", "sunflower oil",
    ),
    "currency": (
        "the rouble", "the hryvnia", "the euro", "the yuan", "the Polish zloty", "the Turkish lira",
    ),
    "company": (
        "Northwind Energy", "Kestrel Logistics", "Polar Metals", "Baltic Grain Holdings",
        "Steppe Fertilisers", "Granite Rail", "Aurora Telecom", "Volna Shipping", "Ironbridge Steel",
        "Silverline Bank", "Meridian Airlines", "Tundra Gas", "Harbour Chemicals", "Beacon Retail",
    ),
    "factor": (
        "the prospect of new sanctions", "hopes for a ceasefire", "weaker factory data from China",
        "a surprise rate decision", "higher oil export duties", "the central bank's hawkish tone",
        "renewed drone attacks on refineries", "strong quarterly earnings", "a slide in commodity prices",
        "talk of a peace deal", "rising bond yields", "a tariff threat from Washington",
    ),
    "team": (
        "Northbridge United", "Castellan FC", "Riverside Rovers", "Dynamo Steppe", "Sporting Harbour",
        "Atletico Valmora", "Red Star Kestrel", "Olympic Granite", "Union Brightwater", "FC Polar",
        "Metalist Iron", "Zenith Lakes", "Shakhtar Valley", "Real Montclair", "Inter Lindholm",
    ),
    "competition": (
        "the cup", "the league", "the Champions League qualifiers", "the Europa League", "the national cup",
        "the Conference League", "the pre-season tournament",
    ),
    "cup_round": (
        "first round", "second round", "round of 32", "round of 16", "quarter-finals", "semi-finals",
        "fourth round", "third qualifying round",
    ),
    "draw_score": (
        "0-0", "1-1", "2-2", "3-3",
    ),
    "updown": (
        "higher", "lower",
    ),
    "period": (
        "first-quarter", "second-quarter", "third-quarter", "half-year", "full-year",
    ),
    "score": (
        "1-0", "2-1", "3-1", "2-2", "0-0", "4-2", "3-0", "1-1", "2-0", "5-1",
    ),
    "player": (
        "the veteran striker", "the 19-year-old winger", "the club captain", "the new signing from Portugal",
        "the goalkeeper", "the Brazilian midfielder", "the substitute", "the left-back",
        "the Ukrainian forward",
    ),
    "coach": (
        "the head coach", "the caretaker manager", "the sporting director", "the new manager",
    ),
    "deal_topic": (
        "a ceasefire along the front line", "the exchange of prisoners of war",
        "the return of deported children", "the safety of the Zaporizhzhia nuclear plant",
        "shipping in the Black Sea", "humanitarian corridors", "the repatriation of bodies",
        "a moratorium on strikes against energy facilities", "security guarantees for Ukraine",
        "the lifting of some sanctions",
    ),
    "other_talks": (
        "US-China trade talks", "talks on the Iran nuclear programme", "negotiations on a Gaza ceasefire",
        "the Armenia-Azerbaijan border talks", "the Serbia-Kosovo dialogue",
        "the WTO fisheries negotiations",
    ),
    "weapon": (
        "Shahed-type drones", "cruise missiles", "glide bombs", "ballistic missiles", "artillery",
        "long-range drones", "multiple rocket launchers",
    ),
    "target": (
        "an energy facility", "a railway depot", "an oil refinery", "a grain terminal", "a power substation",
        "an ammunition depot", "a fuel storage site", "a bridge", "an airfield",
    ),
}
OUTLET_WORDS = (
    "Herald", "Courier", "Dispatch", "Ledger", "Observer", "Chronicle", "Gazette", "Monitor", "Post", "Wire",
    "Tribune", "Review", "Sentinel", "Journal", "Bulletin", "Standard", "Times", "Report",
)
OUTLET_PLACES = (
    "Baltic", "Danube", "Northern", "Eastern", "Atlantic", "Carpathian", "Black Sea", "Capital", "Lakeside",
    "Continental", "Harbour", "Steppe", "Alpine", "Riverside", "Metro", "Coastal", "Highland", "Union",
)
AUTHORS = (
    "Anna Kovalenko", "Mark Ellison", "Olena Hrytsenko", "Pavel Sokolov", "Claire Dumont", "Tomasz Nowak",
    "Sarah Whitfield", "Mehmet Yıldız", "Lukas Berger", "Irina Petrova", "James O'Connell", "Marta Sánchez",
    "Dmytro Bondar", "Helen Ashby", "Jonas Lindqvist", "Chen Wei",
)
SUBHEADINGS = (
    "What happens next", "Background", "Reaction", "The numbers", "Why it matters", "Context",
)
ANCHORS = (
    "read more", "full story", "background", "our live coverage", "earlier report", "analysis", "explainer",
    "more on this story",
)
# fmt: on

TOPIC_SENTENCES: dict[str, tuple[str, ...]] = {
    "diplomacy": (
        "{Official} said on {weekday} that a {ordinal} round of direct talks could take place in {venue}.",
        "{Official} told reporters in {capital} that no date had yet been agreed for the meeting.",
        "Delegations are expected to discuss {deal_topic} and {deal_topic2}, according to a draft agenda.",
        "{Official} described the previous meeting in {venue} as difficult but useful.",
        "Diplomats in {capital} said the two sides remained far apart on the question of {deal_topic}.",
        "{Official} warned that {country} would not accept preconditions for the negotiations.",
        "The talks in {venue} lasted less than {small} hours, according to people familiar with them.",
        "Both sides agreed to exchange {count} prisoners of war in the coming weeks, {official} said.",
        "{Official} said working groups would continue technical consultations on {deal_topic}.",
        "The United States has threatened new sanctions if no progress is made within {small} weeks.",
        "{Official} said Washington was ready to host a follow-up meeting if both sides agreed.",
        "The memorandum handed over in {venue} sets out conditions for {deal_topic}, {official} said.",
        "A spokesperson for the host government said security around the venue had been tightened.",
        "{Official} said the previous exchange of prisoners had shown that agreements were still possible.",
        "European governments are preparing a {ordinal} sanctions package aimed at energy revenues.",
        "Observers from {country} and {country2} attended the opening session, diplomats said.",
        "In a separate development, {other_talks} resumed in {venue} after a pause of several weeks.",
        "Analysts in {capital} said the main obstacle remained the status of the occupied territories.",
        "{Official} declined to say whether the two presidents might meet later in the year.",
        "Ministers from {country} and {country2} held a phone call on {weekday} to prepare the meeting.",
        "The foreign ministry in {capital} summoned the ambassador of {country} over the remarks.",
        "{Official} said the humanitarian track, including {deal_topic}, was the most advanced.",
    ),
    "war": (
        "Air defences shot down {drones} drones overnight over the {region} region, the military said.",
        "Russian forces attacked {target} near {front_city} with {weapon}, regional officials said.",
        "Ukrainian long-range drones struck {target} in the {ru_region} region, according to local reports.",
        "Shelling damaged {small} residential buildings in {front_city} on {weekday}, the city council said.",
        "The governor of the {region} region said power had been restored to most households by the morning.",
        "Fighting continued along the front line near {front_city}, the general staff said in its update.",
        "Emergency services said {small} people were injured and dozens of windows were blown out.",
        "The defence ministry in {capital} said its troops had repelled {small} attacks in the past day.",
        "Rail traffic through {front_city} was briefly suspended after the strike on {target}.",
        "Military analysts said the pace of advances in the {region} region had slowed in recent weeks.",
        "A curfew was extended in {front_city} as authorities cleared debris from the overnight attack.",
        "Local officials reported a fire at {target} that was brought under control after several hours.",
        "The air force said it had intercepted {drones} of the launched {weapon} and several missiles.",
        "Residents of {front_city} spent much of the night in shelters as air raid sirens sounded again.",
        "Deminers have cleared more than {count} hectares of farmland in the {region} region this year.",
    ),
    "markets": (
        "{Index} closed {direction} on {weekday}, with energy and bank shares leading the moves.",
        "The rouble traded at {rate} per US dollar as exporters sold foreign currency ahead of tax payments.",
        "Investors weighed {factor} against the latest inflation figures, traders in {capital} said.",
        "{Commodity} rose {pct}% in afternoon trading on {factor}.",
        "{Commodity} fell {pct}% as traders took profits after a three-day rally.",
        "Shares in {company} gained {pct}% after the company reported better-than-expected results.",
        "Shares in {company} dropped {pct}% after it cut its full-year forecast, citing {factor}.",
        "The central bank left its key rate unchanged and said it would keep policy tight for longer.",
        "Trading volumes on the exchange were about {pct}% below the monthly average, brokers said.",
        "Analysts at a {capital}-based brokerage expect {currency} to stay in a narrow range this month.",
        "Government bond yields edged up {pct} basis points after a weaker-than-expected auction.",
        "{Company} said it would pay an interim dividend for the first time in {small} years.",
        "The finance ministry said budget revenue from oil and gas fell {pct}% from a year earlier.",
        "Strategists said {factor} would keep volatility elevated until the end of the quarter.",
    ),
    "sports": (
        "{Team} beat {team} {score} in the {cup_round} of {competition} on {weekday} evening.",
        "{Player} scored twice as {team} came from behind to win {score}.",
        "{Team} and {team} drew {draw_score} in a tense match played in front of a sold-out crowd.",
        "{Coach} of {team} said the squad was tired after a long journey and a short recovery period.",
        "{Team} will face {team} in the {cup_round} after the draw was made on {weekday}.",
        "{Player} was sent off shortly before half-time, leaving {team} with ten men.",
        "Ticket sales for the {cup_round} tie opened on {weekday} and sold out within hours.",
        "{Team} confirmed the signing of {player} on a {small}-year contract.",
        "The match was delayed by {small} minutes because of heavy rain and a waterlogged pitch.",
        "{Coach} of {team} praised the youngsters who came through the club's academy.",
        "The league's disciplinary committee opened a case against {team} over crowd trouble.",
    ),
}

# Every headline has enough slots (most with a freshly drawn number) that repeats across a big farm are rare.
TOPIC_TITLES: dict[str, tuple[str, ...]] = {
    "diplomacy": (
        "{Source} says {ordinal} round of talks could open in {venue} within {days} days",
        "{Country} and {country} agree to discuss {deal_short} at {venue} meeting",
        "Delegations head to {venue} for {ordinal} round of talks on {weekday}, {source} says",
        "Talks in {venue} end after {minutes} minutes with outline deal on {deal_short}",
        "{Source} warns {country} against preconditions {days} days before {venue} talks",
        "{Source}: Moscow has {days} days to agree a ceasefire or face sanctions",
        "EU ministers in {capital} prepare {ordinal} sanctions package targeting {commodity}",
        "{Other_talks} resume in {venue} after a {days}-day pause, {source} says",
        "{Source} calls {minutes}-minute meeting in {venue} difficult but useful",
        "Prisoner exchange of {count} for {count} agreed at talks in {venue}, {source} says",
        "{Official} travels to {capital} on {weekday} to discuss {deal_short}",
        "{Country} offers to host the {ordinal} round of talks in {venue} within {days} days",
        "{Source} and {source2} discuss {deal_short} by phone on {weekday}",
        "No date yet for talks in {venue}, {source} tells reporters on {weekday}",
    ),
    "war": (
        "Air defences down {drones} drones over the {region} region on {weekday} night",
        "Strike on {target} near {front_city} injures {small} and cuts power to {homes} homes",
        "{drones} Ukrainian drones target {target} in Russia's {ru_region} region overnight",
        "Residents of {front_city} spend {hours} hours in shelters as {weapon} target the city",
        "Fighting intensifies near {front_city} as troops repel {attacks} attacks on {weekday}",
        "Curfew extended in {front_city} after {weekday} attack damages {blocks} apartment blocks",
        "{Weapon} hit {target} in {region} region for {ordinal} time this month",
        "Fire at {target} in {ru_region} region put out after {hours}-hour battle on {weekday}",
        "Rail traffic through {front_city} halted for {hours} hours after strike on {target}",
    ),
    "markets": (
        "{Index} closes {pct}% {updown} on {weekday} as investors weigh {factor_short}",
        "Rouble trades near {rate} per dollar as traders in {capital} weigh {factor_short}",
        "{Commodity} rises {pct}% on {factor_short} in a volatile {weekday} session",
        "{Commodity} slips {pct}% as traders in {capital} take profits after a rally",
        "Shares in {company} jump {pct}% on {weekday} after {period} results beat forecasts",
        "{Company} cuts full-year outlook by {pct}%, blaming {factor_short}",
        "{Company} and {company2} open merger talks as {index} ends {direction}",
        "Central bank in {capital} holds key rate at {key_rate}%, citing {factor_short}",
    ),
    "sports": (
        "{Team} beat {team} {score} on {weekday} to reach the {cup_round}",
        "{Player} scores twice as {team} beat {team2} {score}",
        "{Team} and {team} share the points in a tense {draw_score} draw on {weekday}",
        "Draw pairs {team} with {team2} in the {cup_round}",
        "{Team} sign {player} on a {small}-year contract before {competition}",
        "{Coach} of {team} defends tactics after {score} defeat in {competition}",
        "{Team} fined {fine} euros over crowd trouble at {team2} tie",
    ),
}

SECTIONS = {"diplomacy": "world", "war": "war", "markets": "business", "sports": "sport"}

FEED_BEATS: tuple[dict[str, float], ...] = (
    {"diplomacy": 0.35, "war": 0.25, "markets": 0.25, "sports": 0.15},  # general news
    {"diplomacy": 0.6, "war": 0.3, "markets": 0.1},  # foreign desk
    {"markets": 0.7, "diplomacy": 0.2, "war": 0.1},  # business paper
    {"war": 0.5, "diplomacy": 0.4, "markets": 0.1},  # war reporting
    {"sports": 0.7, "diplomacy": 0.1, "markets": 0.1, "war": 0.1},  # regional with a sports desk
)

# What a farm's feeds write about: their beats, and the topics of the stories several feeds carry. "talks":
# foreign news, a quarter of it about the talks (the classifier and the story stage busy); "general": markets
# and sport only, as most of a general news farm is (the classifier mostly turns items away)
MIXES: dict[str, tuple[tuple[dict[str, float], ...], tuple[str, ...]]] = {
    "talks": (FEED_BEATS, SHARED_TOPICS),
    "general": (({"markets": 0.6, "sports": 0.4},), ("markets", "sports")),
}


# --- stories -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedStyle:
    """How one outlet writes its feed: fixed per feed, like a real publisher's CMS."""

    format: str  # rss, atom, json
    title: str
    slug: str
    domain: str
    beat: dict[str, float]  # topic -> share of the feed's own stories
    offset: timezone  # the newsroom's local time, used in its dates
    date_style: int  # which of the format's date spellings this CMS uses
    cdata: bool  # RSS: HTML in CDATA rather than escaped
    full_content: bool  # content:encoded (RSS), <content> (Atom) or a long content_html (JSON)
    xhtml: bool  # Atom: inline XHTML content rather than escaped HTML
    guids: bool  # RSS: one feed in ten has none and relies on links
    utm: bool  # its own links carry utm parameters
    authors: bool


@dataclass(frozen=True)
class Story:
    """One story's text and look: identical in every feed that carries it, so shared copies match."""

    topic: str
    title: str
    summary_sentences: tuple[str, ...]
    paragraphs: tuple[str, ...]  # HTML-escaped paragraph texts, without the <p>
    published: datetime
    updated: datetime | None
    author: str
    slug: str
    tags: tuple[str, ...]
    anchor: str  # the text of the "read more" link
    figure: bool  # the full text opens with a picture
    quote_index: int | None  # the paragraph set as a quotation, if any
    subheading: str | None  # a subheading before the third paragraph, if any


@dataclass(frozen=True)
class Placement:
    """A story as one feed carries it."""

    story: Story
    link: str
    guid: str


_FORMATTER = string.Formatter()
_Part = tuple[str, str | None, bool]  # literal text, then a slot name (or None) and whether to capitalise


def _compile(template: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    for literal, name, _, _ in _FORMATTER.parse(template):
        if name and _vocabulary_key(name) not in VOCABULARY and name not in NUMBERS:
            raise ValueError(f"template {template!r} uses an unknown slot {name!r}")
        parts.append((literal, name or None, bool(name) and name[0].isupper()))
    return tuple(parts)


def _vocabulary_key(slot: str) -> str:
    return slot.rstrip("0123456789").lower()


class _TextMaker:
    """Fills templates from one random stream; sentences and paragraphs come from pools built up front."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._titles = {topic: [_compile(t) for t in ts] for topic, ts in TOPIC_TITLES.items()}
        sentence_templates = {topic: [_compile(t) for t in ts] for topic, ts in TOPIC_SENTENCES.items()}
        self._sentences = {
            topic: [self.fill(rng.choice(templates)) for _ in range(SENTENCE_POOL_SIZE)]
            for topic, templates in sentence_templates.items()
        }
        # Whole paragraphs are pooled too: building each one per item took half the run time.
        self._paragraphs = {
            topic: [
                _xml_text(" ".join(rng.sample(pool, rng.randint(3, 5)))) for _ in range(PARAGRAPH_POOL_SIZE)
            ]
            for topic, pool in self._sentences.items()
        }

    def fill(self, parts: tuple[_Part, ...]) -> str:
        out: list[str] = []
        chosen: dict[str, str] = {}
        for literal, name, capitalise in parts:
            out.append(literal)
            if name is None:
                continue
            word = chosen.get(name)
            if word is None:
                word = chosen[name] = self._draw(name, chosen.values())
            out.append(word[0].upper() + word[1:] if capitalise else word)
        return "".join(out)

    def _draw(self, slot: str, taken: Collection[str]) -> str:
        if slot in NUMBERS:
            return NUMBERS[slot](self.rng)
        words = VOCABULARY[_vocabulary_key(slot)]
        random_fraction = self.rng.random  # indexing by random() is several times faster than choice()
        word = words[int(random_fraction() * len(words))]
        while word in taken:  # "Turkey and Turkey" would read as a bug
            word = words[int(random_fraction() * len(words))]
        return word

    def title(self, topic: str) -> str:
        """A headline of 8-15 words; long slot values can overshoot, so draw again when they do."""
        for _ in range(50):
            title = self.fill(self.rng.choice(self._titles[topic]))
            if TITLE_WORDS[0] <= len(title.split()) <= TITLE_WORDS[1]:
                return title
        raise RuntimeError(f"no {topic} title template fits {TITLE_WORDS} words")  # a template bug

    def sentences(self, topic: str, count: int) -> tuple[str, ...]:
        # choices, not sample: several times faster, and a rare repeated sentence does no harm here
        return tuple(self.rng.choices(self._sentences[topic], k=count))

    def paragraphs(self, topic: str, count: int) -> tuple[str, ...]:
        return tuple(self.rng.choices(self._paragraphs[topic], k=count))


def _make_story(text: _TextMaker, topic: str, now: datetime, *, full: bool) -> Story:
    rng = text.rng
    title = text.title(topic)
    published = now - timedelta(seconds=rng.randrange(int(WINDOW.total_seconds())))
    updated = published + timedelta(minutes=rng.randint(5, 600)) if rng.random() < 0.15 else None
    paragraphs = text.paragraphs(topic, rng.randint(3, 6)) if full else ()
    extra_tags = rng.sample(("Europe", "Analysis", "Breaking", "Exclusive", "Live"), rng.randint(0, 2))
    return Story(
        topic=topic,
        title=title,
        summary_sentences=text.sentences(topic, rng.randint(2, 4)),
        paragraphs=paragraphs,
        published=published,
        updated=updated if updated is not None and updated <= now else None,
        author=rng.choice(AUTHORS),
        slug=_slugify(title),
        tags=(SECTIONS[topic], *extra_tags),
        anchor=rng.choice(ANCHORS),
        figure=rng.random() < 0.4,
        quote_index=1 if rng.random() < 0.3 else None,
        subheading=rng.choice(SUBHEADINGS) if rng.random() < 0.3 else None,
    )


_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(string.punctuation, " "))


def _slugify(title: str) -> str:
    """ASCII words joined by hyphens, as CMSs make URL slugs ("Zürich's" -> "zurich-s")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return "-".join(ascii_title.lower().translate(_PUNCTUATION_TO_SPACE).split()[:9])


# --- markup ------------------------------------------------------------------------------------------


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _summary_html(story: Story, link: str) -> str:
    first, *rest = story.summary_sentences
    body = _xml_text(" ".join(rest))
    return f'<p><strong>{_xml_text(first)}</strong> {body} <a href="{_attr(link)}">{story.anchor}</a></p>'


def _content_html(story: Story, link: str, domain: str) -> str:
    parts: list[str] = []
    if story.figure:
        parts.append(
            f'<figure><img src="https://{domain}/img/{story.slug[:40]}.jpg" alt="{_attr(story.title)}" '
            f'width="1200" height="675"/><figcaption>{_xml_text(story.title)}</figcaption></figure>'
        )
    for index, paragraph in enumerate(story.paragraphs):
        if index == story.quote_index:
            parts.append(f"<blockquote><p>{paragraph}</p></blockquote>")
        elif index == 2 and story.subheading:
            parts.append(f"<h2>{story.subheading}</h2><p>{paragraph}</p>")
        else:
            parts.append(f"<p>{paragraph}</p>")
    parts.append(f'<p><em>Related:</em> <a href="{_attr(link)}">{story.anchor}</a></p>')
    return "\n".join(parts)


# --- dates -------------------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_US_ZONES = {-4: "EDT", -5: "EST", -7: "PDT", -8: "PST"}


def _rfc822(moment: datetime, offset: timezone, style: int) -> str:
    """RSS dates as CMSs write them: numeric offset, GMT, no weekday, or a US zone name."""
    local = moment.astimezone(UTC if style == 1 else offset)
    day = _DAYS[local.weekday()]
    clock = f"{local.day:02d} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M:%S}"
    if style == 1:
        return f"{day}, {clock} GMT"
    if style == 2:
        return f"{clock} {local:%z}"  # the weekday is optional, and often left out
    zone = _US_ZONES.get(int(offset.utcoffset(None).total_seconds()) // 3600) if style == 3 else None
    return f"{day}, {clock} {zone or format(local, '%z')}"


def _iso8601(moment: datetime, offset: timezone, style: int) -> str:
    if style == 0:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = moment.astimezone(offset)
    return local.isoformat(timespec="seconds" if style == 1 else "milliseconds")


# --- feed writers ------------------------------------------------------------------------------------


def _utm(link: str, source: str, campaign: str) -> str:
    return f"{link}?utm_source={source}&utm_medium=rss&utm_campaign={campaign}"


def _write_rss(style: FeedStyle, placements: Sequence[Placement], now: datetime) -> str:
    def wrap(html: str) -> str:
        return f"<![CDATA[{html}]]>" if style.cdata else _xml_text(html)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{_xml_text(style.title)}</title>\n<link>https://{style.domain}/</link>\n",
        f"<description>Latest news from {_xml_text(style.title)}</description>\n<language>en</language>\n",
        f'<atom:link href="https://{style.domain}/rss.xml" rel="self" type="application/rss+xml"/>\n',
        f"<lastBuildDate>{_rfc822(now, style.offset, style.date_style)}</lastBuildDate>\n",
        "<generator>farm-cms 4.2</generator>\n<ttl>15</ttl>\n",
    ]
    for placement in placements:
        story = placement.story
        out.append(
            f"<item>\n<title>{_xml_text(story.title)}</title>\n<link>{_xml_text(placement.link)}</link>\n"
        )
        if style.guids:
            permalink = "true" if placement.guid == placement.link else "false"
            out.append(f'<guid isPermaLink="{permalink}">{_xml_text(placement.guid)}</guid>\n')
        out.append(f"<pubDate>{_rfc822(story.published, style.offset, style.date_style)}</pubDate>\n")
        if style.authors:
            out.append(f"<dc:creator>{_xml_text(story.author)}</dc:creator>\n")
        out.extend(f"<category>{tag}</category>\n" for tag in story.tags)
        out.append(f"<description>{wrap(_summary_html(story, placement.link))}</description>\n")
        if style.full_content:
            content = _content_html(story, placement.link, style.domain)
            out.append(f"<content:encoded>{wrap(content)}</content:encoded>\n")
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _write_atom(style: FeedStyle, placements: Sequence[Placement], now: datetime) -> str:
    def date(moment: datetime) -> str:
        return _iso8601(moment, style.offset, style.date_style)

    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n',
        f"<title>{_xml_text(style.title)}</title>\n",
        f"<subtitle>Reporting from {_xml_text(style.title)}</subtitle>\n",
        f'<link rel="alternate" type="text/html" href="https://{style.domain}/"/>\n',
        f'<link rel="self" type="application/atom+xml" href="https://{style.domain}/feed.atom"/>\n',
        f"<id>https://{style.domain}/</id>\n<updated>{date(now)}</updated>\n",
        f"<author><name>{_xml_text(style.title)} newsroom</name></author>\n",
    ]
    for placement in placements:
        story = placement.story
        out.append(
            f"<entry>\n<title>{_xml_text(story.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href="{_attr(placement.link)}"/>\n'
            f"<id>{_xml_text(placement.guid)}</id>\n"
            f"<published>{date(story.published)}</published>\n"
            f"<updated>{date(story.updated or story.published)}</updated>\n"
        )
        if style.authors:
            out.append(f"<author><name>{_xml_text(story.author)}</name></author>\n")
        out.extend(f'<category term="{tag}"/>\n' for tag in story.tags)
        out.append(f'<summary type="html">{_xml_text(_summary_html(story, placement.link))}</summary>\n')
        if style.full_content:
            content = _content_html(story, placement.link, style.domain)
            if style.xhtml:
                xhtml = f'<div xmlns="http://www.w3.org/1999/xhtml">{content}</div>'
                out.append(f'<content type="xhtml">{xhtml}</content>\n')
            else:
                out.append(f'<content type="html">{_xml_text(content)}</content>\n')
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def _write_json(style: FeedStyle, placements: Sequence[Placement], now: datetime) -> str:
    def date(moment: datetime) -> str:
        return _iso8601(moment, style.offset, style.date_style)

    items = []
    for placement in placements:
        story = placement.story
        if style.full_content:
            html = _content_html(story, placement.link, style.domain)
        else:
            html = _summary_html(story, placement.link)
        item: dict[str, object] = {
            "id": placement.guid,
            "url": placement.link,
            "title": story.title,
            "summary": " ".join(story.summary_sentences),
            "content_html": html,
            "date_published": date(story.published),
            "tags": list(story.tags),
        }
        if story.updated is not None:
            item["date_modified"] = date(story.updated)
        if style.authors:
            item["authors"] = [{"name": story.author}]
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": style.title,
        "home_page_url": f"https://{style.domain}/",
        "feed_url": f"https://{style.domain}/feed.json",
        "language": "en",
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1)


WRITERS: dict[str, Callable[[FeedStyle, Sequence[Placement], datetime], str]] = {
    "rss": _write_rss,
    "atom": _write_atom,
    "json": _write_json,
}


# --- the farm ----------------------------------------------------------------------------------------


def generate_farm(
    n_feeds: int = 500,
    *,
    seed: int = 1,
    min_items: int = 30,
    max_items: int = 100,
    now: datetime | None = None,
    mix: str = "talks",
) -> Farm:
    """Generate ``n_feeds`` feeds dated up to ``now`` (default: the current hour, UTC), of one of MIXES.

    Deterministic: the same arguments give the same bytes (``now`` is rounded down to the hour, so two
    calls within one hour agree without passing it).
    """
    if n_feeds < 1 or not 1 <= min_items <= max_items:
        raise ValueError("need n_feeds >= 1 and 1 <= min_items <= max_items")
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}")
    beats, shared_topics = MIXES[mix]
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    text = _TextMaker(rng)
    styles = _make_styles(n_feeds, rng, beats)
    counts = [rng.randint(min_items, max_items) for _ in styles]
    serials = itertools.count(1)
    placements = _place_shared_stories(text, styles, counts, now, serials, shared_topics)
    for style, carried, count in zip(styles, placements, counts, strict=True):
        _fill_with_own_stories(text, style, carried, count, now, serials)
    return _render(styles, placements, now)


def _make_styles(n_feeds: int, rng: random.Random, beats: Sequence[dict[str, float]]) -> list[FeedStyle]:
    formats = [name for name, share in FORMAT_SHARES for _ in range(round(n_feeds * share))]
    formats = (formats + ["rss"] * n_feeds)[:n_feeds]  # rounding may leave a feed or two over or short
    rng.shuffle(formats)
    styles = []
    for index, feed_format in enumerate(formats):
        title = f"{rng.choice(OUTLET_PLACES)} {rng.choice(OUTLET_WORDS)}"
        hours = rng.choice((0, 0, 0, 1, 2, 3, 3, -4, -5, 5, 8))
        styles.append(
            FeedStyle(
                format=feed_format,
                title=title,
                slug=f"{index:04d}-{_slugify(title)}",
                domain=f"{_slugify(title).replace('-', '')}{index}.example",
                beat=rng.choice(beats),
                offset=timezone(timedelta(hours=hours)),
                date_style=rng.randrange(4 if feed_format == "rss" else 3),
                cdata=rng.random() < 0.5,
                full_content=rng.random() < 0.45,
                xhtml=rng.random() < 0.25,
                guids=rng.random() >= 0.1,
                utm=rng.random() < 0.3,
                authors=rng.random() < 0.8,
            )
        )
    return styles


def _place_shared_stories(
    text: _TextMaker,
    styles: list[FeedStyle],
    counts: list[int],
    now: datetime,
    serials: Iterator[int],
    topics: Sequence[str],
) -> list[list[Placement]]:
    """Put about SHARED_FRACTION of all items into 2-5 feeds each, before the feeds get their own stories."""
    rng = text.rng
    placements: list[list[Placement]] = [[] for _ in styles]
    if len(styles) < SHARED_COPIES[0]:
        return placements
    average_copies = sum(SHARED_COPIES) / 2
    for _ in range(round(sum(counts) * SHARED_FRACTION / average_copies)):
        copies = min(rng.randint(*SHARED_COPIES), len(styles))
        carriers = [i for i in rng.sample(range(len(styles)), copies) if len(placements[i]) < counts[i]]
        if len(carriers) < 2:
            continue
        topic = rng.choice(topics)
        story = _make_story(text, topic, now, full=True)
        serial = next(serials)
        if rng.random() < WIRE_SHARE:  # every carrier links to the agency's article, with its own utm tags
            article = f"https://wire.example/{SECTIONS[topic]}/{story.slug}-{serial}"
            for i in carriers:
                link = _utm(article, styles[i].slug.split("-", 1)[1], "wire")
                placements[i].append(Placement(story, link, f"tag:{styles[i].domain},2026:wire-{serial}"))
        else:  # syndicated: the same text under each carrier's own link
            for i in carriers:
                placements[i].append(_own_placement(styles[i], story, next(serials)))
    return placements


def _fill_with_own_stories(
    text: _TextMaker,
    style: FeedStyle,
    carried: list[Placement],
    count: int,
    now: datetime,
    serials: Iterator[int],
) -> None:
    topics, weights = zip(*style.beat.items(), strict=True)
    while len(carried) < count:
        topic = text.rng.choices(topics, weights)[0]
        story = _make_story(text, topic, now, full=style.full_content)
        carried.append(_own_placement(style, story, next(serials)))


def _own_placement(style: FeedStyle, story: Story, serial: int) -> Placement:
    day = story.published
    link = f"https://{style.domain}/{SECTIONS[story.topic]}/{day.year}/{day.month:02d}/{day.day:02d}/{story.slug}-{serial}"
    if style.utm:
        link = _utm(link, "rss", SECTIONS[story.topic])
    # Guids as CMSs make them: the permalink, a tag URI, or (in some Atom feeds) a UUID.
    if style.format == "atom" and serial % 3 == 0:
        guid = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, link)}"
    elif serial % 2:
        guid = link
    else:
        guid = f"tag:{style.domain},{story.published:%Y}:{serial}"
    return Placement(story, link, guid)


def _render(styles: list[FeedStyle], placements: list[list[Placement]], now: datetime) -> Farm:
    documents: dict[str, Document] = {}
    for style, carried in zip(styles, placements, strict=True):
        carried.sort(key=lambda placement: placement.story.published, reverse=True)  # newest first
        body = WRITERS[style.format](style, carried, now).encode("utf-8")
        documents[f"/farm/{style.slug}.{SUFFIXES[style.format]}"] = Document(
            body, CONTENT_TYPES[style.format]
        )
    return Farm(
        documents=documents,
        feed_paths=list(documents),
        total_items=sum(len(carried) for carried in placements),
        total_bytes=sum(len(document.body) for document in documents.values()),
    )


# --- by hand -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the benchmark's feed farm; optionally serve it.")
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", choices=list(MIXES), default="talks", help="what the feeds write about")
    parser.add_argument("--serve", action="store_true", help="serve the farm on 127.0.0.1 until interrupted")
    parser.add_argument("--port", type=int, default=0, help="with --serve: the port (default: any free one)")
    parser.add_argument("--write", type=Path, metavar="DIR", help="also write every feed to a file under DIR")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    farm = generate_farm(args.feeds, seed=args.seed, mix=args.mix)
    elapsed = time.perf_counter() - started
    print(
        f"{len(farm.feed_paths)} feeds, {farm.total_items} items, {farm.total_bytes / 1e6:.1f} MB "
        f"in {elapsed:.2f} s",
        flush=True,
    )
    if args.write:
        for path, document in farm.documents.items():
            target = args.write / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(document.body)
        print(f"written under {args.write}", flush=True)
    if args.serve:
        serve(farm, args.port)
    return 0


def serve(farm: Farm, port: int) -> None:
    # A plain `kill PID` stops it cleanly too: a background job may have been started with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    with StaticFeedServer(farm.documents, port=port) as server:
        first = server.url(farm.feed_paths[0])
        print(f"serving on {server.base_url} (first feed: {first}); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
