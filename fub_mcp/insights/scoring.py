"""The lead scoring model: a pure, deterministic function of a person, their activity and `now`.

    score_lead(person, now=..., events=..., calls=..., texts=..., notes=..., appointments=..., tasks=...)

Two modes, same model:
- **fast**: only the person record as `GET /people` returns it (FUB's rollup fields: `callsIncoming`,
  `lastReceivedText`, `propertiesSaved`, `lastLeadActivity`, ...). One request scores 100 people.
- **deep**: the person record plus their activity lists (events, calls, texts, notes, appointments,
  tasks). Every item is dated, so inquiries, showings and week-by-week trends become visible. Deep mode
  is chosen by passing any activity list (even an empty one).

Five sub-scores, each 0-100, each with the few signals that drove it, in words:
- engagement: two-way contact (the lead calls, texts or emails back; real conversations);
- intent: property inquiries, saved properties and searches, property views, showings, a hot stage;
- recency: exponential decay since the last *meaningful* activity (something the lead did, or a
  conversation; unanswered outreach does not count);
- quality: reachable contact data, price band, how the lead's source has converted in this account;
- velocity: lead activity in the last 14 days against the 6 weeks before.
The overall score is their weighted sum, times a stage factor (Trash 0, closed/past clients 0.5).

Every constant below is part of the documented model (README "Lead scoring"); change them together
with the README table and bump MODEL_VERSION.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Literal

from fub_mcp.insights.clock import parse_when
from fub_mcp.schemas.common import clean_text

__all__ = [
    "MODEL_VERSION",
    "ROLLUP_FIELDS",
    "WEIGHTS",
    "LeadScore",
    "ScoringContext",
    "SubScore",
    "band_of",
    "build_context",
    "has_rollups",
    "is_past_lead",
    "score_lead",
]

MODEL_VERSION = "fub-mcp lead score v1"

# --- overall --------------------------------------------------------------------------------------
WEIGHTS: dict[str, float] = {
    "engagement": 0.30,
    "intent": 0.25,
    "recency": 0.20,
    "velocity": 0.15,
    "quality": 0.10,
}
BANDS: tuple[tuple[int, str], ...] = ((60, "hot"), (35, "warm"), (15, "cool"), (0, "cold"))

# --- decay ----------------------------------------------------------------------------------------
RECENCY_HALF_LIFE_DAYS = 14.0  # recency = 100 x 0.5^(days since last meaningful activity / 14)
ACTIVITY_HALF_LIFE_DAYS = 30.0  # each contact/inquiry/showing counts 0.5^(age / 30 days)
HISTORY_DAYS = 180  # older activity counts for nothing

# --- engagement (two-way contact) -------------------------------------------------------------------
POINTS_INBOUND = 15.0  # per call, text or email FROM the lead (decayed)
CAP_INBOUND = 60.0
POINTS_CONVERSATION = 15.0  # per call of >= CONVERSATION_MIN_SECONDS or outcome "Interested"
POINTS_NOTE = 5.0  # per agent note (usually a conversation record)
CAP_CONVERSATION = 30.0  # conversations and notes together
TWO_WAY_BONUS = 10.0  # both sides have reached out
CONVERSATION_MIN_SECONDS = 120
CONVERSATION_OUTCOMES = frozenset({"interested"})
FAST_SECONDS_PER_CONVERSATION = 300  # fast mode: callsDuration / 300 s ~ conversations
UNANSWERED_OUTREACH = 3  # this many attempts with no reply is called out as a signal

# --- intent --------------------------------------------------------------------------------------
POINTS_INQUIRY = 25.0  # Registration / (Property|Seller|General) Inquiry / Visited Open House / Incoming Call
CAP_INQUIRY = 40.0
POINTS_SAVED = 10.0  # Saved Property, Saved Property Search, Property Search
CAP_SAVED = 20.0
POINTS_VIEW = 3.0  # Viewed Property, Viewed Page, Visited Website
CAP_VIEW = 15.0
POINTS_SHOWING_BOOKED = 25.0  # an upcoming appointment or open Showing/Appointment task
POINTS_SHOWING_HELD = 20.0  # per past appointment / completed showing task (decayed)
CAP_SHOWING = 25.0
POINTS_HOT_STAGE = 15.0  # stage name contains one of HOT_STAGE_WORDS

INQUIRY_TYPES = frozenset({
    "registration", "inquiry", "property inquiry", "seller inquiry", "general inquiry",
    "visited open house", "incoming call",
})
SAVED_TYPES = frozenset({"saved property", "saved property search", "property search"})
VIEW_TYPES = frozenset({"viewed property", "viewed page", "visited website"})
SHOWING_TASK_TYPES = frozenset({"showing", "appointment", "open house"})
SKIPPED_APPOINTMENT_OUTCOMES = ("cancel", "no show", "no-show", "rescheduled")

# --- quality -------------------------------------------------------------------------------------
POINTS_PHONE = 30.0  # a phone not marked bad/invalid
POINTS_EMAIL = 20.0  # an email not marked bad/bounced, and no Unsubscribed event
POINTS_FULL_NAME = 10.0
POINTS_PRICE_KNOWN = 10.0
POINTS_PRICE_UPPER = 10.0  # price at or above the median price of the people scored together
POINTS_SOURCE_MAX = 20.0  # 10 (neutral) x source conversion rate / account rate, capped at 20
POINTS_SOURCE_NEUTRAL = 10.0
MIN_SOURCE_SAMPLE = 10  # people with that source before its history counts
BAD_CONTACT_WORDS = ("invalid", "bad", "bounced", "wrong", "do not", "dnc", "unsubscribed", "opted out")

# --- velocity ------------------------------------------------------------------------------------
VELOCITY_RECENT_DAYS = 14
VELOCITY_BASELINE_DAYS = 56  # the baseline is days 14-56, scaled to a 14-day rate
VELOCITY_SMOOTHING = 2.0  # velocity = 50 + 50 x (recent - baseline) / (recent + baseline + 2)

# --- stage ---------------------------------------------------------------------------------------
HOT_STAGE_WORDS = ("hot", "active client", "showing", "under contract", "pending")
STAGE_FACTORS: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("trash",), 0.0, "in Trash: not scored as a lead"),
    (("closed", "past client"), 0.5, "already a closed / past client: overall halved"),
)

MAX_SIGNALS = 3
SubScoreName = Literal["engagement", "intent", "recency", "velocity", "quality"]
Mode = Literal["fast", "deep"]


# --- small helpers -------------------------------------------------------------------------------

def _days(since: datetime, now: datetime) -> float:
    return max((now - since).total_seconds() / 86400.0, 0.0)


def decay(moment: datetime | None, now: datetime, half_life: float = ACTIVITY_HALF_LIFE_DAYS) -> float:
    """0.5 ^ (age in days / half-life); 1 for future moments, 0 beyond HISTORY_DAYS or when unknown."""
    if moment is None:
        return 0.0
    age = _days(moment, now)
    if age > HISTORY_DAYS:
        return 0.0
    return 0.5 ** (age / half_life)


def ago(moment: datetime, now: datetime) -> str:
    """`today`, `yesterday`, `3 days ago`, `5 weeks ago`, `4 months ago`; `in 2 days` for the future."""
    delta = (now - moment).total_seconds() / 86400.0
    if delta < 0:
        ahead = math.ceil(-delta - 1e-9)
        return "today" if ahead == 0 else "tomorrow" if ahead == 1 else f"in {ahead} days"
    days = int(delta)
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 61:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def _count(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 0
    try:
        return max(int(float(value)), 0)
    except (TypeError, ValueError):
        return 0


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _latest(*moments: datetime | None) -> datetime | None:
    dated = [m for m in moments if m is not None]
    return max(dated) if dated else None


@dataclass
class Tally:
    """How many of something, their decayed weight, and the latest one."""

    count: int = 0
    weight: float = 0.0
    last: datetime | None = None

    def add(self, moment: datetime | None, now: datetime) -> None:
        if moment is None or _days(moment, now) > HISTORY_DAYS:
            return
        self.count += 1
        self.weight += decay(moment, now)
        self.last = _latest(self.last, moment)

    @classmethod
    def rollup(cls, count: Any, last: Any, now: datetime) -> Tally:
        """Fast mode: FUB's lifetime counter, all weighted as if they happened at the latest one."""
        moment = parse_when(last)
        n = _count(count)
        if moment is not None and n == 0:
            n = 1
        if moment is None or _days(moment, now) > HISTORY_DAYS:
            return cls(count=n, weight=0.0, last=moment)
        return cls(count=n, weight=n * decay(moment, now), last=moment)

    def merge(self, *others: Tally) -> Tally:
        return Tally(
            count=self.count + sum(o.count for o in others),
            weight=self.weight + sum(o.weight for o in others),
            last=_latest(self.last, *(o.last for o in others)),
        )


