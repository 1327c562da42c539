"""classify: relevance, events and facts, one definition clause at a time (examples written for the tests)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from aggregator.classify import (
    classification_to_dict,
    classified_text,
    classify,
    classify_item,
    item_facts,
    load_rules,
    normalise_text,
)
from aggregator.models import Classification, Item

RULES = load_rules()
PUBLISHED = date(2025, 7, 23)  # a Wednesday


def run(title: str, summary: str = "", published: date | None = PUBLISHED) -> Classification:
    return classify(title, summary, published, RULES)


def events(result: Classification) -> set[str]:
    return {event.type for event in result.events}


def facts_of(result: Classification, event_type: str) -> dict[str, object]:
    """The facts of the item's one event of that type (failing, with the verdict, when it has none)."""
    found = [event for event in result.events if event.type == event_type]
    assert len(found) == 1, result
    return dict(found[0].facts)


def new_round(result: Classification) -> dict[str, object]:
    return facts_of(result, "NEW_ROUND")


def round_place(result: Classification) -> object:
    """The place of the item's one NEW_ROUND."""
    return new_round(result).get("place")


def deadline_of(result: Classification) -> object:
    """The deadline fact of the item's one DEADLINE."""
    return facts_of(result, "DEADLINE").get("deadline")


# --- relevance -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Zelensky says peace talks with Russia must include Europe", ""),
        ("", "Ukraine and Russia swapped 150 prisoners of war on Tuesday, the Ukrainian president said."),
        ("Witkoff meets Putin in Moscow to discuss ending the war in Ukraine", ""),
        ("Kremlin: talks with Kyiv on pause while Ukraine refuses to withdraw", ""),
        ("Trump gives Putin 50 days to agree a ceasefire or face tariffs", ""),
        ("Black Sea grain deal expires as Moscow refuses extension", ""),
        (
            "Normandy format advisers meet in Berlin on Donbas",
            "The Minsk agreements remain the basis, envoys said.",
        ),
        ("Ukraine brings home 20 children deported to Russia with Qatari mediation", ""),
    ],
)
def test_items_about_the_talks_are_relevant(title: str, summary: str) -> None:
    result = run(title, summary)
    assert result.relevant, result
    assert result.score >= RULES.threshold
    assert result.evidence


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Russian drones hit Kharkiv overnight, killing three",
            "Air defence shot down 40 of 60 drones, Kyiv said.",
        ),
        (
            "Moscow Exchange index falls 2% as rouble weakens",
            "Traders on the Moscow Exchange sold Russian shares.",
        ),
        (
            "Hryvnia exchange rate steadies after central bank move",
            "Ukraine's central bank set the exchange rate.",
        ),
        (
            "Ukraine reaches staff-level agreement with IMF on new loan programme",
            "Kyiv and the International Monetary Fund concluded talks on the next tranche.",
        ),
        (
            "Israel and Hamas exchange hostages and prisoners in Gaza deal",
            "The swap freed 30 Israeli hostages.",
        ),
        ("US and China open new round of trade talks in Geneva", "Beijing and Washington negotiators met."),
        ("Russia frees American teacher Marc Fogel in prisoner swap with US", "The US citizen flew home."),
        ("Shakhtar Donetsk reach second round of Champions League qualifying", "The football club won 2-0."),
        ("Iran and US hold fifth round of nuclear talks in Oman", "Tehran said the talks were constructive."),
        ("Ukraine sets tax filing deadline for businesses", "The budget committee approved the date."),
        (
            "Naftogaz says gas transit contract with Gazprom will not be renewed",
            "Ukraine's transit deal ends.",
        ),
        ("Weather: heavy rain expected in Lviv", "Forecasters warned about floods in western regions."),
        (
            "Moscow and Washington hold a US-Russia meeting on diplomats' visas",
            "Russian and American diplomats met in Istanbul for five hours on Thursday over staffing and "
            "frozen accounts. A next round could follow in Moscow.",
        ),
        (
            "Staffing talks in Istanbul: 'Ukraine is not on the agenda'",
            "Russian and US diplomats met in Istanbul on Thursday to discuss the work of their embassies. "
            "Ukraine is not on the agenda, the Russian foreign minister said before the meeting.",
        ),
    ],
)
def test_confounders_and_other_news_are_not_relevant(title: str, summary: str) -> None:
    result = run(title, summary)
    assert not result.relevant, result
    assert result.events == ()


def test_a_passing_mention_deep_in_strike_news_is_not_enough() -> None:
    body = " ".join(
        [
            "Russian missiles struck Odesa overnight.",
            "Three people were killed and twelve injured.",
            "Firefighters worked through the night.",
            "The port was damaged.",
            "Officials said power was restored by morning.",
            "Schools remained closed on Wednesday.",
            "The attack came weeks after peace talks in Istanbul.",
        ]
    )
    assert not run("Russian missiles hit Odesa port", body).relevant


def test_a_sports_headline_outweighs_asides_about_the_war_in_its_body() -> None:
    result = run(
        "Ukrainian boxer wins heavyweight title fight in Riyadh",
        "RIYADH - The Ukrainian won on points on Saturday night after twelve rounds. He dedicated the "
        "victory to Ukrainian soldiers held in Russian captivity and said he hoped they would come home.",
        published=date(2024, 5, 19),
    )
    assert not result.relevant, result.evidence
    assert not result.events


def test_a_bout_told_in_the_lead_under_a_headline_that_says_nothing_of_it_is_sports_news() -> None:
    result = run(
        "Hrytsenko wins in Riyadh, eyes a title shot",
        "Ukrainian heavyweight Oleh Hrytsenko beat Britain's Tom Varley by stoppage in the seventh round in "
        "Riyadh on Saturday. He dedicated the win to the prisoners of war waiting to come home. The "
        "Ukrainian embassy in Riyadh said he had visited it on Friday to meet Ukrainians living in the "
        "kingdom.",
        published=date(2026, 9, 13),
    )
    assert not result.relevant, result.evidence
    assert not result.events


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Yastremska edges Kudermetova to reach last 16",
            "Ukraine's Dayana Yastremska beat Russia's Veronika Kudermetova 7-6 (5), 3-6, 6-4 in the third "
            "round in Dubai on Wednesday and declined to shake hands at the net.",
        ),
        (
            "Second round: Ukrainian qualifier stuns Russian in three sets",
            "The qualifier from Kharkiv came back to win 4-6 6-3 6-2 against the Russian and plays the top "
            "seed in round three on Friday.",
        ),
    ],
)
def test_a_tennis_match_told_by_its_set_scores_is_sport(title: str, summary: str) -> None:
    # no sports word but the set scores: the rounds are a tournament's, the sides are two players
    result = run(title, summary, published=date(2027, 2, 18))
    assert not result.relevant, result.evidence
    assert any(proof.rule == "confounder.sport_score" for proof in result.evidence), result.evidence


def test_the_rounds_of_an_item_that_opens_on_a_bout_are_the_bouts() -> None:
    result = run(
        "Hrytsenko stops Varley in round seven",
        "Riyadh, Sept 13: Ukraine's Oleh Hrytsenko stopped Tom Varley in the seventh round of their "
        "heavyweight bout in Riyadh on Saturday night. He knocked Varley down twice in the round. The "
        "Ukrainian is now in line for an eliminator, with talks between promoters expected next week.",
        published=date(2026, 9, 13),
    )
    assert not result.relevant, result.evidence


@pytest.mark.parametrize(
    ("title", "summary", "published"),
    [
        (  # a headline that names the Moscow Exchange
            "Moscow Exchange extends gains after Riyadh, rouble firmer",
            "Russian stocks rose for a second day on Wednesday after the Riyadh meeting of the Russian, "
            "Ukrainian and American delegations ended with an agreement on a prisoner exchange.",
            date(2026, 9, 16),
        ),
        (  # even when the talks moved the market
            "Moscow stocks jump as Istanbul talks open, then slip after meeting ends",
            "Russian shares swung on Friday as investors followed the first direct talks between Russian and "
            "Ukrainian delegations in three years, which opened in Istanbul in the morning. The index fell "
            "after the meeting ended without a ceasefire. The rouble was little changed.",
            date(2025, 5, 16),
        ),
    ],
)
def test_a_market_headline_is_market_news(title: str, summary: str, published: date) -> None:
    result = run(title, summary, published=published)
    assert not result.relevant, result.evidence
    assert not result.events


def test_a_headline_about_another_conflicts_swap_outweighs_a_passing_mention_of_ukraine() -> None:
    result = run(
        "Qatar mediates US-Venezuela prisoner exchange",
        "Qatar has mediated an exchange of prisoners between the United States and Venezuela, its foreign "
        "ministry said on Thursday. Washington released a Venezuelan national and Caracas freed ten "
        "Americans. Qatar's mediation this year has also included the release of hostages in Gaza and the "
        "return of a number of Ukrainian children to their families.",
        published=date(2023, 12, 21),
    )
    assert not result.relevant, result.evidence


def test_a_market_lead_without_a_headline_is_market_news_too() -> None:
    result = run(
        "",
        "Russian shares gave back part of their gains in the evening session on Wednesday after reports from "
        "Istanbul that the talks between the Russian and Ukrainian delegations had ended within an hour. The "
        "index closed 0.8% higher.",
        published=date(2025, 7, 23),
    )
    assert not result.relevant, result.evidence


def test_a_market_lead_after_a_dateline_is_market_news() -> None:
    result = run(
        "",
        "MOSCOW, Dec 9 (Northbridge) - Russian stocks fell on Wednesday, erasing most of the previous day's "
        "rally, after the talks between Russian and Ukrainian delegations in Istanbul ended without a "
        "ceasefire.",
        published=date(2026, 12, 9),
    )
    assert not result.relevant, result.evidence


def test_a_market_headline_is_market_news_however_much_talk_of_the_talks_follows() -> None:
    result = run(
        "Russian stocks give back Doha gains as talks end without breakthrough",
        "Russian shares fell on Friday, erasing most of the previous session's rally, after the talks "
        "between Russian and Ukrainian delegations in Doha ended without agreement on a ceasefire. The "
        "index lost 1.9% by midday.",
        published=date(2026, 10, 16),
    )
    assert not result.relevant, result.evidence
    assert not result.events


def test_rounds_of_eu_accession_talks_are_not_the_wars() -> None:
    result = run(
        "EU opens first negotiating cluster with Ukraine after months of delay",
        "LUXEMBOURG - The European Union formally opened the first cluster of accession negotiations with "
        "Ukraine on Tuesday, at an intergovernmental conference that Kyiv hailed as the real start of its "
        "path to membership. Diplomats said a package on minorities, negotiated in several rounds with "
        "Budapest, had unlocked the decision. The next round of bilateral screening meetings is scheduled "
        "for November. The conference took place as diplomats prepared for this week's talks between "
        "Russian, Ukrainian and US delegations in Qatar.",
        published=date(2026, 10, 13),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_an_arms_treaty_headline_is_not_about_the_talks() -> None:
    result = run(
        "Last US-Russia nuclear arms treaty set to expire Thursday",
        "The last treaty limiting the nuclear arsenals of the United States and Russia is due to expire on "
        "Thursday. Putin proposed keeping to its limits for a year after its expiry; the war in Ukraine has "
        "frozen most contacts, arms control experts warn.",
    )
    assert not result.relevant and not result.events


def test_an_irrelevant_item_carries_no_events_even_with_triggers() -> None:
    result = run("Third round of the cup: Dynamo to meet Zorya on Friday", "Kick-off is scheduled for 7pm.")
    assert not result.relevant
    assert result.events == ()


# --- NEW_ROUND ---------------------------------------------------------------------------------------


def test_confirmed_round_tonight_is_a_new_round_with_facts() -> None:
    result = run(
        "Kremlin confirms fourth round of Russia-Ukraine talks will open in Istanbul tonight",
        "The Russian delegation has already left for Turkey, the spokesman said.",
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result) == {"round": 4, "place": "Istanbul", "date": "2025-07-23"}


def test_another_meeting_one_side_missed_long_ago_does_not_cancel_this_round_at_its_venue() -> None:
    result = run(
        "Abu Dhabi to host the first three-way meeting",
        "ABU DHABI - The Emirates will host delegations from the United States, Russia and Ukraine from "
        "Friday, officials said. The Emirates also hosted a meeting between a US envoy and Russian officials "
        "in March. That meeting did not include Ukraine.",
        published=date(2025, 7, 23),
    )
    assert round_place(result) == "Abu Dhabi"


def test_a_new_round_of_sanctions_is_not_a_round_of_talks() -> None:
    result = run(
        "European leaders in Kyiv give Putin until Monday",
        "The leaders of four European states told Vladimir Putin in Kyiv on Saturday that Russia had until "
        "Monday to accept a ceasefire with Ukraine or face a new round of sanctions.",
        published=date(2025, 5, 10),
    )
    assert "NEW_ROUND" not in events(result)
    assert "DEADLINE" in events(result)


def test_a_round_of_another_negotiation_named_just_before_is_not_a_round_of_the_talks() -> None:
    title = "Rada passes budget in first reading, must adopt final version by December 1"
    opening = (
        "Ukraine's parliament approved the draft budget for next year on Tuesday, setting aside most of it "
        "for defence. The draft assumes external financing from the European Union, a loan backed by frozen "
        "Russian assets and the International Monetary Fund. "
    )
    imf = (
        "The IMF, which is negotiating a new four-year programme with Kyiv, has made the budget a condition. "
    )
    talks = "Zelensky said on Tuesday that negotiators from Russia and Ukraine would meet again soon. "
    follow = (
        "A mission is due in Kyiv next month for another round of talks on the programme. The budget assumes "
        "that the war will continue for the whole of next year. Officials say that if a ceasefire were "
        "agreed, the document would have to be revised."
    )
    result = run(title, opening + imf + follow)
    assert not result.relevant  # a budget's news (LABELS: tax and budget deadlines are not relevant)
    assert "NEW_ROUND" not in events(result)
    # told after a sentence about the war's talks, in an item the IMF does not lead, the same words are a
    # round of them (told in the lead: deeper, a single cue is an aside that asserts no round alone)
    assert "NEW_ROUND" in events(run(title, talks + follow))


def test_gas_transit_talks_between_russia_and_ukraine_are_not_the_wars() -> None:
    result = run(
        "Russia, Ukraine and EU hold new round of gas transit talks",
        "Energy officials from Russia, Ukraine and the European Commission met in Brussels on Monday for "
        "another round of talks on a transit contract to replace the one expiring at the end of the year.",
        published=date(2019, 10, 28),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_talks_being_postponed_are_on_pause() -> None:
    result = run(
        "",
        "Russia and Ukraine are postponing the third round of talks in Istanbul that had been planned for "
        "Monday, officials said.",
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_the_expiry_of_a_gas_transit_contract_is_no_deadline_of_the_talks() -> None:
    # (a guard: "expiring" became a deadline word with the other -ing forms of the rules' stems)
    result = run(
        "Russia, Ukraine and EU hold new round of gas transit talks",
        "Energy officials from Russia, Ukraine and the European Commission met in Brussels on Monday for "
        "another round of talks on a transit contract to replace the one expiring at the end of the year.",
        published=date(2019, 10, 28),
    )
    assert "DEADLINE" not in events(result), result.events


def test_one_side_on_talks_in_an_item_led_by_eu_accession_is_accessions() -> None:
    result = run(
        "EU opens membership talks with Ukraine and Moldova",
        "LUXEMBOURG - The European Union opened membership negotiations with Ukraine and Moldova on Tuesday "
        "at two intergovernmental conferences. Ukraine's delegation was led by a deputy prime minister, who "
        "called the day historic. The first round of talks was mostly ceremonial. Hungary had long blocked "
        "the opening of talks. Budapest's foreign minister said on Tuesday that the talks had begun only "
        "because Kyiv had given guarantees on minority language rights, and warned that unanimity would be "
        "needed at every later step. The decision came as Russia's war against Ukraine continued and peace "
        "talks with Moscow remained frozen.",
        published=date(2024, 6, 25),
    )
    assert "NEW_ROUND" not in events(result), result.events


@pytest.mark.parametrize("dateline", ["ABU DHABI -", "ABU DHABI, July 24 (Gulf Wire) -", "ABU DHABI —"])
def test_the_city_a_report_was_filed_from_is_not_the_rounds_venue(dateline: str) -> None:
    result = run(
        "Analysis: the humanitarian file moves, the political one does not",
        f"{dateline} Wednesday's third round of direct talks between Russia and Ukraine in Istanbul "
        "followed a familiar pattern. The delegations met for under an hour.",
        published=date(2025, 7, 24),
    )
    assert round_place(result) == "Istanbul"


def test_round_scheduled_for_a_weekday_resolves_forward() -> None:
    result = run(
        "",
        "Russian and Ukrainian delegations will hold a second round of direct talks in Istanbul on Monday, "
        "the Turkish foreign minister announced.",
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result) == {"round": 2, "place": "Istanbul", "date": "2025-07-28"}


@pytest.mark.parametrize(
    ("lead", "day"),
    [
        (
            "The first trilateral meeting of Russia, Ukraine and the US will take place there, he said.",
            "25",
        ),
        ("The first trilateral meeting of Russia, Ukraine and the US took place there, he said.", "18"),
    ],
)
def test_an_untensed_headlines_weekday_goes_the_way_its_lead_tells_it(lead: str, day: str) -> None:
    result = run("Zelensky: first meeting with US and Russia in the Emirates on Friday", lead)
    assert new_round(result).get("date") == f"2025-07-{day}"


def test_round_ordinal_written_after_the_word_and_as_digits() -> None:
    assert item_facts(run("Round three of Ukraine-Russia negotiations set for Geneva on July 30")) == {
        "round": 3,
        "place": "Geneva",
        "date": "2025-07-30",
    }
    assert item_facts(run("Russia and Ukraine begin 3rd round of talks in Istanbul")).get("round") == 3


def test_analysis_days_later_reporting_a_round_as_held_counts() -> None:
    result = run(
        "What the Istanbul meeting changed",
        "The Ukrainian and Russian delegations met in Istanbul on 21 July for their fourth round, "
        "agreeing on little beyond humanitarian steps.",
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result)["date"] == "2025-07-21"


def test_a_proposal_with_a_date_counts() -> None:
    result = run("Zelensky proposes meeting Russian delegation in Istanbul next week for new round of talks")
    assert "NEW_ROUND" in events(result)


@pytest.mark.parametrize(
    "text",
    [
        "Russia is ready to hold a third round of talks with Ukraine, Peskov says",
        "Kyiv hopes dates for the next round of talks with Moscow will come soon",
        "No date has been set for a new round of Russia-Ukraine negotiations, the Kremlin said",
        "A third round of talks between Russia and Ukraine has yet to be scheduled",
        "Russia-Ukraine talks on pause as both sides harden positions",
        "Kremlin thanks Turkey for its offers, but Kiev banned talks itself",
        "Kremlin: Istanbul a convenient venue, but no concrete plans for a new round of talks with Kyiv",
        "Kyiv's negotiator did not mention any planned meeting with the Russian delegation",
        "Witkoff met Putin in Moscow for three hours of talks on the war in Ukraine",
        "Could Russia and Ukraine meet for another round of talks?",
        "The United States and Russia held talks in Riyadh on Tuesday on ending the war in Ukraine",
        "Trump on Friday encouraged Kyiv and Moscow to engage in ceasefire negotiations",
        "US and Ukrainian officials will meet in Geneva on Sunday to discuss the peace plan for ending "
        "the war in Ukraine",
    ],
)
def test_readiness_hope_no_date_pause_and_one_sided_meetings_are_not_new_rounds(text: str) -> None:
    result = run(text)
    assert result.relevant
    assert "NEW_ROUND" not in events(result), result.events


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # the US Army Secretary is a mediator: with the Russians alone, one side
        (
            "US Army Secretary holds talks with Russian delegation in Abu Dhabi",
            "Kyiv was informed, officials said.",
        ),
        # "no three-way format": the contacts were each side's with the mediator
        (
            "Kyiv: Abu Dhabi contacts were with the Americans, no three-way format yet",
            "Ukrainian officials on Wednesday said the contacts in Abu Dhabi between US, Russian and "
            "Ukrainian representatives had not amounted to joint talks.",
        ),
        # the mediator keeps channels with both delegations: no session of both
        (
            "UAE mediates exchange of 300 captives between Russia and Ukraine",
            "Emirati officials in Abu Dhabi have maintained channels with both delegations throughout the "
            "winter, and the lists were agreed there, officials said.",
        ),
    ],
)
def test_a_mediator_meeting_each_side_apart_is_no_session(title: str, summary: str) -> None:
    assert "NEW_ROUND" not in events(run(title, summary, published=date(2025, 11, 26)))


def test_a_mediator_meeting_each_delegation_apart_beside_their_own_round_leaves_the_round() -> None:
    result = run(
        "Istanbul V: small steps, the same gap",
        "The fifth round of direct Russian-Ukrainian talks, held in Istanbul on 8 December, followed the "
        "pattern of the four before it. The two delegations agreed to exchange 500 prisoners each. US envoys "
        "were in Istanbul too and met both delegations separately.",
        published=date(2026, 12, 9),
    )
    assert facts_of(result, "NEW_ROUND") == {"round": 5, "place": "Istanbul", "date": "2026-12-08"}
    # with no session of both told, the mediator meeting them apart is all there was
    apart = run(
        "US envoys in Istanbul",
        "US envoys were in Istanbul on Monday and met the Russian and Ukrainian delegations separately.",
        published=date(2026, 12, 9),
    )
    assert "NEW_ROUND" not in events(apart), apart.events


def test_a_release_agreed_within_the_contact_group_is_no_session_of_it() -> None:
    result = run(
        "Twenty citizens released from occupied Donbas in mutual release",
        "Today, 16 April, the mutual release of detained persons agreed within the Trilateral Contact Group "
        "took place near the Mayorske checkpoint in the Donetsk region, Ukraine's ombudsman said.",
        published=date(2020, 4, 16),
    )
    assert "EXCHANGE" in events(result)
    assert "NEW_ROUND" not in events(result), result.events


def test_others_meeting_in_an_item_that_names_both_sides_is_not_a_new_round() -> None:
    result = run(
        "Kyiv alarmed as talks go on without it",
        "Zelensky postponed his visit. European leaders met in Paris on Monday to discuss the prospect "
        "of being sidelined. Russia and Ukraine have not met since 2022.",
        published=date(2025, 2, 18),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_summit_with_an_empty_chair_for_one_side_is_not_a_new_round() -> None:
    result = run(
        "Peace summit at Bürgenstock opens with an empty chair for Russia",
        "The two-day meeting is meant to lay the groundwork for a future process.",
        published=date(2024, 6, 15),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_what_negotiators_bring_back_from_talks_is_no_swap() -> None:
    result = run(
        "Negotiators head home",
        "Ukraine's negotiators left Belarus on Monday evening after five hours of talks with a Russian "
        "delegation. They brought back no ceasefire and no commitment to withdraw troops.",
        published=date(2022, 2, 28),
    )
    assert "EXCHANGE" not in events(result), result.events


def test_a_session_dated_more_than_a_week_back_is_a_look_back() -> None:
    # read ten days later, a session dated 18 August is background, however its sentence tells it
    result = run(
        "Ten days after the White House",
        "On 18 August, after a warm meeting with Volodymyr Zelensky and European leaders, Donald Trump said "
        "he had begun arranging a meeting between Putin and Zelensky.",
        date(2025, 8, 28),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_summit_one_side_is_not_invited_to_is_not_a_new_round() -> None:
    result = run(
        "84 Ukrainians return in exchange on eve of Anchorage summit",
        "Russia and Ukraine exchanged 84 prisoners each on Thursday. The swap came as Kyiv sought assurances "
        "before Friday's summit in Anchorage, to which Ukraine was not invited.",
        published=date(2025, 8, 14),
    )
    assert events(result) == {"EXCHANGE"}, result.events


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Five hours with Putin bring no breakthrough",
            "MOSCOW, July 23 (Wire) - Talks between Vladimir Putin and U.S. envoys on a plan to end the war "
            "in Ukraine produced no breakthrough, the Kremlin said.",
        ),
        (
            "Washington and Kyiv refine the peace framework",
            "The United States and Ukraine said on Wednesday that talks in Geneva had produced a refined "
            "plan to end Russia's war.",
        ),
        (
            "Envoys leave the Kremlin without a deal",
            "MOSCOW/KYIV, July 23 (Wire) - Talks between Vladimir Putin and the American team produced no "
            "breakthrough on Wednesday, officials said.",
        ),
        ("US and Ukraine say Geneva talks produced a refined peace framework", ""),
        (
            "US and Russia agree to set up teams",
            "RIYADH, Feb 18 (Wire) - The United States and Russia agreed on Tuesday to set up teams, after "
            "their foreign ministers held talks in the Saudi capital without Ukrainian officials.",
        ),
        (
            "Envoys in Abu Dhabi",
            "A US delegation met a Russian delegation on Tuesday. Ukraine's intelligence chief was also "
            "there, but there was no joint meeting of the Russian and Ukrainian delegations in Abu Dhabi.",
        ),
        (
            "Jeddah meeting ends with pledge to keep talking",
            "Senior officials from around 40 countries wrapped up two days of talks on the war in Ukraine in "
            "Jeddah on Sunday, agreeing to continue consultations.",
        ),
        (
            "Two statements, one sea",
            "The United States met the Ukrainian and Russian delegations separately in Riyadh on Tuesday; "
            "the two never sat at one table.",
        ),
        (
            "Summit set for Alaska",
            "Trump will meet Vladimir Putin in Alaska on Friday, the White House said. Ukraine will not be "
            "represented.",
        ),
        (
            "Talks in Vienna rework the peace draft",
            "The two sides said late on Sunday that their talks in Vienna had produced a revised draft of "
            "the plan, which Moscow's demands had shaped. Rubio said the day went well and Ukraine's envoy "
            "thanked him. The meeting took place at a hotel by the lake. No Russian officials were involved.",
        ),
        (
            "Ukraine takes the truce idea home after nine hours in Jeddah",
            "Ukrainian and American delegations met in Jeddah on Tuesday and agreed to put a 30-day truce to "
            "Russia. No Russian delegation was in the city.",
        ),
        (
            "Forty states meet in Jeddah on the war, without Russia",
            "Advisers from about forty countries began two days of talks in Jeddah on Saturday on the "
            "principles of a settlement in Ukraine; Russia was not invited. The Kremlin said on Friday that "
            "it would watch the meeting closely.",
        ),
        (
            "",
            "Officials of some thirty states met in Doha over the weekend to discuss a path to peace in "
            "Ukraine, with Kyiv's team present. Russia was not part of the talks.",
        ),
        (
            "Envoy's three hours in the Kremlin",
            "The deadline for Russia to agree a ceasefire in Ukraine runs out on Friday. It follows a "
            "three-hour meeting in the Kremlin on Wednesday between Putin and the US special envoy, which "
            "both sides called productive.",
        ),
        (
            "Three-way meeting in Lviv",
            "Turkey's president and the UN secretary-general met Zelensky in Lviv on Thursday to discuss "
            "prisoner exchanges and the grain corridor. Moscow did not comment.",
        ),
        (
            "Zelensky in Paris before the envoys report",
            "Zelensky met the French president in Paris on Monday to go over the peace plan. The Kremlin has "
            "not seen it yet.",
        ),
        (
            "Vatican offers a venue",
            "Trump said the Vatican would be very interested in hosting negotiations between Russia and "
            "Ukraine, after his call with Putin.",
        ),
        (
            "Envoy in Moscow",
            "Presidential aide Yuri Ushakov, who received the cardinal in his Kremlin office on Tuesday "
            "evening, said the conversation lasted an hour and covered the situation around Ukraine.",
        ),
        (
            "",
            "The archbishop, sent by the Pope on a mission of peace for Ukraine, spent Wednesday in Moscow "
            "meeting Russian officials.",
        ),
        (
            "Cardinal ends Kyiv visit",
            "The cardinal met Zelensky in Kyiv on Tuesday. On Monday the cardinal had met Dmytro Lubinets, "
            "Ukraine's human rights commissioner, and prayed in Bucha, where civilians were killed under "
            "Russian occupation.",
        ),
        (
            "Erdogan ready to host the sides",
            "Speaking to reporters after a cabinet meeting on Monday, Erdogan said he had discussed the "
            "matter by telephone with Putin and with Zelensky.",
        ),
        (
            "",
            "ANKARA, May 4. Moscow will let cargo ships leave Ukrainian harbours once Kiev clears its own "
            "mines, the Russian foreign minister said after talks with the Turkish foreign minister on "
            "Tuesday.",
        ),
        (
            "Grain deal extension premature after Geneva talks with UN, says Moscow",
            "GENEVA, Nov 3. Russia's deputy foreign minister said after consultations with a UN delegation "
            "in Geneva on Thursday that it was too early to speak of extending the corridor for grain from "
            "Ukrainian ports.",
        ),
        (
            "Rome visit",
            "Zelensky used Friday's meeting with Cardinal Parolin to ask for help in finding children "
            "deported to Russia.",
        ),
        (
            "Papal envoy meets Russian ombudsman",
            "The Pope's envoy met Russia's children's rights commissioner in Moscow on Thursday to discuss "
            "the return of Ukrainian children taken to Russia, the Holy See said.",
        ),
        (
            "",
            "The US envoy met Russian officials in Abu Dhabi on Tuesday to press for the release of "
            "Ukrainian prisoners of war.",
        ),
        (
            "American officials sit down with Russian team in the Gulf",
            "A senior Pentagon official held talks with a Russian delegation in Abu Dhabi on Wednesday to go "
            "over Washington's peace proposals for Ukraine, two people briefed on the meeting said.",
        ),
        (  # Alaska hosted only the US and Russia: a meeting there is theirs, whoever the sentence names
            "",
            "Sixty Ukrainian soldiers came home from Russian captivity on Thursday, Zelensky said, two days "
            "before the Russian and US presidents meet in Anchorage.",
        ),
        (  # to meet a thing, not people
            "Grain corridor accord signed in Istanbul",
            "Officials of Russia and Ukraine signed two parallel texts on Friday in Istanbul, with Turkey "
            "and the UN as witnesses. The Ukrainian delegation declined to be photographed with the Russian "
            "one.\nIn Kyiv, an adviser to the president warned that any Russian provocation near the "
            'corridor would meet "an immediate military response".',
        ),
        (  # the US named as the author of a plan is at the table
            "Kyiv signs up to US plan for a month-long truce after Jeddah talks",
            "Ukrainian officials accepted the proposal after a day of talks. It now goes to Moscow.",
        ),
    ],
)
def test_a_mediator_with_one_side_is_not_a_new_round(title: str, summary: str) -> None:
    assert "NEW_ROUND" not in events(run(title, summary))


@pytest.mark.parametrize(
    "summary",
    [
        "Russia and Ukraine agreed at talks with US mediators in Jeddah on Tuesday to pause strikes on "
        "ports.",
        "Ukraine's delegation will fly to Doha for the trilateral talks with Russia and the United States "
        "on Thursday, Kyiv said.",
        "Umerov said after Monday's talks with Medinsky and the US envoy in Istanbul that a swap had been "
        "agreed.",
        "The Russian and Ukrainian delegations held talks with the Turkish foreign minister in Istanbul on "
        "Monday.",
    ],
)
def test_talks_with_a_mediator_that_both_sides_attend_are_a_round(summary: str) -> None:
    assert "NEW_ROUND" in events(run("", summary, published=date(2026, 5, 4)))


def test_a_hosts_offer_with_no_decision_on_the_meeting_is_no_round() -> None:
    result = run(
        "Kremlin grateful for Turkish offer, no decision on meeting",
        "MOSCOW, April 2 - The Kremlin is grateful to Turkey for its offer to host a new meeting of Russian "
        "and Ukrainian negotiators, but no decision has been taken, spokesman Dmitry Peskov said on "
        "Thursday.",
        published=date(2026, 4, 2),
    )
    assert "NEW_ROUND" not in events(result)


def test_no_decision_on_something_else_leaves_a_round_being_arranged() -> None:
    result = run(
        "",
        "The Kremlin expects the dates of a fifth round of the three-way talks with Kyiv and Washington to "
        "be agreed next week, Peskov said on Wednesday. He said Putin had not yet decided whether to "
        "prolong the pause on strikes against energy facilities; no decision has been taken on it.",
        published=date(2026, 6, 3),
    )
    assert new_round(result).get("round") == 5


def test_a_place_cited_as_a_source_is_not_where_the_sides_met() -> None:
    result = run(
        "Negotiators meet",
        "Russian and Ukrainian negotiators met on Tuesday for a new round of talks. The meeting lasted about "
        "forty minutes, according to the Vatican.",
        published=date(2023, 6, 6),
    )
    assert "place" not in new_round(result)


def test_a_summit_in_alaska_is_the_us_and_russia_alone() -> None:
    result = run(
        "Deadline passes as the summit is set",
        "Trump's deadline for Russia ran out on Friday without new sanctions. The Kremlin confirmed the "
        "summit, saying it was logical for the two leaders to meet in Alaska.",
        date(2025, 8, 9),
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Officials from Washington and Kyiv sit down near Miami to rework the plan",
            "US and Ukrainian officials met for five hours at a golf club near Miami on Sunday. It was the "
            "first round of talks since Kyiv's chief negotiator stepped down on Friday. The US envoy will "
            "carry the revised plan to Moscow this week; Putin's aide said the Kremlin would receive him.",
        ),
        (
            "Second day in Berlin 'hard but useful', says Kyiv's negotiator",
            "The second day of talks between Ukraine and the United States in Berlin was hard but useful, "
            "the head of Kyiv's team said on Monday. The sides spent most of the day on security guarantees. "
            "Zelensky said there would be no withdrawal of troops as a gift to Putin after the meeting.",
        ),
        (
            "Kyiv backs truce plan after day of talks in Jeddah",
            "Ukraine said on Tuesday it was ready to accept a 30-day ceasefire with Russia after more than "
            "eight hours of talks with American officials in Jeddah. The delegations will report to their "
            "leaders.",
        ),
        (
            "Truce offer goes to Moscow after day of talks on the Red Sea",
            "Kyiv agreed on Tuesday to a 30-day ceasefire with Russia after nine hours of talks in Jeddah. "
            "The United States and Ukraine also agreed to finish a minerals deal soon.",
        ),
        (
            "Kyiv says yes to a month without fighting",
            "After a day-long session with American officials on Tuesday, Ukraine said it would accept a "
            "month without fighting if Russia did the same.",
        ),
    ],
)
def test_an_item_that_reports_only_a_meeting_with_the_us_has_no_new_round(title: str, summary: str) -> None:
    # The talks, "the sides" and "the delegations" are those of one party and the US, though Russia is named.
    assert "NEW_ROUND" not in events(run(title, summary, date(2025, 11, 30)))


