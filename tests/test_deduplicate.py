"""The stories/events stage on its own: which reports make one story, which make one event, what alerts.

Reports are wire-style texts written for these tests and classified by the real classifier with the shipped
rules, as a poll would; where a test needs exact facts or evidence, the DetectedEvent is built by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from aggregator.classify import RuleSet, classify, default_rules
from aggregator.deduplicate import (
    Assignment,
    Deduplicator,
    DedupSettings,
    _fact_match,
    _in_days,
    decide,
    event_stage,
)
from aggregator.models import AlertDecision, DetectedEvent, Event, Evidence, Story, StoryInput

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the fourth round is announced for Thursday 5 March
THURSDAY_EVENING = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return default_rules()


def report(
    rules: RuleSet, key: str, source: str, published: datetime, title: str, summary: str
) -> StoryInput:
    """An item as the pipeline hands it over: its events are what the real classifier finds in it."""
    verdict = classify(title, summary, published, rules)
    assert verdict.relevant, f"{key}: the classifier must find this test report relevant"
    return StoryInput(
        key=key, source=source, title=title, summary=summary, published=published, events=verdict.events
    )


def fourth_round_announced(rules: RuleSet) -> list[StoryInput]:
    """Four outlets report the same announcement on the same Monday, each in its own words."""
    return [
        report(
            rules,
            "a1",
            "wire-a",
            MONDAY,
            "Russia and Ukraine to hold fourth round of talks in Geneva on Thursday",
            "Delegations from Russia and Ukraine will meet in Geneva on Thursday for a fourth round of "
            "direct peace talks, the Swiss foreign ministry said on Monday.",
        ),
        report(
            rules,
            "b1",
            "wire-b",
            MONDAY + timedelta(hours=2),
            "Fourth round of Russia-Ukraine negotiations set for Geneva this week",
            "Kyiv and Moscow have agreed to send negotiators to Geneva on Thursday for their fourth round of "
            "talks, Ukrainian negotiator Rustem Umerov confirmed.",
        ),
        report(
            rules,
            "c1",
            "wire-c",
            MONDAY + timedelta(hours=5),
            "Geneva to host fourth round of Ukraine peace talks, officials say",
            "A fourth round of negotiations between Ukraine and Russia will take place in Geneva on March 5, "
            "Kremlin spokesman Dmitry Peskov told reporters.",
        ),
        report(
            rules,
            "d1",
            "wire-d",
            MONDAY + timedelta(hours=7),
            "Kremlin confirms Geneva venue for next week's fourth round",
            "Moscow will send its delegation to Geneva for the fourth round of negotiations with Kyiv on "
            "Thursday, Peskov said, adding that Umerov would again lead the Ukrainian side.",
        ),
    ]


def fourth_round_held(rules: RuleSet, key: str = "a2", source: str = "wire-a") -> StoryInput:
    return report(
        rules,
        key,
        source,
        THURSDAY_EVENING,
        "Fourth round of Russia-Ukraine talks held in Geneva",
        "The fourth round of direct talks between Russian and Ukrainian delegations took place in Geneva on "
        "Thursday and lasted two hours, the sides said.",
    )


def fifth_round_announced(rules: RuleSet) -> StoryInput:
    return report(
        rules,
        "e1",
        "wire-e",
        MONDAY + timedelta(hours=6),
        "Russia and Ukraine to hold fifth round of talks in Riyadh",
        "Delegations from Russia and Ukraine will meet in Riyadh on Thursday for a fifth round of direct "
        "peace talks, Saudi officials said on Monday.",
    )


def prisoner_swap(rules: RuleSet) -> StoryInput:
    return report(
        rules,
        "s1",
        "wire-b",
        MONDAY + timedelta(hours=3),
        "Russia and Ukraine exchange 84 prisoners of war each",
        "Russia and Ukraine exchanged 84 prisoners of war each on Sunday in a swap mediated by the United "
        "Arab Emirates, both sides said.",
    )


def tariff_deadline(rules: RuleSet) -> StoryInput:
    return report(
        rules,
        "t1",
        "wire-c",
        MONDAY + timedelta(hours=4),
        "Trump gives Russia 50 days to agree ceasefire",
        "US President Donald Trump gave Russia 50 days to agree to a ceasefire with Ukraine or face "
        "secondary tariffs on buyers of its oil.",
    )


def assign_all(deduplicator: Deduplicator, items: Iterable[StoryInput]) -> list[Assignment]:
    return [deduplicator.assign(item) for item in items]


def only(values: Sequence[object]) -> object:
    assert len(values) == 1, values
    return values[0]


def latest_states(assignments: Sequence[Assignment]) -> tuple[list[Story], list[Event]]:
    """What the store keeps after these assignments: the latest state of every story and event, by id."""
    stories = {a.story.id: a.story for a in assignments}
    events = {event.id: event for a in assignments for event in a.events}
    return list(stories.values()), list(events.values())


def evidence(*pairs: tuple[str, str]) -> tuple[Evidence, ...]:
    return tuple(Evidence(rule=rule, start=0, end=len(text), text=text) for rule, text in pairs)


def detected(kind: str, facts: dict[str, object], *pairs: tuple[str, str]) -> DetectedEvent:
    return DetectedEvent(type=kind, score=0.9, facts=facts, evidence=evidence(*pairs))


# --- stories ---------------------------------------------------------------------------------------------


def test_the_classifier_reads_the_test_reports_as_intended(rules: RuleSet) -> None:
    # guards the tests below: they are about the story stage, so their inputs must be what they claim
    for item in fourth_round_announced(rules):
        event = only(item.events)
        assert event.type == "NEW_ROUND"
        assert (event.facts["round"], event.facts["place"], event.facts["date"]) == (
            4,
            "Geneva",
            "2026-03-05",
        )
        assert event_stage(event, item.published.date()) == "scheduled"
    held = only(fourth_round_held(rules).events)
    assert event_stage(held, THURSDAY_EVENING.date()) == "held"
    assert only(fifth_round_announced(rules).events).facts["round"] == 5
    assert only(prisoner_swap(rules).events).type == "EXCHANGE"
    assert only(tariff_deadline(rules).events).type == "DEADLINE"


def test_four_outlets_telling_one_development_in_their_own_words_make_one_story(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    reports = fourth_round_announced(rules)
    assignments = assign_all(deduplicator, reports)

    assert [a.new_story for a in assignments] == [True, False, False, False]
    assert len({a.story.id for a in assignments}) == 1
    assert all(a.score >= deduplicator.settings.join_threshold for a in assignments[1:])
    story = assignments[-1].story
    assert story.item_count == 4
    assert story.sources == ("wire-a", "wire-b", "wire-c", "wire-d")
    assert story.headline == reports[0].title  # the first report names the story
    assert (story.first_seen, story.last_seen) == (reports[0].published, reports[-1].published)
    [story_event] = story.events
    assert (story_event.type, story_event.stage) == ("NEW_ROUND", "scheduled")
    assert story_event.facts["round"] == 4
    assert deduplicator.story_count == 1


def test_one_development_alerts_once_and_further_reports_only_count_sources(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    assignments = assign_all(deduplicator, fourth_round_announced(rules))
    decisions = [only(a.decisions) for a in assignments]

    assert [(d.alert, d.kind) for d in decisions] == [
        (True, "new"),
        (False, "repeat"),
        (False, "repeat"),
        (False, "repeat"),
    ]
    assert [d.sources for d in decisions] == [1, 2, 3, 4]
    assert len({d.event_id for d in decisions}) == 1
    assert all(d.reason for d in decisions)  # each decision says why
    event = only(assignments[-1].events)
    assert event.sources == ("wire-a", "wire-b", "wire-c", "wire-d")
    assert event.status == "scheduled"


def test_the_same_outlet_reporting_again_is_a_repeat_that_adds_no_source(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    first = fourth_round_announced(rules)[0]
    rewritten = replace(
        first,
        key="a1-bis",
        published=first.published + timedelta(hours=1),
        title="Fourth round of Russia-Ukraine talks to take place in Geneva on Thursday",
    )
    assert rewritten.events  # the same text, so the same verdict
    one, two = assign_all(deduplicator, [first, rewritten])
    assert two.story.id == one.story.id and two.story.item_count == 2
    assert two.story.sources == ("wire-a",)
    decision = only(two.decisions)
    assert (decision.alert, decision.kind, decision.sources) == (False, "repeat", 1)


def russian_report_of_the_fourth_round(rules: RuleSet) -> StoryInput:
    """The Monday announcement as a Moscow agency tells it in Russian: no word in common with the English
    reports, the same round, place and day."""
    return report(
        rules,
        "ru1",
        "moscow-agency",
        MONDAY + timedelta(hours=3),
        "Четвертый раунд переговоров России и Украины пройдет в Женеве в четверг",
        "Делегации России и Украины встретятся в Женеве в четверг на четвертом раунде прямых переговоров, "
        "сообщил МИД Швейцарии.",
    )


def test_a_report_in_another_language_joins_the_story_whose_facts_it_states(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    english = fourth_round_announced(rules)[:2]
    russian = russian_report_of_the_fourth_round(rules)
    assert not set(russian.title.casefold().split()) & set(english[0].title.casefold().split())
    first, second, third = assign_all(deduplicator, [*english, russian])

    assert not third.new_story and third.story.id == first.story.id == second.story.id
    assert third.story.sources == ("moscow-agency", "wire-a", "wire-b")
    assert [(d.alert, d.kind) for d in third.decisions] == [(False, "repeat")]
    # a deduplicator rebuilt from what the store keeps finds the story by its facts as well
    rebuilt = Deduplicator(*latest_states([first, second]))
    again = rebuilt.assign(russian)
    assert not again.new_story and again.story.id == first.story.id


def test_a_report_in_another_language_of_another_round_starts_its_own_story(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    english = fourth_round_announced(rules)[0]
    fifth = report(
        rules,
        "ru5",
        "moscow-agency",
        MONDAY + timedelta(hours=3),
        "Пятый раунд переговоров России и Украины пройдет в Стамбуле в четверг",
        "Делегации России и Украины встретятся в Стамбуле в четверг на пятом раунде прямых переговоров.",
    )
    [event] = fifth.events
    assert event.facts["date"] == english.events[0].facts["date"]  # a fact in common: a candidate
    first, second = assign_all(deduplicator, [english, fifth])
    assert second.new_story and second.story.id != first.story.id


def test_a_round_announced_and_days_later_held_is_two_stories_and_one_event_moving_forward(
    rules: RuleSet,
) -> None:
    deduplicator = Deduplicator()
    announced = assign_all(deduplicator, fourth_round_announced(rules))
    held = deduplicator.assign(fourth_round_held(rules, key="x2", source="wire-x"))

    assert held.new_story, "the round held is another development than the round announced"
    event_before = only(announced[-1].events)
    event_after = only(held.events)
    assert event_after.id == event_before.id, "one round, one tracked event"
    assert (event_before.status, event_after.status) == ("scheduled", "held")
    assert event_after.story_ids == (announced[0].story.id, held.story.id)
    assert len(event_after.sources) == 5
    decision = only(held.decisions)
    assert (decision.alert, decision.kind) == (True, "update")
    assert "scheduled -> held" in decision.reason
    alerts = [d for a in [*announced, held] for d in a.decisions if d.alert]
    assert [d.kind for d in alerts] == ["new", "update"]


def test_another_round_the_same_day_is_another_story_and_another_event(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    fourth = assign_all(deduplicator, fourth_round_announced(rules)[:2])
    fifth = deduplicator.assign(fifth_round_announced(rules))

    assert fifth.new_story and fifth.story.id != fourth[0].story.id
    assert only(fifth.events).id != only(fourth[0].events).id
    assert only(fifth.events).facts["round"] == 5
    decision = only(fifth.decisions)
    assert (decision.alert, decision.kind) == (True, "new")
    assert deduplicator.story_count == 2


def test_a_swap_reported_the_same_day_is_its_own_story_and_event(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    round_story = deduplicator.assign(fourth_round_announced(rules)[0])
    swap = deduplicator.assign(prisoner_swap(rules))
    assert swap.new_story and swap.story.id != round_story.story.id
    event = only(swap.events)
    assert (event.type, event.status, event.facts["count"]) == ("EXCHANGE", "carried_out", 84)
    assert only(swap.decisions).kind == "new"


def test_status_never_moves_backwards_when_a_late_preview_arrives_after_the_round(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    previews = fourth_round_announced(rules)
    assign_all(deduplicator, previews[:2])
    held = deduplicator.assign(fourth_round_held(rules))
    late_preview = deduplicator.assign(previews[2])  # published on Monday, delivered after the round

    assert only(held.events).status == "held"
    event = only(late_preview.events)
    assert event.id == only(held.events).id
    assert event.status == "held"
    decision = only(late_preview.decisions)
    assert (decision.alert, decision.kind, decision.status) == (False, "repeat", "held")


def test_status_never_moves_backwards_on_hand_built_reports() -> None:
    deduplicator = Deduplicator()
    facts = {"round": 7, "place": "Istanbul"}
    steps = [
        ("held", detected("NEW_ROUND", facts, ("modality.past", "took place"))),
        ("proposed", detected("NEW_ROUND", facts, ("modality.hedge", "proposed"))),
        ("scheduled", detected("NEW_ROUND", facts, ("modality.future", "will"))),
    ]
    statuses = []
    for hour, (expected_stage, event) in enumerate(steps):
        published = MONDAY + timedelta(hours=hour)
        assert event_stage(event, published.date()) == expected_stage
        item = StoryInput(
            key=f"h{hour}",
            source=f"outlet-{hour}",
            title="Seventh round of talks in Istanbul",
            summary="Delegations of Russia and Ukraine and the seventh round in Istanbul.",
            published=published,
            events=(event,),
        )
        assignment = deduplicator.assign(item)
        statuses.append(only(assignment.events).status)
        if hour:
            assert not only(assignment.decisions).alert
    assert statuses == ["held", "held", "held"]


GENEVA_FOURTH = {"round": 4, "place": "Geneva"}
WILL, HELD = ("modality.future", "will"), ("modality.past", "took place")


def score_after_announcement(cue: tuple[str, str], hours: int) -> float:
    """The score with which a report of the fourth Geneva round (told with ``cue``), ``hours`` after Monday's
    start, joins the story of two reports announcing it (at 0 and 2 hours)."""
    deduplicator = Deduplicator()
    for key, at in (("a1", 0), ("a2", 2)):
        deduplicator.assign(
            StoryInput(
                key=key,
                source=f"outlet-{key}",
                title="Fourth round of talks set for Geneva",
                summary="Russian and Ukrainian delegations will meet in Geneva for a fourth round.",
                published=MONDAY + timedelta(hours=at),
                events=(detected("NEW_ROUND", GENEVA_FOURTH, WILL),),
            )
        )
    later = StoryInput(
        key="later",
        source="outlet-later",
        title="Geneva talks: negotiators part without a ceasefire",
        summary="Negotiators from Moscow and Kyiv parted in Geneva with a swap agreed but no ceasefire.",
        published=MONDAY + timedelta(hours=hours),
        events=(detected("NEW_ROUND", GENEVA_FOURTH, cue),),
    )
    assignment = deduplicator.assign(later)
    assert not assignment.new_story
    return assignment.score


def test_a_report_at_another_stage_of_the_event_fits_its_story_less_well() -> None:
    # The round announced and the round held are two stories of one event: a report of the round held is
    # a weaker match for the announcement's story than one more report of the announcement.
    assert (
        score_after_announcement(HELD, 22) < score_after_announcement(WILL, 22) - 0.01
    )  # (equal without it)


def test_the_round_reported_held_a_day_after_its_announcement_fits_its_story_much_less_well() -> None:
    # "The round announced; then held": a report of the round held a day after the last report of its
    # announcement is the next development. Within hours ("set to begin", then "began") it differs from one
    # more announcement only by its stage; a day later the gap widens.
    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    within_hours = logit(score_after_announcement(WILL, 6)) - logit(score_after_announcement(HELD, 6))
    a_day_later = logit(score_after_announcement(WILL, 26)) - logit(score_after_announcement(HELD, 26))
    assert a_day_later > within_hours + 1.0


def test_the_round_reported_held_a_day_later_fits_less_well_whatever_its_report_leads_with() -> None:
    # "1,200 for 1,200 agreed as the fourth round ends": a report led by the swap the round agreed is still
    # the round held, the next development after its announcement
    def logit_after_announcement(cue: tuple[str, str], hours: int) -> float:
        deduplicator = Deduplicator()
        for key, at in (("a1", 0), ("a2", 2)):
            deduplicator.assign(
                told(
                    key,
                    at,
                    "Fourth round of talks set for Geneva",
                    "Russian and Ukrainian delegations will meet in Geneva for a fourth round.",
                    detected("NEW_ROUND", GENEVA_FOURTH, WILL),
                )
            )
        later = told(
            "later",
            hours,
            "Swap of 1,200 each agreed in Geneva",
            "Russian and Ukrainian delegations in Geneva agreed a swap of 1,200 each in their fourth round.",
            detected("EXCHANGE", {"count": 1200}, ("exchange.verb", "swap")),  # (first: the lead)
            detected("NEW_ROUND", GENEVA_FOURTH, cue),
        )
        score = deduplicator.assign(later).score
        return math.log(score / (1 - score)) if 0 < score < 1 else -math.inf

    within_hours = logit_after_announcement(WILL, 6) - logit_after_announcement(HELD, 6)
    a_day_later = logit_after_announcement(WILL, 26) - logit_after_announcement(HELD, 26)
    assert math.isfinite(within_hours) and math.isfinite(a_day_later)  # both joined: scores compare
    assert a_day_later > within_hours + 1.0


def told(key: str, hours: int, title: str, summary: str, *events: DetectedEvent) -> StoryInput:
    """A report with hand-built events, from its own outlet, ``hours`` after Monday's start."""
    return StoryInput(
        key=key,
        source=f"outlet-{key}",
        title=title,
        summary=summary,
        published=MONDAY + timedelta(hours=hours),
        events=events,
    )