@dataclass
class Facts:
    """What the model reads, gathered from either the person record alone or their activity."""

    mode: Mode
    now: datetime
    inbound: dict[str, Tally] = field(default_factory=dict)  # calls / texts / emails from the lead
    outbound: dict[str, Tally] = field(default_factory=dict)
    conversations: Tally = field(default_factory=Tally)
    notes: Tally = field(default_factory=Tally)
    inquiries: Tally = field(default_factory=Tally)
    saves: Tally = field(default_factory=Tally)
    views: Tally = field(default_factory=Tally)
    showings_held: Tally = field(default_factory=Tally)
    showings_booked: list[datetime] = field(default_factory=list)
    showing_word: str = "appointment"
    unsubscribed: bool = False
    last_meaningful: datetime | None = None
    last_meaningful_what: str = ""
    velocity_recent: float = 0.0
    velocity_baseline: float = 0.0
    velocity_unit: str = "lead actions"
    rollups: bool = True  # fast mode: FUB sent its per-channel counts and dates


# --- context shared by a batch -------------------------------------------------------------------

@dataclass(frozen=True)
class ScoringContext:
    """What the quality sub-score compares a person with: the people scored together and their deals."""

    price_median: float | None = None
    source_stats: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # source -> (converted, total)
    account_rate: float | None = None  # converted / total over everyone in the batch

    def source_rate(self, source: str | None) -> tuple[float, int] | None:
        if not source or self.account_rate is None:
            return None
        converted, total = self.source_stats.get(source.strip().lower(), (0, 0))
        if total < MIN_SOURCE_SAMPLE:
            return None
        return converted / total, total