def test_a_round_of_russia_us_ukraine_talks_is_both_parties_though_it_reads_us_ukraine_talks() -> None:
    result = run(
        "Kremlin: strikes on Kyiv paused until Sunday",
        "Peskov said the second round of the Russia-US-Ukraine talks would take place on Sunday in Abu "
        "Dhabi. US-Ukraine talks in Miami last week prepared it.",
        date(2026, 1, 30),
    )
    assert new_round(result).get("date") == "2026-02-01"


def test_separate_meetings_long_ago_do_not_cancel_this_round_at_the_same_venue() -> None:
    result = run(
        "Riyadh to host fourth round of talks on Tuesday",
        "Russian, Ukrainian and US delegations will meet in Riyadh on Tuesday for a fourth round of talks. "
        "Last year the Saudi capital hosted separate meetings of US officials with each side.",
    )
    assert new_round(result).get("place") == "Riyadh"


def test_children_counted_as_youngsters_or_minors() -> None:
    result = run(
        "Children returned to Ukraine through Qatar",
        "Russia returned four Ukrainian youngsters, children taken from Kherson, to their families.",
    )
    assert item_facts(result).get("count") == 4


def test_prisoners_who_are_home_were_exchanged() -> None:
    result = run(
        "250 home: first stage of the exchange",
        "250 Ukrainian prisoners of war are home after a swap with Russia.",
    )
    assert "EXCHANGE" in events(result)


def test_one_leader_staying_away_does_not_cancel_the_delegations_talks() -> None:
    result = run(
        "Kremlin names Istanbul team",
        "The Kremlin named its delegation for Friday's talks with Ukraine in Istanbul. Putin himself will "
        "not attend.",
    )
    assert new_round(result).get("place") == "Istanbul"


def test_a_headlines_venue_in_roman_figures_numbers_the_round() -> None:
    result = run(
        "Geneva II: no ceasefire, but the channel stays open",
        "Russian and Ukrainian delegations ended two days of talks in Geneva on Tuesday without a ceasefire.",
        published=date(2026, 2, 18),
    )
    (event,) = [e for e in result.events if e.type == "NEW_ROUND"]
    assert (event.facts.get("round"), event.facts.get("place")) == (2, "Geneva")


def test_held_on_a_weekday_is_the_last_one_and_to_be_held_the_next() -> None:
    # published on Wednesday 23 July 2025
    held = run("", "Russia and Ukraine held their third round of talks in Istanbul on Tuesday evening.")
    assert new_round(held).get("date") == "2025-07-22"
    coming = run("", "The third round of talks of Russia and Ukraine is to be held in Istanbul on Tuesday.")
    assert new_round(coming).get("date") == "2025-07-29"


def test_a_session_of_several_days_is_dated_by_its_first() -> None:
    result = run(
        "Talks end without a deal",
        "Two days of talks between Russian and Ukrainian delegations ended in Geneva on Tuesday. The "
        "meeting, which began on Monday, was the first in Switzerland.",
    )
    assert new_round(result).get("date") == "2025-07-21"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Negotiator: 1,200 prisoners each, and Moscow offers working groups",
            "The Russian and Ukrainian delegations agreed at Tuesday's talks in Istanbul to exchange at "
            "least 1,200 prisoners of war each, the Russian negotiator said, calling the third round a "
            "useful step.",
        ),
        # the sides agreed "at their third meeting", told before the swap
        (
            "1,200 for 1,200",
            "Ukraine and Russia agreed at their third meeting in Istanbul on Tuesday to exchange 1,200 "
            "prisoners each, the head of Ukraine's delegation said.",
        ),
    ],
)
def test_a_swap_agreed_at_yesterdays_talks_reports_the_talks_too(title: str, summary: str) -> None:
    assert new_round(run(title, summary)) == {"round": 3, "place": "Istanbul", "date": "2025-07-22"}


def test_a_swap_told_before_the_session_it_was_agreed_at_keeps_the_session_background() -> None:
    result = run(
        "Soldiers home",
        "Two hundred soldiers came home on Tuesday in a swap, which Kyiv and Moscow agreed at their meeting "
        "in Istanbul, officials said.",
    )
    assert events(result) == {"EXCHANGE"}


def test_a_swap_agreed_at_the_summit_of_the_previous_evening_is_news() -> None:
    result = run(
        "Kremlin: Paris summit useful",
        "The Kremlin on Tuesday described the Normandy summit held in Paris the previous evening as useful, "
        "saying its main result was an agreement with Kyiv to exchange detained persons.",
    )
    assert "EXCHANGE" in events(result)


@pytest.mark.parametrize(
    "outcome",
    [
        "Key points - A full prisoner exchange is due by the end of the year.",
        "Under the communique, Russia and Ukraine will release and exchange all detainees this year.",
    ],
)
def test_a_swap_due_or_to_be_released_under_a_summits_deal_is_agreed(outcome: str) -> None:
    result = run("What the Normandy summit in Paris settled", f"{outcome} Kyiv welcomed the deal.")
    assert "EXCHANGE" in events(result)


@pytest.mark.parametrize(
    "origin",
    [
        "It is the first half of the swap of 500 for 500 that the delegations struck in Istanbul on Monday.",
        "The handover took place under an arrangement reached at the direct talks hosted by Turkey.",
        "The repatriations are part of humanitarian arrangements agreed at talks in Istanbul in the summer.",
        "The exchange was agreed last Tuesday at the meeting of the Ukrainian, Russian and American "
        "delegations in Riyadh.",
    ],
)
def test_talks_named_as_where_a_swap_was_agreed_are_its_background(origin: str) -> None:
    result = run(
        "250 home from captivity",
        f"250 Ukrainian soldiers returned home from Russian captivity on Tuesday, officials said. {origin}",
    )
    assert events(result) == {"EXCHANGE"}


def test_talks_named_as_where_a_lapsing_moratorium_was_agreed_are_its_background() -> None:
    result = run(
        "Energy moratorium ends",
        "The moratorium on strikes against energy facilities, agreed at the Russian-Ukrainian talks in "
        "Muscat in June, ended on Sunday, the Kremlin said.",
    )
    assert "NEW_ROUND" not in events(result), result.events


@pytest.mark.parametrize("session", ["talks", "meeting"])
def test_talks_of_last_week_where_todays_swap_was_agreed_are_its_background(session: str) -> None:
    result = run(
        "Prisoners home",
        "SUMY REGION - Two hundred and ten Ukrainian soldiers returned home from captivity on Friday in an "
        f"exchange agreed at last week's {session} in Geneva, President Volodymyr Zelensky announced.",
        published=date(2026, 10, 9),
    )
    assert events(result) == {"EXCHANGE"}


def test_a_swap_agreed_after_a_day_of_talks_reports_the_talks_held() -> None:
    result = run(
        "",
        "DOHA, March 5 - Moscow and Kyiv agreed on Thursday to swap 250 prisoners each, after a day of "
        "humanitarian talks in Doha mediated by Qatar.",
        published=date(2026, 3, 5),
    )
    assert new_round(result).get("place") == "Doha"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "",
            "Ukraine's human rights commissioner has handed over to the Russian side a list of civilians "
            "held in Russia whose release Kyiv seeks, his office said.",
        ),
        (
            "Russian ombudswoman receives list of civilians from Kyiv",
            "MOSCOW, May 2. Russia's ombudswoman said her office had received from her Ukrainian counterpart "
            "a list of detained civilians and would check it.",
        ),
    ],
)
def test_a_list_handed_over_is_contact_between_the_sides_not_a_swap(title: str, summary: str) -> None:
    result = run(title, summary, published=date(2026, 5, 2))
    assert result.relevant and "EXCHANGE" not in events(result)


@pytest.mark.parametrize(
    "title",
    [
        "Kyiv's team to meet Russian officials in Doha on return of children on Friday",
        "Delegations to hold talks in Abu Dhabi about prisoner exchanges next week",
    ],
)
def test_a_swap_that_is_only_what_a_session_is_about_is_no_exchange(title: str) -> None:
    result = run(title, "", published=date(2026, 3, 3))
    assert "NEW_ROUND" in events(result) and "EXCHANGE" not in events(result)


def test_a_swap_the_delegations_settled_on_is_agreed() -> None:
    result = run(
        "Key points",
        "- The delegations met in Geneva for six hours on Tuesday.\n- The two delegations settled on a swap "
        "of 150 prisoners of war per side, Kyiv's negotiator said.",
        published=date(2026, 5, 5),
    )
    assert facts_of(result, "EXCHANGE").get("count") == 150


def test_talks_a_swap_followed_are_its_origin_whatever_the_datelines_day() -> None:
    result = run(
        "Fifteen Russian soldiers returned from Kiev-held territory - ministry",
        "MOSCOW, Nov 2 (Agency) - Fifteen Russian soldiers held captive were returned from territory "
        "controlled by Kiev following talks, the Defence Ministry said. Fifteen Ukrainian prisoners were "
        "handed over in return.",
        published=date(2022, 11, 2),
    )
    assert events(result) == {"EXCHANGE"}


@pytest.mark.parametrize(
    "summary",
    [
        "Türkiye hopes the Black Sea grain deal will be extended beyond August 20, when its current term "
        "ends, Turkish sources said after a call between Putin and Erdogan.",
        "Moscow warned it would quit the Black Sea grain deal at the August 20 deadline unless its demands "
        "were met, and Kyiv urged the UN to act.",
    ],
)
def test_a_days_date_written_month_first_is_the_deadline(summary: str) -> None:
    result = run("", summary, published=date(2026, 8, 5))
    assert facts_of(result, "DEADLINE").get("deadline") == "2026-08-20"


def test_no_date_for_later_meetings_leaves_the_round_held() -> None:
    result = run(
        "Live: talks in Geneva",
        "Key points\n- The third round of talks in Geneva ended after seven hours.\n- The sides agreed to "
        "keep their lists of prisoners under review.\n17:05 - The host says further meetings may follow. "
        "No date was given for them.",
        published=date(2026, 9, 8),
    )
    assert new_round(result).get("round") == 3


@pytest.mark.parametrize(
    "title",
    [
        "Two Kharkiv soldiers among the 300 Ukrainians freed by Russia on Sunday",
        "Four of the 120 Ukrainian prisoners returned by Russia on Sunday were women",
    ],
)
def test_a_few_among_the_freed_are_not_the_swaps_figure(title: str) -> None:
    result = run(title, "", published=date(2026, 7, 19))
    assert facts_of(result, "EXCHANGE").get("count") in (300, 120)


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Russian and Ukrainian delegations to meet in Muscat on Monday", "Muscat"),
        ("Ukrainian and Russian negotiators will meet in Bratislava next week", "Bratislava"),
    ],
)
def test_more_capitals_that_could_host_the_sides_give_the_place(title: str, place: str) -> None:
    assert new_round(run(title, "", published=date(2026, 9, 4))).get("place") == place


@pytest.mark.parametrize("named", ["on Friday, Jan. 1", "on 1 January", "on Friday"])
def test_the_end_of_the_day_named_is_that_days(named: str) -> None:
    result = run(
        "Putin orders a New Year truce in Ukraine",
        "MOSCOW, Dec 30 - The truce is to run from 6 p.m. on Thursday until the end of the day "
        f"{named}, the Kremlin said, and it expects Kyiv to follow suit.",
        published=date(2026, 12, 30),
    )
    assert facts_of(result, "DEADLINE").get("deadline") == "2027-01-01"


def test_a_swap_agreed_elsewhere_does_not_hide_the_next_round_in_its_sentence() -> None:
    result = run(
        "",
        "Ukraine and Russia completed the prisoner exchange agreed in Abu Dhabi on Monday, and the sides "
        "will meet for a sixth round of talks in Geneva next Wednesday, Ukraine's chief negotiator said.",
    )
    assert new_round(result).get("place") == "Geneva"


def test_three_sides_named_in_one_word_make_a_trilateral_session() -> None:
    result = run(
        "Energy moratorium to take effect at midnight",
        "The moratorium agreed in Riyadh takes effect at midnight, the Kremlin said. The "
        "Russian-American-Ukrainian consultations in Riyadh took place on Monday.",
    )
    assert new_round(result) == {"place": "Riyadh", "date": "2025-07-21"}


def test_the_round_looked_forward_to_does_not_number_the_one_reported() -> None:
    result = run(
        "Russia and Ukraine end second round with deal on safe corridors, third round expected next week",
        "The delegations met on Thursday in Belarus, near the Polish border.",
        date(2022, 3, 4),
    )
    assert new_round(result) == {"round": 2, "date": "2022-03-03"}


def test_a_round_is_numbered_by_a_sentence_that_says_which_it_was() -> None:
    result = run(
        "Negotiators agree on working groups after talks in the Turkish city",
        "Russian and Ukrainian delegations met in Istanbul on Wednesday and agreed to form three working "
        "groups. The Kremlin said the atmosphere had been businesslike. Kyiv said a meeting of the leaders "
        "remained its goal. Turkey's foreign minister thanked both teams. Drone attacks went on overnight. "
        "This was the third meeting of the two delegations this year.",
    )
    assert new_round(result).get("round") == 3


def test_a_round_is_numbered_by_a_later_sentence_that_states_its_number() -> None:
    result = run(
        "",
        "Moscow and Kyiv have agreed on another swap of prisoners of war, 500 for 500, after the talks in "
        "Vienna, the head of the Russian delegation told reporters. He said the lists were being finalised. "
        "He said Russia had again set out its conditions for a settlement. The Ukrainian side, he added, "
        "raised a meeting of the presidents once more. Contacts would continue through the usual channels, "
        "a deputy minister said. The talks in Vienna were the fourth round since direct negotiations "
        "resumed in Istanbul in March.",
        date(2027, 6, 1),
    )
    assert new_round(result).get("round") == 4


def test_a_round_is_numbered_by_the_headline_when_its_own_sentence_is_not() -> None:
    body = (
        "Norway is ready to host a fourth round of direct talks between Russia and Ukraine, its foreign "
        "ministry said on Monday. Russian and Ukrainian delegations are expected to meet in Oslo next week, "
        "a diplomat said."
    )
    result = run("Norway ready to host fourth round of Russia-Ukraine talks", body, date(2027, 3, 1))
    assert new_round(result) == {"round": 4, "place": "Oslo"}
    # a headline and a lead that number two rounds leave the number open: one of them is background
    two = run(
        "Norway ready to host fourth round of Russia-Ukraine talks",
        "After the third round ended without a deal, " + body[0].lower() + body[1:],
        date(2027, 3, 1),
    )
    assert new_round(two) == {"place": "Oslo"}


def test_a_round_is_numbered_by_counting_the_ones_before_it() -> None:
    result = run(
        "Delegations to meet again in Istanbul on Friday",
        "Ukrainian and Russian negotiators will meet in Istanbul on Friday, Kyiv said. The Russian team will "
        "be led by the same official as in the previous two rounds.",
    )
    assert new_round(result).get("round") == 3
    plain = run(
        "Delegations to meet again in Istanbul on Friday", "Ukrainian and Russian negotiators will meet."
    )
    assert "round" not in new_round(plain)  # nothing to count from


def test_no_date_for_the_next_round_does_not_unsettle_the_round_just_held() -> None:
    held = (
        "The fifth round of talks between Russia and Ukraine, hosted in Abu Dhabi, had been constructive, "
        "the host said on Friday."
    )
    result = run("Host praises talks", held + " No date has been set for the next round.", date(2026, 6, 19))
    # (the round told as hosted, without a day, is dated by the report)
    assert new_round(result) == {"round": 5, "place": "Abu Dhabi", "date": "2026-06-19"}
    unsettled = run("Host praises talks", held + " No date has been set for the meeting.", date(2026, 6, 19))
    assert "NEW_ROUND" not in events(unsettled)  # the session itself is what has no date


def test_a_day_and_month_told_in_the_past_tense_is_not_next_years() -> None:
    result = run(
        "A year of talking",
        "Direct talks between Russian and Ukrainian delegations resumed in Istanbul on May 16.",
        published=date(2025, 12, 30),
    )
    dates = {str(event.facts.get("date")) for event in result.events}
    assert "2026-05-16" not in dates, result.events


def test_a_past_round_as_background_is_not_a_new_round() -> None:
    result = run(
        "Kremlin says Kyiv in no hurry to talk",
        "Peskov said Moscow was waiting for Kyiv's proposals. The second round of talks between Russia and "
        "Ukraine, held in Istanbul on June 2, produced an agreement on prisoners. Two rounds of direct talks "
        "were held earlier this year.",
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)


def test_a_swap_of_another_month_told_in_the_body_is_a_look_back() -> None:
    lead = (
        "The year of talks between Russia and Ukraine that were meant to end the war is closing without a "
        "ceasefire. Negotiators met in Istanbul three times. Kyiv's envoy called the process slow. "
    )
    recap = (
        "The talks produced their largest results in the humanitarian field: an exchange of 1,000 prisoners "
        "per side in May and a further exchange of 1,200 per side agreed in July and carried out in stages."
    )
    result = run("The year in Russia-Ukraine peace talks", lead + recap, published=date(2025, 12, 30))
    assert result.relevant
    assert "EXCHANGE" not in events(result), result.events
    # told in the month it names, the swap agreed that month is news
    this_month = recap.replace(" in May", "")
    assert "EXCHANGE" in events(run("The talks so far", lead + this_month, published=date(2025, 7, 28)))


def test_a_long_articles_recap_deep_in_the_body_is_not_the_news() -> None:
    # a swap's report that recalls, paragraphs later, the meeting that agreed it nine days before
    filler = " ".join(
        f"Paragraph {n}: officials on both sides described the returns and the medical care given."
        for n in range(6)
    )
    result = run(
        "Last group of prisoners comes home as the swap is completed",
        "Russia and Ukraine exchanged 303 soldiers each on Sunday, completing the swap. "
        + filler
        + " The swap was the only concrete result of the May 16 meeting in Istanbul.",
        published=date(2025, 5, 25),
    )
    assert "EXCHANGE" in events(result)
    assert "NEW_ROUND" not in events(result), result.events