def score_after(first: StoryInput, later: StoryInput) -> float:
    """The score of the story ``later`` joins (or starts) when ``first`` is all that came before."""
    deduplicator = Deduplicator()
    deduplicator.assign(first)
    return deduplicator.assign(later).score


def test_a_report_led_by_the_swap_of_talks_led_by_the_round_fits_their_story_better() -> None:
    # The talks reported with their swap, then a report that leads with the swap and tells of the talks
    # too: one development told from its other end, a better fit than a swap report that names no talks.
    round_held = detected("NEW_ROUND", {"round": 3}, ("modality.past", "held"))
    swap_agreed = detected("EXCHANGE", {"count": 1200}, ("exchange.verb", "exchange"))
    talks_named = detected("NEW_ROUND", {}, ("round.meeting", "met"))
    deadline = detected("DEADLINE", {}, ("deadline.word", "deadline"))
    talks = told(
        "talks",
        0,
        "Third round of talks held in Istanbul",
        "Russian and Ukrainian delegations held a third round in Istanbul on Wednesday, agreed a new "
        "prisoner exchange and discussed a ceasefire deadline.",
        round_held,
        swap_agreed,
        deadline,
    )

    def score(*events: DetectedEvent) -> float:
        swap = told(
            "swap",
            20,
            "Negotiator: 1,200 prisoners on each side",
            "Moscow's chief negotiator said each side would free 1,200 captives in the exchange agreed in "
            "Istanbul.",
            *events,
        )
        return score_after(talks, swap)

    assert score(swap_agreed, talks_named) > score(swap_agreed, deadline) + 0.05