def build_context(people: Iterable[Mapping[str, Any]], converted_ids: Iterable[int] = ()) -> ScoringContext:
    """The batch context: median price, and per source how many people have a deal ("converted")."""
    people = list(people)
    converted = set(converted_ids)
    prices = [float(p["price"]) for p in people if isinstance(p.get("price"), int | float) and p["price"] > 0]
    stats: dict[str, list[int]] = {}
    for person in people:
        source = str(person.get("source") or "").strip().lower()
        if not source:
            continue
        entry = stats.setdefault(source, [0, 0])
        entry[1] += 1
        entry[0] += person.get("id") in converted
    total = sum(t for _, t in stats.values())
    rate = sum(c for c, _ in stats.values()) / total if total >= MIN_SOURCE_SAMPLE and converted else None
    return ScoringContext(
        price_median=median(prices) if prices else None,
        source_stats={k: (c, t) for k, (c, t) in stats.items()},
        account_rate=rate,
    )


# --- facts from the person record (fast) ---------------------------------------------------------

_FAST_CHANNELS = (
    ("lastIncomingCall", "called in"),
    ("lastReceivedText", "texted"),
    ("lastReceivedEmail", "emailed"),
    ("lastLeadActivity", "was active"),
    ("lastIdxVisit", "visited the website"),
)