def test_rounds_counted_are_a_recap_not_a_session() -> None:
    result = run(
        "Trump's deadline passes",
        "The deadline passed on Friday. The planned summit follows three rounds of direct Russian-Ukrainian "
        "talks in Istanbul since May, which produced prisoner exchanges but no ceasefire.",
        published=date(2025, 8, 9),
    )
    assert "NEW_ROUND" not in events(result), result.events
    assert "EXCHANGE" not in events(result), result.events


@pytest.mark.parametrize("counted", ["sat down twice", "met three times", "met on two occasions"])
def test_meetings_counted_are_a_recap_not_a_session(counted: str) -> None:
    result = run(
        "Trump gives Russia 50 days to make a deal",
        f"Negotiators from Moscow and Kyiv have {counted} in Istanbul this year, without a ceasefire.",
        published=None,  # (no publication date to tell the meetings old by)
    )
    assert "NEW_ROUND" not in events(result), result.events
    # one meeting told the same way is one
    once = run("", "Negotiators from Moscow and Kyiv sat down in Istanbul on Monday.", published=None)
    assert "NEW_ROUND" in events(once)


def test_the_delegation_a_man_led_says_who_he_is_not_that_a_session_is_news() -> None:
    result = run(
        "Another 307 servicemen return home; final stage expected",
        "Russia and Ukraine exchanged 307 servicemen each on Saturday in the second stage of the swap. "
        "Vladimir Medinsky, who led the Russian delegation in Istanbul, said the exchange was proceeding as "
        "agreed, and that a third and final stage was expected today.",
        published=date(2025, 5, 25),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_day_a_framework_must_be_agreed_by_is_no_sessions_day() -> None:
    result = run(
        "Kremlin: Russia will not negotiate against a stopwatch",
        "Moscow does not intend to hurry its negotiating position to fit a timetable drawn up in Washington, "
        "Kremlin spokesman Dmitry Peskov said today, commenting on the US demand that Russia and Ukraine "
        "agree the framework of a settlement by September 1.",
        published=date(2026, 8, 12),
    )
    assert "NEW_ROUND" not in events(result), result.events
    assert deadline_of(result) == "2026-09-01"


def test_sessions_at_several_venues_are_a_recap() -> None:
    result = run(
        "Russia and Ukraine swap 250 prisoners each",
        "Russia and Ukraine exchanged 250 prisoners each on Saturday. The direct bilateral format had been "
        "dormant since last July, overtaken by the trilateral sessions with the Americans in Abu Dhabi and "
        "Geneva.",
        published=date(2026, 3, 22),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_meeting_investors_were_hoping_would_ease_sanctions_is_no_session() -> None:
    result = run(
        "Peskov: Russia will not negotiate by the calendar",
        "Russia will not hurry its position to meet a US deadline, the Kremlin said on Friday. Russian "
        "business newspapers said investors had been hoping that the Istanbul meeting and the American "
        "initiative would lead to an easing of sanctions next year.",
        published=date(2026, 12, 11),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_next_round_to_be_announced_in_due_course_is_not_scheduled() -> None:
    result = run(
        "180 servicemen return home in exchange",
        "Ukraine and Russia exchanged 180 servicemen each on Thursday. Asked about the next round of "
        "trilateral talks, Kremlin spokesman Dmitry Peskov said Moscow would announce its plans in due "
        "course.",
        published=date(2026, 7, 10),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_talks_a_truce_is_meant_to_favour_are_no_session() -> None:
    result = run(
        "Kremlin confirms pause in strikes on Kyiv",
        "The Kremlin on Friday confirmed that Vladimir Putin had agreed to a request from Donald Trump to "
        "refrain from strikes on Kyiv until February 1, to create favourable conditions for talks.",
        published=date(2026, 1, 30),
    )
    assert "NEW_ROUND" not in events(result), result.events
    # the session the pause is tied to, named and scheduled, is one
    result = run(
        "Kremlin confirms pause in strikes on Kyiv",
        "The Kremlin on Friday confirmed that Vladimir Putin had agreed to a request from Donald Trump to "
        "refrain from strikes on Kyiv until February 1. According to the Kremlin, the pause is linked to the "
        "second round of the Russia-US-Ukraine talks, which is scheduled for Sunday in Abu Dhabi.",
        published=date(2026, 1, 30),
    )
    assert new_round(result).get("round") == 2


def test_a_session_the_news_came_days_after_is_its_background() -> None:
    result = run(
        "Ukraine says 86 soldiers came home in a swap with Russia",
        "Ukraine on Friday received 86 of its soldiers in a prisoner exchange with Russia, officials said. "
        "The swap took place in the south. The exchange came days after Ukrainian and Russian negotiators "
        "held face-to-face talks in Istanbul on Tuesday.",
        published=date(2022, 4, 2),
    )
    assert "NEW_ROUND" not in events(result), result.events
    assert facts_of(result, "EXCHANGE").get("date") == "2022-04-01"  # Friday's, not the talks' Tuesday
    # the talks told first, with the swap after them, are the news
    held = run("", "Ukrainian and Russian negotiators held talks in Istanbul on Tuesday.", date(2022, 3, 30))
    assert "NEW_ROUND" in events(held)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Olympiad: Ukraine's women edge India in seventh round thriller",
            "Ukraine's women kept their medal hopes alive at the Olympiad on Tuesday with a narrow win over "
            "India in the seventh round, decided in the last game. The captain said the team had trained in "
            "Lviv for three weeks despite power cuts caused by Russian strikes on the grid. They meet "
            "Georgia in round eight on Wednesday.",
        ),
        # a title fight told in Ukrainian: the champion's rounds in Riyadh
        (
            "",
            "Олександр Усик переміг в Ер-Ріяді роздільним рішенням суддів після дванадцяти раундів і став "
            "абсолютним чемпіоном світу.",
        ),
    ],
)
def test_a_round_of_games_in_a_tournament_is_no_session(title: str, summary: str) -> None:
    assert "NEW_ROUND" not in events(run(title, summary))


def test_the_latest_round_wins_over_an_older_one_in_the_same_story() -> None:
    result = run(
        "Third round of Russia-Ukraine talks to begin in Istanbul on Wednesday",
        "Delegations from Russia and Ukraine will meet in Istanbul. At the second round of talks held in "
        "Istanbul, the sides agreed on a large swap.",
    )
    assert item_facts(result)["round"] == 3


# --- EXCHANGE ------------------------------------------------------------------------------------------


def test_swap_carried_out_with_per_side_count() -> None:
    result = run(
        "Russia and Ukraine swap 84 prisoners each", "The exchange took place on the Belarusian border."
    )
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 84


@pytest.mark.parametrize(
    "summary",
    [
        # ("urge" hedges a swap; the agencies' "URGENT:" flash line does not)
        "URGENT: Russia and Ukraine will exchange 95 prisoners each on Friday - Kremlin.",
        # ("consider" hedges; "considerable" does not)
        "Russia and Ukraine will exchange a considerable number of prisoners on Friday, 95 for 95, it said.",
    ],
)
def test_words_that_only_begin_like_a_hedge_are_none(summary: str) -> None:
    assert facts_of(run("", summary), "EXCHANGE") == {"count": 95, "date": "2025-07-25"}


def test_a_former_mayor_among_the_freed_is_no_look_back() -> None:
    result = run(
        "",
        "Russia and Ukraine swapped 90 prisoners of war each on Sunday, and a former mayor of a frontline "
        "town was among those freed.",
        date(2025, 8, 24),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 90, "date": "2025-08-24"}


def test_a_headlines_total_gives_way_to_the_leads_figure_per_side() -> None:
    result = run(
        "Gulf mediation secures exchange of 600 captives between Russia and Ukraine",
        "The mediation of the Emirates and Qatar has secured the exchange of 600 captives between Russia and "
        "Ukraine, 300 from each side, the foreign ministry said on Thursday.",
    )
    assert facts_of(result, "EXCHANGE").get("count") == 300


def test_a_swaps_own_day_beats_the_day_it_was_announced() -> None:
    result = run(
        "Gulf mediation secures exchange of 600 captives between Russia and Ukraine",
        "The mediation of the Emirates and Qatar has secured the exchange of 600 captives between Russia and "
        "Ukraine, 300 from each side, the foreign ministry said on Thursday. The exchange was carried out on "
        "Wednesday.",
        published=date(2026, 10, 22),  # a Thursday
    )
    assert facts_of(result, "EXCHANGE") == {"count": 300, "date": "2026-10-21"}


def test_citizens_come_home_are_counted() -> None:
    result = run(
        "Ukraine gets back 20 people in swap with separatists",
        "Ukraine and Russian-backed separatists carried out a limited swap on Thursday. Kyiv said 20 of its "
        "citizens had been returned at a checkpoint in the Donetsk region.",
        published=date(2020, 4, 17),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 20, "date": "2020-04-16"}


def test_a_dateline_with_a_double_hyphen_is_a_dateline() -> None:
    result = run(
        "",
        "BEIJING, March 1 -- The first round of talks between Russia and Ukraine was held on Monday in "
        "Belarus's Gomel region, both delegations said.",
        date(2022, 3, 1),
    )
    assert new_round(result) == {"round": 1, "place": "Gomel", "date": "2022-02-28"}


@pytest.mark.parametrize(
    ("summary", "day"),
    [
        # the session's own day, told in another sentence, beats the day the report was filed
        ("GENEVA, Aug 5 (Agency) - Ukraine and Russia agreed at talks in Geneva to return 300 wounded "
         "prisoners of war each, but remained far apart on a ceasefire. Monday's meeting was the second "
         "round this summer.", "2025-08-04"),
        # alone, the dateline's day is the session's: a report filed the day of the talks
        ("ISTANBUL, Aug 5 (Agency) - Russian and Ukrainian delegations held talks in Istanbul, the Turkish "
         "foreign ministry said.", "2025-08-05"),
    ],
)  # fmt: skip
def test_a_datelines_day_dates_a_session_only_when_nothing_else_does(summary: str, day: str) -> None:
    result = run("Russia and Ukraine talk again", summary, date(2025, 8, 5))
    assert new_round(result)["date"] == day


def test_a_dateline_with_its_country_in_brackets_dates_the_filing_not_the_swap() -> None:
    result = run(
        "Russia, Ukraine swap 150 prisoners each",
        "Kyiv [Ukraine], February 6: Russia and Ukraine each returned 150 prisoners of war on Wednesday, "
        "with the United Arab Emirates acting as mediator.",
        published=date(2025, 2, 6),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 150, "date": "2025-02-05"}


def test_another_conflicts_swap_told_before_ukraine_is_named_is_not_ukraines() -> None:
    result = run(
        "After Gaza swap, Trump says Russia-Ukraine is next",
        "A day after the release of the last living hostages from Gaza in exchange for nearly 2,000 "
        "Palestinian prisoners, Trump said he would now turn his attention to ending the war in Ukraine.",
        published=date(2025, 10, 14),
    )
    assert "EXCHANGE" not in events(result), result.events


def test_troops_that_returned_fire_are_no_swap() -> None:
    result = run(
        "Christmas truce ends as both sides trade blame",
        "The ceasefire Russia declared for Orthodox Christmas ran out on Saturday. Ukraine's military "
        "reported Russian shelling throughout the period, while Russia's defence ministry said its troops "
        "had only returned fire.",
        published=date(2023, 1, 8),
    )
    assert "EXCHANGE" not in events(result), result.events


def test_signals_exchanged_are_no_swap() -> None:
    result = run(
        "Ushakov: a useful and constructive conversation on Ukraine",
        "Kremlin aide Yuri Ushakov called Wednesday's conversation between Vladimir Putin and the American "
        "envoy on ending the war in Ukraine useful. Signals were exchanged on Ukraine, he said.",
        published=date(2025, 8, 6),
    )
    assert result.relevant  # (a mediator meeting one side about the war)
    assert "EXCHANGE" not in events(result), result.events


def test_a_standing_channel_for_swaps_is_no_swap() -> None:
    result = run(
        "Gulf states back US push as deadline is set",
        "Gulf states on Saturday welcomed the new US framework for ending the war in Ukraine after Trump "
        "gave Moscow and Kyiv a deadline to respond. Qatar said it was ready to host further meetings of "
        "the parties, and the Emirates said their humanitarian channel for prisoner exchanges would remain "
        "open.",
    )
    assert "EXCHANGE" not in events(result), result.events


def test_a_stage_of_a_larger_swap_carried_out_counts_its_own_figure() -> None:
    result = run(
        "Last 303 prisoners freed as 1,000-for-1,000 exchange is completed",
        "Ukraine and Russia completed the swap agreed in Istanbul on Sunday, Kyiv said.",
    )
    assert item_facts(result).get("count") == 303
    agreed = run("Ukraine and Russia agree 1,000-for-1,000 prisoner exchange; 390 to go home first", "")
    assert item_facts(agreed).get("count") == 1000  # agreed, not carried out: the whole swap
    completed = run(
        "1,000-for-1,000 prisoner exchange completed",
        "A last group of 303 prisoners from each side was exchanged by Russia and Ukraine on Sunday, "
        "completing the 1,000-for-1,000 swap.",
    )
    assert item_facts(completed).get("count") == 303  # the headline's total gives way to the stage told


def test_a_number_that_names_a_round_counts_nobody() -> None:
    result = run("Istanbul round two yields bodies deal and a swap of wounded POWs by Russia and Ukraine", "")
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert swap.facts.get("count") is None  # not 2: "two" numbers the round


def test_a_swap_written_in_words_is_a_swap_with_its_count() -> None:
    result = run("Russia and Ukraine agree on a thousand-for-thousand exchange at Istanbul talks", "")
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert swap.facts.get("count") == 1000


def test_a_swap_in_the_opening_bullets_is_the_news() -> None:
    result = run(
        "Istanbul, round one: a swap, but no ceasefire",
        "Summary\n- The meeting in Istanbul was the first direct negotiation since 2022.\n- The one tangible "
        "outcome: each side will free 1,000 prisoners of war.\n- A leaders' meeting remains unlikely.",
    )
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert swap.facts.get("count") == 1000


def test_a_swaps_size_left_out_of_its_report_is_taken_from_a_later_sentence() -> None:
    lead = "Russia and Ukraine agreed at talks in Istanbul on Wednesday on a new prisoner exchange."
    quote = ' "The exchange will cover 250 prisoners from each side," the host said.'
    result = run("Sides agree new swap", lead + quote)
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert swap.facts.get("count") == 250
    background = " In May 2022 the sides had exchanged 144 prisoners each after the siege of Mariupol."
    result = run("Sides agree new swap", lead + background)
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert "count" not in swap.facts  # an old swap's size is not this one's


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Ukraine and Russia agree 1,000-for-1,000 prisoner exchange at Istanbul talks", 1000),
        ("Kyiv and Moscow carried out a 1,200 for 1,200 swap of prisoners of war today", 1200),
        ("Ukraine brings home 146 servicemen in new prisoner exchange with Russia", 146),
    ],
)
def test_agreed_or_carried_out_swaps_and_their_counts(text: str, count: int) -> None:
    result = run(text)
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == count


def test_bodies_repatriated_is_an_exchange() -> None:
    result = run(
        "Ukraine receives bodies of 1,000 fallen soldiers from Russia", "The repatriation took place today."
    )
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 1000


def test_children_returned_is_an_exchange() -> None:
    result = run("Ukraine returns 11 children deported to Russia after Qatari mediation")
    assert "EXCHANGE" in events(result)


@pytest.mark.parametrize(
    "text",
    [
        "Ukraine proposes all-for-all prisoner exchange with Russia",
        "A new prisoner exchange with Russia is being prepared, Zelensky says",
        "At the next round Ukraine and Russia will discuss further exchanges of prisoners",
    ],
)
def test_proposed_prepared_or_agenda_swaps_are_not_exchanges(text: str) -> None:
    result = run(text)
    assert result.relevant
    assert "EXCHANGE" not in events(result), result.events


@pytest.mark.parametrize(
    "lead",
    [
        "Delegations of Russia and Ukraine opened talks in Oslo on Monday with a swap of prisoners of war "
        "high on the agenda, the mediators said.",
        "Delegations of Russia and Ukraine opened talks in Oslo on Monday, with an exchange of wounded "
        "prisoners first on their agenda.",
    ],
)
def test_a_swap_named_as_what_tops_the_agenda_is_no_exchange(lead: str) -> None:
    result = run("Russia-Ukraine talks open in Oslo", lead, published=date(2034, 6, 5))
    assert "NEW_ROUND" in events(result)
    assert "EXCHANGE" not in events(result), result.events


def test_a_swap_carried_out_after_the_agenda_was_set_is_an_exchange() -> None:
    result = run(
        "Russia and Ukraine swap 200 prisoners each",
        "Russia and Ukraine exchanged 200 prisoners of war each on Monday, weeks after the agenda of the "
        "Oslo talks was agreed.",
        published=date(2034, 6, 5),
    )
    assert "EXCHANGE" in events(result)


def test_a_proposal_of_something_else_does_not_doubt_a_confirmed_swap() -> None:
    result = run(
        "Medinsky proposes three online working groups, confirms 1,200-for-1,200 exchange",
        "Russian and Ukrainian delegations met in Istanbul on Wednesday.",
        published=date(2025, 7, 24),
    )
    (swap,) = [e for e in result.events if e.type == "EXCHANGE"]
    assert swap.facts.get("count") == 1200


def test_an_old_swap_look_back_is_not_an_exchange() -> None:
    result = run(
        "Ukraine's ombudsman reviews the humanitarian track",
        "Lubinets spoke about the work of his office with Russia. In 2022, Ukraine and Russia exchanged "
        "215 prisoners, including the Azovstal defenders.",
    )
    assert "EXCHANGE" not in events(result)


def test_exchange_of_views_or_documents_is_not_an_exchange() -> None:
    result = run(
        "Russia and Ukraine exchange memoranda at Istanbul talks",
        "The delegations exchanged views and draft documents on a ceasefire.",
    )
    assert "EXCHANGE" not in events(result)


ROUND_HELD_TODAY = (
    "Russian and Ukrainian delegations held their third round of talks in Istanbul on Wednesday. "
    "The meeting at the Ciragan Palace lasted under an hour, officials said. "
    "Turkey's foreign minister opened the session and spoke of a difficult road ahead. "
)


def test_a_swap_agreed_at_the_round_reported_is_its_outcome_even_deep_in_the_report() -> None:
    result = run(
        "Third round in Istanbul ends quickly",
        ROUND_HELD_TODAY + "According to the Russian negotiator, the parties agreed a swap of 1,200 captured "
        "soldiers from each side.",
    )
    assert {"NEW_ROUND", "EXCHANGE"} <= events(result)
    assert item_facts(result)["count"] == 1200


def test_a_proposal_after_the_swap_agreed_in_its_sentence_is_the_other_things() -> None:
    result = run(
        "Third round in Istanbul ends quickly",
        ROUND_HELD_TODAY + "Officials said the parties agreed that eight hundred captives from each side "
        "would be freed and that each delegation would draft a proposal on a truce.",
    )
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 800


@pytest.mark.parametrize(
    "aside",
    [
        "In May 2025 the parties agreed a swap of 1,000 captured soldiers from each side.",  # long ago
        "The delegations also agreed to exchange lists of prisoners for a future swap.",  # lists
        "Zelensky said he hoped the next meeting would bring agreement on a fresh exchange of prisoners.",
    ],
)
def test_a_swap_long_agreed_hoped_for_or_only_listed_is_no_exchange_in_a_round_report(aside: str) -> None:
    result = run("Third round in Istanbul ends quickly", ROUND_HELD_TODAY + aside)
    assert "NEW_ROUND" in events(result)
    assert "EXCHANGE" not in events(result)


def test_a_deep_swap_agreed_in_an_item_without_news_of_a_round_is_a_look_back() -> None:
    result = run(
        "Ukraine's ombudsman reviews a year of work",
        "Lubinets described his office's contacts with Moscow and the Red Cross. He said families still "
        "write to him every day. He praised the volunteers who help them. The parties agreed a swap of "
        "300 captured soldiers from each side, he recalled.",
    )
    assert "EXCHANGE" not in events(result)


def test_a_truce_that_strikes_resumed_after_is_no_deadline() -> None:
    result = run(
        "Strikes on power plants resume",
        "Russia resumed strikes on the Ukrainian energy grid following a brief truce that the Kremlin said "
        "would last until Sunday, Kyiv said.",
        published=date(2025, 7, 21),
    )
    assert "DEADLINE" not in events(result)


def test_us_russia_swap_is_not_relevant_even_with_prisoner_words() -> None:
    result = run(
        "US and Russia complete prisoner swap in Abu Dhabi",
        "Russia freed a dual national; the US released a Russian.",
    )
    assert not result.relevant
    assert "EXCHANGE" not in events(result)


def test_a_headline_naming_no_one_over_a_us_russia_swap_is_that_swap() -> None:
    # Ukraine is named in the lead only as the cause the prisoner gave to; the swap is Washington's and
    # Moscow's, and the headline that names no one is about it, not about a war's swap at a talks' venue
    result = run(
        "Teacher freed in Abu Dhabi prisoner swap",
        "Anna Morrow, a dual US-Russian citizen jailed over a donation to a Ukrainian relief fund, was freed "
        "in a prisoner exchange in Abu Dhabi on Thursday. Washington released a Russian engineer in return.",
    )
    assert not result.relevant, result.evidence
    # a war's swap that frees an American too stays the war's
    war = run(
        "Prisoners freed in Abu Dhabi swap",
        "Ukraine and Russia exchanged 84 prisoners of war each on Thursday; a US citizen who fought for "
        "Ukraine was among those freed.",
    )
    assert "EXCHANGE" in events(war)


# --- DEADLINE ------------------------------------------------------------------------------------------


def test_ultimatum_in_days_resolves_against_publication() -> None:
    result = run(
        "Trump gives Russia 50 days to agree to a peace deal or face sanctions", published=date(2025, 7, 14)
    )
    assert deadline_of(result) == "2025-09-02"


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("Trump says Russia must agree a ceasefire by 8 August or face secondary sanctions", "2025-08-08"),
        ("White House wants Russia-Ukraine peace framework agreed by the end of August", "2025-08-31"),
        ("Kremlin has until Friday to respond to the US ceasefire proposal, Rubio warns", "2025-07-25"),
        ("Easter truce between Russia and Ukraine lasts until midnight Sunday", "2025-07-27"),
    ],
)
def test_target_dates_and_truce_expiry_are_deadlines(text: str, deadline: str) -> None:
    result = run(text)
    assert deadline_of(result) == deadline


def test_deadline_by_the_beginning_of_a_month_is_its_first_day() -> None:
    result = run(
        "",
        "Trump has threatened that if no progress is made in the talks with Russia by the beginning of "
        "September, "
        "the US will impose sanctions.",
        published=date(2025, 7, 25),
    )
    assert item_facts(result)["deadline"] == "2025-09-01"


def test_a_thirty_day_ceasefire_is_a_length_not_a_deadline() -> None:
    result = run("Ukraine backs US proposal for a 30-day ceasefire with Russia")
    assert result.relevant
    assert "DEADLINE" not in events(result)


def test_a_withdrawn_deadline_is_not_a_deadline() -> None:
    result = run("Trump says there is no deadline for Putin to agree to a ceasefire in Ukraine")
    assert result.relevant
    assert "DEADLINE" not in events(result)


def test_a_date_denied_as_a_deadline_is_not_one_where_another_sentence_names_it() -> None:
    # the remark names the date; the denial names the same one: no deadline. A date the denial does not
    # name is still a deadline
    remark = (
        "a day after the president told supporters he wanted the two sides to sign a peace deal by the end "
        "of September."
    )
    result = run(
        "White House says end-of-September remark was 'an aspiration, not a deadline'",
        "The president was describing an aspiration, not setting a deadline, his spokeswoman said on "
        f'Thursday. "There is no end-of-September deadline for Russia or Ukraine," she said, {remark}',
        published=date(2031, 9, 4),
    )
    assert result.relevant
    assert "DEADLINE" not in events(result)
    other = run(
        "White House: no end-of-September deadline, but Moscow must answer by 15 October",
        '"There is no end-of-September deadline," the spokeswoman said on Thursday. But she said Russia had '
        "until 15 October to answer the US proposal for a ceasefire in Ukraine, or face new sanctions.",
        published=date(2031, 9, 4),
    )
    assert deadline_of(other) == "2031-10-15"


def test_a_deadline_told_with_a_side_that_does_not_work_with_deadlines_stands() -> None:
    result = run(
        "",
        "The deadline the US president set for Russia to accept a ceasefire in Ukraine ran out on Monday, "
        "22 September, without an answer from Moscow, which said it did not work with deadlines.",
        published=date(2031, 9, 23),
    )
    assert deadline_of(result) == "2031-09-22"


def test_a_background_deadline_long_past_is_not_a_deadline() -> None:
    result = run(
        "Kremlin says talks with Kyiv will go on",
        "Peskov said Moscow remained open to negotiations. Trump's earlier ultimatum, which expired on "
        "8 March, had demanded a ceasefire.",
    )
    assert "DEADLINE" not in events(result)


def test_another_conflicts_ultimatum_is_not_a_deadline() -> None:
    result = run("Trump gives Hamas until Sunday to accept Gaza ceasefire deal")
    assert not result.relevant
    assert "DEADLINE" not in events(result)


# --- evidence, purity, the API ---------------------------------------------------------------------


def test_evidence_offsets_point_at_the_classified_text() -> None:
    title = "Україна та Росія обмінялися полоненими — İstanbul talks’ outcome"
    summary = "Kyiv and Moscow swapped 84 prisoners each on Wednesday after the Istanbul talks."
    result = run(title, summary)
    text = classified_text(title, summary)
    every = list(result.evidence) + [evidence for event in result.events for evidence in event.evidence]
    assert every
    for evidence in every:
        assert text[evidence.start : evidence.end] == evidence.text
        assert evidence.rule


def test_ukrainian_and_russian_terms_are_understood() -> None:
    assert run("Україна та Росія провели обмін полоненими").relevant
    assert run("Переговоры России и Украины в Стамбуле продолжатся").relevant


def test_spelling_variants_match() -> None:
    for name in ("Zelensky", "Zelenskyy", "Zelenskiy"):
        result = run(f"{name} calls for peace talks")
        assert result.relevant, name
    assert "Istanbul" in {
        event.facts.get("place")
        for event in run(
            "Russia and Ukraine delegations will meet in İSTANBUL for their second round of talks tomorrow"
        ).events
    }


