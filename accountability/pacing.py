"""Pacing: is a figure on course for its target before its period ends? One rule for goals and KPIs.

Both goals (goals.progress) and the KPIs of the expectations scorecard read their verdict from
`pace()`, so a rep sees the same words on both, and neither app imports the other.

The rule:
- A cumulative figure (a count or a sum) is expected to grow linearly from zero at the start of
  the period to the target at its end; a level figure (a rate, a median, a current count) is
  expected to sit at the target all along.
- The ratio actual / expected (expected / actual for "at most", where smaller is better) is read
  against the thresholds: at or above "at risk below" is on track, at or above "behind below" is
  at risk, lower is behind.
- No verdict early on ("just started"): until a tenth of the period has passed and, for a
  cumulative figure, until the expected figure reaches one unit (whichever is later). On the first
  day of a month, 0 done against 0.27 expected says nothing about a rep.
- Once the period is over the figure is met or missed; a cumulative "at least" figure is met as
  soon as it reaches the target.
- Judged on exact values: the elapsed share is an exact fraction of the period and neither the
  expected figure nor the ratio is rounded before it is compared. Rounding is for display only,
  and the shown percentage never lands on the other side of a threshold from the verdict (89.96 %
  at risk shows as 89.9 %, not 90.0 %).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import models

EARLY_SHARE = Fraction(1, 10)  # no verdict before a tenth of the period has passed
ONE_UNIT = Fraction(1)  # ... nor while a cumulative figure is expected to be below one unit


class Pacing(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BEHIND = "behind", "Behind"
    MET = "met", "Met"
    MISSED = "missed", "Missed"
    NO_DATA = "no_data", "No data yet"
    JUST_STARTED = "early", "Just started"


VERDICT_CSS = {
    Pacing.ON_TRACK: "success",
    Pacing.MET: "success",
    Pacing.AT_RISK: "warning",
    Pacing.BEHIND: "danger",
    Pacing.MISSED: "danger",
}


@dataclass(frozen=True)
class Thresholds:
    at_risk_below: Decimal = Decimal(90)
    behind_below: Decimal = Decimal(70)


@dataclass(frozen=True)
class Verdict:
    state: str  # a Pacing value
    expected: Decimal  # what the figure should be by now, rounded to 0.01 for display
    ratio: Decimal | None  # % of expected (inverted for "at most"), rounded to 0.1 for display
    fraction: Decimal  # share of the period elapsed, 0..1


# Which way is better: goals and leads.metrics spell it "up"/"down", KPIs "at_least"/"at_most"
# (stored values). One reader for both spellings, so no caller compares a literal.
HIGHER_IS_BETTER = frozenset({"up", "at_least"})


def higher_is_better(direction: str) -> bool:
    return direction in HIGHER_IS_BETTER


def elapsed(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Fraction:
    """The exact share of the half-open period [start, end) elapsed at `now`, 0..1."""
    if now <= start:
        return Fraction(0)
    if now >= end:
        return Fraction(1)
    return Fraction(_microseconds(now - start), _microseconds(end - start))


def _microseconds(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _decimal(value: Fraction, places: int, how=None) -> Decimal:
    """`value` to `places` decimals: half up by default, or math.floor / math.ceil."""
    scale = 10**places
    scaled = math.floor(value * scale + Fraction(1, 2)) if how is None else how(value * scale)
    return Decimal(scaled).scaleb(-places)


def _shown_ratio(ratio: Fraction, thresholds: Thresholds) -> Decimal:
    shown = _decimal(ratio, 1)
    for limit in (Fraction(thresholds.at_risk_below), Fraction(thresholds.behind_below)):
        if ratio < limit <= shown:  # judged below the line: do not show it on the line
            shown = _decimal(ratio, 1, math.floor)
        elif shown < limit <= ratio:
            shown = _decimal(ratio, 1, math.ceil)
    return shown


def expected_by(target: Fraction, *, cumulative: bool, fraction: Fraction) -> Fraction:
    """The figure expected once `fraction` of the period has passed: a cumulative figure (calls
    made) grows in proportion to the time gone; any other (a rate, a median) is the target all
    along. THE expected line: the verdicts and the goal chart draw it from here."""
    return target * fraction if cumulative else target


def expected(target: Decimal, *, cumulative: bool, fraction: Fraction) -> Fraction:
    return expected_by(Fraction(target), cumulative=cumulative, fraction=fraction)


def pace(
    *,
    actual: Decimal | None,
    target: Decimal,
    up: bool,
    cumulative: bool,
    fraction: Fraction | Decimal,
    thresholds: Thresholds,
) -> Verdict:
    """The verdict on one figure (pure: the hand-computed tests exercise it directly)."""
    fraction = Fraction(fraction)
    exact_target = Fraction(target)
    expected = expected_by(exact_target, cumulative=cumulative, fraction=fraction)
    shown_fraction = Decimal(fraction.numerator) / Decimal(fraction.denominator)

    def verdict(state, ratio=None):
        shown = None if ratio is None else _shown_ratio(ratio, thresholds)
        return Verdict(state, _decimal(expected, 2), shown, shown_fraction)

    exact = None if actual is None else Fraction(actual)
    if fraction >= 1:
        if exact is None:
            return verdict(Pacing.MISSED)
        met = exact >= exact_target if up else exact <= exact_target
        return verdict(Pacing.MET if met else Pacing.MISSED)
    if up and cumulative and exact is not None and exact >= exact_target:
        return verdict(Pacing.MET)
    if fraction < EARLY_SHARE or (cumulative and expected < ONE_UNIT):
        return verdict(Pacing.JUST_STARTED)
    if exact is None:
        return verdict(Pacing.NO_DATA)
    if up:
        ratio = None if expected == 0 else exact / expected * 100
    else:
        # "At most": a smaller figure is better, so the ratio is inverted; nothing at all is perfect.
        ratio = None if exact == 0 else expected / exact * 100
    if ratio is None or ratio >= Fraction(thresholds.at_risk_below):
        return verdict(Pacing.ON_TRACK, ratio)
    if ratio >= Fraction(thresholds.behind_below):
        return verdict(Pacing.AT_RISK, ratio)
    return verdict(Pacing.BEHIND, ratio)
