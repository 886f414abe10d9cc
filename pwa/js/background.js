// A session with the screen off or the app in the background, as far as the platform allows:
// the Media Session (title, artwork, play/pause on the lock screen), a silent looping <audio>
// that keeps the page's audio session alive so the cues go on, and a resync to
// performance.now() when the page is shown again. Loaded with the session.

/** A second of silence as a WAV blob (8 kHz, 8-bit mono), made here: no binary file shipped. */
function silentWav(seconds = 1, rate = 8000) {
  const n = seconds * rate;
  const buf = new ArrayBuffer(44 + n);
  const v = new DataView(buf);
  const text = (at, s) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF'); v.setUint32(4, 36 + n, true); text(8, 'WAVE');
  text(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate, true); v.setUint16(32, 1, true); v.setUint16(34, 8, true);
  text(36, 'data'); v.setUint32(40, n, true);
  new Uint8Array(buf, 44).fill(128); // 8-bit silence is the mid value
  return new Blob([buf], { type: 'audio/wav' });
}

/** What this platform will not do with the screen off, in plain words (null if nothing known). */
export function platformNote() {
  const ua = navigator.userAgent;
  const apple = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  const homeScreen = matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  if (apple && homeScreen) return 'On iPhone and iPad, an app on the home screen pauses its sound when the screen locks. Keep the screen on, or open the coach in Safari to hear the cues with the screen off.';
  if (apple) return 'On iPhone and iPad, the cues may stop when the screen locks. If they do, keep the screen on.';
  if (!('mediaSession' in navigator)) return 'This browser may stop the cues when the screen is off. If it does, keep the screen on.';
  return null;
}

/**
 * Hold a running session: `runner` is the pacer's Runner, `pause`/`play` toggle the session as
 * its own Pause button does. Returns {paused(bool), release()}.
 */
export function holdSession({ title, runner, pause, play }) {
  const ms = 'mediaSession' in navigator ? navigator.mediaSession : null;
  const url = URL.createObjectURL(silentWav());
  const audio = new Audio(url);
  audio.loop = true;
  audio.volume = 0.01;
  audio.setAttribute('aria-hidden', 'true');
  audio.play().catch(() => { /* no gesture or not allowed: the session runs with the screen on */ });

  if (ms) {
    const icon = (size) => ({ src: new URL(`/icons/icon-${size}.png`, location.origin).href, sizes: `${size}x${size}`, type: 'image/png' });
    try {
      ms.metadata = new MediaMetadata({ title, artist: 'Vagal-tone coach', artwork: [icon(192), icon(512)] });
    } catch { /* MediaMetadata missing: the title stays the page's */ }
    const on = (action, fn) => { try { ms.setActionHandler(action, fn); } catch { /* unsupported action */ } };
    on('pause', () => { if (!runner.paused) pause(); });
    on('play', () => { if (runner.paused) play(); });
    on('stop', () => { if (!runner.paused) pause(); });
    ms.playbackState = 'playing';
  }

  // Back from the background: the timers may have been held back; find the phase for now.
  const onVisible = () => { if (document.visibilityState === 'visible') runner.resync(); };
  document.addEventListener('visibilitychange', onVisible);

  return {
    paused(isPaused) {
      if (ms) ms.playbackState = isPaused ? 'paused' : 'playing';
      if (isPaused) audio.pause(); else audio.play().catch(() => {});
    },
    release() {
      document.removeEventListener('visibilitychange', onVisible);
      audio.pause();
      audio.removeAttribute('src');
      URL.revokeObjectURL(url);
      if (ms) {
        for (const a of ['pause', 'play', 'stop']) { try { ms.setActionHandler(a, null); } catch { /* */ } }
        ms.metadata = null;
        ms.playbackState = 'none';
      }
    },
  };
}