def test_classification_is_pure_and_serialisable() -> None:
    args = ("Ukraine and Russia swap 84 prisoners each", "The exchange took place today.", PUBLISHED, RULES)
    first, second = classify(*args), classify(*args)
    assert first == second
    data = classification_to_dict(first)
    assert json.loads(json.dumps(data)) == data
    assert data["rules_version"] == RULES.version and len(RULES.version) == 12
    assert data["events"][0]["type"] == "EXCHANGE"


def test_classify_item_reads_title_summary_and_content() -> None:
    item = Item(
        feed="wire", key="k1", url=None, canonical_url=None, title="Kremlin comments",
        summary="Peskov spoke to reporters.",
        content="Peskov spoke to reporters. He said Russia and Ukraine will hold a third round of talks in "
        "Istanbul on Friday.",
        author=None, published=datetime(2025, 7, 23, 9, tzinfo=UTC), updated=None, date_flag=None,
        language="en", fingerprint="f", content_hash="h",
    )  # fmt: skip
    result = classify_item(item, RULES)
    assert "NEW_ROUND" in events(result)
    assert item_facts(result)["date"] == "2025-07-25"


def test_no_publication_date_still_classifies() -> None:
    result = run("Russia and Ukraine swap 84 prisoners each", published=None)
    assert "EXCHANGE" in events(result)


def test_seed_like_shapes_work_without_the_shared_folder() -> None:
    # the shapes of the seed articles (readiness statement; confirmed round tonight; analysis of a round
    # held two days earlier with an agreed swap and a sanctions deadline), in words written for this test
    readiness = run(
        "Is Moscow ready for another round with Kyiv?",
        "The Kremlin said it is willing to hold a third round of talks with Ukraine, "
        "but Kyiv is in no hurry. "
        "The second round of direct talks between Russia and Ukraine, held in Istanbul on June 2, ended with "
        "an agreement on an exchange of prisoners. Moscow and Kyiv agreed to exchange all seriously wounded "
        "prisoners.",
        published=date(2025, 7, 14),
    )
    assert readiness.relevant and readiness.events == ()
    analysis = run(
        "Ukraine and Russia meet for a third round of talks",
        "The third meeting of the Ukrainian and Russian delegations in Istanbul took place on 23 July. "
        "The delegations agreed on a further exchange of prisoners of war (more than 1,200 from each side). "
        "Trump has threatened that if there is no progress by the beginning of September, the US will impose "
        "sanctions on Russia.",
        published=date(2025, 7, 25),
    )
    assert events(analysis) == {"NEW_ROUND", "EXCHANGE", "DEADLINE"}
    assert item_facts(analysis) == {
        "round": 3, "place": "Istanbul", "date": "2025-07-23", "count": 1200, "deadline": "2025-09-01",
    }  # fmt: skip


# --- generalisation: classes of errors found on an independent corpus (examples written for the tests) ------


def test_a_headline_that_names_no_one_takes_the_parties_the_item_names_later() -> None:
    result = run(
        "Swap completed on Sunday",
        "A final group of 210 prisoners from each side was exchanged on Sunday at the border. "
        "The Ukrainian president thanked the mediators.",
        published=date(2025, 6, 8),
    )
    assert result.relevant
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 210


def test_a_session_that_names_both_parties_is_relevant_without_the_word_talks() -> None:
    result = run(
        "",
        "Ukrainian and American officials expect to fix a date for a sixth trilateral meeting with Russia "
        "next week, a spokesman said.",
    )
    assert result.relevant


@pytest.mark.parametrize(
    ("title", "published", "deadline"),
    [
        ("Trump says he will decide within two weeks whether to hit Russia with sanctions", date(2025, 8, 1),
         "2025-08-15"),
        ("Ukraine prepares for the US deadline of 9 September for Moscow, with tariffs looming",
         date(2025, 8, 1), "2025-09-09"),
    ],
)  # fmt: skip
def test_ultimatums_aimed_at_russia_without_the_word_talks(
    title: str, published: date, deadline: str
) -> None:
    result = run(title, published=published)
    assert result.relevant
    assert deadline_of(result) == deadline


def test_a_computable_date_wins_over_the_stated_span() -> None:
    result = run(
        "Washington's three-week window for the Kremlin would expire on 20 August, officials warn of tariffs",
        published=date(2025, 7, 30),
    )
    assert item_facts(result)["deadline"] == "2025-08-20"


def test_a_bare_until_in_talk_of_the_talks_is_not_a_deadline() -> None:
    result = run(
        "Russia-Ukraine talks resume by video",
        "A fifth round of talks between Russia and Ukraine began by video link on Monday, with a break "
        "until Wednesday, the Ukrainian negotiator said.",
        published=date(2025, 7, 21),
    )
    assert "NEW_ROUND" in events(result)  # the break is not a pause of the talks either
    assert "DEADLINE" not in events(result)


def test_the_first_talks_since_a_past_year_are_news_not_history() -> None:
    result = run(
        "",
        "Russian and Ukrainian negotiators met in Istanbul on Friday, their first direct talks since 2022.",
        published=date(2025, 5, 16),
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result)["date"] == "2025-05-16"


def test_a_weekday_told_in_the_past_tense_is_the_last_one() -> None:
    result = run(
        "",
        "The session between the Russian and Ukrainian delegations in Istanbul on Wednesday evening ended "
        "after forty minutes.",
        published=date(2025, 7, 24),  # a Thursday
    )
    assert item_facts(result)["date"] == "2025-07-23"


def test_for_the_nth_time_is_the_round_and_a_city_beats_its_country() -> None:
    result = run(
        "Delegations from Kyiv and Moscow head to Turkey",
        "Russian and Ukrainian negotiators will meet in Turkey on Friday for the fourth time this year. "
        "The talks in Istanbul are expected to focus on prisoners.",
    )
    assert "NEW_ROUND" in events(result)
    facts = item_facts(result)
    assert facts["round"] == 4
    assert facts["place"] == "Istanbul"


@pytest.mark.parametrize(
    ("summary", "count"),
    [
        (
            "Russia and Ukraine each released 280 prisoners on Friday, including 60 civilians on each side.",
            280,
        ),
        ("Russia and Ukraine completed a thousand-for-a-thousand exchange of prisoners on Friday.", 1000),
        ("Russia and Ukraine swapped 40 detainees for 40 on Friday, both sides said.", 40),
    ],
)
def test_per_side_counts_written_in_other_ways(summary: str, count: int) -> None:
    result = run("", summary, published=date(2025, 7, 25))
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == count


def test_an_exchange_noun_with_a_release_verb_is_a_swap_but_a_trade_is_not() -> None:
    swap = run("", "The exchange, carried out on the Belarusian border on Tuesday, freed 90 Ukrainians.")
    assert "EXCHANGE" in events(swap)
    trade = run(
        "", "Ukraine offered Russia a ceasefire in exchange for the return of occupied land on Tuesday."
    )
    assert "EXCHANGE" not in events(trade)


@pytest.mark.parametrize(
    "summary",
    [
        "Ukraine's accession negotiations with the European Union stall as Hungary blocks the first cluster.",
        "Russia and Japan held a round of talks on fishing quotas; peace treaty talks remain frozen.",
        "The State Department said talks with Russia on seized diplomatic properties would continue.",
    ],
)
def test_other_negotiations_near_russia_or_ukraine_are_not_relevant(summary: str) -> None:
    assert not run("", summary).relevant


def test_a_dropped_deadline_in_the_headline_is_not_a_deadline() -> None:
    result = run(
        "Trump drops his Thanksgiving deadline for a Ukraine peace deal", published=date(2025, 11, 25)
    )
    assert result.relevant
    assert "DEADLINE" not in events(result)


# --- round 2: sessions told in other words, their dates, and doubts that belong to something else --------


def test_a_dated_session_reported_in_the_past_tense_is_a_new_round() -> None:
    result = run(
        "Shelling resumes after border talks",
        "Tuesday's talks between the Russian and Ukrainian delegations in the Gomel region produced no "
        "breakthrough, negotiators said.",
    )
    new_round = next(event for event in result.events if event.type == "NEW_ROUND")
    assert new_round.facts["place"] == "Gomel"
    assert new_round.facts["date"] == "2025-07-22"  # the Tuesday before publication


def test_talks_with_a_venue_and_a_day_need_not_name_the_other_side_when_no_mediator_is_named() -> None:
    result = run(
        "Kremlin sends a team to Istanbul",
        "The Kremlin confirmed that its delegation would join the talks in Istanbul on Friday.",
    )
    new_round = next(event for event in result.events if event.type == "NEW_ROUND")
    assert new_round.facts == {"place": "Istanbul", "date": "2025-07-25"}


def test_one_side_meeting_a_mediator_at_a_venue_on_a_day_is_not_a_new_round() -> None:
    result = run(
        "Kyiv's team heads to Jeddah",
        "A Ukrainian delegation will hold talks with United States officials in Jeddah on Friday.",
    )
    assert "NEW_ROUND" not in events(result)


def test_an_item_saying_no_venue_was_agreed_takes_the_round_out_of_an_undated_proposal() -> None:
    proposal = (
        "The White House said Russia and Ukraine would start negotiations soon and named Geneva as a venue."
    )
    assert "NEW_ROUND" in events(run("Call ends with talk of talks", proposal))
    undecided = run("Call ends with talk of talks", proposal + " Moscow said no venue had been agreed.")
    assert "NEW_ROUND" not in events(undecided)


def test_the_date_a_statement_was_made_is_not_the_date_of_the_session() -> None:
    result = run(
        "Peskov on the Istanbul round",
        "Peskov said on Monday that the Russian and Ukrainian delegations will meet in Istanbul.",
    )
    new_round = next(event for event in result.events if event.type == "NEW_ROUND")
    assert new_round.facts == {"place": "Istanbul"}


def test_last_and_next_weekdays_point_their_own_way_whatever_the_tense() -> None:
    past = run(
        "", "It would be unwise to read much into last Friday's talks between Russia and Ukraine in Istanbul."
    )
    assert item_facts(past).get("date") == "2025-07-18"
    ahead = run("", "Russia and Ukraine held talks in Istanbul and will meet again there next Monday.")
    assert item_facts(ahead).get("date") == "2025-07-28"


@pytest.mark.parametrize(
    "when", ["Tuesday, August 5", "Tuesday 5 August", "Tuesday, 5th of August", "Tuesday, Aug. 5, 2025"]
)
def test_a_weekday_before_a_date_is_that_date_not_the_next_such_weekday(when: str) -> None:
    # published on Wednesday 23 July 2025: the next Tuesday is the 29th, the date stated the 5th of August
    result = run("", f"The fourth round of talks between Russia and Ukraine will open on {when} in Istanbul.")
    assert new_round(result).get("date") == "2025-08-05"


def test_russian_and_ukrainian_weekdays_are_dates() -> None:
    russian = run("Переговоры России и Украины прошли в Стамбуле в среду", "")
    assert item_facts(russian).get("date") == PUBLISHED.isoformat()  # published on a Wednesday
    ukrainian = run("", "Делегації України та Росії зустрінуться в Стамбулі у п'ятницю.")
    assert item_facts(ukrainian).get("date") == "2025-07-25"


def test_russian_and_ukrainian_tenses_say_which_way_a_weekday_points_and_whether_a_round_was_held() -> None:
    # published on Wednesday 23 July 2025
    ahead = run(
        "", "Делегация прилетела в Стамбул, где в пятницу пройдёт новый раунд переговоров с Украиной."
    )
    assert item_facts(ahead).get("date") == "2025-07-25"
    held = run("В Стамбуле завершился четвёртый раунд переговоров России и Украины", "")
    assert new_round(held).get("round") == 4
    assert any(e.rule == "modality.past" for e in held.events[0].evidence)


def test_doubt_about_something_else_in_the_sentence_does_not_cancel_a_swap() -> None:
    result = run(
        "",
        "The exchange of 40 prisoners for 40 between Ukraine and Russia on Tuesday has prompted talk of a "
        "leaders' summit later in the year.",
    )
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 40
    proposed = run("", "Ukraine proposed an exchange of 40 prisoners for 40 with Russia on Tuesday.")
    assert "EXCHANGE" not in events(proposed)


def test_a_swap_called_agreed_stands_beside_talk_of_lists_and_timing() -> None:
    result = run(
        "",
        "Kyiv gave Moscow its list of prisoners for the 500-for-500 exchange agreed in Istanbul, and "
        "officials said the swap could happen within days.",
    )
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == 500


def test_meeting_again_in_two_weeks_times_a_session_and_sets_no_deadline() -> None:
    result = run(
        "",
        "Advisers from Russia, Ukraine, France and Germany met in Paris on Wednesday and agreed to hold "
        "their next meeting in Berlin in two weeks.",
    )
    assert "NEW_ROUND" in events(result)
    assert "DEADLINE" not in events(result)


@pytest.mark.parametrize(
    ("title", "summary", "deadline"),
    [
        (
            "Envoy meets Putin as the sanctions deadline nears",
            "The US envoy met Vladimir Putin in Moscow on Wednesday, two days before the deadline set by "
            "Washington for Russia to agree to a ceasefire or face new sanctions expires.",
            "2025-07-25",
        ),
        (
            "Prisoner swap lists nearly agreed",
            "With days left before the year-end target for an all-for-all exchange set by Russia and Ukraine "
            "at the summit, officials said the lists were nearly agreed and the deadline would be met.",
            "2025-12-31",
        ),
        (
            "Energy truce nears its end",
            "The energy ceasefire agreed by Russia and Ukraine runs out tomorrow, and the grid operator is "
            "preparing for new strikes if the deadline passes without an extension.",
            "2025-07-24",
        ),
    ],
)
def test_deadlines_told_relative_to_a_day_or_the_year(title: str, summary: str, deadline: str) -> None:
    assert item_facts(run(title, summary)).get("deadline") == deadline


@pytest.mark.parametrize(
    ("title", "summary", "deadline"),
    [
        (
            "Europe's ceasefire ultimatum passes",
            "Friday's European deadline for Russia to accept an unconditional ceasefire passed without an "
            "answer from Moscow, and new sanctions are now being prepared.",
            "2025-07-18",  # passed: the Friday before this Monday
        ),
        # midnight by a capital's clock
        (
            "",
            "The 36-hour ceasefire that Russia declared ran out at midnight Moscow time on Saturday, Kyiv "
            "said.",
            "2025-07-19",
        ),
    ],
)
def test_a_time_limit_just_passed_is_the_last_such_day(title: str, summary: str, deadline: str) -> None:
    # told on Monday 21 July, within the days a lapse is news (_OLD_DEADLINE_DAYS)
    assert item_facts(run(title, summary, date(2025, 7, 21))).get("deadline") == deadline


def test_a_time_limit_that_ran_out_days_before_is_background() -> None:
    # "the Easter truce, which ended at midnight on Sunday", read on Thursday: the week's analysis, not news
    result = run(
        "The week after Easter",
        "The Easter truce between Russia and Ukraine, which ended at midnight on Sunday, is already "
        "forgotten.",
        date(2025, 4, 24),
    )
    assert "DEADLINE" not in events(result), result.events


@pytest.mark.parametrize(
    ("lead", "day"),
    [
        # the lead gives the day it happened, apart from the day it was told: that day
        (
            "The twelve children crossed into Ukraine on Sunday and met their families in Kyiv, the "
            "Ukrainian ombudsman said on Monday.",
            "2026-04-19",
        ),
        # only the day of saying: the report's own day, as before
        (
            "The ombudsman said on Monday that the twelve children had met their families in Kyiv.",
            "2026-04-20",
        ),
    ],
)
def test_a_swap_the_headline_tells_as_done_takes_the_leads_day(lead: str, day: str) -> None:
    result = run(
        "Twelve Ukrainian children returned home from Russia with Qatar's help", lead, date(2026, 4, 20)
    )
    assert item_facts(result).get("date") == day
    assert item_facts(result).get("count") == 12


def test_a_weekdays_deadline_still_to_come_is_the_next_one() -> None:
    result = run(
        "US ultimatum", "Saturday's deadline for Russia to agree to a ceasefire looms over the talks."
    )
    assert item_facts(result).get("deadline") == "2025-07-26"


@pytest.mark.parametrize(
    ("title", "summary", "deadline"),
    [
        # (published on Wednesday 22 April 2026) set, or waited for: the coming Monday
        ("Trump sets Monday deadline for Russia to accept Ukraine ceasefire", "", "2026-04-27"),
        (
            "Kremlin studies US plan",
            "The Kremlin said it was studying the US proposal ahead of Monday's deadline set by Trump for a "
            "ceasefire in Ukraine.",
            "2026-04-27",
        ),
        # told as past: the Monday gone
        (
            "Kremlin studies US plan",
            "Monday's deadline was meant to bring a ceasefire in Ukraine; it brought another Russian "
            "proposal.",
            "2026-04-20",
        ),
        (
            "No sanctions yet",
            "Trump let Monday's deadline for Russia to agree to a ceasefire in Ukraine pass without new "
            "sanctions.",
            "2026-04-20",
        ),
    ],
)
def test_a_deadline_named_by_its_day_is_the_coming_one_unless_told_as_past(
    title: str, summary: str, deadline: str
) -> None:
    result = run(title, summary, date(2026, 4, 22))
    assert "DEADLINE" in events(result)
    assert item_facts(result).get("deadline") == deadline


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Trump cuts Russia deadline to '10 or 12 days'", ""),
        ("", 'Trump said Moscow now had "10 or 12 days from today" to reach a deal or face sanctions.'),
    ],
)
def test_a_deadline_cut_to_a_span_counts_from_publication(title: str, summary: str) -> None:
    assert item_facts(run(title, summary)).get("deadline") == "2025-08-02"  # 10 days: the first of "10 or 12"


def test_the_leads_deadline_beats_a_target_date_further_down() -> None:
    result = run(
        "Kyiv welcomes a shorter ultimatum",
        'Zelensky on Tuesday welcomed Trump\'s decision to give Russia "10 or 12 days" to end the war. '
        "Overnight, Russia launched 300 drones at Ukrainian cities. Air defence shot most of them down. "
        "The head of Ukraine's delegation has proposed a meeting of the presidents before the end of August.",
    )
    assert item_facts(result).get("deadline") == "2025-08-02"  # not 2025-08-31, the meeting's target


def test_a_mediators_demand_in_a_sentence_of_its_own_is_a_deadline() -> None:
    result = run(
        "Geneva talks between Russia and Ukraine end a day early",
        "Both delegations left on Tuesday. The US envoy has said he wants the framework initialled by "
        "August 1, two weeks from now.",
    )
    assert item_facts(result).get("deadline") == "2025-08-01"


@pytest.mark.parametrize(
    "aside",
    [
        "Strikes on power plants have grown since the energy moratorium agreed in Riyadh lapsed in May.",
        "The talks covered a Ukrainian proposal for a halt to strikes on energy facilities until the end of "
        "September.",
    ],
)
def test_a_truce_that_lapsed_months_ago_or_one_only_proposed_is_no_deadline(aside: str) -> None:
    result = run("Russian and Ukrainian delegations meet in Geneva", f"The talks began on Monday. {aside}")
    assert "DEADLINE" not in events(result)


@pytest.mark.parametrize(
    "aside",
    [
        "Talks between Russia and Ukraine remain on pause, with the US still weighing its response to the "
        "lapsed April deadline.",
        "Six months of talks between Russia and Ukraine have brought two swaps and one expired American "
        "deadline.",
        "Strikes on refineries have doubled since the energy moratorium lapsed, the ministry said.",
    ],
)
def test_a_time_limit_told_as_over_is_background(aside: str) -> None:
    result = run("Russian and Ukrainian delegations meet in Geneva", f"The talks began on Monday. {aside}")
    assert "NEW_ROUND" in events(result)
    assert "DEADLINE" not in events(result), result.events


@pytest.mark.parametrize(
    "told",
    [
        "In July Donald Trump gave Moscow 50 days to make a peace deal with Ukraine or see its oil buyers "
        "hit with tariffs.",
        # the month after the span
        "Donald Trump gave Moscow 50 days in July to make a peace deal with Ukraine or see its oil buyers "
        "hit with tariffs.",
    ],
)
def test_a_span_given_in_another_month_is_not_counted_from_publication(told: str) -> None:
    result = run("Sanctions talk returns in Washington", told, published=date(2026, 3, 9))
    assert all(event.facts.get("deadline") != "2026-04-28" for event in result.events), result.events


def test_a_deadline_that_expired_today_is_still_news() -> None:
    result = run("", "Trump's deadline for Moscow to agree a ceasefire expired on Wednesday without a deal.")
    assert deadline_of(result) == "2025-07-23"


@pytest.mark.parametrize(
    ("given", "deadline"),
    [
        ("Last spring Russia was given fifty days", False),
        ("Since 2025 Washington has given Russia fifty days", False),
        ("Washington has given Russia fifty days", True),  # the news the opinion opens on
    ],
)
def test_an_opinion_retelling_a_span_given_in_the_past_is_no_deadline(given: str, deadline: bool) -> None:
    body = (
        f"{given} to agree a ceasefire with Ukraine or face tariffs on its oil buyers, and the White House "
        "calls that pressure a strategy."
    )
    assert ("DEADLINE" in events(run("Opinion: The trouble with ultimatums", body))) is deadline
    assert "DEADLINE" in events(run("Talks: The trouble with ultimatums", body))  # a report's span counts


def test_a_span_given_a_week_before_counts_from_that_day() -> None:
    result = run(
        "Talks in Istanbul",
        "The Russian and Ukrainian delegations met hours after a drone attack on Kyiv, and a week after "
        "Trump gave Moscow 50 days to reach a deal or face tariffs.",
    )
    assert item_facts(result).get("deadline") == "2025-09-04"  # 50 days from 16 July, not 11 September


def test_a_date_stated_beats_a_span_counted_from_publication() -> None:
    result = run(
        "Kyiv welcomes shorter US deadline",
        "Zelensky welcomed the US decision to give Russia 10 days to agree to a ceasefire or face sanctions. "
        "The new deadline, announced the day before, expires on August 1.",
    )
    assert item_facts(result).get("deadline") == "2025-08-01"  # not 2025-08-02, ten days from publication


def test_a_mediators_deadline_for_kyiv_is_relevant_and_a_deadline() -> None:
    result = run(
        "Kyiv has less than a week to answer Washington's peace plan",
        "The deadline set by the White House falls on Monday.",
    )
    assert result.relevant
    deadline = next(event for event in result.events if event.type == "DEADLINE")
    # the day the body states, not the headline's week counted from publication (2025-07-30)
    assert deadline.facts["deadline"] == "2025-07-28"
    by_holiday = run("Trump wants Ukraine's answer on the peace plan by Christmas", "")
    assert item_facts(by_holiday).get("deadline") == "2025-12-25"


def test_the_end_of_the_current_month_is_this_years() -> None:
    result = run("", "Trump gave Putin until the end of July to agree a ceasefire or face sanctions.")
    assert item_facts(result).get("deadline") == "2025-07-31"


def test_dates_are_parsed_once_per_wording_not_once_per_publication_date() -> None:
    from aggregator.classify import _parse_date

    text = "Russia and Ukraine held a new round of talks in Istanbul on 14 July."
    run("", text)  # parsed here at most once
    before = _parse_date.cache_info().misses
    # (publication dates within the week a session is news: _LONG_PAST_DAYS)
    facts = {item_facts(run("", text, date(2025, 7, day))).get("date") for day in range(15, 22)}
    assert facts == {"2025-07-14"}
    assert _parse_date.cache_info().misses == before  # seven publication dates, no new dateparser call


# --- round 3: how outlets tell sessions and swaps without naming everyone (examples written for the tests)


def test_a_round_at_a_venue_of_the_talks_implies_both_parties_when_no_one_is_named() -> None:
    result = run(
        "Third Istanbul round over in an hour",
        "The third round, held at a palace on the Bosphorus on Monday, ended with both delegations agreeing "
        "to keep working on lists.",
    )
    assert result.relevant
    new_round = next(event for event in result.events if event.type == "NEW_ROUND")
    assert new_round.facts["round"] == 3
    assert new_round.facts["place"] == "Istanbul"
    assert new_round.facts["date"] == "2025-07-21"  # the Monday before publication


@pytest.mark.parametrize(
    "summary",
    [
        "Talks in Geneva on Monday covered fisheries subsidies and farm tariffs.",  # no round, sides or swap
        "Delegations from Iran and the United States held a second round in Geneva on Monday.",
        "Belarus freed 14 prisoners after a visit to Minsk by an American envoy.",  # nobody's soldiers
    ],
)
def test_a_venue_of_the_talks_implies_nothing_for_other_talks_or_releases(summary: str) -> None:
    result = run("", summary)
    assert not result.relevant or "NEW_ROUND" not in events(result), result


def test_a_described_venue_anchors_the_session_and_hosts_are_not_mediators() -> None:
    result = run(
        "",
        "The talks in the Emirati capital were businesslike, the head of Ukraine's delegation said after "
        "two days of meetings.",
    )
    new_round = next(event for event in result.events if event.type == "NEW_ROUND")
    assert new_round.facts["place"] == "Abu Dhabi"
    unnamed = run("", "The meeting in the Turkish city ended this evening and both delegations flew home.")
    assert "NEW_ROUND" in events(unnamed)


def test_a_swap_of_soldiers_or_bodies_with_russia_alone_named_is_ukraines() -> None:
    result = run("", "Russia handed over the bodies of 900 fallen soldiers on Tuesday, officials said.")
    assert result.relevant
    assert "EXCHANGE" in events(result)
    assert item_facts(result) == {"count": 900, "date": "2025-07-22"}
    citizens = run("", "Russia released a US citizen in a prisoner swap with the United States on Tuesday.")
    assert not citizens.relevant


def test_a_session_over_or_with_its_own_day_is_held_whatever_the_verbs_say() -> None:
    after = run(
        "", "Moscow is satisfied, the Russian delegation head said after Monday's meeting with Kyiv's team."
    )
    assert item_facts(after).get("date") == "2025-07-21"
    dated = run("", "Monday's encounter in Istanbul showed how far apart Russia and Ukraine remain.")
    new_round = next(event for event in dated.events if event.type == "NEW_ROUND")
    assert new_round.facts == {"place": "Istanbul", "date": "2025-07-21"}


