// The pulse from a fingertip over the phone's camera (with its light on): the signal maths,
// free of the DOM so that a worker runs it (pulse-worker.js), or the page where no worker can
// draw a video frame. Blood arriving with each beat absorbs light, so the frame's mean red dips;
// its inverse, evened onto a 30 Hz grid, detrended and band-passed (0.5–3 Hz, zero phase), rises
// steepest once a beat, as the blood arrives; each steepest rise is placed between frames by a
// parabola through its three samples, since a browser gives only about 30 frames a second
// (33 ms: far coarser than the beat-to-beat changes that matter). Pulse-rate variability approximates, and does not equal, ECG heart-rate
// variability (Plews et al. 2017): it compares paces for one person.

export const RATE = 30; // Hz: the even grid frames are resampled onto
const STEP_MS = 1000 / RATE;
const LOW_HZ = 0.5; // 30 beats a minute
const HIGH_HZ = 3.0; // 180 beats a minute, with the wave's second harmonic up to 90
const EDGE_MS = 300; // beats this close to a stretch's ends are distorted by the filter
const MIN_STRETCH_MS = 3000; // a good stretch shorter than this gives no intervals
const LIVE_MS = 8000; // the live heart rate looks at this much of the latest good signal

/** RBJ biquad (Butterworth Q), as {b: [b0, b1, b2], a: [a1, a2]}. */
function biquad(kind, f0) {
  const w = (2 * Math.PI * f0) / RATE;
  const cos = Math.cos(w);
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const a0 = 1 + alpha;
  const b = kind === 'low' ? [(1 - cos) / 2, 1 - cos, (1 - cos) / 2] : [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
  return { b: b.map((v) => v / a0), a: [(-2 * cos) / a0, (1 - alpha) / a0] };
}

const SECTIONS = [biquad('high', LOW_HZ), biquad('low', HIGH_HZ)];

function runBiquad({ b, a }, x) {
  const y = new Float64Array(x.length);
  const gain = (b[0] + b[1] + b[2]) / (1 + a[0] + a[1]); // at 0 Hz: start settled on x[0]
  let x1 = x[0], x2 = x[0], y1 = gain * x[0], y2 = y1;
  for (let i = 0; i < x.length; i += 1) {
    const v = b[0] * x[i] + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
    x2 = x1; x1 = x[i]; y2 = y1; y1 = v; y[i] = v;
  }
  return y;
}

/** Zero-phase band-pass (forward and back, ends padded by odd reflection as scipy's filtfilt). */
export function bandpass(x) {
  const n = x.length;
  const pad = Math.min(n - 1, 2 * RATE);
  const ext = new Float64Array(n + 2 * pad);
  for (let i = 0; i < pad; i += 1) {
    ext[i] = 2 * x[0] - x[pad - i];
    ext[n + 2 * pad - 1 - i] = 2 * x[n - 1] - x[n - 1 - (pad - i)];
  }
  ext.set(x, pad);
  let y = ext;
  for (const s of SECTIONS) y = runBiquad(s, y);
  y.reverse();
  for (const s of SECTIONS) y = runBiquad(s, y);
  y.reverse();
  return y.subarray(pad, pad + n);
}

/** Samples {t, v} (t in ms, ascending) linearly onto the 30 Hz grid from the first. */
export function resample(samples) {
  const t0 = samples[0].t;
  const n = Math.floor((samples[samples.length - 1].t - t0) / STEP_MS) + 1;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < n; i += 1) {
    const t = t0 + i * STEP_MS;
    while (j + 1 < samples.length - 1 && samples[j + 1].t <= t) j += 1;
    const a = samples[j], b = samples[Math.min(j + 1, samples.length - 1)];
    out[i] = b.t > a.t ? a.v + ((t - a.t) / (b.t - a.t)) * (b.v - a.v) : a.v;
  }
  return out;
}

/** The pulse period in samples: the first autocorrelation peak between 0.3 and 2 s that
 *  reaches 60 % of the highest (a multiple of the period correlates almost as well). */
