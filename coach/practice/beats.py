"""Cleaning RR intervals before any figure: ectopic, missed and extra beats found and corrected.

One premature beat makes a short interval followed by a long one; RMSSD squares that jump and
the breath it falls in shows a heart-rate swing of 40 beats a minute. So every series, from a
chest strap or from the phone's camera, is cleaned first.

The method is Lipponen & Tarvainen's (2019, Journal of Medical Engineering & Technology 43:173),
which judges each interval against thresholds taken from the series itself, so that the wide but
smooth swings of slow breathing are not mistaken for artefacts (a fixed "20 % from the one
before" rule, Task Force 1996, fits a resting heart but not a heart at resonance):

- dRR, the successive differences, and mRR, each interval less the median of the 11 around it
  (shorter-than-median counted twice), are divided by a threshold of 5.2 quartile deviations
  of their own magnitudes over the 91 intervals around.
- An *ectopic* beat leaves a short–long (or long–short) pair: a large dRR whose neighbours both
  jump the other way (the paper's subspace S12, with c1 = 0.13, c2 = 0.17). Both intervals of
  the pair are replaced.
- Otherwise, a large dRR or mRR followed by a return (subspace S22), or an interval far from its
  local median, is *long* or *short*: a long one about twice the median is a *missed* beat (split
  in two, or more); a short one that with the next makes about one median is an *extra* beat (the
  two are joined); any other is replaced.
- Replaced intervals are linearly interpolated from the nearest kept neighbours (as Kubios and
  hrv-analysis do), so a step keeps its length in time.

A step with more than 5 % of its beats corrected is *unreliable* (hrv-analysis calls a sample
invalid above 4 %; Lipponen & Tarvainen test up to a few per cent): its figures are shown but it
never decides the best rate.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

ALPHA = 5.2  # thresholds in quartile deviations (Lipponen & Tarvainen 2019)
C1, C2 = 0.13, 0.17  # the ectopic boundary in the (dRR, S12) plane
THRESHOLD_WINDOW = 91  # intervals over which a threshold's quartiles are taken
MEDIAN_WINDOW = 11  # intervals in the local median
# However steady a series, a change under 10 % of its median interval (half the classic 20 %
# rule) is never an artefact:
# without this floor a metronome-steady series (zero quartile deviation) flags every tremor.
FLOOR_SHARE = 0.10
UNRELIABLE_SHARE = 0.05  # more corrected beats than this share: the step does not count


@dataclass(frozen=True)
class Cleaned:
    rr_ms: list[float]  # the corrected series
    ectopic: int  # premature (or late) beats, each a short–long pair replaced
    missed: int  # beats added into intervals about twice the median
    extra: int  # beats removed (two short intervals joined)
    other: int  # single long or short intervals replaced
    received: int  # intervals received

    @property
    def corrected(self) -> int:
        return self.ectopic + self.missed + self.extra + self.other

    @property
    def reliable(self) -> bool:
        return self.corrected <= UNRELIABLE_SHARE * self.received


def _window(values: list[float], i: int, width: int) -> list[float]:
    half = width // 2
    return values[max(0, i - half): i + half + 1]


def _local_medians(rr: list[float]) -> list[float]:
    # Shrinking at the ends (scipy's medfilt pads with zeros, which drags the edge medians down).
    return [statistics.median(_window(rr, i, MEDIAN_WINDOW)) for i in range(len(rr))]


def _thresholds(values: list[float], floor: float) -> list[float]:
    """ALPHA × the quartile deviation of |values| over the window around each point."""
    magnitudes = [abs(v) for v in values]
    out = []
    for i in range(len(values)):
        chunk = _window(magnitudes, i, THRESHOLD_WINDOW)
        if len(chunk) < 2:
            out.append(floor)
            continue
        q1, _, q3 = statistics.quantiles(chunk, n=4, method="inclusive")  # pandas' linear quantiles
        out.append(max(floor, ALPHA * (q3 - q1) / 2))
    return out


def _at(values: list[float], i: int) -> float:
    return values[i] if 0 <= i < len(values) else 0.0


def classify(rr: list[float]) -> dict[int, str]:
    """Index → "ectopic" (the pair i-1, i), "missed", "extra" (i and i+1) or "other"."""
    n = len(rr)
    if n < 3:
        return {}
    medians = _local_medians(rr)
    floor = FLOOR_SHARE * statistics.median(rr)
    # The first interval is compared with the local median, having none before it.
    drr = [rr[0] - medians[0]] + [b - a for a, b in zip(rr, rr[1:])]
    th1 = _thresholds(drr, floor)
    d = [x / t for x, t in zip(drr, th1)]
    mrr = [r - m for r, m in zip(rr, medians)]
    mrr = [2 * x if x < 0 else x for x in mrr]
    th2 = _thresholds(mrr, floor)
    m = [x / t for x, t in zip(mrr, th2)]

    found: dict[int, str] = {}
    taken: set[int] = set()
    # Ectopic pairs first, so that the short interval of a pair is not also counted on its own.
    # A premature beat's dRR runs −x, +2x, −x: the pattern holds at the long interval and, more
    # weakly, at the short one too; the largest |dRR| is the pair's true place.
    candidates = []
    for i in range(1, n):
        if abs(d[i]) <= 1:
            continue
        if d[i] > 0:
            ectopic = max(_at(d, i - 1), _at(d, i + 1)) < -C1 * d[i] - C2
        else:
            ectopic = min(_at(d, i - 1), _at(d, i + 1)) > -C1 * d[i] + C2
        if ectopic:
            candidates.append(i)
    for i in sorted(candidates, key=lambda j: -abs(d[j])):
        if i - 1 not in taken and i not in taken:
            found[i] = "ectopic"
            taken.update((i - 1, i))

    i = 0
    while i < n:
        if i in taken or (abs(d[i]) <= 1 and abs(m[i]) <= 3):
            i += 1
            continue
        s22 = min(_at(d, i + 1), _at(d, i + 2)) if d[i] >= 0 else max(_at(d, i + 1), _at(d, i + 2))
        long_beat = d[i] > 1 and s22 < -1
        short_beat = d[i] < -1 and s22 > 1
        if not (long_beat or short_beat or abs(m[i]) > 3):
            i += 1
            continue
        if (long_beat or mrr[i] > 0) and abs(rr[i] / 2 - medians[i]) < th2[i]:
            found[i] = "missed"
        elif (short_beat or mrr[i] < 0) and i + 1 < n and i + 1 not in taken \
                and abs(rr[i] + rr[i + 1] - medians[i]) < th2[i]:
            found[i] = "extra"
            taken.add(i + 1)
            i += 1
        else:
            found[i] = "other"
        taken.add(i)
        i += 1
    return found


def _interpolate(values: list[float | None]) -> list[float]:
    known = [i for i, v in enumerate(values) if v is not None]
    if not known:
        return []
    out: list[float] = []
    k = 0  # index into known of the last kept value at or before i
    for i, v in enumerate(values):
        if v is not None:
            out.append(v)
            continue
        while k + 1 < len(known) and known[k + 1] < i:
            k += 1
        before = known[k] if known[k] < i else None
        after = next((j for j in known[k:] if j > i), None)
        if before is None:
            out.append(values[after])
        elif after is None:
            out.append(values[before])
        else:
            share = (i - before) / (after - before)
            out.append(values[before] + share * (values[after] - values[before]))
    return out


def clean(rr_ms: list[float]) -> Cleaned:
    """The corrected series and what was corrected (see the module doc)."""
    rr = [float(v) for v in rr_ms]
    found = classify(rr)
    medians = _local_medians(rr) if found else []
    counts = {"ectopic": 0, "missed": 0, "extra": 0, "other": 0}
    out: list[float | None] = []
    i = 0
    while i < len(rr):
        kind = found.get(i + 1) if found.get(i + 1) == "ectopic" else found.get(i)
        if kind == "ectopic":  # this interval and the next form the pair
            out += [None, None]
            counts["ectopic"] += 1
            i += 2
            continue
        if kind == "missed":
            parts = max(2, round(rr[i] / medians[i]))
            out += [rr[i] / parts] * parts
        elif kind == "extra":
            out.append(rr[i] + rr[i + 1])
            i += 1
        elif kind == "other":
            out.append(None)
        else:
            out.append(rr[i])
        if kind:
            counts[kind] += 1
        i += 1
    return Cleaned(rr_ms=_interpolate(out), received=len(rr), **counts)