def test_doubt_in_another_clause_does_not_cancel_a_session_but_doubt_about_it_does() -> None:
    held = run(
        "",
        "The Turkish foreign minister, who chaired Monday's round between Russia and Ukraine in Istanbul, "
        "said the sides had reached an understanding in principle on further humanitarian steps.",
    )
    assert "NEW_ROUND" in events(held)
    doubted = run("", "Russia and Ukraine could hold another round of talks in Istanbul on Monday.")
    assert "NEW_ROUND" not in events(doubted)


@pytest.mark.parametrize(
    "summary",
    [
        "Kyiv is ready for a new round in Istanbul as soon as Moscow confirms, Zelensky said on Tuesday "
        "after talks with Erdogan.",
        "Zelensky met Erdogan in Ankara on Friday; Turkey offered to host another round of Russia-Ukraine "
        "talks.",
        "Abu Dhabi hosted talks between US and Russian officials on Tuesday on restoring flights.",
        "The Russian and Ukrainian delegations will not meet in Istanbul this week, the Kremlin said.",
        "The talks in Istanbul last month produced only a prisoner swap; no new round is planned.",
    ],
)
def test_readiness_refusal_and_a_mediator_with_one_side_stay_no_new_round(summary: str) -> None:
    assert "NEW_ROUND" not in events(run("", summary))


def test_doubt_before_an_after_is_not_about_the_session_that_is_over() -> None:
    result = run(
        "",
        "No settlement is possible without a deal on territory, the Kremlin said after the meeting of the "
        "Russian and Ukrainian delegations in Abu Dhabi.",
    )
    assert "NEW_ROUND" in events(result)


@pytest.mark.parametrize(
    ("summary", "day"),
    [
        ("The Kremlin named its delegation for Thursday's talks with Ukraine in Istanbul.", "2025-07-24"),
        ("Russia and Ukraine met in Istanbul on Wednesday evening, after Tuesday's contacts.", "2025-07-23"),
        ("The Russian and Ukrainian delegations met in Abu Dhabi on 21 and 22 July.", "2025-07-21"),
        (
            "The first round of Russia-Ukraine talks since March 2022 took place in Istanbul on Monday.",
            "2025-07-21",
        ),
    ],
)
def test_the_words_before_a_day_say_which_day_it_is(summary: str, day: str) -> None:
    assert item_facts(run("", summary)).get("date") == day


@pytest.mark.parametrize(
    ("summary", "count"),
    [
        ("Seventy-three Ukrainian captives came home in an exchange with Russia on Tuesday.", 73),
        (
            "A thousand Ukrainian prisoners of war are to come home under the exchange agreed with Russia.",
            1000,
        ),
        ("Ukraine and Russia swapped prisoners on Tuesday: 270 soldiers and 120 civilians came home.", 390),
        ("Two hundred and fifty Ukrainian soldiers came home in an exchange with Russia on Tuesday.", 250),
        ("A hundred and three defenders came home from Russian captivity in an exchange on Tuesday.", 103),
    ],
)
def test_counts_written_out_or_in_two_groups(summary: str, count: int) -> None:
    result = run("", summary)
    assert "EXCHANGE" in events(result)
    assert item_facts(result)["count"] == count


def test_an_age_is_no_count() -> None:
    result = run(
        "Kyiv wins swap of all under-25 prisoners",
        "Ukraine and Russia swapped prisoners six thousand for six thousand on Tuesday.",
    )
    assert item_facts(result)["count"] == 6000


def test_a_swap_only_agreed_takes_no_date_from_the_agreement() -> None:
    result = run("", "Ukraine and Russia agreed in Istanbul on Monday to exchange 300 prisoners each.")
    exchange = next(event for event in result.events if event.type == "EXCHANGE")
    assert "date" not in exchange.facts
    assert exchange.facts["count"] == 300


@pytest.mark.parametrize(
    ("summary", "deadline"),
    [
        ("Zelensky said Kyiv would study the US peace plan as Washington pressed for an answer by next "
         "Thursday.", "2025-07-24"),  # the coming one, as "next Monday" is (published on a Wednesday)
        ("The Black Sea grain deal lapsed when it expired on Monday, Russia said.", "2025-07-21"),
        ("Moscow let the grain deal go despite its expiry on Tuesday, Erdogan said.", "2025-07-22"),
        ("Russia said the Black Sea grain deal, which expires at the end of the day, would not be renewed.",
         "2025-07-23"),
        ("Ukraine proposed that Zelensky and Putin meet before the end of August.", "2025-08-31"),
        ("The White House deadline for Moscow to accept a ceasefire passed on Monday without new sanctions.",
         "2025-07-21"),  # a deadline passed is the last such day
        ("The pause on attacks against power plants in Russia and Ukraine will run for another month, until "
         "August 22, after talks facilitated by the United States.", "2025-08-22"),  # a truce in force
        # a deal in force that ends on the day of publication
        ("The Black Sea grain deal between Russia and Ukraine ends today, and Moscow will not renew it.",
         "2025-07-23"),
        ("Moscow will let the Black Sea grain deal with Ukraine lapse at the end of the day, Peskov said.",
         "2025-07-23"),
        ("The Black Sea grain deal with Ukraine ceases to be valid today, the Kremlin said.",
         "2025-07-23"),
        ("Washington set Russia a deadline to accept a ceasefire with Ukraine. The deadline falls today.",
         "2025-07-23"),
        ("Trump said Friday is the deadline for Russia and Ukraine to accept the ceasefire plan.",
         "2025-07-25"),
        ("Russia and Ukraine talk on under Trump's threat of sanctions, a window that closes on August 30.",
         "2025-08-30"),
        # a ceasefire demanded by a day, on pain of sanctions: that day is the ultimatum's
        ("European leaders told Russia the ceasefire with Ukraine must begin on Monday, 28 July, or it would "
         "face sanctions.", "2025-07-28"),
    ],
)  # fmt: skip
def test_deadline_wordings_and_which_way_their_days_point(summary: str, deadline: str) -> None:
    result = run("", summary)
    assert deadline_of(result) == deadline


def test_the_grain_deal_is_russias_and_ukraines_when_no_party_is_named() -> None:
    # only Turkey and the UN speak: the deal's own parties are Russia and Ukraine all the same
    result = run(
        "Grain corridor stays open",
        "The Black Sea grain initiative will now stay in force until 18 May, officials in Ankara and at the "
        "United Nations said on Thursday.",
        date(2023, 3, 16),
    )
    assert result.relevant
    assert deadline_of(result) == "2023-05-18"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # a time limit since replaced, told as what might have been
        ("Fifty days on", "Had Washington kept to its first timetable, the 50-day ultimatum to Russia over "
         "the war in Ukraine would have run out today."),
        # a span counted from an event that has not happened: a pledge, not a point in time
        ("The one-day promise", "Donald Trump has promised to end the war between Russia and Ukraine within "
         "a day of taking office, but his advisers now talk of a negotiated settlement without a date."),
    ],
)  # fmt: skip
def test_what_might_have_been_and_spans_from_an_event_are_no_deadline(title: str, summary: str) -> None:
    result = run(title, summary)
    assert result.relevant
    assert "DEADLINE" not in events(result)


def test_the_day_a_side_sets_an_ultimatum_is_no_sessions_day() -> None:
    # ("tired of talks about talks" names no session; Tuesday is the day the ultimatum was given)
    result = run(
        "Ten days to sign",
        "The president on Tuesday gave Russia and Ukraine ten days to accept his ceasefire plan, saying he "
        "was tired of talks that went nowhere.",
    )
    assert events(result) == {"DEADLINE"}


def test_a_digests_topic_heading_ends_what_the_bullet_before_was_about() -> None:
    # ("Exchanges." or "Deadlines." would head more of the talks' news: only other topics end it)
    result = run(
        "Evening briefing",
        "Ukraine. The US president gave Russia 50 days to agree a ceasefire with Ukraine or face tariffs.\n"
        "Levies. Brussels will hold its retaliation until the end of the month while it negotiates, after "
        "the president said on Friday that duties on European cars would start on 1 August.\n"
        "Tennis. The final is on Sunday.",
    )
    assert events(result) == {"DEADLINE"}  # no session on 1 August: the EU's negotiations are not Ukraine's


def test_a_reports_own_section_heading_keeps_what_it_is_about() -> None:
    # (one heading is a report's section, not a digest's next topic)
    result = run(
        "Energy truce agreed",
        "Russia and Ukraine agreed on Monday to stop striking each other's power plants, US officials said.\n"
        "Key points:\n- The truce ends at midnight on Sunday.\n- Monitors will report violations.",
    )
    assert deadline_of(result) == "2025-07-27"


def test_a_digests_topic_heading_takes_no_place_in_the_lead() -> None:
    # ("Ukraine." before its bullet: the swap is still the lead's news)
    result = run(
        "",
        "Our weekend tour of the news.\nUkraine. Russia and Ukraine swapped 90 prisoners of war each, the "
        "sixteenth such exchange this year.\nWeather. A cooler week ahead.\nTennis. The US Open begins.",
        date(2025, 8, 24),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 90, "date": "2025-08-24"}


def test_a_short_sentence_that_opens_a_digests_paragraph_is_no_heading() -> None:
    result = run(
        "Truce holds",
        "Truce. Russia and Ukraine agreed on Monday to a week-long truce on energy strikes.\n"
        "It is fragile. The truce ends at midnight on Sunday, officials said.\n"
        "Weather. Rain is forecast.\n"
        "Markets. Shares rose.",
    )
    assert deadline_of(result) == "2025-07-27"


def test_china_and_india_named_as_oil_buyers_are_no_other_conflict() -> None:
    result = run(
        "Clock starts for Moscow",
        "Trump has given Russia 50 days to end the war in Ukraine. The deadline, which falls on 2 September, "
        "worries the biggest buyers of Russian oil, including China, India and Turkey.",
        date(2025, 7, 15),
    )
    assert deadline_of(result) == "2025-09-02"  # the date stated, not 50 days counted from publication


def test_an_item_that_reports_no_event_needs_a_clearer_relevance() -> None:
    # the talks' words in a strike report score just over the threshold: without an event, that is not enough
    strike = run(
        "Night of strikes on Odesa",
        "Russian drones hit the port of Odesa overnight, officials said. 'There is no ceasefire for us,' a "
        "firefighter said at the scene, where crews worked until dawn.",
    )
    assert RULES.threshold <= strike.score < RULES.threshold + RULES.scores["eventless_margin"]
    assert not strike.relevant
    # the state of the process is relevant without an event
    paused = run(
        "Talks on pause",
        "Russia and Ukraine have not met since June, and Kyiv says the negotiations are on pause until "
        "Moscow drops its demands.",
    )
    assert paused.relevant and not paused.events


def test_a_sanctions_wind_down_date_is_no_deadline_of_the_talks() -> None:
    result = run(
        "Oil sanctions bite as Ukraine talks stall",
        "Washington's sanctions on Russia's two biggest oil companies, imposed to push Moscow towards a "
        "ceasefire with Ukraine, include a wind-down period for existing contracts until 21 November.",
        date(2025, 10, 24),
    )
    assert result.relevant
    assert "DEADLINE" not in events(result)


@pytest.mark.parametrize("start", ["starting", "beginning"])
def test_a_ceasefire_demanded_from_a_day_sets_that_day_but_one_declared_does_not(start: str) -> None:
    demanded = run(
        "Europe presses Moscow",
        f"European leaders in Kyiv called on Russia to accept a full ceasefire with Ukraine {start} on "
        "Monday. If Moscow refuses, they said, new sanctions would follow.",
        date(2025, 7, 26),
    )
    assert deadline_of(demanded) == "2025-07-28"
    declared = run(  # the start of a truce is no deadline
        "Truce declared",
        "Putin declared a ceasefire in Ukraine starting on Monday, the Kremlin said; Kyiv said it would "
        "respond in kind.",
        date(2025, 7, 26),
    )
    assert "DEADLINE" not in events(declared)


def test_no_more_deadlines_is_a_withdrawn_deadline() -> None:
    result = run(
        "No more deadlines for Kyiv", "Trump dropped his deadline for Ukraine's answer on the peace plan."
    )
    assert "DEADLINE" not in events(result)


# --- the fast paths give the same answers as the full analysis ------------------------------------------

_CORPUS_FILE = Path(__file__).parent / "data" / "corpus" / "talks.jsonl"
CORPUS = [json.loads(line) for line in _CORPUS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _corpus_results(rules: object) -> list[dict[str, object]]:
    results = []
    for entry in CORPUS:
        published = date.fromisoformat(entry["published"][:10]) if entry["published"] else None
        for title in (entry["title"], ""):
            results.append(classification_to_dict(classify(title, entry["summary"], published, rules)))
    return results


def test_skipping_items_with_nothing_to_weigh_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import aggregator.classify as engine

    fast = _corpus_results(load_rules())
    monkeypatch.setattr(engine, "_may_be_weighed", lambda *_: True)  # always run the full analysis
    assert _corpus_results(load_rules()) == fast
    assert any(result["evidence"] for result in fast)


@pytest.mark.parametrize(
    "summary",
    [
        "Ukraine and Russia exchanged prisoners on Tuesday.",  # a swap verb and captives: no weighted word
        "Kyiv has less than a week to answer Washington's envoy.",  # an ultimatum told by a mediator
    ],
)
def test_the_engine_scores_alone_still_make_evidence(summary: str) -> None:
    result = run("", summary)
    assert result.score > 0
    assert result.evidence


def test_items_without_a_word_to_weigh_are_irrelevant_with_no_evidence() -> None:
    result = run("Kharkiv weather", "Rain is expected in Ukraine on Thursday.")
    assert (result.relevant, result.score, result.evidence, result.events) == (False, 0.0, (), ())


def test_the_word_cache_can_be_emptied_between_items_without_changing_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import aggregator.classify as engine

    expected = _corpus_results(load_rules())
    monkeypatch.setattr(engine, "_STARTS_CACHE", 50)  # cleared again and again while classifying
    rules = load_rules()
    assert _corpus_results(rules) == expected
    assert len(rules._seen) < len({word for entry in CORPUS for word in entry["summary"].lower().split()})


def test_unify_replaces_exactly_what_the_translation_table_does() -> None:
    from aggregator.classify import _UNIFY, _unify

    special = "".join(chr(code) for code in _UNIFY)
    text = f"«Peace» — it's `over`\u00a0now {special} plain ascii é ß"
    assert _unify(text) == text.translate(_UNIFY)
    assert _unify("nothing to change") == "nothing to change"


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Talks ended. Swap next!", 2),
        ('He said "no deal." Then left?! Yes; maybe\nnew line', 5),
        ("U.S. officials met. Gen. Budanov spoke.", 2),  # initials and abbreviations end nothing
        ("Prisoners were exchanged. the count follows.", 1),  # a lower-case word continues the sentence
        ("Negotiations. Continue here", 2),
        ("Wait... what?x no", 1),  # punctuation not followed by a space ends nothing
        ("It expires on August 8. The US had set 50 days.", 2),  # a day's number is no initial
    ],
)
def test_sentence_boundaries(text: str, sentences: int) -> None:
    from aggregator.classify import _analyse, _split_sentences

    assert len(_split_sentences(text, text.lower(), None, 0)) == sentences
    analysis = _analyse(f"Talks in Russia and Ukraine. {text}", 0, PUBLISHED, RULES)  # (the way items take)
    assert analysis is not None and len(analysis.sentences) == sentences + 1


def test_word_offsets_are_those_of_the_words_in_the_text() -> None:
    import re

    from aggregator.classify import _analyse

    text = "Talks on talks: Russia-Ukraine talks (talks!) in İstanbul, 2nd round; talks_talks talks."
    analysis = _analyse(text, 0, PUBLISHED, RULES)
    assert analysis is not None
    spans = [span for sentence in analysis.sentences for span in analysis.word_spans(sentence)]
    assert spans == [found.span() for found in re.finditer(r"\w+", analysis.norm)]


def test_the_cheap_tests_before_reading_words_change_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import aggregator.classify as engine

    rules = load_rules()
    fast = _corpus_results(rules)
    rejected = [
        entry["summary"]
        for entry in CORPUS
        if not (
            rules.passes_gate(normalise_text(entry["summary"]))
            and rules.may_weigh(normalise_text(entry["summary"]))
        )
    ]
    assert rejected  # the tests do skip items of the corpus
    # every item read in full: the test before matching lets everything through
    monkeypatch.setattr(engine, "_may_be_weighed", lambda *_: True)
    assert _corpus_results(load_rules()) == fast


def test_the_cheap_tests_find_every_term_however_its_words_are_separated() -> None:
    import aggregator.classify as engine

    for rule in RULES.rules:
        for term in rule.terms:
            words = [word for word, _ in engine._term_words(term)]
            for text in (" ".join(words), "(" + ", ".join(words) + ")s", " - ".join(words).upper()):
                norm = normalise_text(text)
                if rule.concept in engine._ANCHORS:
                    assert RULES.passes_gate(norm), (rule.name, text)
                if rule.concept in engine._CAN_WEIGH:
                    assert RULES.may_weigh(norm), (rule.name, text)


def test_the_cheap_tests_need_whole_terms_at_word_starts() -> None:
    assert not RULES.passes_gate(normalise_text("the black sea resort reopened"))  # not the grain corridor
    assert not RULES.passes_gate(normalise_text("a mukremlin town"))
    assert not RULES.may_weigh(normalise_text("ukraine: rain expected on thursday"))
    assert RULES.may_weigh(normalise_text("ukraine: talks expected on thursday"))