def test_a_swap_carried_out_fits_the_story_of_the_talks_that_agreed_it_less_well() -> None:
    # Talks that agreed a swap, then the swap carried out the next day: two developments, even when the
    # swap's report leads with the swap the talks' story also carries (at another stage).
    round_held = detected("NEW_ROUND", {"round": 2}, ("modality.past", "held"))
    swap_agreed = detected("EXCHANGE", {"count": 157}, ("modality.agreed", "agreed"))
    talks = told(
        "talks",
        0,
        "Abu Dhabi talks close with an agreement to exchange 157 prisoners each",
        "The second round in Abu Dhabi ended with a swap of 157 prisoners each agreed.",
        round_held,
        swap_agreed,
    )

    def score(swap: DetectedEvent) -> float:
        later = told(
            "swap",
            20,
            "157 prisoners each returned home",
            "Ukraine and Russia exchanged 157 prisoners each, as agreed in Abu Dhabi.",
            swap,
        )
        return score_after(talks, later)

    carried_out = detected("EXCHANGE", {"count": 157}, ("modality.carried_out", "exchanged"))
    assert score(carried_out) < score(swap_agreed) - 0.05


def test_children_returned_on_the_day_talks_agreed_a_swap_are_not_that_swap() -> None:
    # The talks agree to exchange 300 for 300; the same day, nine children come home through a mediator. One
    # day, two figures: the day shows one swap only when both reports tell it at the same stage.
    agreed = detected(
        "EXCHANGE",
        {"count": 300, "date": "2026-03-02"},
        ("modality.agreed", "agreed"),
        ("exchange.verb", "swap"),
    )
    returned = detected(
        "EXCHANGE",
        {"count": 9, "date": "2026-03-02"},
        ("modality.carried_out", "returned"),
        ("exchange.return", "returned"),
    )
    talks = told(
        "talks",
        0,
        "Russia and Ukraine agree 300-for-300 swap at talks",
        "The sides agreed to swap 300 each.",
        agreed,
    )
    children = told(
        "children",
        3,
        "Nine children reunited with families",
        "Nine children came home with Qatari help.",
        returned,
    )
    deduplicator = Deduplicator()
    first = deduplicator.assign(talks)
    second = deduplicator.assign(children)
    assert second.story.id != first.story.id
    assert only(second.events).id != only(first.events).id
    assert only(second.decisions).kind == "new"
    # at the same stage, the same day explains the clash: one swap told with the total and the per-side figure
    total = detected(
        "EXCHANGE",
        {"count": 600, "date": "2026-03-02"},
        ("modality.agreed", "agreed"),
        ("exchange.verb", "swap"),
    )
    deduplicator = Deduplicator()
    first = deduplicator.assign(talks)
    again = deduplicator.assign(
        told("total", 3, "600 prisoners to be freed", "A swap of 600 prisoners in all was agreed.", total)
    )
    assert only(again.events).id == only(first.events).id


def test_a_held_round_dated_days_apart_by_two_reports_is_one_event_that_keeps_its_day() -> None:
    deduplicator = Deduplicator()
    dates = ["2026-03-02", "2026-03-04", "2026-03-02"]  # its first day; two days off (a slip); the first
    events, decisions = [], []
    for hour, day in enumerate(dates):
        event = detected(
            "NEW_ROUND", {"round": 4, "place": "Geneva", "date": day}, ("modality.past", "ended")
        )
        assignment = deduplicator.assign(
            StoryInput(
                key=f"g{hour}",
                source=f"outlet-{hour}",
                title=f"Fourth round in Geneva: report {hour}",
                summary="The fourth round of talks of Russia and Ukraine in Geneva ended.",
                published=MONDAY + timedelta(days=1, hours=hour * 20),
                events=(event,),
            )
        )
        events.append(only(assignment.events))
        decisions.append(only(assignment.decisions))
    assert len({event.id for event in events}) == 1
    assert events[-1].facts["date"] == "2026-03-02"
    assert [decision.alert for decision in decisions][1:] == [False, False]  # no "date changed" alerts
    another = detected(
        "NEW_ROUND", {"round": 5, "place": "Geneva", "date": "2026-03-03"}, ("modality.past", "ended")
    )
    assert _fact_match(another.facts, events[-1].facts, "NEW_ROUND") == -1  # another number: another round