function period(y) {
  const lo = Math.round(0.3 * RATE), hi = Math.min(2 * RATE, y.length - 2);
  const r = [];
  for (let k = lo - 1; k <= hi + 1; k += 1) {
    let sum = 0;
    for (let i = 0; i + k < y.length; i += 1) sum += y[i] * y[i + k];
    r.push(sum / Math.max(1, y.length - k));
  }
  const top = Math.max(...r.slice(1, -1));
  for (let j = 1; j < r.length - 1; j += 1) {
    if (r[j] >= 0.6 * top && r[j] >= r[j - 1] && r[j] >= r[j + 1]) return lo - 1 + j;
  }
  return Math.round(0.8 * RATE);
}

/** Beat times (ms) in a stretch (of the wave's slope) starting at t0: peaks that are the highest
 *  within half a pulse period either side (so a dicrotic bump never counts, a premature beat
 *  still does), at least a third of the typical peak, placed by a parabola between samples. */
export function findBeats(y, t0) {
  const half = Math.max(2, Math.round(period(y) / 2));
  const found = [];
  for (let i = 1; i < y.length - 1; i += 1) {
    if (!(y[i] > 0 && y[i] >= y[i - 1] && y[i] > y[i + 1])) continue;
    let top = true;
    for (let k = Math.max(0, i - half); k <= Math.min(y.length - 1, i + half) && top; k += 1) {
      if (y[k] > y[i]) top = false;
    }
    if (!top) continue;
    const denom = y[i - 1] - 2 * y[i] + y[i + 1];
    const shift = denom < 0 ? (0.5 * (y[i - 1] - y[i + 1])) / denom : 0;
    found.push({ t: t0 + (i + shift) * STEP_MS, height: y[i] });
  }
  const heights = found.map((p) => p.height).sort((a, b) => a - b);
  const typical = heights[Math.floor(heights.length / 2)] || 0;
  return found.filter((p) => p.height >= typical / 3).map((p) => p.t);
}

/** The slope (central difference) of the pulse wave: each beat's steepest rise, where the
 *  blood arrives, is the sharpest point of the wave to time it by (its peak is rounder). */
function upstroke(y) {
  const d = new Float64Array(y.length);
  for (let i = 1; i < y.length - 1; i += 1) d[i] = (y[i + 1] - y[i - 1]) / 2;
  return d;
}

/** Beat times (ms) in one good stretch of samples {t, v}; none for a stretch under 3 s. */
export function stretchBeats(samples) {
  if (samples.length < 3 || samples[samples.length - 1].t - samples[0].t < MIN_STRETCH_MS) return [];
  const x = resample(samples);
  const start = samples[0].t, end = samples[samples.length - 1].t;
  return findBeats(upstroke(bandpass(x)), start).filter((t) => t - start >= EDGE_MS && end - t >= EDGE_MS);
}

/** Intervals between successive beats (ms), within the range the server takes. */
export function intervals(beats) {
  const rr = [];
  for (let i = 1; i < beats.length; i += 1) {
    const d = beats[i] - beats[i - 1];
    if (d >= 250 && d <= 2000) rr.push(Math.round(d * 10) / 10);
  }
  return rr;
}

/** A frame's colour: mean red, green, blue (0–255) and how much the red varies across it. */
export function frameColour(data) {
  let r = 0, g = 0, b = 0, rr = 0;
  const n = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    r += data[i]; g += data[i + 1]; b += data[i + 2]; rr += data[i] * data[i];
  }
  r /= n; g /= n; b /= n;
  return { r, g, b, spread: Math.sqrt(Math.max(0, rr / n - r * r)) };
}

/**
 * What the frames say, one of:
 * - 'cover': no fingertip over the lens and light (the frame is not an even red);
 * - 'dark': covered but too little light through the skin;
 * - 'still': the light changes far more than a pulse does (the hand or finger is moving);
 * - 'searching': a good picture, no steady pulse found yet;
 * - 'good': a pulse, with its rate.
 */
export function quality(colour, recent) {
  const { r, g, b, spread } = colour;
  if (!(r > 1.8 * g && r > 1.8 * b && spread < 0.2 * r + 6)) return 'cover';
  if (r < 30) return 'dark';
  if (recent.length > 5) {
    let lo = Infinity, hi = -Infinity;
    for (const s of recent) { lo = Math.min(lo, s.r); hi = Math.max(hi, s.r); }
    if ((hi - lo) / r > 0.1) return 'still'; // a pulse moves the red by 1–5 %
  }
  return 'ok';
}

