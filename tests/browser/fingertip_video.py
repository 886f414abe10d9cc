"""A fingertip over a phone camera with its light on, as a y4m video Chromium can use as its camera
(`--use-file-for-fake-video-capture`): an even red picture whose red dips a little with each
beat of a known RR series. Shared by the camera browser test and bench/camera.py.

The heart rate follows the breath: HR(t) = mean + swing/2 · sin(2π · breaths a minute / 60 · t)
in each segment (so the built-in peak-to-trough swing per breath is `swing`), plus a little
beat-to-beat jitter; premature beats come early (65 % of the interval) with a weaker pulse and a
full compensatory pause. Each beat adds a pulse of blood: a fast rise (peak 150 ms after the beat),
a slower fall and a small dicrotic bump. Light through the skin: red ≈ 190 of 255, green and blue
low, the pulse moving red by about 1 %; each pixel has sensor noise, the whole frame a slower
drift with the breath. Where the finger is lifted the camera sees a grey, uneven room.

Each frame carries its own number in the blue-difference chroma (U) of its top four rows, 16
bits of 4 pixels each: red depends on luma and V only, so the pulse the app reads is untouched,
while a test can tell which frame of the file the camera delivered when (Chromium's fake camera
stamps a frame when its timer fires; on a busy machine a late tick delays that frame and all
after it against the file's own time).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FPS = 30
W, H = 64, 48


@dataclass
class Segment:
    seconds: float
    breaths_per_min: float
    swing_bpm: float  # built-in peak-to-trough heart-rate swing per breath


@dataclass
class Recording:
    beats_s: np.ndarray  # every beat's time (s), premature ones included
    premature: set[int]  # indices into beats_s of the premature beats
    normal_rr_ms: np.ndarray  # the RR series had no beat been premature (the "clean truth")
    normal_beats_s: np.ndarray  # the beat times had no beat been premature
    seconds: float
    lifted: list[tuple[float, float]] = field(default_factory=list)

    def rr_ms(self) -> np.ndarray:
        return np.diff(self.beats_s) * 1000.0


def heartbeats(segments: list[Segment], mean_hr: float, jitter_ms: float, premature_at_s: list[float],
               seed: int, lead_s: float = 0.0) -> Recording:
    rng = np.random.default_rng(seed)
    total = lead_s + sum(s.seconds for s in segments)
    # The breathing phase runs on through the segments; the lead-in breathes at the first rate.
    bounds, t0 = [], lead_s
    for s in segments:
        bounds.append((t0, t0 + s.seconds, s))
        t0 += s.seconds

    def rate_at(t: float) -> float:
        seg = next((s for a, b, s in bounds if a <= t < b), segments[0] if t < lead_s else segments[-1])
        return mean_hr + seg.swing_bpm / 2 * math.sin(2 * math.pi * seg.breaths_per_min / 60 * t)

    beats = [0.3]
    while beats[-1] < total + 2:
        interval = 60.0 / rate_at(beats[-1]) + rng.normal(0, jitter_ms / 1000.0)
        beats.append(beats[-1] + interval)
    normal = np.array(beats)
    measured = normal.copy()
    premature = set()
    for when in premature_at_s:
        k = int(np.searchsorted(normal, when))
        measured[k] = normal[k - 1] + 0.65 * (normal[k] - normal[k - 1])
        premature.add(k)
    return Recording(beats_s=measured, premature=premature, normal_rr_ms=np.diff(normal) * 1000.0,
                     normal_beats_s=normal, seconds=total)


def _pulse(tau: np.ndarray) -> np.ndarray:
    """Blood volume after one beat (peak 1 at 150 ms), zero before it."""
    tau = np.maximum(tau, 0.0)
    rise = (tau / 0.15) ** 2 * np.exp(2 * (1 - tau / 0.15))
    notch = 0.22 * np.exp(-(((tau - 0.42) / 0.07) ** 2))
    return np.where(tau > 0, rise + notch, 0.0)


def red_level(rec: Recording, times: np.ndarray, depth: float = 0.012) -> np.ndarray:
    """The frame's mean red at each time, before sensor noise."""
    blood = np.zeros_like(times)
    for k, beat in enumerate(rec.beats_s):
        near = (times > beat) & (times < beat + 1.5)
        blood[near] += (0.55 if k in rec.premature else 1.0) * _pulse(times[near] - beat)
    drift = 0.004 * np.sin(2 * math.pi * 0.09 * times)  # the breath moves the light a little too
    return 190.0 * (1 + drift - depth * blood)


def _rgb_to_i420(rgb: np.ndarray) -> bytes:
    """BT.601 limited-range I420 of an H×W×3 float RGB frame (0–255)."""
    r, g, b = (rgb[..., i] / 255.0 for i in range(3))
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    sub = lambda c: c.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))  # noqa: E731
    planes = [y, sub(u), sub(v)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def frame_number_rows(n: int) -> np.ndarray:
    """The U values of the first two chroma rows (32 wide) that spell n in 16 bits, high first."""
    bits = [(n >> (15 - b)) & 1 for b in range(16)]
    row = np.repeat(np.where(np.array(bits) == 1, 200, 56), 2).astype(np.uint8)
    return np.vstack([row, row])


def write_y4m(path: Path, rec: Recording, noise: float = 4.0, seed: int = 1) -> Path:
    """The whole recording as 64×48 frames at 30 a second."""
    rng = np.random.default_rng(seed)
    times = np.arange(int(rec.seconds * FPS)) / FPS
    red = red_level(rec, times)
    room = rng.uniform(60, 200, size=(H, W, 1)) * np.ones((1, 1, 3))  # an uneven grey scene
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for n, (t, level) in enumerate(zip(times, red)):
            if any(a <= t < b for a, b in rec.lifted):
                frame = room + rng.normal(0, noise, size=(H, W, 3))
            else:
                frame = np.empty((H, W, 3))
                frame[..., 0] = level
                frame[..., 1] = 28.0 * level / 190.0
                frame[..., 2] = 18.0 * level / 190.0
                frame += rng.normal(0, noise, size=(H, W, 3))
            planes = bytearray(_rgb_to_i420(frame))
            u_at = W * H
            planes[u_at:u_at + 2 * (W // 2)] = frame_number_rows(n).tobytes()
            out.write(b"FRAME\n")
            out.write(bytes(planes))
    return path