def test_a_held_round_dated_weeks_later_by_a_report_of_a_proposal_keeps_its_event_and_day() -> None:
    # "Kyiv proposes the next meeting in late June", read as round 2 in Istanbul on 25 June, the day round 2
    # was held there: the same numbered round at the same place is the same event, and a held round's day
    # does not move, so there is nothing to alert
    deduplicator = Deduplicator()
    reports = [
        (
            {"round": 2, "place": "Istanbul", "date": "2025-06-02"},
            ("modality.past", "held"),
            "Round two held",
        ),
        ({"round": 2, "place": "Istanbul", "date": "2025-06-25"}, ("modality.proposal", "proposes"), "Next?"),
    ]
    events, decisions = [], []
    for index, (facts, cue, title) in enumerate(reports):
        assignment = deduplicator.assign(
            StoryInput(
                key=f"i{index}",
                source=f"outlet-{index}",
                title=title,
                summary="The second round of talks of Russia and Ukraine in Istanbul.",
                published=datetime(2025, 6, 2, 12 + index * 6, tzinfo=UTC),
                events=(detected("NEW_ROUND", facts, cue),),
            )
        )
        events.append(only(assignment.events))
        decisions.append(only(assignment.decisions))
    assert events[0].id == events[1].id
    assert events[1].facts["date"] == "2025-06-02"
    assert [decision.alert for decision in decisions] == [True, False]


# --- rebuilt from what the store keeps --------------------------------------------------------------------


class FreshIds:
    """Names ids made after a snapshot by order of appearance, so two deduplicators' outputs compare."""

    def __init__(self, known: Iterable[str]) -> None:
        self.known = set(known)
        self.names: dict[str, str] = {}

    def __call__(self, value: str | None) -> str | None:
        if value is None or value in self.known:
            return value
        return self.names.setdefault(value, f"fresh-{len(self.names)}")

    def assignment(self, assignment: Assignment) -> tuple[object, ...]:
        story = assignment.story
        story = replace(
            story,
            id=self(story.id),
            event_ids={kind: self(event_id) for kind, event_id in story.event_ids.items()},
        )
        events = tuple(
            replace(
                event,
                id=self(event.id),
                story_ids=tuple(self(story_id) for story_id in event.story_ids),
                last_alert_story=self(event.last_alert_story),
            )
            for event in assignment.events
        )
        decisions = tuple(
            replace(decision, event_id=self(decision.event_id), story_id=self(decision.story_id))
            for decision in assignment.decisions
        )
        return (assignment.new_story, assignment.score, story, events, decisions)


def test_a_deduplicator_rebuilt_from_snapshots_decides_the_next_items_as_the_live_one(rules: RuleSet) -> None:
    live = Deduplicator()
    before = assign_all(live, [*fourth_round_announced(rules)[:3], prisoner_swap(rules)])
    stories, events = latest_states(before)
    rebuilt = Deduplicator(stories, events)
    assert rebuilt.story_count == live.story_count == 2

    known = [story.id for story in stories] + [event.id for event in events]
    live_ids, rebuilt_ids = FreshIds(known), FreshIds(known)
    following = [
        fourth_round_announced(rules)[3],  # joins the stored story: a repeat
        tariff_deadline(rules),  # a new story and a new event
        fourth_round_held(rules),  # a new story, the stored event moves on
        replace(
            fourth_round_held(rules, key="b2", source="wire-b"),
            published=THURSDAY_EVENING + timedelta(hours=1),
        ),
    ]
    outcomes = []
    for item in following:
        from_live, from_rebuilt = live.assign(item), rebuilt.assign(item)
        assert rebuilt_ids.assignment(from_rebuilt) == live_ids.assignment(from_live), item.key
        outcomes.append((from_live.new_story, [(d.alert, d.kind) for d in from_live.decisions]))
    # the comparison above is only worth something if the items exercise joins, new stories and updates
    assert outcomes == [
        (False, [(False, "repeat")]),
        (True, [(True, "new")]),
        (True, [(True, "update")]),
        (False, [(False, "repeat")]),
    ]
    assert rebuilt.story_count == live.story_count == 4


def long_reports(rules: RuleSet) -> list[StoryInput]:
    """Four reports of one announcement, long enough that their story's words outgrow its kept signature."""
    texts = [
        (
            "Russia and Ukraine to hold fourth round of talks in Geneva on Thursday",
            "Delegations from Russia and Ukraine will meet in Geneva on Thursday for a fourth round of direct"
            " peace talks, the Swiss foreign ministry said. The agenda includes humanitarian corridors, the "
            "Zaporizhzhia nuclear plant, grain shipments across the Black Sea, and the fate of deported "
            "children. Mediators from Turkey, Qatar and the Vatican are expected to attend as observers.",
        ),
        (
            "Fourth round of Russia-Ukraine negotiations set for Geneva this week",
            "Kyiv and Moscow have agreed to send negotiators to Geneva on Thursday for their fourth round of "
            "talks, Ukrainian negotiator Rustem Umerov confirmed. Umerov said his team would press for an "
            "energy truce, monitoring by the OSCE, compensation for damaged infrastructure and the release "
            "of civilian hostages held since the occupation of Kherson.",
        ),
        (
            "Geneva to host fourth round of Ukraine peace talks",
            "A fourth round of negotiations between Ukraine and Russia will take place in Geneva on Thursday,"
            " Kremlin spokesman Dmitry Peskov told reporters. Vladimir Medinsky will again lead the Russian "
            "side; analysts in Brussels, Warsaw and Helsinki doubt any breakthrough on territory, sanctions "
            "relief or security guarantees backed by European troops.",
        ),
        (
            "Geneva round four: delegations arrive for Thursday session",
            "Ukrainian and Russian delegations began arriving in Geneva ahead of Thursday's fourth round of "
            "talks. Diplomats mentioned possible discussion of Crimea bridges, Donbas elections, Mariupol "
            "reconstruction, Odesa port insurance, Kharkiv shelling, Belgorod incursions, Transnistria, "
            "frozen assets held by Euroclear, and Patriot deliveries.",
        ),
    ]
    return [
        report(rules, f"long{n}", f"outlet-{n}", MONDAY + timedelta(hours=n), title, summary)
        for n, (title, summary) in enumerate(texts)
    ]


def test_a_rebuilt_deduplicator_decides_as_the_live_one_when_a_story_has_many_words(rules: RuleSet) -> None:
    live = Deduplicator()
    before = assign_all(live, long_reports(rules))
    assert len(before[-1].story.terms) > 96 and live.story_count == 1  # more words than a trimmed signature
    rebuilt = Deduplicator(*latest_states(before))
    follow_up = report(
        rules,
        "short",
        "outlet-9",
        MONDAY + timedelta(hours=6),
        "Medinsky to raise Mariupol and Belgorod at Russia-Ukraine peace talks in Geneva",
        "Security guarantees will also be discussed, diplomats said.",
    )
    from_live, from_rebuilt = live.assign(follow_up), rebuilt.assign(follow_up)
    assert not from_live.new_story
    assert (from_rebuilt.new_story, from_rebuilt.score) == (from_live.new_story, from_live.score)


def test_a_rebuilt_deduplicator_keeps_the_majority_stage_of_a_story() -> None:
    facts = {"round": 6, "place": "Vienna", "date": "2026-03-05"}
    title = "Sixth round of Russia-Ukraine talks in Vienna on Thursday"
    summary = "Russian and Ukrainian delegations and the sixth round of talks in Vienna on Thursday."

    def item(key: str, published: datetime, *pairs: tuple[str, str]) -> StoryInput:
        return StoryInput(
            key, f"outlet-{key}", title, summary, published, (detected("NEW_ROUND", facts, *pairs),)
        )

    live = Deduplicator()
    previews = assign_all(
        live,
        [
            item("p1", datetime(2026, 3, 4, 12, tzinfo=UTC), ("modality.future", "will")),
            item("p2", datetime(2026, 3, 4, 13, tzinfo=UTC), ("modality.future", "will")),
        ],
    )
    rebuilt = Deduplicator(*latest_states(previews))
    held = item("h1", datetime(2026, 3, 5, 9, tzinfo=UTC), ("modality.past", "took place"))
    from_live, from_rebuilt = live.assign(held), rebuilt.assign(held)
    assert not from_live.new_story, "the test needs the held report to join the previews' story"
    assert only(from_live.story.events).stage == "scheduled"  # two previews outvote one report
    assert only(from_rebuilt.story.events).stage == only(from_live.story.events).stage