/**
 * Frame colours in, the picture's state and intervals out. `push` takes one frame's colour at
 * its capture time; while recording (between `start` and `stop`), only frames in good state
 * are kept, in stretches: a poor stretch pauses the recording, and no interval spans it.
 */
export class PulseTracker {
  constructor() {
    this.recent = []; // the last 1.5 s of {t, r}: is the picture steady?
    this.good = []; // the current good stretch: {t, v}
    this.live = { t: -Infinity, bpm: null };
    this.recording = false;
    this.since = Infinity; // the first frame time recorded
    this.rr = [];
    this.goodMs = 0;
    this.usual = undefined; // the usual time between frames (ms)
  }

  push(t, colour, frames = 1) {
    this.recent.push({ t, r: colour.r });
    while (this.recent.length && this.recent[0].t < t - 1500) this.recent.shift();
    let state = quality(colour, this.recent);
    if (state !== 'ok') {
      this.closeStretch(true);
      return { state, bpm: null };
    }
    const last = this.good[this.good.length - 1];
    if (last && this.gap(t - last.t, frames)) this.closeStretch(false);
    if (last && t <= last.t) return { state: this.live.bpm ? 'good' : 'searching', bpm: this.live.bpm };
    if (this.recording && this.since === Infinity) this.since = t;
    this.good.push({ t, v: -colour.r });
    if (!this.recording) this.good = this.good.filter((s) => s.t >= t - LIVE_MS);
    if (t - this.live.t >= 1000) this.updateLive(t);
    state = this.live.bpm ? 'good' : 'searching';
    return { state, bpm: this.live.bpm };
  }

  /**
   * Did the frames pause? `frames` is how many frames the browser presented since the last one
   * read (more than 1 when the page skipped some: their time is still known). A step longer
   * than those frames take, by 2.5 usual frame intervals (at least 80 ms), ends the stretch:
   * nothing is known of the pulse inside the pause, and a camera that delivers late stamps the
   * late frame, and all after it, later than the light it shows.
   */
  gap(step, frames) {
    const perFrame = step / Math.max(1, frames);
    const usual = this.usual ?? perFrame;
    this.usual = usual + 0.05 * (Math.min(perFrame, 3 * usual) - usual); // a slow running mean
    return step - Math.max(1, frames) * usual > Math.max(80, 2.5 * usual);
  }

  /** A rough live rate from the latest good seconds: regular beats, or none. */
  updateLive(t) {
    this.live.t = t;
    const recent = this.good.filter((s) => s.t >= t - LIVE_MS);
    const beats = stretchBeats(recent);
    const rr = intervals(beats).sort((a, b) => a - b);
    if (rr.length < 3) { this.live.bpm = null; return; }
    const median = rr[Math.floor(rr.length / 2)];
    const regular = rr.filter((d) => Math.abs(d - median) < 0.3 * median).length >= 0.7 * rr.length;
    this.live.bpm = regular ? Math.round(60000 / median) : null;
  }

  closeStretch(poor) {
    if (this.recording && this.good.length) {
      // Motion shows in the light a little before it is judged: a stretch ended by a poor
      // picture loses its last half second. The good seconds before the recording began help
      // the filter settle, but only beats from then on count.
      const end = this.good[this.good.length - 1].t - (poor ? 500 : 0);
      const kept = this.good.filter((s) => s.t <= end);
      const beats = stretchBeats(kept).filter((t) => t >= this.since);
      this.rr.push(...intervals(beats));
      if (beats.length > 1) this.goodMs += beats[beats.length - 1] - beats[0];
    }
    this.good = [];
    this.live.bpm = null;
  }

  start() {
    this.since = Infinity;
    this.rr = [];
    this.goodMs = 0;
    this.recording = true;
  }

  /** The intervals recorded since `start` and how many seconds of good pulse they came from. */
  stop() {
    this.closeStretch(false);
    this.recording = false;
    this.since = Infinity;
    return { rr: this.rr, seconds: Math.round(this.goodMs / 1000) };
  }
}
