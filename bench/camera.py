"""Camera-pulse accuracy: the finder's own pulse code (pwa/js/pulse.js, run by node) on the frame
colours of generated fingertip recordings, then the server's beat cleaning and choice of rate.

Each subject breathes the five quick paces (6.5 … 4.5 a minute, 60 s each) with a heart-rate
swing per breath largest at one pace (the subject's resonance rate, drawn at random); the mean
heart rate runs 50–100, the resonance swing 2–15 beats a minute, other paces swing 35–70 % of
it; beat-to-beat jitter, two premature beats in one pace in three, and noise on the frame's mean
red (0.05–0.5 of 255; the pulse moves it by about 2) with 1 ms of frame-stamp jitter. The frame
colours are those tests/browser/fingertip_video.py draws into its videos (no video coding here:
the browser test covers that path).

Prints, per noise level and overall: the RR error against the true beats (mean and 95th
percentile, ms, and as a ratio to one frame, 33.3 ms: the floor without sub-frame timing), the
RMSSD error after cleaning against the true RMSSD (%), and how often the chosen pace is the
true one, beside how often every true beat (as a strap gives them) chooses it: the floor, since
a small swing under beat-to-beat jitter hides the resonance pace from any sensor.

    .venv/bin/python bench/camera.py [--subjects 24] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from coach.practice import resonance  # noqa: E402
from fingertip_video import FPS, Segment, heartbeats, red_level  # noqa: E402

RATES = (6.5, 6.0, 5.5, 5.0, 4.5)
PACE_S = 60.0
NOISES = (0.05, 0.2, 0.5)

NODE = r"""
import { readFileSync } from 'node:fs';
import { PulseTracker } from 'PULSE';
const subjects = JSON.parse(readFileSync(0, 'utf8'));
const out = subjects.map((paces) => paces.map(({ t, r, start }) => {
  const tracker = new PulseTracker();
  t.forEach((time, i) => {
    if (i === start) tracker.start();
    tracker.push(time, { r: r[i], g: r[i] * 28 / 190, b: r[i] * 18 / 190, spread: 4 });
  });
  return tracker.stop().rr;
}));
process.stdout.write(JSON.stringify(out));
"""


def subject(rng: random.Random, noise: float, index: int):
    mean_hr = rng.uniform(50, 100)
    best = rng.choice(RATES)
    top = rng.uniform(2, 15)
    swings = {bpm: top if bpm == best else top * rng.uniform(0.35, 0.7) for bpm in RATES}
    paces = []
    for k, bpm in enumerate(RATES):
        premature = sorted(rng.uniform(15, 55) for _ in range(2)) if rng.random() < 1 / 3 else []
        lead = 5.0  # the camera has been running before the pace starts
        rec = heartbeats([Segment(PACE_S, bpm, swings[bpm])], mean_hr=mean_hr, jitter_ms=rng.uniform(5, 30),
                         premature_at_s=[lead + p for p in premature], seed=index * 10 + k, lead_s=lead)
        frames = np.arange(int((lead + PACE_S) * FPS)) / FPS
        nrng = np.random.default_rng(index * 10 + k)
        stamps = frames + nrng.normal(0, 0.001, len(frames))
        red = red_level(rec, frames) + nrng.normal(0, noise, len(frames))
        paces.append((bpm, rec, stamps * 1000, red, int(lead * FPS)))
    return mean_hr, best, swings, paces


def true_rr_for(detected: list[float], rec, lead_ms: float) -> tuple[list[float], list[float]]:
    """(RR errors against the true beats, the clean-truth intervals behind the detected ones)."""
    true_beats = rec.beats_s * 1000.0
    errors, clean = [], []
    # The detector's beats are not returned, only intervals: rebuild them and fit the offset.
    got = np.concatenate([[0.0], np.cumsum(detected)])
    best = None
    for shift in np.arange(lead_ms - 500, lead_ms + 4000, 2.0):
        idx = np.clip(np.searchsorted(true_beats, got + shift), 1, len(true_beats) - 1)
        near = np.where(np.abs(true_beats[idx] - got - shift) < np.abs(true_beats[idx - 1] - got - shift), idx, idx - 1)
        miss = np.abs(true_beats[near] - got - shift)
        score = np.minimum(miss, 60).sum()
        if best is None or score < best[0]:
            best = (score, np.where(miss < 60, near, -1))
    matched = best[1]
    for i, r in enumerate(detected):
        a, b = matched[i], matched[i + 1]
        if a < 0 or b <= a:
            continue
        if b == a + 1:
            errors.append(r - (true_beats[b] - true_beats[a]))
        clean.extend(rec.normal_rr_ms[a:b])
    return errors, clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=24, help="subjects per noise level")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    people = [(noise, subject(rng, noise, n * 1000 + i)) for n, noise in enumerate(NOISES) for i in range(args.subjects)]
    payload = [[{"t": stamps.round(3).tolist(), "r": red.round(3).tolist(), "start": start}
                for _, _, stamps, red, start in paces] for _, (_, _, _, paces) in people]
    with tempfile.NamedTemporaryFile("w", suffix=".mjs", delete=False) as script:
        script.write(NODE.replace("PULSE", (ROOT / "pwa" / "js" / "pulse.js").as_uri()))
    result = subprocess.run(["node", script.name], input=json.dumps(payload), capture_output=True, text=True, check=True)
    Path(script.name).unlink()
    detected = json.loads(result.stdout)

    rows = {noise: {"rr": [], "rmssd": [], "chosen": [], "strap": [], "unreliable": 0, "steps": 0} for noise in NOISES}
    for (noise, (mean_hr, best, swings, paces)), got in zip(people, detected):
        row = rows[noise]
        steps, strap = [], []
        for (bpm, rec, _, _, start), rr in zip(paces, got):
            # The same pace as a strap would give it: every true beat, premature ones included.
            lead = start / FPS
            true_rr = rec.rr_ms()[(rec.beats_s[:-1] >= lead) & (rec.beats_s[1:] <= lead + PACE_S)]
            strap.append({"bpm": bpm, "calm": 5, "comfort": 5, "rr_ms": true_rr.tolist(), "source": "strap"})
            errors, clean = true_rr_for(rr, rec, start / FPS * 1000)
            row["rr"].extend(errors)
            step = {"bpm": bpm, "calm": 5, "comfort": 5, "rr_ms": rr, "source": "camera"} if len(rr) >= 2 else {"bpm": bpm, "calm": 5, "comfort": 5}
            steps.append(step)
            if len(rr) >= 2 and len(clean) >= 2:
                figures = resonance.analyse_step(step)
                true = math.sqrt(np.mean(np.diff(clean) ** 2))
                row["rmssd"].append(abs(figures.rmssd_ms - true) / true * 100)
                row["unreliable"] += not figures.reliable
            row["steps"] += 1
        _, chosen, basis = resonance.analyse(steps)
        row["chosen"].append(chosen == best and basis == "hr_swing")
        _, chosen, basis = resonance.analyse(strap)
        row["strap"].append(chosen == best and basis == "hr_swing")

    def line(label, rr, rmssd, chosen, strap, unreliable, steps):
        rr = np.abs(np.asarray(rr))
        print(f"{label:>14}  RR error mean {rr.mean():5.1f} ms, p95 {np.percentile(rr, 95):5.1f} ms "
              f"(ratio to one frame {rr.mean() / (1000 / FPS):.2f}, p95 {np.percentile(rr, 95) / (1000 / FPS):.2f})  "
              f"RMSSD error mean {np.mean(rmssd):5.1f} %, p95 {np.percentile(rmssd, 95):5.1f} %  "
              f"true pace chosen {np.mean(chosen) * 100:5.1f} % (from every true beat {np.mean(strap) * 100:5.1f} %, "
              f"ratio {np.mean(chosen) / max(np.mean(strap), 1e-9):.2f})  unreliable steps {unreliable}/{steps}")

    print(f"{args.subjects} subjects per noise level, 5 quick paces each (HR 50–100, swing 2–15)")
    for noise, row in rows.items():
        line(f"noise {noise:.2f}", row["rr"], row["rmssd"], row["chosen"], row["strap"], row["unreliable"], row["steps"])
    line("all", *(sum((rows[n][key] for n in NOISES), []) for key in ("rr", "rmssd", "chosen", "strap")),
         sum(rows[n]["unreliable"] for n in NOISES), sum(rows[n]["steps"] for n in NOISES))


if __name__ == "__main__":
    main()