# --- bounded by time ---------------------------------------------------------------------------------------


def test_stories_older_than_the_retention_are_forgotten(rules: RuleSet) -> None:
    deduplicator = Deduplicator(settings=DedupSettings(retention=timedelta(days=10)))
    assign_all(deduplicator, [*fourth_round_announced(rules), prisoner_swap(rules), tariff_deadline(rules)])
    assert deduplicator.story_count == 3

    nine_days_on = replace(fourth_round_held(rules), published=MONDAY + timedelta(days=9))
    deduplicator.assign(nine_days_on)
    assert deduplicator.story_count == 4, "nothing is older than ten days yet"

    weeks_later = report(
        rules,
        "later",
        "wire-a",
        MONDAY + timedelta(days=12),
        "Russia and Ukraine to hold fourth round of talks in Geneva on Thursday",
        "Delegations from Russia and Ukraine will meet in Geneva on Thursday for a fourth round of direct "
        "peace talks, the Swiss foreign ministry said on Monday.",
    )
    assignment = deduplicator.assign(weeks_later)
    assert assignment.new_story, (
        "the identical report of twelve days ago is forgotten, so it cannot be joined"
    )
    assert deduplicator.story_count == 2  # the round held (day 9) and this one


def test_the_default_retention_keeps_a_month(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    deduplicator.assign(fourth_round_announced(rules)[0])
    later = replace(prisoner_swap(rules), published=MONDAY + timedelta(days=29))
    deduplicator.assign(later)
    assert deduplicator.story_count == 2
    deduplicator.assign(replace(later, key="s2", published=MONDAY + timedelta(days=31)))
    assert deduplicator.story_count == 1


# --- decide(): a pure function of the event before and after ---------------------------------------------


def tracked(**changes: object) -> Event:
    event = Event(
        id="ev1",
        type="NEW_ROUND",
        key="NEW_ROUND:place=geneva:round=4",
        status="scheduled",
        facts={"round": 4, "place": "Geneva", "date": "2026-03-05"},
        first_seen=MONDAY,
        last_seen=MONDAY,
        story_ids=("story1",),
        sources=("wire-a",),
        last_alert_story="story1",
    )
    return replace(event, **changes)  # type: ignore[arg-type]


ITEM = StoryInput(
    key="k9", source="wire-b", title="t", summary="s", published=MONDAY + timedelta(hours=1), item_id=9
)


def test_decide_a_new_event_is_an_alert() -> None:
    after = tracked(last_alert_story=None)
    decision = decide(None, after, "story1", ITEM)
    assert (decision.alert, decision.kind) == (True, "new")
    assert "NEW_ROUND" in decision.reason
    assert (decision.event_id, decision.event_type, decision.story_id) == ("ev1", "NEW_ROUND", "story1")
    assert (decision.item_key, decision.item_id, decision.decided_at) == ("k9", 9, ITEM.published)
    assert (decision.status, decision.sources) == ("scheduled", 1)
    assert decision.facts == after.facts


def test_decide_a_status_that_moved_is_an_update() -> None:
    before = tracked()
    after = tracked(status="held", sources=("wire-a", "wire-b"))
    decision = decide(before, after, "story2", ITEM)
    assert (decision.alert, decision.kind, decision.sources) == (True, "update", 2)
    assert "scheduled -> held" in decision.reason


def test_decide_a_status_moved_within_a_day_in_the_story_that_alerted_is_a_repeat() -> None:
    # "set to begin this afternoon" at 9:00, "talks began" at 14:00, in one story: one development
    before = tracked(last_alert_at=MONDAY)
    after = tracked(status="under_way", last_alert_at=MONDAY)
    same_day = decide(before, after, "story1", ITEM)
    assert (same_day.alert, same_day.kind) == (False, "repeat")
    assert "same day" in same_day.reason
    # another story, or the same story a day on, is news of the event moving forward
    assert decide(before, after, "story2", ITEM).alert
    next_day = replace(ITEM, published=MONDAY + timedelta(hours=25))
    assert (decide(before, after, "story1", next_day).kind) == "update"


def test_decide_a_changed_key_fact_is_an_update() -> None:
    before = tracked()
    after = tracked(facts={"round": 4, "place": "Geneva", "date": "2026-03-09"})
    decision = decide(before, after, "story1", ITEM)
    assert (decision.alert, decision.kind) == (True, "update")
    assert "date" in decision.reason and "2026-03-09" in decision.reason


def test_decide_a_date_one_day_off_is_the_same_date() -> None:
    # time zones and "overnight" put the same session a day apart in different reports
    after = tracked(facts={"round": 4, "place": "Geneva", "date": "2026-03-06"})
    decision = decide(tracked(), after, "story1", ITEM)
    assert (decision.alert, decision.kind) == (False, "repeat")


def test_decide_a_fact_first_known_in_another_story_is_an_update_but_not_in_the_alerted_one() -> None:
    before = tracked(facts={"round": 4})
    after = tracked(facts={"round": 4, "place": "Geneva"})
    elsewhere = decide(before, after, "story2", ITEM)
    assert (elsewhere.alert, elsewhere.kind) == (True, "update")
    assert "place" in elsewhere.reason
    same_story = decide(before, after, "story1", ITEM)
    assert (same_story.alert, same_story.kind) == (False, "repeat")


def test_decide_the_same_again_is_a_repeat_and_the_function_is_pure() -> None:
    before = tracked()
    after = tracked(sources=("wire-a", "wire-b", "wire-c"))
    first = decide(before, after, "story1", ITEM)
    assert (first.alert, first.kind, first.sources) == (False, "repeat", 3)
    assert decide(before, after, "story1", ITEM) == first  # same input, same output
    assert before == tracked() and after == tracked(sources=("wire-a", "wire-b", "wire-c"))


# a fact that makes each type's reading particular (a reading without any waits for a second outlet)
PARTICULAR = {"NEW_ROUND": {"round": 4}, "EXCHANGE": {"count": 300}, "DEADLINE": {"deadline": "2026-03-20"}}


def read_as(
    score: float,
    item: StoryInput = ITEM,
    event_type: str = "NEW_ROUND",
    facts: Mapping[str, object] | None = None,
    evidence: tuple[Evidence, ...] = (),
) -> StoryInput:
    """The item with the classifier's reading of one event at ``score`` (with a particular fact unless
    ``facts`` are given)."""
    stated = PARTICULAR[event_type] if facts is None else facts
    return replace(item, events=(DetectedEvent(event_type, score, dict(stated), evidence),))


def test_decide_a_new_event_read_weakly_waits_for_a_second_outlet() -> None:
    pending = tracked(last_alert_story=None, sources=("wire-b",))
    first = decide(None, pending, "story1", read_as(0.7))
    assert (first.alert, first.kind) == (False, "pending")
    assert "0.70" in first.reason and "second outlet" in first.reason
    # the same outlet again, still weakly: still waiting
    again = replace(ITEM, key="k10", item_id=10, published=ITEM.published + timedelta(hours=2))
    assert decide(pending, pending, "story1", read_as(0.7, again)).kind == "pending"
    # another outlet, even weakly: the event's first alert
    other = replace(again, source="daily-c")
    confirmed = decide(pending, tracked(last_alert_story=None, sources=("wire-b", "daily-c")), "story2",
                       read_as(0.7, other))  # fmt: skip
    assert (confirmed.alert, confirmed.kind, confirmed.sources) == (True, "new", 2)
    assert "second outlet" in confirmed.reason
    # or the same outlet reading it confidently
    sure = decide(pending, pending, "story1", read_as(0.95, again))
    assert (sure.alert, sure.kind) == (True, "new")
    assert "confident" in sure.reason


@pytest.mark.parametrize(
    ("event_type", "weak", "confident"), [("NEW_ROUND", 0.75, 0.8), ("EXCHANGE", 0.75, 0.8)]
)
def test_decide_each_type_has_its_confident_level(event_type: str, weak: float, confident: float) -> None:
    after = tracked(type=event_type, last_alert_story=None)
    assert decide(None, after, "story1", read_as(weak, event_type=event_type)).kind == "pending"
    assert decide(None, after, "story1", read_as(confident, event_type=event_type)).kind == "new"


def test_decide_a_deadline_read_weakly_alerts_at_once() -> None:
    after = tracked(type="DEADLINE", last_alert_story=None)
    assert decide(None, after, "story1", read_as(0.6, event_type="DEADLINE")).kind == "new"


def test_decide_without_corroboration_alerts_every_new_event_at_once() -> None:
    decision = decide(
        None, tracked(last_alert_story=None), "story1", read_as(0.5), DedupSettings(corroborate_below={})
    )
    assert (decision.alert, decision.kind) == (True, "new")


@pytest.mark.parametrize(
    ("event_type", "facts", "particular"),
    [
        ("NEW_ROUND", {"place": "Geneva"}, {"date": "2026-03-05"}),  # a place alone names a venue
        ("NEW_ROUND", {}, {"round": 4}),
        ("EXCHANGE", {"date": "2026-03-06"}, {"count": 300}),  # a day alone: which swap?
        ("DEADLINE", {}, {"deadline": "50 days"}),
    ],
)
def test_decide_a_new_event_told_without_its_particulars_waits_for_a_second_outlet(
    event_type: str, facts: dict[str, object], particular: dict[str, object]
) -> None:
    after = tracked(type=event_type, last_alert_story=None)
    bare = decide(None, after, "story1", read_as(0.95, event_type=event_type, facts=facts))
    assert (bare.alert, bare.kind) == (False, "pending")
    assert "particulars" in bare.reason and "second outlet" in bare.reason
    # one particular makes the reading confident, whatever else it lacks
    told = decide(None, after, "story1", read_as(0.95, event_type=event_type, facts={**facts, **particular}))
    assert (told.alert, told.kind) == (True, "new")
    # and so does a headline that names the event
    headline = replace(ITEM, title="Talks, swap and deadline in one headline")
    named = Evidence("round.word", 6, 11, "swap")
    in_title = decide(None, after, "story1", read_as(0.95, headline, event_type, facts, (named,)))
    assert (in_title.alert, in_title.kind) == (True, "new")
    # evidence after the headline's end is the body's; a fact alone in the headline does not count either
    body = Evidence("round.word", 60, 65, "swap")
    day = Evidence("fact.date", 0, 5, "Talks")
    for evidence in ((body,), (day, body)):
        assert decide(None, after, "story1", read_as(0.95, headline, event_type, facts, evidence)).kind == (
            "pending"
        )
    # without corroboration it alerts at once
    reading = read_as(0.95, event_type=event_type, facts=facts)
    at_once = decide(None, after, "story1", reading, DedupSettings.alerting_at_once())
    assert (at_once.alert, at_once.kind) == (True, "new")


def test_a_swap_told_in_passing_without_a_number_alerts_when_a_second_outlet_tells_it(rules: RuleSet) -> None:
    # two outlets mention a swap deep in other news, neither with its number: the second outlet's report is
    # the alert; with corroboration off, the first
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    power = report(
        rules,
        "p1",
        "wire-a",
        friday,
        "Power cuts return to Kharkiv as strikes resume",
        "Rolling blackouts returned to Kharkiv on Friday after overnight strikes on two substations, the "
        "regional governor said. Repair crews expect to restore supply within days. Separately, Russia and "
        "Ukraine exchanged prisoners of war on Friday, the coordination headquarters in Kyiv said, without "
        "giving numbers.",
    )
    mayor = report(
        rules,
        "p2",
        "daily-b",
        friday + timedelta(hours=2),
        "Kyiv mayor warns of a hard March",
        "The mayor of Kyiv said the city would ration power through March. He spoke as prisoners of war "
        "returned home from Russia in an exchange on Friday, the latest since the talks in Geneva.",
    )
    for item in (power, mayor):
        swaps = [event for event in item.events if event.type == "EXCHANGE"]
        assert swaps and not any("count" in event.facts for event in swaps), "the test needs a bare swap"
    for settings, alerted_at in ((DedupSettings(), 1), (DedupSettings.alerting_at_once(), 0)):
        assignments = assign_all(Deduplicator(settings=settings), [power, mayor])
        swaps = [only([d for d in a.decisions if d.event_type == "EXCHANGE"]) for a in assignments]
        assert [decision.alert for decision in swaps] == [i == alerted_at for i in range(2)]
        assert swaps[0].event_id == swaps[1].event_id
    alone = assign_all(Deduplicator(), [power])[0]
    waiting = only([d for d in alone.decisions if d.event_type == "EXCHANGE"])
    assert isinstance(waiting, AlertDecision)
    assert waiting.kind == "pending" and "no number of people" in waiting.reason


def test_a_weak_reading_alerts_when_another_outlet_reports_the_event(rules: RuleSet) -> None:
    # one alert for the round, at the second outlet's report; with corroboration off, at the first
    weak = report(
        rules,
        "w1",
        "wire-a",
        MONDAY,
        "Russia and Ukraine agree to swap 1,000 prisoners each at Istanbul talks",
        "Russian and Ukrainian delegations meeting in Istanbul agreed to exchange 1,000 prisoners of war "
        "each, the head of the Ukrainian delegation said.",
    )
    assert max(e.score for e in weak.events if e.type == "NEW_ROUND") < 0.8, "the test needs a weak reading"
    second = report(
        rules,
        "w2",
        "daily-b",
        MONDAY + timedelta(hours=1),
        "Istanbul talks: Russia and Ukraine agree 1,000-for-1,000 prisoner swap",
        "Negotiators from Kyiv and Moscow agreed in Istanbul to release 1,000 prisoners of war each, "
        "officials said after the meeting.",
    )
    for settings, alerted_at in ((DedupSettings(), 1), (DedupSettings.alerting_at_once(), 0)):
        assignments = assign_all(Deduplicator(settings=settings), [weak, second])
        rounds = [[d for d in a.decisions if d.event_type == "NEW_ROUND"] for a in assignments]
        assert [only(decisions).alert for decisions in rounds] == [i == alerted_at for i in range(2)]
        assert only(rounds[alerted_at]).kind == "new"
        assert only(rounds[0]).event_id == only(rounds[1]).event_id


# --- event_stage(): which stage of the development an item reports --------------------------------------

TODAY = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("event", "stage"),
    [
        (detected("NEW_ROUND", {"round": 4, "date": "2026-03-04"}, ("modality.concrete", "talks")), "held"),
        (detected("NEW_ROUND", {"date": "2026-03-09"}, ("modality.future", "will")), "scheduled"),
        (detected("NEW_ROUND", {"date": "2026-03-09"}, ("modality.hedge", "proposed")), "proposed"),
        (detected("NEW_ROUND", {"date": "2026-03-05"}, ("modality.concrete", "meet")), "under_way"),
        (detected("NEW_ROUND", {"date": "2026-03-05"}, ("modality.concrete", "took place")), "held"),
        (detected("NEW_ROUND", {"place": "Istanbul"}, ("modality.past", "met")), "held"),
        (detected("NEW_ROUND", {"place": "Istanbul"}, ("modality.concrete", "began")), "under_way"),
        (detected("EXCHANGE", {"count": 84}, ("modality.carried_out", "exchanged")), "carried_out"),
        (detected("EXCHANGE", {"count": 1000}, ("modality.agreed", "agreed")), "agreed"),
        (detected("EXCHANGE", {"date": "2026-03-01"}, ("exchange.verb", "swap")), "carried_out"),
        (detected("DEADLINE", {"deadline": "2026-03-05"}, ("deadline.threat", "or face")), "expired"),
        (detected("DEADLINE", {"deadline": "2026-03-07"}, ("deadline.threat", "or face")), "approaching"),
        (detected("DEADLINE", {"deadline": "2026-04-24"}, ("deadline.threat", "or face")), "set"),
    ],
    ids=lambda value: value if isinstance(value, str) else f"{value.type}:{value.evidence[0].text}",
)
def test_event_stage_clear_cases(event: DetectedEvent, stage: str) -> None:
    assert event_stage(event, TODAY) == stage