def test_the_weight_test_lets_regex_rules_through(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nname = "u"\nconcept = "ukraine"\nterms = ["ukraine"]\n'
        '[[rules]]\nname = "n"\nconcept = "swap_phrase"\nweight = 1.0\npattern = \'\\d+ for \\d+\'\n',
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.may_weigh("ukraine: 84 for 84")
    assert not rules.may_weigh("ukraine: 84 or 84")
    assert classify("UKRAINE: 84 FOR 84", "", None, rules).relevant


def test_the_letters_before_a_dot_are_those_str_isalnum_accepts() -> None:
    from aggregator.classify import _LETTERS_TO_END

    for code in range(0x3000):
        character = chr(code)
        assert (_LETTERS_TO_END.search(character).group() == character) == character.isalnum(), hex(code)


def test_sentences_find_their_words_whatever_lies_between_them() -> None:
    from aggregator.classify import _analyse

    text = "Russia and Ukraine held talks.\n\n  \n(Talks resumed.) U.S. envoy: 2nd round;  next week!"
    analysis = _analyse(text, len("Russia and Ukraine held talks."), PUBLISHED, RULES)
    assert analysis is not None
    for sentence in analysis.sentences:
        words = analysis.words[sentence.first_word : sentence.last_word]
        assert words == re.findall(r"\w+", analysis.sentence_text(sentence))
    assert analysis.sentences[-1].last_word == len(analysis.words)


def test_an_item_without_any_event_candidate_still_scores_relevance() -> None:
    # none of the sentences carries a detector's trigger: relevance alone, no events
    result = run(
        "Russia and Ukraine: peace", "Russia spoke of peace with Ukraine. Kyiv spoke of peace with Russia."
    )
    assert result.relevant
    assert result.events == ()


@pytest.mark.parametrize(
    ("summary", "day"),
    [
        # a record is compared with the past, not told as past
        (
            "Ukraine brought home 230 soldiers on Tuesday in the biggest exchange with Russia so far.",
            "2025-07-22",
        ),
        (
            "Ukraine said on Tuesday it had brought home 144 servicemen from Russia in the largest swap "
            "since the start of the invasion.",
            "2025-07-22",
        ),
        # "hours earlier" is today
        (
            "A group of 157 Ukrainian soldiers returned home on Wednesday in an exchange with Russia agreed "
            "hours earlier at the talks.",
            "2025-07-23",
        ),
    ],
)
def test_a_record_swap_or_one_agreed_hours_earlier_is_news_with_its_day(summary: str, day: str) -> None:
    result = run("", summary)
    exchange = next(event for event in result.events if event.type == "EXCHANGE")
    assert exchange.facts["date"] == day


def test_a_partys_wish_for_a_dated_session_is_a_proposal_but_a_bare_wish_is_not() -> None:
    dated = run(
        "",
        "Moscow wants Russian and Ukrainian negotiators to meet again in Istanbul on July 28, Lavrov said.",
    )
    assert "NEW_ROUND" in events(dated)
    assert item_facts(dated)["date"] == "2025-07-28"
    offered = run("", "Putin offered Ukraine direct talks in Istanbul on July 28, the Kremlin said.")
    assert item_facts(offered).get("date") == "2025-07-28"
    assert "NEW_ROUND" not in events(run("", "Zelensky wants a meeting with Putin, his office said."))


def test_the_held_session_and_not_the_one_proposed_after_it_gives_the_facts() -> None:
    result = run(
        "Russia and Ukraine agree on a prisoner swap",
        "Russia and Ukraine agreed to exchange all severely wounded prisoners, the Turkish foreign minister "
        "said. The meeting at Ciragan Palace in Istanbul lasted just over an hour. Ukraine proposed "
        "holding a further meeting with Russia between August 20 and August 30.",
    )
    facts = new_round(result)
    assert facts.get("place") == "Istanbul"
    # the held meeting's day is not stated: the proposal's is not taken for it, the report's own day is
    assert facts.get("date") == PUBLISHED.isoformat()


def test_a_dateline_dates_the_filing_when_the_lead_dates_the_session() -> None:
    result = run(
        "Talks end without breakthrough",
        "New Delhi, July 23 (DWS): The first round of negotiations between Russia and Ukraine, held near the "
        "Belarusian border on Monday, ended after five hours, though both delegations said they would return "
        "to the table.",
    )
    assert item_facts(result)["date"] == "2025-07-21"


def test_the_day_a_session_was_held_beats_the_day_it_was_talked_about() -> None:
    result = run(
        "Kremlin: Abu Dhabi talks useful",
        "MOSCOW - The Kremlin on Wednesday called the trilateral talks with Ukraine held in Abu Dhabi on "
        "Monday and Tuesday useful but said that no agreement would be possible soon.",
    )
    assert item_facts(result)["date"] == "2025-07-21"


@pytest.mark.parametrize("published", [date(2025, 5, 15), date(2025, 5, 16)])
def test_a_session_postponed_is_dated_by_the_day_it_was_moved_to(published: date) -> None:
    # told on Thursday 15 May, or relayed on Friday: "until Friday" is the 16th, not Thursday's date
    result = run(
        "Istanbul talks slip by a day",
        "Talks between the Russian and Ukrainian delegations that had been due in Istanbul on Thursday were "
        "postponed until Friday, a Turkish diplomatic source said.",
        published,
    )
    assert facts_of(result, "NEW_ROUND")["date"] == "2025-05-16"


def test_the_day_of_a_call_a_mediator_tells_of_dates_no_session() -> None:
    # "would immediately start negotiations", said after Monday's call: a promise, with no day of its own
    result = run(
        "After the call",
        "President Trump said after his call with Vladimir Putin on Monday that Russia and Ukraine would "
        "immediately start negotiations toward a ceasefire.",
        date(2025, 5, 20),
    )
    assert "NEW_ROUND" not in events(result), result.events


def test_a_session_told_of_after_it_was_held_is_dated_back_whatever_else_looks_ahead() -> None:
    # published on Thursday 24 July: "would" looks ahead, but the round was over when Medinsky spoke of it
    result = run(
        "Moscow proposes online working groups",
        "Russia offered the Ukrainian side in Istanbul to set up three working groups, which would meet "
        "online, Vladimir Medinsky told reporters after the third round of direct talks on Wednesday "
        "evening.",
        date(2025, 7, 24),
    )
    assert facts_of(result, "NEW_ROUND")["date"] == "2025-07-23"


@pytest.mark.parametrize(
    ("summary", "deadline"),
    [
        # a deal in force extended: its new expiry, months counted on the calendar
        (
            "The Black Sea grain agreement between Russia and Ukraine, brokered by Turkey and the United "
            "Nations, has been extended for two more months, Erdogan said.",
            "2025-09-23",
        ),
        # a truce that ended at midnight on a named day: the last such day
        (
            "\"The 30-day moratorium on Russian strikes against Ukraine's grid has run out; it ended at "
            'midnight on Monday," Peskov said.',
            "2025-07-21",
        ),
        # "the end of Saturday", "the end of 26 July": that day
        ("Kyiv dismissed the truce announced by Moscow, which runs until the end of Saturday.", "2025-07-26"),
        (
            "A truce announced by Putin took effect at midnight and will last until the end of 26 July.",
            "2025-07-26",
        ),
        # a dated deadline named by its date
        ("The 8 August deadline Trump set for Russia passed with no sanctions.", "2025-08-08"),
        # "until Friday of next week": that week's Friday, not this one
        (
            "Trump said Moscow now has until Friday of next week to show it is serious about a ceasefire.",
            "2025-08-01",
        ),
        # the year named, or "before the year is out", "by the end of next month"
        ("The leaders committed Russia and Ukraine to a full ceasefire by the end of 2025.", "2025-12-31"),
        ("Both sides agreed to release all detainees before the year is out, Kyiv said.", "2025-12-31"),
        ("Washington wants Russia and Ukraine to sign a ceasefire by the end of next month.", "2025-08-31"),
        # the beginning of a period already begun is the next one's
        (
            "Washington wants Russia and Ukraine to sign a ceasefire by the beginning of the month.",
            "2025-08-01",
        ),
        ("The envoy wants Russia and Ukraine to agree a ceasefire by the start of next year.", "2026-01-01"),
    ],
)
def test_more_ways_to_state_a_deadline(summary: str, deadline: str) -> None:
    result = run("", summary)
    assert deadline_of(result) == deadline


def test_a_session_ended_earlier_than_planned_is_not_a_look_back() -> None:
    result = run(
        "",
        "GENEVA - The sixth round of talks between Russia, Ukraine and the United States ended on Tuesday a "
        "day earlier than planned, after the Russian delegation left.",
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result)["round"] == 6


@pytest.mark.parametrize(
    ("title", "summary", "deadline"),
    [
        # a span counts from the day the item says it was given, not from publication
        (
            "",
            "Speaking late on Tuesday, Trump said Russia had 10 days to reach a deal or face tariffs.",
            "2025-08-01",
        ),
        ("", "On 21 July Trump gave Russia ten days to agree a ceasefire or face tariffs.", "2025-07-31"),
        (
            "",
            "Trump said Russia has ten days from Monday to agree a ceasefire or face tariffs.",
            "2025-07-31",
        ),
        (
            "",
            "Washington's ultimatum to Moscow has been moved forward to August 8, Trump said.",
            "2025-08-08",
        ),
        # the day it was said, before "extended his deadline", is not the deadline's day
        (
            "",
            "President Trump on Monday extended his deadline for a Russian reply to the US plan by two "
            "weeks, until August 4, after Moscow sent counter-proposals.",
            "2025-08-04",
        ),
        # the deadline named between "extended" and its span
        (
            "",
            "Trump extended the deadline for Russia's answer to the American peace framework by two weeks on "
            "Wednesday, after the Kremlin sent questions rather than an answer.",
            "2025-08-06",
        ),
        # a span whose giving is dated after it: "the 50-day ultimatum that Trump announced on Monday"
        (
            "",
            "Moscow will not accept ultimatums from Washington, Ryabkov said today, responding to the 50-day "
            "ultimatum that US President Donald Trump announced on Monday.",
            "2025-09-09",  # Monday 21 July + 50 days
        ),
        # the condition reported in the past tense is still a time limit ahead, counted from the day told
        (
            "",
            "Trump announced on Monday that Russia would face severe tariffs unless a deal on Ukraine was "
            "reached within 50 days.",
            "2025-09-09",
        ),
        # a span told by who gave it, and on which day
        (
            "",
            "Zelensky warned that the 50 days Trump gave Russia on Monday must not become a window for a "
            "summer offensive.",
            "2025-09-09",
        ),
        # a truce that "stopped hostilities ... until midnight on" a day
        (
            "",
            "Putin's order stopped hostilities with Ukraine from 6pm on Saturday until midnight on Sunday.",
            "2025-07-27",
        ),
        # holidays' eves
        (
            "",
            "Trump gave Russia and Ukraine until Christmas Eve to sign the framework or face sanctions.",
            "2025-12-24",
        ),
        # midnight by a capital's clock, or as 24:00 / 00:00
        (
            "",
            "The ceasefire ordered by Putin ended at 24:00 Moscow time on July 20, the ministry said.",
            "2025-07-20",
        ),
        (
            "",
            "Russia declared a ceasefire with Ukraine until 00:00 on Monday, the Kremlin said.",
            "2025-07-27",
        ),
        # a day told before "when" the deal in force lapses
        (
            "",
            "Russia said it would accept only a short renewal of the Black Sea grain deal with Ukraine. "
            "Diplomats sought a formula to keep ships moving beyond 18 August, when the current arrangement "
            "lapses.",
            "2025-08-18",
        ),
        # a deal in force whose "current term ends on" a day
        (
            "",
            "Russia has returned to the Black Sea grain deal, Erdogan said. The initiative's current term "
            "ends on 19 November, and Turkey will work to extend it.",
            "2025-11-19",
        ),
        # a mediator's target at the start of a season: its first day
        (
            "",
            "Washington wants Russia and Ukraine to agree on ending the war by the start of summer, Zelensky "
            "said.",
            "2026-06-01",
        ),
        # a moratorium that "lapses on Monday"
        (
            "",
            "A moratorium on strikes against energy facilities, agreed by Russia and Ukraine for 30 days, "
            "has been repeatedly violated and lapses on Monday unless it is extended.",
            "2025-07-28",
        ),
        # a range of days: its first number is the limit ("10 to 12" as "10 or 12")
        (
            "",
            "Trump said on Monday that the Kremlin now had 10 to 12 days to stop the war or face tariffs.",
            "2025-07-31",
        ),
        # the day told where the saying was: "said in Washington on Monday"; and the look back in "instead
        # of the 50 announced earlier" is the replaced limit's
        (
            "",
            "Trump said in Washington on Monday that he would give Putin 10 to 12 days instead of the 50 "
            "announced two weeks earlier, after which tariffs and sanctions would follow.",
            "2025-07-31",
        ),
        # the deadline a sentence says was the original one gives way to the one now in force
        (
            "Trump tightens the screw on Moscow",
            "President Trump originally gave Russia 50 days to agree a peace deal in Ukraine. He now says "
            "Moscow has until August 8 or it will face tariffs.",
            "2025-08-08",
        ),
    ],
)
def test_a_deadline_counted_from_its_own_day_or_moved(title: str, summary: str, deadline: str) -> None:
    result = run(title, summary)
    assert deadline_of(result) == deadline


def test_a_length_followed_by_another_clause_of_giving_is_no_span_given() -> None:
    # "the 50 days Trump gave Russia" is a span told by its giver; "for 30 days and that he had given the
    # military an order" is a pause's length, then another clause
    result = run(
        "Energy pause agreed",
        "The Kremlin said Putin agreed that both sides would refrain from striking energy facilities for 30 "
        "days and that he had given the military an order to that effect.",
    )
    assert "DEADLINE" not in events(result), result.events


@pytest.mark.parametrize(
    "recap",
    [
        "Russian and Ukrainian negotiators met in Istanbul for a third round last week and agreed on another "
        "swap of prisoners, but a ceasefire is as far away as ever.",
        "The new deadline comes a week after the third meeting of the two delegations in Istanbul, where the "
        "sides agreed on another exchange of prisoners.",
    ],
)
def test_a_swap_agreed_a_week_back_told_deep_in_the_body_is_background(recap: str) -> None:
    body = (
        "President Trump on Monday shortened his ultimatum to Russia to 10 days. He said he saw no progress. "
        "The Kremlin said it had taken note. Oil traders weighed the risk of sanctions. "
    )
    assert "EXCHANGE" not in events(run("Trump shortens Russia deadline", body + recap))
    # the same sentence as the lead is news
    assert "EXCHANGE" in events(run("", recap.replace("last week", "on Tuesday")))


@pytest.mark.parametrize(
    "looked_back",
    [
        "Oil prices fell to their lowest in a month as traders bet that sanctions on Russia might be eased.",
        "Oil rose for the first time in two weeks as traders weighed new sanctions on Russia.",
        '"This is the first exchange in five months," Zelensky wrote, as sanctions on Russia stay in force.',
        "European governments, which have spent a month building sanctions on Russia, fear a weak deal.",
    ],
)
def test_a_span_looked_back_over_is_no_time_limit(looked_back: str) -> None:
    result = run(
        "Trump drops his deadline for a peace deal",
        "Trump said there was no fixed date any more for Ukraine to accept the US peace plan, and that the "
        "only deadline that mattered was the end of the war. " + looked_back,
    )
    assert "DEADLINE" not in events(result), result.events
    # the same words ahead, with a threat, are one
    ahead = run(
        "", "Russia faces new sanctions on its oil in a month unless it agrees a ceasefire with Ukraine."
    )
    assert deadline_of(ahead) == "2025-08-23"


def test_a_span_given_weeks_back_and_recalled_deep_in_the_body_is_background() -> None:
    body = (
        "Russian and Ukrainian delegations will meet in Istanbul on Wednesday for a third round of talks. "
        "The Kremlin confirmed the date. Ukraine named its delegation. Turkey will host the meeting again. "
    )
    recap = (
        "Last week Zelensky proposed new momentum for the talks after Trump gave the Kremlin 50 days to "
        "reach a deal or face sanctions."
    )
    result = run("Third round of talks set for Wednesday", body + recap, published=date(2025, 7, 21))
    assert "NEW_ROUND" in events(result)
    assert "DEADLINE" not in events(result), result.events
    # the same span given in the lead is the news (counted from publication)
    lead = run("", recap.removeprefix("Last week "), published=date(2025, 7, 21))
    assert deadline_of(lead) == "2025-09-09"


def test_a_deadline_that_expired_on_a_day_is_last_years_when_that_day_is_months_ahead() -> None:
    # an opinion piece in March recalls the August ultimatum: expired, so not the coming August
    result = run(
        "Opinion: the deadlines that never were",
        "Trump's ultimatums to Moscow were many. The last one shrank to ten days, expired on 8 August, and "
        "was followed not by tariffs but by a summit.",
        published=date(2026, 3, 29),
    )
    assert all(event.facts.get("deadline") != "2026-08-08" for event in result.events), result.events


def test_a_halt_for_a_span_from_a_day_is_its_length_not_a_deadline() -> None:
    result = run(
        "",
        "Russia and Ukraine agreed at talks in Riyadh on Tuesday to stop striking energy facilities for "
        "thirty days from Friday.",
    )
    assert "DEADLINE" not in events(result)


def test_the_shortest_round_so_far_is_not_a_look_back() -> None:
    result = run(
        "",
        "The third round of talks between Russia and Ukraine in Istanbul, held on 21 July, was the shortest "
        "so far.",
    )
    assert "NEW_ROUND" in events(result)
    assert item_facts(result)["date"] == "2025-07-21"


@pytest.mark.parametrize(
    ("title", "summary", "deadline"),
    [
        # Easter is the Orthodox one both sides keep (20 April 2025, 12 April 2026)
        (
            "",
            "Washington hoped to have a ceasefire framework between Russia and Ukraine before Easter.",
            "2026-04-12",
        ),
        # "has until Thursday" is a demand on Kyiv
        ("", "Ukraine has until Thursday to accept the US peace plan, President Trump said.", "2026-03-26"),
        # a stated deadline moved by a span
        (
            "",
            "The US deadline for Russia and Ukraine to agree a peace framework, which was to expire on "
            "April 1, has been pushed back by two weeks.",
            "2026-04-15",
        ),
        (
            "US pushes back Ukraine peace deadline to April 15 as talks set to resume in Abu Dhabi",
            "",
            "2026-04-15",
        ),
    ],
)
def test_holidays_demands_and_deadlines_moved(title: str, summary: str, deadline: str) -> None:
    result = run(title, summary, date(2026, 3, 20))  # a Friday
    assert item_facts(result)["deadline"] == deadline


def test_a_date_the_sentence_gives_a_deadline_is_not_the_sessions() -> None:
    result = run(
        "US pushes back Ukraine peace deadline to April 15 as talks set to resume in Abu Dhabi",
        "Russia and Ukraine have agreed to hold a seventh round of trilateral talks in Abu Dhabi.",
        date(2026, 3, 20),
    )
    facts = new_round(result)
    assert facts.get("place") == "Abu Dhabi"
    assert "date" not in facts


def test_a_deadline_let_go_of_anywhere_in_the_item_leaves_none() -> None:
    result = run(
        "No more Thursday cut-off: Trump lets go of his deadline for Kyiv",
        "Asked on Tuesday whether Kyiv still had until Thursday to accept his peace plan for Ukraine, Trump "
        'said he no longer had a deadline. "My deadline is when it\'s done," he said.',
    )
    assert "DEADLINE" not in events(result)


@pytest.mark.parametrize(
    "proposal",
    [
        "Ukraine proposed holding the next meeting before the end of June.",
        "Kyiv proposed a further round of talks in Istanbul by the end of the month.",
    ],
)
def test_the_next_session_proposed_before_a_day_is_a_timetable_not_a_deadline(proposal: str) -> None:
    result = run(
        "Second round of talks ends in Istanbul", f"Russian and Ukrainian delegations met. {proposal}"
    )
    assert "DEADLINE" not in events(result)


def test_a_swap_that_may_come_before_a_holiday_is_no_deadline() -> None:
    result = run(
        "",
        "Russia and Ukraine exchanged prisoner lists in Riyadh, which may lead to a swap of prisoners before "
        "Easter.",
    )
    assert "DEADLINE" not in events(result)


def test_a_day_and_month_written_with_dots() -> None:
    result = run(
        "Delegation approved for talks with Russia",
        "Kyiv, 22.07.2025. Zelensky approved the delegation for negotiations with Russia, which will take "
        "place in Istanbul on 23.07.",
        date(2025, 7, 22),
    )
    assert item_facts(result)["date"] == "2025-07-23"
    assert "NEW_ROUND" not in events(
        run("", "Russia and Ukraine met 1.5 times a year on average.", date(2025, 7, 22))
    )


def test_the_alaska_summit_is_not_a_round_of_both_sides() -> None:
    result = run(
        "",
        "Lavrov said any plan for Ukraine that departed from the understandings reached at the Alaska summit "
        "would be a different situation.",
        date(2025, 11, 26),
    )
    assert "NEW_ROUND" not in events(result)


def test_the_first_talks_since_a_season_of_an_old_year_are_news() -> None:
    # "since the spring of 2022" starts a span: the year does not make the talks a look back
    result = run(
        "",
        "ANKARA (Wire) - Russia and Ukraine agreed Monday to release 500 prisoners of war each at their "
        "first direct negotiations since the spring of 2022, but the meeting in Ankara broke up within "
        "three hours.",
        published=date(2025, 9, 15),  # a Monday
    )
    assert facts_of(result, "NEW_ROUND") == {"round": 1, "place": "Ankara", "date": "2025-09-15"}


def test_a_day_that_owns_the_meeting_is_not_the_day_it_was_spoken_of() -> None:
    # "said yesterday's meeting": yesterday is the meeting's, not the saying's
    result = run(
        "",
        "The head of the Russian delegation said yesterday's meeting with the Ukrainian side in Ankara had "
        "been useful and that Kyiv had put its ideas on paper for the first time.",
        published=date(2025, 9, 16),
    )
    assert facts_of(result, "NEW_ROUND") == {"place": "Ankara", "date": "2025-09-15"}


def test_a_lead_that_counts_days_from_the_session_dates_it() -> None:
    result = run(
        "Ankara, round two: both capitals claim a win",
        "Three days after Russia and Ukraine held their second round of talks in Ankara, each side is "
        "telling its own story about the meeting.",
        published=date(2025, 9, 18),
    )
    assert facts_of(result, "NEW_ROUND")["date"] == "2025-09-15"


def test_days_counted_from_the_last_meeting_do_not_date_a_proposed_one() -> None:
    result = run(
        "Kyiv proposes another meeting with Russia next week",
        "Ukraine has offered Russia a new round of talks next week, the president said on Saturday, five "
        "weeks after the delegations last met in Ankara.",
        published=date(2025, 10, 18),
    )
    assert "date" not in facts_of(result, "NEW_ROUND")


def test_an_agency_dateline_with_dots_begins_the_lead() -> None:
    # "MOSCOW, May 23. /Agency/." is one lead with what follows: the swap is told there, and the filing day
    # is the swap's but not that of the negotiations it followed
    result = run(
        "",
        "MOSCOW, October 3. /Agency/. Following negotiations, 185 Russian servicemen have come home from "
        "territory held by Kiev, the Russian Defence Ministry said.",
        published=date(2025, 10, 3),
    )
    assert events(result) == {"EXCHANGE"}
    assert facts_of(result, "EXCHANGE") == {"count": 185, "date": "2025-10-03"}


def test_a_number_that_came_back_in_total_is_this_swaps_sum() -> None:
    # "in total" after a number sums this swap up: it is not a tally of the swaps so far
    result = run(
        "",
        "Under the agreements reached in Ankara, 150 soldiers and 40 civilians, 190 people in total, came "
        "back on Friday from territory under Kiev's control, the Russian Defence Ministry said.",
        published=date(2025, 10, 3),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 190, "date": "2025-10-03"}


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Mediator: no new Russia-Ukraine exchange agreed yet",
            "The Emirates continue to work on humanitarian cases between Russia and Ukraine, but no new "
            "exchange of prisoners has been agreed, a foreign ministry official said on Tuesday.",
        ),
        (
            "Fact check: did Washington bring the prisoners home?",
            '"Thanks to this administration, thousands of Ukrainian prisoners have come home," a White '
            "House official said in an interview on Monday. Most swaps were brokered by the Emirates.",
        ),
        (
            "Kremlin: no date for the next meeting",
            "The Kremlin said on Thursday that no date had been set for a new meeting with Kyiv, days after "
            "the two countries carried out a prisoner exchange agreed in Istanbul.",
        ),
    ],
)
def test_a_swap_denied_tallied_or_told_as_what_came_days_before_is_no_exchange(
    title: str, summary: str
) -> None:
    assert "EXCHANGE" not in events(run(title, summary, published=date(2026, 4, 23)))


def test_a_headline_waiting_for_an_answer_on_all_for_all_is_no_exchange() -> None:
    result = run(
        "Kyiv ready for the next meeting, waits for Moscow's answer on 'all for all'",
        "Ukraine is ready to meet the Russian side again at any time, an official said on Thursday.",
        published=date(2026, 4, 23),
    )
    assert "EXCHANGE" not in events(result)


def test_the_size_of_a_swap_months_ago_is_not_the_size_of_todays() -> None:
    result = run(
        "Ukraine brings soldiers home",
        "Ukraine brought home soldiers from Russian captivity on Tuesday, Zelensky said. Many had been held "
        "since 2022. Their families met them at the border. The last large exchange took place in February, "
        "when each side handed over 157 prisoners.",
        published=date(2026, 4, 14),
    )
    assert "count" not in facts_of(result, "EXCHANGE")


def test_a_swap_of_soldiers_that_also_freed_an_american_is_ukraines_swap() -> None:
    result = run(
        "58 defenders and a US citizen freed in new exchange",
        "Ukraine brought home 58 servicemen from Russian captivity today, the head of the presidential "
        "office wrote. The exchange also freed an American who had been held in Donetsk since the summer.",
        published=date(2022, 12, 14),
    )
    assert result.relevant
    assert facts_of(result, "EXCHANGE")["count"] == 58


def test_bodies_a_side_took_back_are_a_repatriation() -> None:
    result = run(
        "Ukraine takes back 800 bodies",
        "Ukraine took back 800 bodies today which, according to Moscow, belong to Ukrainian servicemen, the "
        "Coordination Headquarters said.",
        published=date(2026, 5, 28),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 800, "date": "2026-05-28"}


def test_negotiators_who_came_back_are_not_a_swap() -> None:
    result = run(
        "",
        "Ukraine's negotiators came back from the border with an agreement on safe routes for civilians but "
        "no ceasefire, an adviser to the president said after the second round of talks with Russia.",
        published=date(2022, 3, 4),
    )
    assert "EXCHANGE" not in events(result)
    assert "NEW_ROUND" in events(result)


def test_a_round_the_lead_reports_over_without_a_day_is_dated_by_the_report() -> None:
    result = run(
        "One result from the Ankara palace: five hundred for five hundred",
        "The meeting of the Russian and Ukrainian delegations at the Ankara palace ended with a single "
        "concrete result, an exchange of 500 prisoners for 500.",
        published=date(2025, 9, 15),
    )
    (round_,) = [event for event in result.events if event.type == "NEW_ROUND"]
    assert round_.facts["date"] == "2025-09-15"
    assert "fact.date_of_publication" in {evidence.rule for evidence in round_.evidence}


def test_a_swap_carried_out_without_a_day_is_dated_by_the_report() -> None:
    result = run(
        "",
        "Russia handed over the bodies of 900 Ukrainian soldiers under the Ankara agreements and received 30 "
        "bodies of its own servicemen, a lawmaker involved in the process said.",
        published=date(2025, 9, 25),
    )
    assert facts_of(result, "EXCHANGE")["date"] == "2025-09-25"


@pytest.mark.parametrize(
    "summary",
    [
        # proposed, not held: the report's day is not the session's
        "Ukraine proposed a new meeting of the delegations in Ankara, the president's office said.",
        # a look back deep in a report about something else
        "Air raid sirens sounded across Kyiv overnight. Officials counted the damage. The region's governor "
        "spoke to reporters. Earlier talks between the Russian and Ukrainian delegations in Ankara ended "
        "without a ceasefire.",
    ],
)
def test_a_session_not_told_as_over_in_the_lead_takes_no_date_from_the_report(summary: str) -> None:
    result = run("", summary, published=date(2025, 9, 15))
    for event in result.events:
        assert "date" not in event.facts, event


def test_an_envoys_goal_within_so_many_days_is_a_deadline() -> None:
    result = run(
        "",
        "The US special envoy for Ukraine and Russia said Wednesday he wants to find a way to end the war "
        "within 90 days.",
        published=date(2025, 2, 5),
    )
    assert deadline_of(result) == "2025-05-06"


def test_the_next_summit_prepared_within_months_is_a_timetable_not_a_deadline() -> None:
    result = run(
        "",
        "The Normandy-format leaders said their Paris meeting had been useful and asked their advisers to "
        "prepare the next summit within four months.",
        published=date(2019, 12, 10),
    )
    assert "DEADLINE" not in events(result)


def test_leaders_named_in_full_are_both_sides_and_a_meeting_pressed_for_by_a_date_is_a_target() -> None:
    result = run(
        "",
        "European governments pressed on Tuesday for a meeting between Vladimir Putin and Volodymyr Zelensky "
        "to take place by 1 September, a day after the US president said he had begun arranging it.",
        published=date(2025, 8, 19),  # a Tuesday
    )
    assert "NEW_ROUND" in events(result)
    assert facts_of(result, "NEW_ROUND").get("date") != "2025-08-19"  # the day of the pressing
    assert deadline_of(result) == "2025-09-01"


def test_consultations_aimed_at_restarting_swaps_are_not_a_swap() -> None:
    result = run(
        "",
        "The secretary of Ukraine's security council has held consultations in Turkey and the United Arab "
        "Emirates aimed at restarting prisoner exchanges with Russia, President Zelensky said on Saturday.",
        published=date(2025, 11, 15),
    )
    assert result.relevant
    assert "EXCHANGE" not in events(result)


def test_no_new_meeting_scheduled_is_no_round() -> None:
    result = run(
        "",
        "The contact group has not said when it will next meet, and Ukrainian officials said no new meeting "
        "of the Normandy-format advisers had been scheduled.",
        published=date(2020, 7, 28),
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)


def test_a_mediator_not_represented_leaves_the_sides_session() -> None:
    result = run(
        "Russian and Ukrainian delegations meet at the Vatican",
        "Russian and Ukrainian delegations met at the Vatican on Tuesday for their first round of "
        "humanitarian talks. Washington, which was not represented, welcomed the outcome.",
        published=date(2026, 8, 11),
    )
    assert new_round(result) == {"round": 1, "place": "Vatican", "date": "2026-08-11"}
    # a side not represented still makes it a meeting without that side
    absent = run(
        "Witkoff meets Putin in Moscow",
        "Witkoff and Putin met in Moscow on Tuesday for talks on the war. Ukraine was not represented.",
        published=date(2026, 8, 11),
    )
    assert "NEW_ROUND" not in events(absent)


def test_a_capital_that_speaks_is_no_venue() -> None:
    result = run(
        "Ankara says Turkiye 'ideal venue' for talks to end Russia-Ukraine war",
        "Foreign Minister Hakan Fidan said on Thursday that his country had hosted talks between Russia and "
        "Ukraine in 2022.",
        published=date(2025, 2, 13),
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)
    # a city after a preposition or a comma is still the venue
    held = run(
        "Second round ends",
        "Monday's second round of talks between Russia and Ukraine in Istanbul confirmed a pattern, the "
        "delegations said.",
        published=date(2025, 6, 2),
    )
    assert round_place(held) == "Istanbul"


@pytest.mark.parametrize(
    "origin",
    [
        "At their meeting in Istanbul at the start of June, the two delegations agreed to free all seriously "
        "wounded captives.",
        "The swap was agreed when Russian and Ukrainian delegations met in Istanbul last week.",
        "The Vatican talks on Tuesday were the first time the Holy See hosted Russian and Ukrainian "
        "officials together.",
    ],
)
def test_the_session_a_swap_came_from_is_its_background(origin: str) -> None:
    result = run(
        "Russia and Ukraine swap 150 prisoners each in first stage of Vatican deal",
        f"Russia and Ukraine exchanged 150 prisoners each on Saturday, Zelensky said. {origin}",
        published=date(2026, 8, 15),  # a Saturday
    )
    assert "EXCHANGE" in events(result)
    assert "NEW_ROUND" not in events(result)


def test_a_swap_the_day_after_its_session_keeps_the_session() -> None:
    result = run(
        "Russia and Ukraine swap 1,000 prisoners each",
        "Russia and Ukraine exchanged 1,000 prisoners each on Saturday. The swap was agreed when Russian and "
        "Ukrainian delegations met in Istanbul on Friday.",
        published=date(2025, 6, 14),  # a Saturday
    )
    assert new_round(result) == {"place": "Istanbul", "date": "2025-06-13"}


def test_an_undated_aside_past_the_lead_asserts_no_round_alone() -> None:
    lead = (
        "President Volodymyr Zelensky visited troops near Zaporizhzhia on Friday, his office said. He handed "
        "out awards and discussed supplies with commanders. "
    )
    aside = run(
        "Zelensky visits troops near Zaporizhzhia",
        lead + "Umerov, who joined him, said the Russian and Ukrainian delegations had met in Istanbul to "
        "discuss prisoners, and that Kyiv was ready for further peace negotiations with Moscow.",
        published=date(2025, 9, 12),
    )
    assert aside.relevant
    assert "NEW_ROUND" not in events(aside)
    # told with its day, the same session is news however deep it stands
    dated = run(
        "Zelensky visits troops near Zaporizhzhia",
        lead + "The Russian and Ukrainian delegations met in Istanbul on Friday, Umerov said.",
        published=date(2025, 9, 12),
    )
    assert new_round(dated) == {"place": "Istanbul", "date": "2025-09-12"}
    # and beside a round the lead asserts, the aside still gives its facts
    both = run(
        "Russian and Ukrainian delegations meet again",
        "Russian and Ukrainian delegations met again on Friday, both sides said. He handed out awards and "
        "discussed supplies with commanders. Umerov said the delegations had met in Istanbul to discuss "
        "prisoners.",
        published=date(2025, 9, 12),
    )
    assert round_place(both) == "Istanbul"


def test_a_session_told_before_the_swap_it_agreed_is_held() -> None:
    result = run(
        "Kyiv's negotiator calls the Geneva round constructive",
        "The second round of talks with Russia in Geneva was constructive, Ukraine's chief negotiator said "
        "on Thursday, adding that the two sides had agreed to swap 200 prisoners each.",
        published=date(2026, 3, 5),
    )
    assert new_round(result) == {"round": 2, "place": "Geneva"}
    assert "EXCHANGE" in events(result)
    # the past tense of the people freed is the swap's, not the session's
    swap = run(
        "Ninety soldiers return home",
        "As a result of the negotiation process, 90 Russian servicemen who had been held in captivity were "
        "returned from Kyiv-controlled territory on Tuesday in exchange for 90 Ukrainian prisoners of war, "
        "the defence ministry said.",
        published=date(2023, 3, 7),
    )
    assert "EXCHANGE" in events(swap)
    assert "NEW_ROUND" not in events(swap)