ROLLUP_FIELDS = (
    "lastIncomingCall", "lastReceivedText", "lastReceivedEmail", "lastLeadActivity", "lastIdxVisit",
    "callsIncoming", "textsReceived", "emailsReceived", "lastOutgoingCall", "lastSentText", "lastSentEmail",
)


def has_rollups(person: Mapping[str, Any]) -> bool:
    """True when FUB returned its per-channel rollup fields (even empty) for this person."""
    return any(key in person for key in ROLLUP_FIELDS)


def _email_facts(person: Mapping[str, Any], now: datetime, facts: Facts) -> None:
    facts.inbound["email"] = Tally.rollup(person.get("emailsReceived"), person.get("lastReceivedEmail"), now)
    facts.outbound["email"] = Tally.rollup(person.get("emailsSent"), person.get("lastSentEmail"), now)


def _fast_facts(person: Mapping[str, Any], now: datetime) -> Facts:
    facts = Facts(mode="fast", now=now, velocity_unit="of 5 channels")
    facts.inbound["call"] = Tally.rollup(person.get("callsIncoming"), person.get("lastIncomingCall"), now)
    facts.inbound["text"] = Tally.rollup(person.get("textsReceived"), person.get("lastReceivedText"), now)
    facts.outbound["call"] = Tally.rollup(person.get("callsOutgoing"), person.get("lastOutgoingCall"), now)
    facts.outbound["text"] = Tally.rollup(person.get("textsSent"), person.get("lastSentText"), now)
    _email_facts(person, now, facts)
    calls = facts.inbound["call"].count + facts.outbound["call"].count
    talks = min(_count(person.get("callsDuration")) // FAST_SECONDS_PER_CONVERSATION, calls)
    last_call = parse_when(person.get("lastCall")) or _latest(facts.inbound["call"].last, facts.outbound["call"].last)
    facts.conversations = Tally.rollup(talks, last_call if talks else None, now)
    web_last = _latest(parse_when(person.get("lastIdxVisit")), parse_when(person.get("lastLeadActivity")))
    facts.saves = Tally.rollup(person.get("propertiesSaved"), web_last if _count(person.get("propertiesSaved")) else None, now)
    facts.views = Tally.rollup(person.get("propertiesViewed"), web_last if _count(person.get("propertiesViewed")) else None, now)
    channels = list(_FAST_CHANNELS)
    facts.rollups = has_rollups(person)
    if not facts.rollups:
        # FUB sent no per-channel fields: `lastActivity` (which includes agent activity) is all there is.
        channels.append(("lastActivity", "had activity"))
        facts.velocity_unit = "of 1 channel (FUB's lastActivity)"
    candidates = [(parse_when(person.get(key)), words) for key, words in channels]
    candidates.append((parse_when(person.get("created")), "arrived as a new lead"))
    _set_last_meaningful(facts, candidates)
    for moment, _ in candidates[:-1]:
        if moment is None:
            continue
        age = _days(moment, now)
        if age < VELOCITY_RECENT_DAYS:
            facts.velocity_recent += 1
        elif age < VELOCITY_BASELINE_DAYS:
            facts.velocity_baseline += 1
    return facts


def _set_last_meaningful(facts: Facts, candidates: Sequence[tuple[datetime | None, str]]) -> None:
    dated = [(m, w) for m, w in candidates if m is not None and m <= facts.now + timedelta(minutes=5)]
    if dated:
        facts.last_meaningful, facts.last_meaningful_what = max(dated, key=lambda c: c[0])


# --- facts from activity lists (deep) ------------------------------------------------------------

def _deep_facts(
    person: Mapping[str, Any],
    now: datetime,
    *,
    events: Sequence[Mapping[str, Any]],
    calls: Sequence[Mapping[str, Any]],
    texts: Sequence[Mapping[str, Any]],
    notes: Sequence[Mapping[str, Any]],
    appointments: Sequence[Mapping[str, Any]],
    tasks: Sequence[Mapping[str, Any]],
) -> Facts:
    facts = Facts(mode="deep", now=now)
    for key in ("call", "text"):
        facts.inbound[key] = Tally()
        facts.outbound[key] = Tally()
    _email_facts(person, now, facts)
    lead_actions: list[datetime] = []
    meaningful: list[tuple[datetime | None, str]] = []

    for call in calls:
        moment = parse_when(call.get("created"))
        incoming = bool(call.get("isIncoming"))
        (facts.inbound if incoming else facts.outbound)["call"].add(moment, now)
        talked = _count(call.get("duration")) >= CONVERSATION_MIN_SECONDS or (
            str(call.get("outcome") or "").strip().lower() in CONVERSATION_OUTCOMES
        )
        if talked:
            facts.conversations.add(moment, now)
            meaningful.append((moment, "had a call conversation"))
        if incoming and moment:
            lead_actions.append(moment)
            meaningful.append((moment, "called in"))
    for text in texts:
        moment = parse_when(text.get("sent") or text.get("created"))
        incoming = bool(text.get("isIncoming"))
        (facts.inbound if incoming else facts.outbound)["text"].add(moment, now)
        if incoming and moment:
            lead_actions.append(moment)
            meaningful.append((moment, "texted"))
    email_in = facts.inbound["email"].last
    if email_in:
        lead_actions.append(email_in)
        meaningful.append((email_in, "emailed"))
    for note in notes:
        facts.notes.add(parse_when(note.get("created")), now)
    for event in events:
        moment = parse_when(event.get("occurred") or event.get("created"))
        kind = str(event.get("type") or "").strip().lower()
        if kind == "unsubscribed":
            facts.unsubscribed = True
            continue
        bucket = (
            facts.inquiries if kind in INQUIRY_TYPES
            else facts.saves if kind in SAVED_TYPES
            else facts.views if kind in VIEW_TYPES
            else None
        )
        if bucket is None or moment is None:
            continue
        bucket.add(moment, now)
        lead_actions.append(moment)
        meaningful.append((moment, f"sent a {event.get('type')}" if bucket is facts.inquiries else "was active online"))
    for appointment in appointments:
        outcome = str(appointment.get("outcome") or "").lower()
        if any(word in outcome for word in SKIPPED_APPOINTMENT_OUTCOMES):
            continue
        start = parse_when(appointment.get("start"))
        if start is None:
            continue
        label = f"{appointment.get('title') or ''} {appointment.get('type') or ''}".lower()
        if "showing" in label:
            facts.showing_word = "showing"
        if start > now:
            facts.showings_booked.append(start)
        else:
            facts.showings_held.add(start, now)
            lead_actions.append(start)
            meaningful.append((start, "met for an appointment"))
    for task in tasks:
        kind = str(task.get("type") or "").strip().lower()
        if kind not in SHOWING_TASK_TYPES:
            continue
        if kind == "showing":
            facts.showing_word = "showing"
        due = parse_when(task.get("dueDateTime") or task.get("dueDate"))
        if task.get("isCompleted") in (True, 1, "true"):
            done = parse_when(task.get("completed")) or due
            if done is not None and done <= now:
                facts.showings_held.add(done, now)
        elif due is not None and due >= now - timedelta(days=1):
            facts.showings_booked.append(due)
    meaningful.append((parse_when(person.get("created")), "arrived as a new lead"))
    _set_last_meaningful(facts, meaningful)
    for moment in lead_actions:
        age = (now - moment).total_seconds() / 86400.0
        if 0 <= age < VELOCITY_RECENT_DAYS:
            facts.velocity_recent += 1
        elif VELOCITY_RECENT_DAYS <= age < VELOCITY_BASELINE_DAYS:
            facts.velocity_baseline += 1
    facts.velocity_baseline /= (VELOCITY_BASELINE_DAYS - VELOCITY_RECENT_DAYS) / VELOCITY_RECENT_DAYS
    return facts


# --- sub-scores ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubScore:
    score: int
    signals: tuple[str, ...]


class _Parts:
    """Collects (points, words) and turns them into a capped score plus its top signals."""

    def __init__(self) -> None:
        self.points = 0.0
        self.items: list[tuple[float, str]] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def add(self, points: float, words: str | None = None) -> None:
        """Points toward the score; `words` names the signal (ranked by its points)."""
        self.points += points
        if words and points > 0:
            self.items.append((points, words))

    def note(self, words: str) -> None:
        """A signal that explains a low score (no points), listed after the ones that scored."""
        self.notes.append(words)

    def warn(self, words: str) -> None:
        """A problem worth reading first (no points), listed before the ones that scored."""
        self.warnings.append(words)

    def result(self) -> SubScore:
        value = int(round(min(max(self.points, 0.0), 100.0)))
        ranked = [w for _, w in sorted(self.items, key=lambda item: -item[0])]
        return SubScore(value, tuple((self.warnings + ranked + self.notes)[:MAX_SIGNALS]))


def _engagement(f: Facts) -> SubScore:
    parts = _Parts()
    now = f.now
    inbound = Tally().merge(*f.inbound.values())
    outbound = Tally().merge(*f.outbound.values())
    inbound_points = min(POINTS_INBOUND * inbound.weight, CAP_INBOUND)
    if inbound.count and inbound.last:
        kinds = ", ".join(f"{t.count} {k}{'s' if t.count != 1 else ''}" for k, t in f.inbound.items() if t.count)
        parts.add(inbound_points, f"{_plural(inbound.count, 'contact')} from the lead ({kinds}), "
                                  f"latest {ago(inbound.last, now)}")
    talk_points = min(POINTS_CONVERSATION * f.conversations.weight, CAP_CONVERSATION)
    if f.conversations.count and f.conversations.last:
        parts.add(talk_points, f"{_plural(f.conversations.count, 'call conversation')}, "
                               f"latest {ago(f.conversations.last, now)}")
    if f.notes.count and f.notes.last:
        parts.add(min(POINTS_NOTE * f.notes.weight, CAP_CONVERSATION - talk_points),
                  f"{_plural(f.notes.count, 'agent note')}, latest {ago(f.notes.last, now)}")
    if inbound.count and outbound.count and inbound.weight > 0:
        parts.add(TWO_WAY_BONUS, "two-way: the lead answers outreach")
    if not f.rollups:
        parts.note("FUB sent no call/text/email counts for this person: use mode=deep to read them")
    elif not inbound.count:
        if outbound.count >= UNANSWERED_OUTREACH:
            parts.note(f"no reply yet to {_plural(outbound.count, 'outreach attempt')}")
        else:
            parts.note("the lead has not called, texted or emailed")
    elif inbound.weight == 0 or (inbound.last and _days(inbound.last, now) > 60):
        parts.note(f"last heard from the lead {ago(inbound.last, now)}" if inbound.last else "no recent replies")
    return parts.result()


def _intent(f: Facts, person: Mapping[str, Any]) -> SubScore:
    parts = _Parts()
    now = f.now
    if f.inquiries.count and f.inquiries.last:
        parts.add(min(POINTS_INQUIRY * f.inquiries.weight, CAP_INQUIRY),
                  f"{_plural(f.inquiries.count, 'inquiry', 'inquiries')}, latest {ago(f.inquiries.last, now)}")
    if f.saves.count and f.saves.last:
        what = "saved properties/searches" if f.mode == "deep" else "saved properties"
        parts.add(min(POINTS_SAVED * f.saves.weight, CAP_SAVED), f"{f.saves.count} {what}, latest {ago(f.saves.last, now)}")
    if f.views.count and f.views.last:
        parts.add(min(POINTS_VIEW * f.views.weight, CAP_VIEW), f"{_plural(f.views.count, 'property view')}, "
                                                               f"latest {ago(f.views.last, now)}")
    booked = sorted(m for m in f.showings_booked)
    showing_points = min((POINTS_SHOWING_BOOKED if booked else 0.0) + POINTS_SHOWING_HELD * f.showings_held.weight,
                         CAP_SHOWING)
    if booked:
        parts.add(showing_points, f"{f.showing_word} booked {ago(booked[0], now)}")
    elif f.showings_held.count and f.showings_held.last:
        parts.add(showing_points, f"{_plural(f.showings_held.count, f.showing_word)} held, "
                                  f"latest {ago(f.showings_held.last, now)}")
    stage = str(person.get("stage") or "")
    if any(word in stage.lower() for word in HOT_STAGE_WORDS):
        parts.add(POINTS_HOT_STAGE, f"stage is {stage}")
    if not parts.items:
        parts.note("no inquiries, saved searches or showings seen" if f.mode == "deep"
                   else "no saved or viewed properties on record (deep mode also reads inquiries and showings)")
    return parts.result()


def _recency(f: Facts) -> SubScore:
    parts = _Parts()
    if f.last_meaningful is None:
        parts.note("no lead activity on record")
        return parts.result()
    parts.add(100.0 * 0.5 ** (_days(f.last_meaningful, f.now) / RECENCY_HALF_LIFE_DAYS))
    parts.note(f"last {f.last_meaningful_what} {ago(f.last_meaningful, f.now)}")
    return parts.result()


def _velocity(f: Facts) -> SubScore:
    parts = _Parts()
    recent, baseline = f.velocity_recent, f.velocity_baseline
    if recent == 0 and baseline == 0:
        parts.note("no lead activity in the last 8 weeks")
        return parts.result()
    value = 50.0 + 50.0 * (recent - baseline) / (recent + baseline + VELOCITY_SMOOTHING)
    parts.add(value)
    trend = "rising" if value >= 60 else "cooling" if value <= 40 else "steady"
    if f.mode == "fast":
        parts.note(f"{trend}: {int(recent)} {f.velocity_unit} active in the last 2 weeks, "
                   f"{int(baseline)} last active 2-8 weeks ago")
    else:
        before = f"{baseline:.1f} per 2 weeks before" if baseline else "none in the 6 weeks before"
        parts.note(f"{trend}: {int(recent)} {f.velocity_unit} in the last 2 weeks, {before}")
    return parts.result()


def _usable(entries: Any) -> list[Mapping[str, Any]]:
    good = []
    for entry in entries or []:
        if not isinstance(entry, Mapping) or not entry.get("value"):
            continue
        status = str(entry.get("status") or "").lower()
        if any(word in status for word in BAD_CONTACT_WORDS):
            continue
        good.append(entry)
    return good


def _quality(f: Facts, person: Mapping[str, Any], context: ScoringContext) -> SubScore:
    parts = _Parts()
    phones, emails = _usable(person.get("phones")), _usable(person.get("emails"))
    email_ok = bool(emails) and not f.unsubscribed
    reachable = [w for w, ok in (("phone", bool(phones)), ("email", email_ok)) if ok]
    full_name = bool(person.get("firstName") and person.get("lastName"))
    points = (POINTS_PHONE if phones else 0.0) + (POINTS_EMAIL if email_ok else 0.0)
    points += POINTS_FULL_NAME if full_name else 0.0
    if reachable:
        parts.add(points, "reachable by " + " and ".join(reachable) + (", full name" if full_name else ""))
    else:
        parts.add(points)
    if not phones:
        parts.warn("phone marked bad" if person.get("phones") else "no phone")
    if f.unsubscribed:
        parts.warn("unsubscribed from email")
    elif not emails:
        parts.warn("email marked bad" if person.get("emails") else "no email")
    price = person.get("price")
    if isinstance(price, int | float) and not isinstance(price, bool) and price > 0:
        upper = context.price_median is not None and price >= context.price_median
        parts.add(POINTS_PRICE_KNOWN + (POINTS_PRICE_UPPER if upper else 0.0),
                  f"price ${price:,.0f}" + (" (upper half of this group)" if upper else ""))
    source = str(person.get("source") or "").strip()
    rate = context.source_rate(source)
    if rate is None or not context.account_rate:
        parts.add(POINTS_SOURCE_NEUTRAL)  # no history to judge the source by: neutral, no signal
    else:
        share, sample = rate
        points = min(POINTS_SOURCE_NEUTRAL * share / context.account_rate, POINTS_SOURCE_MAX)
        words = f"source {clean_text(source, limit=40)}: {share:.0%} of {sample} leads reached a deal (account {context.account_rate:.0%})"
        if points > 0:
            parts.add(points, words)
        else:
            parts.note(words)
    return parts.result()


# --- the score -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeadScore:
    person_id: int
    overall: int
    band: str
    mode: Mode
    parts: dict[str, SubScore]
    stage_note: str | None = None

    def top_signals(self, limit: int = 3) -> list[str]:
        """The signals that explain the overall score: for a hot or warm lead, those of the sub-scores
        that contributed most; for a cool or cold one, those of the weakest (what is missing)."""
        strong = self.overall >= BANDS[1][0]
        ranked = sorted(
            self.parts.items(),
            key=lambda kv: (-1 if strong else 1) * WEIGHTS[kv[0]] * kv[1].score - WEIGHTS[kv[0]] / 100,
        )
        out = [self.stage_note] if self.stage_note else []
        out += [part.signals[0] for _, part in ranked if part.signals]
        return out[:limit]

    def reason(self, limit: int = 250) -> str:
        """One line for a custom field: `72 hot: signal; signal; signal`."""
        text = f"{self.overall} {self.band}: " + "; ".join(self.top_signals())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def band_of(overall: int) -> str:
    return next(name for floor, name in BANDS if overall >= floor)


def _stage_factor(person: Mapping[str, Any]) -> tuple[float, str | None]:
    stage = str(person.get("stage") or "").lower()
    for words, factor, note in STAGE_FACTORS:
        if any(word in stage for word in words):
            return factor, note
    return 1.0, None


def is_past_lead(stage: Any) -> bool:
    """Trash, closed and past clients: the stages STAGE_FACTORS discounts (not leads to chase)."""
    return _stage_factor({"stage": stage})[0] < 1.0


def score_lead(
    person: Mapping[str, Any],
    *,
    now: datetime,
    context: ScoringContext | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    calls: Sequence[Mapping[str, Any]] | None = None,
    texts: Sequence[Mapping[str, Any]] | None = None,
    notes: Sequence[Mapping[str, Any]] | None = None,
    appointments: Sequence[Mapping[str, Any]] | None = None,
    tasks: Sequence[Mapping[str, Any]] | None = None,
) -> LeadScore:
    """Score one person. Passing any activity list selects deep mode (missing lists count as empty)."""
    lists = (events, calls, texts, notes, appointments, tasks)
    if all(item is None for item in lists):
        facts = _fast_facts(person, now)
    else:
        facts = _deep_facts(
            person, now, events=events or [], calls=calls or [], texts=texts or [], notes=notes or [],
            appointments=appointments or [], tasks=tasks or [],
        )
    context = context or ScoringContext()
    parts = {
        "engagement": _engagement(facts),
        "intent": _intent(facts, person),
        "recency": _recency(facts),
        "velocity": _velocity(facts),
        "quality": _quality(facts, person, context),
    }
    factor, stage_note = _stage_factor(person)
    weighted = sum(WEIGHTS[name] * part.score for name, part in parts.items())
    overall = int(round(weighted * factor))
    return LeadScore(
        person_id=int(person.get("id") or 0),
        overall=overall,
        band=band_of(overall),
        mode=facts.mode,
        parts=parts,
        stage_note=stage_note,
    )