@pytest.mark.parametrize(
    "text",
    [
        "Ukraine and Russia agreed at the talks in Istanbul that 300 prisoners of war are to be returned "
        "next week.",
        "After the talks in Istanbul, Medinsky said the sides agreed that 500 Russian servicemen will be "
        "returned home and that an equal number will be handed over to the Ukrainian side.",
        "At the talks in Istanbul the sides agreed an exchange of 240 prisoners of war for 240, to be "
        "carried out within days with Emirati help.",
    ],
)
def test_a_swap_that_will_be_carried_out_is_agreed_not_carried_out(rules: RuleSet, text: str) -> None:
    """ "will be returned", "are to be returned": the return word in them tells a swap still to come."""
    result = classify("", text, TODAY, rules)
    swaps = [event for event in result.events if event.type == "EXCHANGE"]
    assert len(swaps) == 1
    assert event_stage(swaps[0], TODAY) == "agreed"


def test_event_stage_will_be_held_without_a_date_is_not_held() -> None:
    event = detected(
        "NEW_ROUND", {"place": "Istanbul"}, ("modality.future", "will"), ("modality.concrete", "be held")
    )
    assert event_stage(event, TODAY) == "scheduled"


def test_event_stage_a_round_scheduled_for_a_day_in_may_is_scheduled() -> None:
    event = detected(
        "NEW_ROUND",
        {"round": 5, "place": "Istanbul", "date": "2026-05-05"},
        ("modality.future", "will"),
        ("fact.date", "May 5"),
    )
    assert event_stage(event, date(2026, 4, 20)) == "scheduled"