@pytest.mark.parametrize(
    ("target", "day"),
    [
        ("The exchange is to be completed by the end of August, the ombudsman said.", "2026-08-31"),
        ("We want to have everyone home by 24 August, Umerov said.", "2026-08-24"),
        (
            "Kyiv expects the exchange to be completed before the end of the month, an official said.",
            "2026-08-31",
        ),
    ],
)
def test_a_swaps_target_date_is_a_deadline(target: str, day: str) -> None:
    result = run(
        "Russia and Ukraine agree to swap 300 prisoners each",
        f"The two delegations agreed to exchange 300 prisoners each. {target}",
        published=date(2026, 8, 12),
    )
    assert "EXCHANGE" in events(result)
    assert deadline_of(result) == day
    # a swap told in the past with a day is when it happened, not a target
    done = run(
        "Russia and Ukraine swap 300 prisoners each",
        "The two sides exchanged 300 prisoners each on Monday. The freed men were taken home by bus by "
        "Tuesday morning, officials said.",
        published=date(2026, 8, 12),
    )
    assert "EXCHANGE" in events(done)
    assert "DEADLINE" not in events(done)
    # a swap's timing is no target
    timing = run(
        "Russia and Ukraine agree to swap 300 prisoners each",
        "The two delegations agreed to exchange 300 prisoners each. The swap will take place before the end "
        "of the month, officials said.",
        published=date(2026, 8, 12),
    )
    assert "DEADLINE" not in events(timing)


def test_bodies_handed_back_with_words_between_are_a_return() -> None:
    result = run(
        "",
        "Russia has handed 1,000 soldiers' bodies back to Ukraine, the coordination headquarters said.",
        published=date(2026, 8, 15),
    )
    assert result.relevant
    assert "EXCHANGE" in events(result)
    # a plan handed back is no return
    plan = run(
        "Envoy returns the draft",
        "Witkoff handed the revised plan back to Zelensky's team in Berlin, officials said.",
        published=date(2026, 8, 15),
    )
    assert "EXCHANGE" not in events(plan)


def test_an_initiative_that_speaks_does_not_doubt_a_return() -> None:
    result = run(
        "",
        "Ukraine has brought back six more children from occupied territory, the Bring Kids Back UA "
        "initiative said, thanking Qatar for its mediation.",
        published=date(2026, 9, 14),
    )
    assert "EXCHANGE" in events(result)
    # an initiative proposed is still a doubt
    proposed = run(
        "",
        "Kyiv put forward an initiative to bring back six children from occupied territory, officials said.",
        published=date(2026, 9, 14),
    )
    assert "EXCHANGE" not in events(proposed)


def test_a_body_to_meet_first_later_leaves_the_session_held() -> None:
    result = run(
        "Kyiv and Moscow agree on a joint working group",
        "Ukraine and Russia agreed on Wednesday to set up a joint working group on missing persons. The "
        "document was signed at talks in the Belarusian capital by the two presidential envoys. Officials "
        "did not say when the new group would first meet.",
        published=date(2020, 3, 11),
    )
    assert "NEW_ROUND" in events(result)


def test_a_mediator_shuttling_between_the_capitals_is_no_round() -> None:
    result = run(
        "Turkish minister carries an offer from Moscow to Kyiv",
        "Foreign Minister Hakan Fidan met President Volodymyr Zelensky in Kyiv on Tuesday, a day after "
        "holding talks with Russian Foreign Minister Sergei Lavrov in Moscow, as Ankara seeks to host the "
        "sides again.",
        published=date(2026, 8, 4),
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)
    # the sides' own session with a mediator present stays a round
    held = run(
        "Delegations meet in Istanbul",
        "Russian and Ukrainian delegations met in Istanbul on Tuesday with Turkish Foreign Minister Hakan "
        "Fidan in the chair.",
        published=date(2026, 8, 4),
    )
    assert new_round(held) == {"place": "Istanbul", "date": "2026-08-04"}


def test_topics_not_on_the_agenda_leave_the_session_settled() -> None:
    result = run(
        "Russia, Ukraine agree 800-for-800 prisoner swap at Geneva talks",
        "Russia and Ukraine agreed to exchange 800 prisoners of war each, the Swiss foreign ministry said. "
        "There was no progress on political questions, which were not on the agenda.",
        published=date(2026, 5, 18),
    )
    assert round_place(result) == "Geneva"
    # a session that is not on the agenda is unsettled
    unset = run(
        "Russia, Ukraine agree 800-for-800 prisoner swap at Geneva talks",
        "Russia and Ukraine agreed to exchange 800 prisoners of war each, the Swiss foreign ministry said. "
        "A new round of talks is not on the agenda, the Kremlin said.",
        published=date(2026, 5, 18),
    )
    assert "NEW_ROUND" not in events(unset)


def test_a_year_counted_since_is_no_look_back() -> None:
    result = run(
        "",
        "Russia and Ukraine agreed on Monday to exchange 1,000 prisoners each after six hours of talks in "
        "Geneva, the largest swap since the Istanbul meetings of 2025.",
        published=date(2026, 5, 18),
    )
    assert new_round(result) == {"place": "Geneva", "date": "2026-05-18"}


def test_delegations_that_agreed_a_swap_somewhere_met_there() -> None:
    result = run(
        "Moscow and Kyiv agree large exchange",
        "The Russian and Ukrainian delegations agreed in Geneva to carry out an exchange of prisoners of war "
        "on a 900-for-900 basis, Medinsky said, describing the talks as productive.",
        published=date(2026, 5, 19),
    )
    assert round_place(result) == "Geneva"
    assert "EXCHANGE" in events(result)


@pytest.mark.parametrize(
    "origin",
    [
        "as agreed at the talks in Geneva last month",
        "under the deal their delegations agreed in Geneva last month",
    ],
)
def test_a_swap_done_as_agreed_at_talks_keeps_the_talks_its_origin(origin: str) -> None:
    result = run(
        "Prisoners come home",
        f"Russia and Ukraine exchanged 900 prisoners each on Tuesday, {origin}.",
        published=date(2026, 6, 16),  # a Tuesday
    )
    assert "NEW_ROUND" not in events(result)
    # "last month" is the agreement's time, not the swap's
    assert facts_of(result, "EXCHANGE") == {"count": 900, "date": "2026-06-16"}


def test_when_the_sides_meet_again_leaves_the_session_held() -> None:
    result = run(
        "Medinsky calls the talks businesslike",
        "The talks with the Ukrainian delegation in Jeddah were businesslike, Russian delegation head "
        "Vladimir Medinsky said on his return to Moscow. Medinsky did not say when the delegations might "
        "meet again.",
        published=date(2026, 7, 25),
    )
    assert round_place(result) == "Jeddah"


@pytest.mark.parametrize(
    "text",
    [
        "The deadline for completing the prisoner exchange with Russia by the end of May has passed, Kyiv "
        "said.",
        "The end-of-May deadline for the prisoner exchange with Russia has passed, Kyiv said.",
        "Peskov rejected Ukrainian complaints that an end-of-May target for the prisoner exchange had been "
        "missed.",
    ],
)
def test_a_month_end_target_just_missed_is_that_month(text: str) -> None:
    result = run("", text, published=date(2026, 6, 1))
    assert deadline_of(result) == "2026-05-31"
    # a headline says it as briefly
    headline = run("End-of-May target for the prisoner exchange missed", text, published=date(2026, 6, 1))
    assert deadline_of(headline) == "2026-05-31"
    # told ahead, the same words are the next such month
    ahead = run(
        "", "Kyiv wants the prisoner exchange with Russia completed by the end of May.", date(2026, 6, 1)
    )
    assert deadline_of(ahead) == "2027-05-31"


def test_a_target_the_news_is_measured_from_is_no_deadline() -> None:
    result = run(
        "Last prisoners home as the exchange is completed",
        "The last 510 Ukrainian prisoners of war came home from Russia on Friday. The exchange took place "
        "five days after the end-of-May target that Kyiv had announced.",
        published=date(2026, 6, 5),
    )
    assert "EXCHANGE" in events(result)
    assert "DEADLINE" not in events(result)


def test_a_headlines_span_is_the_date_the_body_states() -> None:
    result = run(
        "Trump's 10-day ultimatum to Russia: what it means",
        "US President Donald Trump has given Russia until July 26 to agree to a ceasefire in Ukraine or face "
        "tariffs on buyers of its oil.",
        published=date(2026, 7, 17),
    )
    assert deadline_of(result) == "2026-07-26"


def test_a_swap_still_being_worked_on_is_not_agreed() -> None:
    result = run(
        "Talks end without ceasefire; sides to keep working on exchange of wounded",
        "Russian and Ukrainian negotiators ended four hours of talks in Jeddah on Friday without a "
        "ceasefire, but said they would continue work on an exchange of all severely wounded prisoners.",
        published=date(2026, 7, 24),
    )
    assert "NEW_ROUND" in events(result)
    assert "EXCHANGE" not in events(result)


def test_a_new_meeting_far_from_a_swap_topic_makes_no_swap_news() -> None:
    result = run(
        "Fidan and Lavrov discuss Ukraine",
        "Turkish Foreign Minister Hakan Fidan spoke to Sergei Lavrov by phone on Tuesday. Fidan said "
        "Turkiye was ready to host a new meeting of Russian and Ukrainian delegations in Istanbul whenever "
        "the parties decide, and that Ankara saw the humanitarian track, including prisoner exchanges and "
        "the return of civilians, as the most promising area.",
        published=date(2026, 4, 21),
    )
    assert result.relevant
    assert "EXCHANGE" not in events(result)


def test_a_swap_just_reached_at_a_round_makes_the_round_news() -> None:
    result = run(
        "Medinsky: sides agree on exchange at Vatican consultations",
        "Moscow and Kiev have agreed on a swap of 300 servicemen per side, reached at the first round of "
        "consultations at the Vatican, Russian presidential aide Vladimir Medinsky said.",
        published=date(2026, 8, 12),
    )
    assert new_round(result).get("place") == "Vatican"
    assert new_round(result).get("round") == 1
    # a swap carried out under it has the round as its origin
    done = run(
        "Prisoners return",
        "Russia and Ukraine exchanged 150 servicemen per side on Saturday, under the swap of 300 per side, "
        "reached at the first round of consultations at the Vatican.",
        published=date(2026, 8, 15),
    )
    assert "EXCHANGE" in events(done)
    assert "NEW_ROUND" not in events(done)


def test_ukraine_as_the_topic_of_a_mediators_meeting_is_not_at_the_table() -> None:
    result = run(
        "Dmitriev calls Miami talks with Witkoff constructive",
        "Kirill Dmitriev, the Kremlin's envoy, described his talks with US envoy Steve Witkoff in Miami as "
        "constructive and said the sides had discussed the Ukrainian settlement.",
        published=date(2026, 8, 26),
    )
    assert result.relevant
    assert "NEW_ROUND" not in events(result)
    # a Ukrainian delegation at the table is
    both = run(
        "Delegations meet in Miami",
        "The Russian and Ukrainian delegations met US envoy Steve Witkoff in Miami on Tuesday and said the "
        "sides had discussed a settlement.",
        published=date(2026, 8, 26),
    )
    assert round_place(both) == "Miami"


@pytest.mark.parametrize(
    "proposal",
    [
        "Zelensky proposed on Thursday that Ukrainian and Russian delegations meet in Ankara next week to "
        "discuss a ceasefire and a large prisoner exchange.",
        "Zelensky said Erdogan had agreed to host the meeting and that the agenda should include a halt to "
        "long-range strikes and a new exchange of prisoners of war.",
    ],
)
def test_a_swap_on_a_proposed_meetings_agenda_is_no_swap(proposal: str) -> None:
    result = run("Zelensky proposes talks in Ankara", proposal, published=date(2026, 10, 22))
    assert result.relevant
    assert "EXCHANGE" not in events(result)
    # a meeting held that confirms a swap still has it
    confirmed = run(
        "Talks in Ankara",
        "Russian and Ukrainian delegations met in Ankara on Thursday and agreed a new exchange of 500 "
        "prisoners each.",
        published=date(2026, 10, 22),
    )
    assert "EXCHANGE" in events(confirmed)


@pytest.mark.parametrize("end", ["23:59 on 18 January", "23:59 on Sunday", "midnight on 18 January"])
def test_a_truce_that_runs_until_the_last_minute_of_a_day_ends_that_day(end: str) -> None:
    result = run(
        "Energy pause confirmed",
        f"Zelensky said the pause in strikes on energy facilities agreed with Russia runs until {end}.",
        published=date(2026, 1, 12),  # a Monday
    )
    assert deadline_of(result) == "2026-01-18"


def test_children_reunited_with_their_families_are_a_return() -> None:
    result = run(
        "Qatar reunites 11 Ukrainian children with their families",
        "Eleven Ukrainian children taken to Russia were reunited with relatives in Ukraine this week after "
        "passing through Doha, Qatar's foreign ministry said.",
        published=date(2026, 10, 29),
    )
    assert facts_of(result, "EXCHANGE").get("count") == 11


def test_a_day_before_a_hosts_welcome_is_the_welcomes() -> None:
    result = run(
        "Riyadh welcomes the proposal, begins contacts on hosting talks",
        "Saudi Arabia on Thursday welcomed a Ukrainian proposal to hold talks between the Ukrainian and "
        "Russian delegations in Riyadh this month and said it had begun contacts on the arrangements.",
        published=date(2026, 9, 3),  # a Thursday
    )
    assert new_round(result) == {"place": "Riyadh"}


def test_a_day_before_the_verb_of_a_proposal_is_the_proposals() -> None:
    result = run(
        "Zelensky proposes talks in Ankara next week",
        "President Volodymyr Zelensky on Thursday proposed that Ukrainian and Russian delegations meet in "
        "Ankara next week.",
        published=date(2026, 10, 22),  # a Thursday
    )
    assert new_round(result) == {"place": "Ankara"}


@pytest.mark.parametrize(
    ("published", "expected"),
    [(date(2026, 6, 30), "2026-07-06"), (date(2026, 7, 7), "2026-07-06")],  # set, then just passed
)
def test_a_time_limit_given_to_both_sides_on_a_weekday_with_its_date_is_that_date(
    published: date, expected: str
) -> None:
    result = run(
        "",
        "Washington gave Russia and Ukraine until Monday, July 6, to respond to its draft of a peace "
        "framework.",
        published=published,
    )
    assert deadline_of(result) == expected


@pytest.mark.parametrize(
    "summary",
    [
        "The US deadline for Russia and Ukraine to answer Washington's draft runs until the end of today.",
        "The American deadline for Moscow to reply to the ceasefire draft expires today, officials said.",
    ],
)
def test_a_deadline_that_runs_out_today_is_the_day_of_publication(summary: str) -> None:
    assert deadline_of(run("", summary, published=date(2026, 7, 6))) == "2026-07-06"


def test_an_arms_treaty_expiring_in_a_live_blog_of_the_talks_is_no_deadline() -> None:
    result = run(
        "Live: Abu Dhabi talks, day two",
        "The Russian and Ukrainian delegations resumed their talks in Abu Dhabi on Thursday. The New START "
        "treaty between the US and Russia expires on February 5; Washington says it is not on the agenda.",
        published=date(2026, 2, 4),
    )
    assert "DEADLINE" not in events(result)
    today = run(
        "", "The New START treaty between the US and Russia expires today.", published=date(2026, 2, 5)
    )
    assert "DEADLINE" not in events(today)


def test_a_swap_due_by_orthodox_easter_has_that_sunday_for_its_target() -> None:
    result = run(
        "",
        "Russia and Ukraine agreed in Antalya to exchange 350 prisoners of war from each side, to be carried "
        "out by Orthodox Easter.",
        published=date(2026, 4, 11),
    )
    assert deadline_of(result) == "2026-04-12"  # Orthodox Easter Sunday, 2026


def test_a_bare_weekday_of_what_was_proposed_is_the_next_one() -> None:
    # the proposing is told in the past, the session it proposes is still to come
    result = run(
        "Turkey ready to host the talks, Erdogan tells Putin",
        "Putin had proposed early on Sunday that Russian and Ukrainian delegations resume direct "
        "negotiations in Istanbul on Thursday, without preconditions.",
        published=date(2025, 5, 11),  # a Sunday
    )
    assert new_round(result) == {"place": "Istanbul", "date": "2025-05-15"}
    offer = run(
        "",
        "In proposing direct negotiations with the Ukrainian delegation on Thursday in Istanbul, the Kremlin "
        "shifted the burden to Kyiv, analysts said.",
        published=date(2025, 5, 12),  # a Monday
    )
    assert new_round(offer).get("date") == "2025-05-15"


def test_a_weekday_after_a_past_verb_is_not_taken_for_a_proposal() -> None:
    result = run(
        "",
        "The talks Erdogan had proposed were held in Istanbul on Thursday between the Russian and "
        "Ukrainian delegations.",
        published=date(2025, 5, 17),  # a Saturday
    )
    assert new_round(result).get("date") == "2025-05-15"


def test_an_agency_dateline_without_the_agency_dates_the_filing() -> None:
    result = run(
        "Russian delegation for Ankara talks named",
        "MOSCOW, October 27. The Russian delegation at the talks with Ukraine in Ankara on October 28 will "
        "be led by Vladimir Medinsky, the Kremlin announced on Tuesday.",
        published=date(2026, 10, 27),
    )
    assert new_round(result).get("date") == "2026-10-28"


def test_a_possessive_day_of_talks_told_in_the_past_is_the_last_such_day() -> None:
    result = run(
        "Istanbul meeting businesslike, Russian delegation says",
        "Russian and Ukrainian military delegations met in Istanbul, Moscow said. Thursday's talks at the "
        "Dolmabahce palace also produced an understanding on ports, and Russia would observe it, Peskov "
        "said.",
        published=date(2026, 8, 21),  # a Friday
    )
    assert new_round(result).get("date") == "2026-08-20"
    # told ahead, it is the coming one
    ahead = run(
        "Istanbul meeting set",
        "Russian and Ukrainian military delegations will meet in Istanbul, Moscow said. Thursday's talks at "
        "the Dolmabahce palace will focus on ports.",
        published=date(2026, 8, 21),
    )
    assert new_round(ahead).get("date") == "2026-08-27"


def test_a_date_to_be_agreed_next_week_is_a_round_being_arranged() -> None:
    body = (
        "The Kremlin confirmed on Saturday that Russia was ready to send its delegation to Istanbul for new "
        "talks with Ukraine, but said the date had not yet been agreed."
    )
    arranged = run(
        "Kremlin: date of Istanbul meeting with Kiev yet to be fixed",
        body + ' "I think we will be able to agree on the date next week," Peskov said.',
        published=date(2026, 11, 28),
    )
    assert round_place(arranged) == "Istanbul"
    # bare readiness and hope stay no round
    hoped = run(
        "Kremlin: date of Istanbul meeting with Kiev yet to be fixed",
        body + ' "We hope the dates will come soon," Peskov said.',
        published=date(2026, 11, 28),
    )
    assert hoped.relevant
    assert "NEW_ROUND" not in events(hoped)


def test_a_swap_russia_must_first_agree_is_a_demand() -> None:
    demand = run(
        "Kyiv welcomes Ankara's offer, says Russia must first agree 'all for all' exchange",
        "Ukraine welcomed Turkiye's offer to host talks with Russia on Wednesday.",
        published=date(2026, 4, 22),
    )
    assert demand.relevant
    assert "EXCHANGE" not in events(demand)
    agreed = run(
        "Russia and Ukraine agree 'all for all' exchange",
        "Ukraine welcomed Turkiye's offer to host talks with Russia on Wednesday.",
        published=date(2026, 4, 22),
    )
    assert "EXCHANGE" in events(agreed)


def test_a_swap_counted_since_the_war_began_is_still_todays() -> None:
    result = run(
        "'The 70th exchange': 390 more defenders home",
        "Another 390 Ukrainian defenders came home from Russian captivity today, in what the coordination "
        "headquarters called the 70th exchange since the start of the full-scale invasion.",
        published=date(2026, 5, 29),
    )
    assert facts_of(result, "EXCHANGE") == {"count": 390, "date": "2026-05-29"}
    # without anything new, the same "since" is a recap
    recap = run(
        "Swaps in numbers",
        "Ukrainian defenders have come home from Russian captivity in 69 exchanges since the start of the "
        "full-scale invasion, the coordination headquarters said.",
        published=date(2026, 5, 29),
    )
    assert "EXCHANGE" not in events(recap)


def test_bodies_a_side_got_back_are_a_return_with_their_day() -> None:
    result = run(
        "",
        "Ukraine got back the bodies of 502 fallen defenders on Friday, the coordination headquarters said.",
        published=date(2024, 11, 29),  # a Friday
    )
    assert facts_of(result, "EXCHANGE") == {"count": 502, "date": "2024-11-29"}
    # talks that got back on track are no return
    talks = run(
        "",
        "Russia and Ukraine got back to the negotiating table in Istanbul on Friday, officials said.",
        published=date(2024, 11, 29),
    )
    assert "EXCHANGE" not in events(talks)


def test_a_swap_agreed_earlier_this_month_is_carried_out_today() -> None:
    result = run(
        "Russia and Ukraine carry out latest prisoner swap",
        "Russia and Ukraine exchanged another group of prisoners of war on Saturday, the latest stage of a "
        "swap of wounded, sick and young soldiers that the two sides agreed at direct talks in Istanbul "
        "earlier this month.",
        published=date(2025, 6, 15),  # a Sunday
    )
    assert facts_of(result, "EXCHANGE").get("date") == "2025-06-14"
    assert "NEW_ROUND" not in events(result)


@pytest.mark.parametrize(
    "identity",
    [
        "The talks were the fifth round of direct negotiations hosted by Turkey since May 2025.",
        "The talks were the fifth meeting of a working group the two sides set up earlier this year.",
        "The talks in Istanbul were the fifth round of direct negotiations since May 2025.",
        "Wednesday's Istanbul meeting was the fifth session since the two sides resumed direct contacts.",
    ],
)
def test_a_sentence_that_numbers_the_items_talks_gives_the_round(identity: str) -> None:
    filler = "Officials on both sides said the atmosphere had been calm. " * 4
    result = run(
        "Fidan hails Istanbul talks",
        "Foreign Minister Hakan Fidan on Wednesday praised the outcome of the latest Russian-Ukrainian talks "
        f"held in Istanbul. {filler}{identity}",
        published=date(2026, 12, 9),
    )
    assert new_round(result).get("round") == 5
    # a past year in it is still a look back
    old = run(
        "Fidan hails Istanbul talks",
        "Foreign Minister Hakan Fidan on Wednesday praised the outcome of the latest Russian-Ukrainian talks "
        f"held in Istanbul. {filler}In 2022 the talks were the fifth round of the Belarus series.",
        published=date(2026, 12, 9),
    )
    assert new_round(old).get("round") is None


@pytest.mark.parametrize(
    ("said", "published", "day"),
    [
        ("lapsed at midnight on Monday without an extension", date(2026, 9, 22), "2026-09-21"),
        ("lapses at midnight on Sunday, officials said", date(2026, 9, 22), "2026-09-27"),
    ],
)
def test_a_truce_that_lapses_at_midnight_on_a_day_ends_that_day(said: str, published: date, day: str) -> None:
    result = run("", f"The moratorium on strikes between Russia and Ukraine {said}.", published=published)
    assert deadline_of(result) == day


# --- a web page's links to other stories ------------------------------------------------------------------

PAGE = (
    "MOSCOW, March 3 - The Kremlin said on Tuesday that no date had been agreed for another meeting between "
    "Russian and Ukrainian negotiators, and that it was waiting for Kyiv's answer to its proposals.\n"
    '"We are ready to continue, but there is nothing on the calendar yet," the spokesman told reporters.\n'
    "{link}Trump gives Moscow until Friday to accept the ceasefire\n"
    "{link}Russia and Ukraine exchanged 300 prisoners of war each on Sunday\n"
    "Sign up for our morning briefing."
)


@pytest.mark.parametrize(
    "link", ["Read also: ", "Related: ", "RELATED ", "• See also — ", "Related coverage | ", "READ MORE "]
)
def test_a_pages_links_to_other_stories_are_not_what_it_reports(link: str) -> None:
    page = run("Kremlin: no date yet for the next meeting with Kyiv", PAGE.format(link=link))
    assert page.relevant and events(page) == set()
    # the same lines as the article's own paragraphs do report a deadline and a swap (the check can fail)
    told = run("Kremlin: no date yet for the next meeting with Kyiv", PAGE.format(link=""))
    assert events(told) == {"DEADLINE", "EXCHANGE"}


def test_evidence_still_points_into_the_page_as_it_was() -> None:
    title = "Moscow and Kyiv agree to swap 300 prisoners of war each next week"
    summary = (
        "Related: Kremlin says no date for talks\nThe swap was agreed by phone on Monday, officials said."
    )
    result = run(title, summary)
    text = classified_text(title, summary)
    assert "EXCHANGE" in events(result)
    assert all(text[e.start : e.end] == e.text for e in result.evidence)
    assert all(
        e.start > len(title) + 40 or e.end <= len(title) for e in result.evidence
    )  # none from the link


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Miami Open: Ukrainian edges Russian in second round after a long tiebreak",
            "Court Side\nTennis | Miami Open\nKyiv-born Daria Lutsenko beat Russia's Irina Volkova 7-6, 6-4 "
            "in a second-round match on Friday and faces the top seed next. Asked about home, she said she "
            "followed the peace talks between Russia and Ukraine but would not comment on them.",
        ),
        (
            "Shakhtar hold Besiktas in the first leg",
            "Bosphorus Daily\nSports\nISTANBUL\nShakhtar Donetsk drew 1-1 with Besiktas in the first leg of "
            "their Europa League tie on Thursday night, both goals coming before the break.\nIstanbul has "
            "hosted several rounds of negotiations between Russia and Ukraine since 2022.",
        ),
    ],
)
def test_a_game_between_ukrainians_and_russians_is_sport_whatever_it_recalls_of_the_talks(
    title: str, summary: str
) -> None:
    assert not run(title, summary).relevant