def test_a_round_announced_as_will_be_held_alerts_again_when_it_is_held(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    announced = deduplicator.assign(
        report(
            rules,
            "w1",
            "wire-a",
            datetime(2026, 4, 20, 9, tzinfo=UTC),
            "Next round of Russia-Ukraine talks will be held in Istanbul, Kremlin says",
            "The next round of direct talks between Russia and Ukraine will be held in Istanbul, Kremlin "
            "spokesman Dmitry Peskov said, without giving a date.",
        )
    )
    held = deduplicator.assign(
        report(
            rules,
            "w2",
            "wire-b",
            datetime(2026, 4, 24, 17, tzinfo=UTC),
            "Russia-Ukraine talks held in Istanbul",
            "Russian and Ukrainian delegations met in Istanbul on Friday for talks that lasted two hours, "
            "officials from both sides said.",
        )
    )
    assert only(announced.events).status == "scheduled"
    assert only(held.events).id == only(announced.events).id
    assert (only(held.decisions).alert, only(held.events).status) == (True, "held")


def test_one_announcement_dated_in_may_alerts_once(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    published = datetime(2026, 4, 29, 9, tzinfo=UTC)  # a Wednesday; 5 May 2026 is the Tuesday after
    first = report(
        rules,
        "m1",
        "wire-a",
        published,
        "Russia and Ukraine to hold fifth round of talks in Istanbul on May 5",
        "Delegations from Russia and Ukraine will meet in Istanbul on May 5 for a fifth round of direct "
        "talks, Turkey's foreign ministry said.",
    )
    second = report(
        rules,
        "m2",
        "wire-b",
        published + timedelta(hours=2),
        "Fifth round of Russia-Ukraine talks set for Istanbul on Tuesday",
        "Kyiv and Moscow will send negotiators to Istanbul on Tuesday for a fifth round of talks, "
        "Ukrainian negotiator Rustem Umerov confirmed.",
    )
    assert only(second.events).facts.get("date") == "2026-05-05"
    decisions = [only(a.decisions) for a in assign_all(deduplicator, [first, second])]
    assert [d.alert for d in decisions] == [True, False]


def test_a_swap_agreement_reported_by_a_second_outlet_is_not_carried_out(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    published = datetime(2026, 5, 16, 15, tzinfo=UTC)
    agreed = report(
        rules,
        "x1",
        "wire-a",
        published,
        "Russia and Ukraine agree to swap 1,000 prisoners each at Istanbul talks",
        "Russian and Ukrainian delegations meeting in Istanbul agreed to exchange 1,000 prisoners of war "
        "each, the head of the Ukrainian delegation said.",
    )
    same_agreement = report(
        rules,
        "x2",
        "daily-b",
        published + timedelta(hours=1),
        "Istanbul talks end with deal on 1,000-for-1,000 prisoner exchange",
        "Negotiators from Kyiv and Moscow agreed in Istanbul that each side will release 1,000 prisoners of "
        "war, officials said after the meeting.",
    )
    first, second = assign_all(deduplicator, [agreed, same_agreement])
    assert second.story.id == first.story.id
    swap_first = next(e for e in first.events if e.type == "EXCHANGE")
    swap_second = next(e for e in second.events if e.type == "EXCHANGE")
    assert swap_second.id == swap_first.id and swap_second.facts["count"] == 1000
    assert swap_second.status == "agreed"
    # one alert for the agreement (the first report's, or the second's where the first read it weakly)
    swap_alerts = [d for a in (first, second) for d in a.decisions if d.event_type == "EXCHANGE" and d.alert]
    assert [d.kind for d in swap_alerts] == ["new"]


def test_a_report_of_another_round_in_the_same_story_is_still_another_event(rules: RuleSet) -> None:
    # Joining stories is a matter of tuning; telling two rounds apart by their numbers must not be.
    deduplicator = Deduplicator(settings=DedupSettings(join_threshold=-100.0))  # every report joins
    fourth = deduplicator.assign(fourth_round_announced(rules)[0])
    fifth = deduplicator.assign(fifth_round_announced(rules))
    assert fifth.story.id == fourth.story.id, "the test needs the fifth round inside the fourth's story"
    event = only(fifth.events)
    assert event.id != only(fourth.events).id
    assert (event.facts["round"], event.sources) == (5, ("wire-e",))
    assert (only(fifth.decisions).alert, only(fifth.decisions).kind) == (True, "new")


# --- a number one report got wrong -------------------------------------------------------------------------


def hand_report(key: str, hour: int, title: str, event: DetectedEvent) -> StoryInput:
    return StoryInput(
        key=key,
        source=f"outlet-{key}",
        title=title,
        summary=title + ". Delegations of Russia and Ukraine and their mediators.",
        published=MONDAY + timedelta(hours=hour),
        events=(event,),
    )


FIFTH_IN_ABU_DHABI = {"round": 5, "place": "Abu Dhabi", "date": "2026-03-05"}


def round_report(key: str, hour: int, title: str, facts: dict[str, object]) -> StoryInput:
    return hand_report(key, hour, title, detected("NEW_ROUND", facts, ("modality.future", "will")))


def test_a_round_number_that_clashes_on_the_same_day_and_place_is_the_same_round() -> None:
    # "the fifth round" and "the first trilateral meeting" of one session on one day in one city
    deduplicator = Deduplicator()
    first = deduplicator.assign(
        round_report("a", 0, "Fifth round in Abu Dhabi on Thursday", FIFTH_IN_ABU_DHABI)
    )
    second = deduplicator.assign(
        round_report(
            "b", 1, "First trilateral meeting in Abu Dhabi on Thursday", {**FIFTH_IN_ABU_DHABI, "round": 1}
        )
    )
    assert only(second.events).id == only(first.events).id
    assert only(second.events).facts["round"] == 5  # the first report's number stands
    assert not only(second.decisions).alert


def test_a_round_dated_two_days_apart_at_the_same_place_is_the_same_round_of_several_days() -> None:
    # Thursday: one outlet reports the fifth round opening today; another, without its number, dates the
    # talks by the Saturday they are to end. Neither number clashes: one round of three days, one alert.
    deduplicator = Deduplicator()
    first = deduplicator.assign(round_report("a", 72, "Fifth round opens in Abu Dhabi", FIFTH_IN_ABU_DHABI))
    assert only(first.decisions).status == "under_way"
    second = deduplicator.assign(
        round_report(
            "b", 73, "Abu Dhabi talks to run to Saturday", {"place": "Abu Dhabi", "date": "2026-03-07"}
        )
    )
    assert only(second.events).id == only(first.events).id
    assert not only(second.decisions).alert
    assert only(second.events).facts["date"] == "2026-03-05"  # a round under way keeps its day
    # three days after its opening, at the same place, is another session
    third = deduplicator.assign(
        round_report("c", 74, "Abu Dhabi talks next week", {"place": "Abu Dhabi", "date": "2026-03-08"})
    )
    assert only(third.events).id != only(first.events).id
    assert only(third.decisions).alert


def test_a_round_number_that_clashes_elsewhere_or_another_day_is_another_round() -> None:
    deduplicator = Deduplicator()
    first = deduplicator.assign(
        round_report("a", 0, "Fifth round in Abu Dhabi on Thursday", FIFTH_IN_ABU_DHABI)
    )
    for key, facts in (
        ("b", {"round": 6, "place": "Geneva", "date": "2026-03-05"}),  # another city
        ("c", {"round": 7, "place": "Abu Dhabi", "date": "2026-03-12"}),  # another week
        ("d", {"round": 8, "place": "Abu Dhabi"}),  # no day to tell
    ):
        other = deduplicator.assign(round_report(key, 1, f"Round {facts['round']}", facts))
        assert only(other.events).id != only(first.events).id, key
        assert only(other.decisions).alert, key


def test_a_swap_count_that_clashes_on_the_same_day_is_the_same_swap() -> None:
    # one outlet gives the stage's count, another the whole swap's
    deduplicator = Deduplicator()
    done = ("modality.carried_out", "exchanged")
    stage = deduplicator.assign(
        hand_report(
            "a",
            0,
            "303 prisoners each exchanged",
            detected("EXCHANGE", {"count": 303, "date": "2026-03-02"}, done),
        )
    )
    whole = deduplicator.assign(
        hand_report(
            "b",
            2,
            "The 1,000-for-1,000 exchange is completed",
            detected("EXCHANGE", {"count": 1000, "date": "2026-03-02"}, done),
        )
    )
    assert only(whole.events).id == only(stage.events).id
    assert not only(whole.decisions).alert
    later = deduplicator.assign(
        hand_report(
            "c",
            30,
            "84 more prisoners each exchanged",
            detected("EXCHANGE", {"count": 84, "date": "2026-03-03"}, done),
        )
    )
    assert only(later.events).id != only(stage.events).id
    assert only(later.decisions).alert


def test_a_date_taken_from_the_reports_day_is_not_the_events(rules: RuleSet) -> None:
    # classify dates "the meeting ended" by the report's day, a guess: the event keeps the day a report states
    undated = report(
        rules,
        "u1",
        "wire-a",
        datetime(2026, 3, 6, 9, 0, tzinfo=UTC),
        "The Ankara meeting of Russia and Ukraine ends with a swap deal",
        "The meeting of the Russian and Ukrainian delegations in Ankara ended with agreement on an exchange "
        "of 300 prisoners for 300, officials said.",
    )
    (guessed,) = [event for event in undated.events if event.type == "NEW_ROUND"]
    assert guessed.facts["date"] == "2026-03-06"
    assignment = Deduplicator().assign(undated)
    (tracked,) = [event for event in assignment.events if event.type == "NEW_ROUND"]
    assert "date" not in tracked.facts
    assert tracked.facts["place"] == "Ankara"


def unequal_swap(rules: RuleSet) -> list[StoryInput]:
    """One swap of 121 Ukrainians for 68 Russians, each side telling its own figure, and a mediator both."""
    sunday = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    return [
        report(
            rules,
            "u1",
            "kyiv-outlet",
            sunday,
            "121 Ukrainian defenders back home from Russian captivity",
            "One hundred and twenty-one Ukrainians came home from Russian captivity today in a new prisoner "
            "exchange, Zelensky said: 121 of our people are free, among them defenders of Kherson.",
        ),
        report(
            rules,
            "u2",
            "moscow-outlet",
            sunday + timedelta(hours=3),
            "68 Russian servicemen returned from captivity",
            "Sixty-eight Russian servicemen were returned from Ukrainian-controlled territory in an "
            "exchange, the Russian Defence Ministry said. In return, 121 Ukrainian prisoners of war were "
            "handed over.",
        ),
        report(
            rules,
            "u3",
            "gulf-outlet",
            sunday + timedelta(hours=20),
            "UAE mediation frees captives of both sides",
            "The UAE said its mediation between Russia and Ukraine had secured the exchange of 121 Ukrainian "
            "prisoners and 68 Russian prisoners on Sunday.",
        ),
    ]


def test_an_unequal_swap_told_by_each_side_with_its_own_figure_is_one_story_and_one_alert(
    rules: RuleSet,
) -> None:
    deduplicator = Deduplicator()
    reports = unequal_swap(rules)
    assert [only(item.events).facts.get("count") for item in reports] == [121, 68, 121]
    assignments = assign_all(deduplicator, reports)
    assert deduplicator.story_count == 1
    assert len({only(a.events).id for a in assignments}) == 1
    assert [only(a.decisions).alert for a in assignments] == [True, False, False]
    assert only(assignments[-1].events).facts["count"] == 121  # the figure first known stays


def test_a_later_stage_naming_the_earlier_stages_figure_is_another_story_and_event(rules: RuleSet) -> None:
    deduplicator = Deduplicator()
    friday = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    first = deduplicator.assign(
        report(
            rules,
            "v1",
            "wire-a",
            friday,
            "390 Ukrainians home in first stage of a large exchange",
            "Russia and Ukraine exchanged 390 prisoners each on Friday, March 6, in the first stage of a "
            "swap agreed at the talks.",
        )
    )
    third = deduplicator.assign(
        report(
            rules,
            "v3",
            "wire-b",
            friday + timedelta(days=2),
            "Last 303 prisoners exchanged as the swap ends",
            "Russia and Ukraine exchanged 303 prisoners each on Sunday, March 8, completing the swap that "
            "began with 390 on Friday.",
        )
    )
    assert third.story.id != first.story.id
    assert only(third.events).id != only(first.events).id


def test_a_report_that_comes_days_late_still_finds_its_swap() -> None:
    """A poll assigns what it fetched as feeds finish: the wire's report of Tuesday's round and its swap can
    come after a regional outlet's reports of the days since. Its swap is Tuesday's; nobody is paged again."""
    deduplicator = Deduplicator()
    tuesday = datetime(2026, 7, 14, 16, 0, tzinfo=UTC)
    agreed = ("modality.agreed", "agreed")

    def report_of(key: str, published: datetime, title: str, *events: DetectedEvent) -> StoryInput:
        return StoryInput(
            key, "regional" if key.startswith("r") else "wire", title, title + ".", published, events
        )

    first = deduplicator.assign(
        report_of(
            "r0",
            tuesday + timedelta(hours=2),
            "Dnipro families wait for names of the thousand captives",
            detected("EXCHANGE", {"count": 1000}, agreed),
        )
    )
    for day, count in ((3, 500), (6, 3000)):  # the same outlet's later swaps move the clock on
        deduplicator.assign(
            report_of(
                f"r{day}",
                tuesday + timedelta(days=day),
                f"{count} more come home",
                detected("EXCHANGE", {"count": count}, ("modality.carried_out", "returned")),
            )
        )
    late = deduplicator.assign(
        report_of(
            "w0",
            tuesday,
            "Fourth round of talks ends in Istanbul; each side to free 1,000",
            detected("NEW_ROUND", {"round": 4, "place": "Istanbul"}, ("modality.past", "ended")),
            detected("EXCHANGE", {"count": 1000}, agreed),
        )
    )
    swap = next(event for event in late.events if event.type == "EXCHANGE")
    assert swap.id == only(first.events).id
    assert [d.alert for d in late.decisions if d.event_type == "EXCHANGE"] == [False]


@pytest.mark.parametrize("days", [3, 8, 40])  # fewer days than the window, as many, and a month of them
def test_a_words_postings_in_a_window_are_those_of_its_days_however_many_days_it_has(days: int) -> None:
    by_day = {day: {f"story-{day}"} for day in range(100, 100 + days * 2, 2)}  # every other day
    window = (104, 110)  # days of postings at both ends
    found = _in_days(by_day, *window)  # type: ignore[arg-type]
    expected = [stories for day, stories in by_day.items() if window[0] <= day <= window[1]]
    assert sorted(map(sorted, found)) == sorted(map(sorted, expected))
    assert found and all(found)  # empty days give no empty sets