def test_a_format_named_for_a_city_is_not_the_place_when_the_round_meets_in_another() -> None:
    result = run(
        "The 'Geneva format' travels to Doha: third round ends after six hours",
        "Russian and Ukrainian delegations ended their third round of talks in Doha on Wednesday evening, "
        "the first held outside Switzerland since the format was launched in January.",
    )
    assert round_place(result) == "Doha"


def test_a_day_after_the_parties_and_the_place_is_the_sessions_day() -> None:
    # published on Wednesday 23 July 2025: "on Tuesday" is the 22nd
    result = run(
        "Kyiv says it tabled a new list at the talks",
        "Ukraine put forward a new list of civilians at the third round of talks with Russia and the United "
        "States in Geneva on Tuesday, the head of its delegation said.",
    )
    assert new_round(result) == {"round": 3, "place": "Geneva", "date": "2025-07-22"}


LEAD = (
    "Istanbul, Jul 23 (Deccan Wire) Delegations of Russia and Ukraine agreed to form two working groups "
    "after a meeting with US mediators in Istanbul on Tuesday, officials said."
)


@pytest.mark.parametrize(
    "summary",
    [
        LEAD,  # an agency's dateline with no dash after it
        "Synopsis\nThe sides agreed on working groups.\nKey Takeaways\n- The talks lasted six hours.\n"
        "- Two working groups will be formed.\n" + LEAD,  # and below a page's summary
    ],
)
def test_a_datelines_day_is_the_filing_not_the_sessions(summary: str) -> None:
    result = run("Russia, Ukraine agree on working groups after talks in Istanbul", summary)
    assert new_round(result).get("date") == "2025-07-22"


def test_fighting_that_is_to_stop_until_a_day_is_a_truce_that_ends_that_day() -> None:
    result = run(
        "Moscow declares a harvest-festival truce",
        "The Kremlin said the president had ordered a truce for the holiday. Fighting is to stop from 18:00 "
        "on Friday until the end of Sunday, July 27, it said.",
    )
    assert facts_of(result, "DEADLINE") == {"deadline": "2025-07-27"}


@pytest.mark.parametrize(
    "left_out",
    [
        "The consultations were strictly bilateral and unrelated to the Ukrainian settlement, she said.",
        "Ukraine is not on the agenda of these talks, a spokeswoman said.",
    ],
)
def test_us_russia_talks_that_name_ukraine_only_to_leave_it_out_are_not_relevant(left_out: str) -> None:
    result = run(
        "Russian and US diplomats hold a new round of consultations in Istanbul",
        "Russian and US diplomats held a new round of consultations on the work of their embassies in "
        f"Istanbul on Thursday. The talks were businesslike, the ministry said. {left_out}",
    )
    assert not result.relevant


def test_a_headline_that_says_a_round_ends_reports_it_held() -> None:
    # (the body's "no date for a fourth" is the next round's, not this one's)
    result = run(
        "Third round of Russia-Ukraine talks in Geneva ends without a truce",
        "The delegations shook hands and left. No date was set for a fourth meeting, an aide said.",
    )
    assert new_round(result) == {"round": 3, "place": "Geneva"}


def test_a_day_after_the_round_of_talks_and_the_parties_is_the_rounds_day() -> None:
    # "last month" belongs to the working groups, not to the round ended on Tuesday (22 July)
    result = run(
        "Geneva talks end after seven hours",
        "A third round of talks between Russia, Ukraine and the United States ended in Geneva on Tuesday "
        "after seven hours without a truce, though both sides said the working groups set up last month "
        "would keep meeting.",
    )
    assert new_round(result) == {"round": 3, "place": "Geneva", "date": "2025-07-22"}


@pytest.mark.parametrize(
    "aside",
    [
        "leaving the Geneva talks in limbo",
        "and the White House said it would step back from convening the talks in Geneva",
    ],
)
def test_talks_left_in_limbo_or_dropped_by_their_host_are_no_session(aside: str) -> None:
    result = run(
        "US deadline for a truce framework runs out",
        "The deadline the president set for Russia and Ukraine to sign a truce framework expires at midnight "
        f"on Friday with no sign that Moscow will sign, {aside}.",
    )
    assert "NEW_ROUND" not in events(result)
    assert deadline_of(result) == "2025-07-25"


def test_a_deadline_set_for_the_parties_is_no_schedule_of_a_session() -> None:
    result = run(
        "Kremlin silent as deadline nears",
        "Moscow has not answered. Diplomats in Geneva weighed the deadline the president set for Russia and "
        "Ukraine to accept the framework of the talks.",
    )
    assert "NEW_ROUND" not in events(result)


def test_a_mediators_calls_with_both_delegations_are_no_session() -> None:
    result = run(
        "Qatar keeps its channels open to Moscow and Kyiv",
        "Qatar will keep its contacts with Russia and Ukraine, the ministry said. Sources in Doha said "
        "Qatari officials had spoken by telephone with both delegations on Monday and Tuesday.",
    )
    assert "NEW_ROUND" not in events(result)


def test_a_just_peace_is_no_fresh_swap() -> None:
    # ("just" there is the adjective, not "just returned")
    result = run(
        "Ukraine and Turkey discuss peace efforts in Kyiv",
        "The President of Ukraine received Turkey's foreign minister in Kyiv on Tuesday. They discussed "
        "efforts to achieve a just peace, security in the Black Sea and the return of Ukrainian prisoners "
        "and deported children.",
    )
    assert "EXCHANGE" not in events(result)


def test_the_expiry_of_a_deadline_on_a_weekday_is_the_nearest_such_day() -> None:
    # published on Sunday 27 July 2025: the deadline that expired "on Friday" was the 25th, not 1 August
    result = run(
        "Kyiv ready for a fourth round, but no date has been set",
        "Kyiv hopes Qatar will stay a bridge after the United States stepped back following the expiry of "
        "its deadline on Friday night, the foreign minister of Ukraine said.",
        published=date(2025, 7, 27),
    )
    assert deadline_of(result) == "2025-07-25"


def test_a_round_of_trade_talks_at_a_venue_of_the_talks_is_not_relevant() -> None:
    result = run(
        "EU and Gulf states close fourth negotiating round in Doha",
        "Negotiators of the European Union and the Gulf states wrapped up a fourth round of free-trade talks "
        "in Doha on Thursday. The round covered tariffs on aluminium. The fifth round is planned for June.",
    )
    assert not result.relevant
    assert not result.events


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Pandemic treaty talks resume in Geneva",
            "Delegations of the member states began a new round of negotiations on a pandemic agreement in "
            "Geneva on Monday, hoping to finish by May.",
        ),
        (
            "Plastics treaty talks end without a deal",
            "A fifth round of negotiations on a global plastics treaty ended without agreement. Delegates "
            "said a resumed session would be held next year, possibly in Geneva.",
        ),
    ],
)
def test_a_round_of_un_treaty_talks_at_a_venue_of_the_talks_is_not_relevant(title: str, summary: str) -> None:
    result = run(title, summary)
    assert not result.relevant, result.evidence
    # named with the parties, the treaty is no confounder: the talks' own round in the same city stays news
    ours = run("Russia and Ukraine to meet in Geneva", f"{summary} Russian and Ukrainian envoys meet there.")
    assert ours.relevant


@pytest.mark.parametrize(
    "summary",
    [
        "Russia and Ukraine will hold talks in Geneva next week with U.S. officials taking part, the Swiss "
        "government said.",
        "A Russian delegation will travel to Geneva next week for talks with representatives of Kyiv and "
        "Washington, the Kremlin said.",
    ],
)
def test_a_pair_of_one_party_and_the_us_that_the_other_party_meets_is_a_session_of_all(summary: str) -> None:
    result = run("Geneva to host talks next week", summary)
    assert round_place(result) == "Geneva"


def test_a_party_and_the_us_meeting_after_a_truce_with_russia_is_still_one_sided() -> None:
    # (Russia is named after the first "with": the truce's, not a party at the table)
    result = run(
        "Ukraine backs US proposal for 30-day ceasefire after talks in Jeddah",
        "Ukraine said on Tuesday it was ready to accept a US proposal for an immediate 30-day ceasefire with "
        "Russia, after more than eight hours of talks with American officials in the Saudi city.",
    )
    assert "NEW_ROUND" not in events(result)


def test_the_day_a_spokesman_told_journalists_is_not_the_sessions() -> None:
    result = run(
        "Kremlin: delegation will travel to Geneva next week",
        "A Russian delegation will travel to Geneva next week for talks with Ukraine and the United States, "
        "the Kremlin spokesman told journalists on Monday.",
    )
    assert "date" not in new_round(result)


def test_the_day_told_just_after_a_round_is_the_rounds_day() -> None:
    result = run(
        "Medinsky: the sides agreed on corridors",
        "The delegations of Russia and Ukraine agreed on corridors for civilians, the head of the Russian "
        "delegation told journalists on Tuesday after the second round of negotiations.",
    )
    assert new_round(result).get("date") == "2025-07-22"


def test_a_deadline_that_passed_at_midnight_on_a_weekday_is_that_day() -> None:
    # published on Saturday 26 July 2025: "midnight Friday" was the 25th
    result = run(
        "Deadline passes without a Russian signature",
        "The deadline the president set for Russia to sign a ceasefire framework passed at midnight Friday "
        "without a Russian signature, the White House said on Saturday.",
        published=date(2025, 7, 26),
    )
    assert deadline_of(result) == "2025-07-25"


@pytest.mark.parametrize(
    ("sentence", "deadline"),
    [
        ("In Geneva, the delegations agreed this exchange in two days.", None),
        ("Washington will impose tariffs unless a deal is reached within 50 days.", "2025-09-11"),
    ],
)
def test_a_span_a_thing_was_done_in_is_no_time_limit(sentence: str, deadline: str | None) -> None:
    result = run(
        "At the border, 300 prisoners come home",
        f"On Tuesday, 300 Ukrainian prisoners of war came home in an exchange with Russia. {sentence}",
    )
    found = [event.facts.get("deadline") for event in result.events if event.type == "DEADLINE"]
    assert found == ([deadline] if deadline else [])


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (  # a swap said to be missing
            "Geneva round two ends",
            "The second round of talks between Russia and Ukraine in Geneva on Tuesday looked much like the "
            "first, minus the prisoner exchange that had made the first meeting a success.",
        ),
        (  # an aim
            "Zelensky confirms delegation will go to Geneva",
            "President Zelensky confirmed on Saturday that a Ukrainian delegation would travel to Geneva for "
            "Monday's meeting with the Russian side, and said Kyiv's first aim was the release of more "
            "prisoners.",
        ),
        (  # a request
            "Pope's envoy in Kyiv",
            "President Zelensky used Tuesday's meeting with the cardinal to ask the Vatican for help on "
            "bringing back children taken to Russia and freeing prisoners of war.",
        ),
        (  # papers, not people
            "Lubinets hands over to Russian side list of civilians for return",
            "The ombudsman said the list had been passed to his Russian counterpart.",
        ),
    ],
)
def test_a_swap_missing_hoped_for_or_on_paper_is_no_exchange(title: str, summary: str) -> None:
    assert "EXCHANGE" not in events(run(title, summary))


def test_talks_that_last_met_in_late_march_told_in_december_are_background() -> None:
    result = run(
        "Ukraine and Russia swap 64 soldiers",
        "Ukraine and Russia exchanged 64 soldiers each on Wednesday. Political talks between Moscow and "
        "Kyiv, which last met face to face in Istanbul in late March, have gone nowhere since the spring.",
        published=date(2022, 12, 14),
    )
    assert events(result) == {"EXCHANGE"}


def test_a_summit_before_any_new_one_is_only_hoped_for() -> None:
    result = run(
        "Troops pull back at Zolote",
        "Ukrainian forces and Russian-backed fighters began withdrawing from positions near Zolote on "
        "Tuesday, a step that Kyiv's partners see as a test before any new summit of the Normandy Four.",
        published=date(2019, 10, 29),
    )
    assert "NEW_ROUND" not in events(result)


SWAP_TOLD = (
    "A thousand Ukrainian prisoners of war came home in an exchange with Russia agreed at the talks in "
    "Istanbul, the latest of dozens of swaps since 2022."
)


@pytest.mark.parametrize(
    "title",
    [
        "Explainer: how prisoners are swapped between Kyiv and Moscow",
        "Opinion | Swaps are the only thing these talks deliver",
        "Fact check: did the talks in Istanbul bring 1,000 soldiers home?",
    ],
)
def test_an_explainer_opinion_or_fact_check_tells_its_swaps_as_background(title: str) -> None:
    result = run(
        title,
        SWAP_TOLD,
    )
    assert result.relevant
    assert not result.events


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("On Tuesday 1,000 Ukrainian prisoners of war came home in an exchange with Russia.", "EXCHANGE"),
        ("Washington has given Moscow 50 days to agree a ceasefire or face tariffs.", "DEADLINE"),
    ],
)
def test_an_opinion_on_the_days_swap_or_a_deadline_to_come_keeps_its_event(summary: str, kind: str) -> None:
    result = run("Opinion: what the talks have and have not delivered", summary)
    assert kind in events(result)


def test_an_analysis_reports_its_swap_all_the_same() -> None:
    result = run(
        "Analysis: what the thousand-for-thousand swap tells us",
        SWAP_TOLD,
    )
    assert "EXCHANGE" in events(result)


@pytest.mark.parametrize(
    ("limit", "deadline"),
    [
        ("by 15 June 2026", "2026-06-15"),  # a year named is that year, not the nearest
        ("by the end of March 2027", "2027-03-31"),
        ("by June 15, 2026", "2026-06-15"),
    ],
)
def test_a_time_limit_with_its_year_is_in_that_year(limit: str, deadline: str) -> None:
    result = run(
        "Washington sets Moscow a deadline",
        f"The United States gave Russia until a date to agree a ceasefire with Ukraine: it must sign {limit} "
        "or face new sanctions, the White House said.",
    )
    assert deadline_of(result) == deadline


def test_a_deadline_of_a_year_before_is_no_deadline_now() -> None:
    result = run(
        "Russia and Ukraine to open talks in Geneva",
        "Russia and Ukraine will open talks in Geneva on August 16, the UN said. An American ultimatum that "
        "both sides sign a framework by 31 December 2024 was ignored in Moscow.",
    )
    assert events(result) == {"NEW_ROUND"}


def test_a_country_alone_is_no_place() -> None:
    # (LABELS: a place is a city or venue; "Oman" would clash with the "Muscat" of the next report)
    result = run("Russia and Ukraine to hold talks in Oman on Monday", "", published=date(2026, 9, 4))
    assert new_round(result) == {"date": "2026-09-07"}


def test_a_country_is_no_place_nor_is_a_city_of_the_background() -> None:
    # LABELS: a place is a city or venue; the Doha of 2024 is an earlier series'
    result = run(
        "Ukraine confirms it will send a delegation to Switzerland for talks with Russia on 16 August",
        "Ukraine will take part in direct talks with Russia in Switzerland on 16 August, the presidential "
        "office said. Kyiv has been wary of new formats since the Doha meetings of 2024.",
    )
    assert new_round(result) == {"date": "2025-08-16"}


def test_a_country_gives_way_to_the_city_the_item_names() -> None:
    result = run(
        "Turkey to host the next round of talks between Russia and Ukraine",
        "The delegations of Russia and Ukraine will meet again next week, Ankara said. The talks will be "
        "held at a palace in Istanbul.",
    )
    assert round_place(result) == "Istanbul"


def test_a_venue_offered_for_a_future_round_is_no_round() -> None:
    result = run(
        "Saudi foreign minister in Kyiv offers Riyadh as venue for a future Russia-Ukraine round",
        "Saudi Arabia's foreign minister met Ukraine's president in Kyiv on Tuesday and said the Kingdom was "
        "ready to host a future round of negotiations between Ukraine and Russia.",
    )
    assert "NEW_ROUND" not in events(result)


@pytest.mark.parametrize("moved", ["postponed by a week", "put back by one week", "delayed until Friday"])
def test_a_round_moved_by_a_span_or_to_a_day_is_rescheduled_not_paused(moved: str) -> None:
    result = run(
        f"Geneva round between Russia and Ukraine {moved}",
        f"The first round of direct Russia-Ukraine talks in Geneva has been {moved} at Moscow's request, "
        "the UN envoy's office said.",
    )
    assert {"round": 1, "place": "Geneva"}.items() <= new_round(result).items()


def test_a_round_postponed_without_a_day_is_a_pause() -> None:
    result = run(
        "Geneva round between Russia and Ukraine postponed",
        "The first round of direct Russia-Ukraine talks in Geneva has been postponed indefinitely, the UN "
        "envoy's office said.",
    )
    assert "NEW_ROUND" not in events(result)


def test_a_per_side_figure_told_beside_the_swaps_agreement_halves_the_headlines_total() -> None:
    result = run(
        "Saudi Arabia mediates first stage of prisoner exchange: 400 captives freed",
        "Saudi mediation secured on Tuesday the release of 400 prisoners of war, 200 from each side, in the "
        "first stage of the exchange agreed between Russia and Ukraine in Geneva last month.",
    )
    assert facts_of(result, "EXCHANGE").get("count") == 200


@pytest.mark.parametrize(
    "summary",
    [
        # a tense the sentence denies
        "Neither side announced a date for the next round of negotiations between Moscow and Kyiv, which "
        "met in Geneva in the spring.",
        "Russian troops took three villages near Pokrovsk on Tuesday, while the delegations of Russia and "
        "Ukraine have not met for four months.",
        # a report of a session, denied
        "A newspaper report of a fifth round between Russia and Ukraine in Geneva on August 2 was denied by "
        "both governments.",
        "The Kremlin dismissed reports of a Russia-Ukraine meeting in Riyadh next week.",
    ],
)
def test_a_session_denied_or_not_announced_is_no_round(summary: str) -> None:
    assert "NEW_ROUND" not in events(run("", summary))


@pytest.mark.parametrize(
    "summary",
    [
        "The two delegations, which had not met since March, sat down in Geneva on Tuesday for a fifth "
        "round of Russia-Ukraine talks.",
        "Russia and Ukraine will meet in Geneva on Friday for a fifth round, and no breakthrough was "
        "announced in advance.",
    ],
)
def test_a_denial_beside_a_session_told_as_held_or_set_leaves_the_round(summary: str) -> None:
    assert new_round(run("", summary))["place"] == "Geneva"


def test_a_session_counted_from_or_pointed_back_to_is_not_the_one_told() -> None:
    result = run(
        "",
        "The Turkish foreign minister spent three hours with Ukraine's president in Kyiv on Tuesday, the "
        "first such meeting since the Geneva talks between Russia and Ukraine began.",
    )
    assert "NEW_ROUND" not in events(result)


@pytest.mark.parametrize(
    "summary",
    [
        "Six months after Russian and Ukrainian negotiators first sat down in Geneva, the talks are stuck.",
        "Two years after the Russia-Ukraine summit in Paris, little of what was agreed there has been done.",
    ],
)
def test_a_session_a_long_time_is_counted_from_is_background(summary: str) -> None:
    assert "NEW_ROUND" not in events(run("", summary))


def test_a_session_a_few_days_are_counted_from_is_news() -> None:
    result = run(
        "",
        "Two days after the fifth round of Russia-Ukraine talks in Geneva, both sides called it useful.",
    )
    assert new_round(result)["place"] == "Geneva"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Swiss foreign minister in Kyiv, offers Geneva for a fifth round",
            "Switzerland's foreign minister spoke to reporters in Kyiv on Monday.",
        ),
        (
            "",
            "The Kremlin spokesman brushed aside a question about Switzerland's offer, made by its foreign "
            "minister in Kyiv on Monday, to host the next round in Geneva.",
        ),
    ],
)
def test_a_venue_offered_by_a_host_is_no_round(title: str, summary: str) -> None:
    assert "NEW_ROUND" not in events(run(title, summary))


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("", "Moscow and Kyiv accepted Turkey's offer to host the fifth round in Istanbul on Monday."),
        ("US envoy offers Miami for the fifth round of trilateral Russia-Ukraine talks", ""),  # a member
    ],
)
def test_a_venue_offered_by_a_member_of_the_talks_or_taken_up_is_a_round(title: str, summary: str) -> None:
    assert new_round(run(title, summary))["round"] == 5


def test_talks_between_one_party_and_a_mediator_are_no_round() -> None:
    result = run(
        "",
        "Tuesday's talks between the Russian president and the US special envoy were long and useful, a "
        "Kremlin aide said, adding that Kyiv had to accept the new realities.",
    )
    assert "NEW_ROUND" not in events(result)


@pytest.mark.parametrize(
    "summary",
    [
        "Talks between US, Russian and Ukrainian delegations that opened in Geneva on Tuesday ended a day "
        "later without a breakthrough.",
        "Talks between Russia and Ukraine opened in Geneva on Tuesday, after talks between the US envoy "
        "and the Russian president.",
    ],
)
def test_talks_between_both_parties_are_a_round(summary: str) -> None:
    assert new_round(run("", summary))["place"] == "Geneva"


@pytest.mark.parametrize(
    "summary",
    [
        "The Russian foreign minister said the next contact with Ukraine would include the question of "
        "further prisoner exchanges and the return of bodies.",
        "The humanitarian group made progress on the modalities of a further exchange of prisoners between "
        "Russia and Ukraine, the statement said.",
    ],
)
def test_a_further_swap_is_no_swap_done_or_agreed(summary: str) -> None:
    assert "EXCHANGE" not in events(run("", summary))


def test_a_further_swap_carried_out_is_a_swap() -> None:
    result = run("", "Russia and Ukraine carried out a further exchange of prisoners on Friday, 150 for 150.")
    assert facts_of(result, "EXCHANGE")["count"] == 150


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "EU opens accession negotiations with Ukraine",
            "The European Union opened accession negotiations with Ukraine on Tuesday in Luxembourg. "
            "Ukraine's delegation was led by a deputy prime minister, who said the talks were a signal to "
            "Russia.",
        ),
    ],
)
def test_a_headline_about_something_else_makes_the_talks_an_aside(title: str, summary: str) -> None:
    assert not run(title, summary).relevant


def test_the_day_talks_under_way_continue_is_not_the_sessions() -> None:
    result = run(
        "Second round of talks between Russia and Ukraine under way in Riyadh",
        "The second round of talks between Russia and Ukraine has begun in Riyadh. The talks are due to "
        "continue tomorrow.",
    )
    assert "date" not in new_round(result)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        (date(2027, 4, 13), "2027-04-16"),  # on a Tuesday: three days ahead, though "said" is past
        (date(2027, 4, 16), "2027-04-16"),  # on the Friday itself
    ],
)
def test_this_weekday_is_the_day_of_the_week_it_is_said_in(said: date, day: str) -> None:
    result = run(
        "Kremlin expects working session in Geneva",
        "Moscow expects the second round of Russian-Ukrainian negotiations, due in Geneva this Friday, to "
        "be a working session rather than a breakthrough, the Kremlin spokesman said on Tuesday.",
        said,
    )
    assert new_round(result).get("date") == day
    # said on a Saturday of a round still to come: next week's
    later = run(
        "Delegations to meet in Geneva",
        "Russian and Ukrainian delegations will meet in Geneva this Friday for a second round, Kyiv said.",
        date(2027, 4, 17),
    )
    assert new_round(later).get("date") == "2027-04-23"


def test_an_undated_item_still_dates_what_it_names_with_a_year() -> None:
    swap = "Russia and Ukraine exchanged 150 prisoners of war each on 14 March 2031, both sides said."
    assert facts_of(run("", swap, None), "EXCHANGE").get("date") == "2031-03-14"
    # a day without its year, or a weekday, is read from the publication's date: an undated item has none
    assert "date" not in facts_of(run("", swap.replace(" 2031", ""), None), "EXCHANGE")
    assert "date" not in facts_of(run("", swap.replace("14 March 2031", "Friday"), None), "EXCHANGE")


def test_an_undated_item_gives_a_deadline_that_names_its_year_as_a_date() -> None:
    text = "Washington gave Moscow until {} to agree to a ceasefire with Ukraine or face new sanctions."
    assert facts_of(run("", text.format("1 September 2031"), None), "DEADLINE") == {"deadline": "2031-09-01"}
    assert facts_of(run("", text.format("the end of 2031"), None), "DEADLINE") == {"deadline": "2031-12-31"}
    # a weekday cannot be dated without the day it was said: it stays as stated
    assert facts_of(run("", text.format("Friday"), None), "DEADLINE") == {"deadline": "friday"}


@pytest.mark.parametrize(
    "summary",
    [
        # the talks' place and day come between the talks and the mediator they were with
        "Sergei Vershinin met in Geneva on Monday with UN trade chief Rebeca Grynspan and discussed the "
        "grain corridor. Russia and Ukraine signed the deal last year.",
        # absence told as such
        "Officials from forty countries ended two days of talks on Ukraine's peace plan in Jeddah on Sunday, "
        "with Russia absent, and promised to keep consulting.",
        # a planned session put off
        "The Russian and Ukrainian delegations' meeting in Doha on Friday has been put off, officials said.",
        "Russia and Ukraine put off Friday's talks in Doha, officials said.",
    ],
)
def test_talks_with_a_mediator_without_a_side_or_put_off_are_no_round(summary: str) -> None:
    assert "NEW_ROUND" not in events(run("", summary))


def test_talks_with_a_mediator_and_the_other_side_at_a_place_are_still_a_round() -> None:
    result = run(
        "",
        "Russia's delegation held talks in Istanbul on Friday with Ukraine's negotiators and Turkish "
        "mediators, the foreign ministry said.",
    )
    assert new_round(result).get("place") == "Istanbul"


def test_a_second_round_still_being_arranged_does_not_number_the_session_just_held() -> None:
    result = run(
        "What the delegations took home from the border talks",
        "Monday's meeting between the Russian and Ukrainian delegations near the border in Belarus lasted "
        "five hours. The two sides agreed only that they would meet again, and Kyiv said on Tuesday that the "
        "date of a second round was still being coordinated.",
    )
    assert "round" not in new_round(result)


def test_a_stage_told_beside_the_whole_swaps_per_side_figure_counts_the_stage() -> None:
    result = run(
        "Last 250 come home as the thousand-for-thousand exchange ends",
        "Kyiv and Moscow each released 250 servicemen on Saturday, finishing after four days the swap of "
        "1,000 prisoners per side that was agreed at the talks in Istanbul.",
        date(2027, 6, 13),
    )
    assert facts_of(result, "EXCHANGE").get("count") == 250
