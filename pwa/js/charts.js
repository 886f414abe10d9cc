// Small inline-SVG charts, each paired with a table (or text) that says the same thing,
// for screen readers and for anyone who prefers numbers. Colours come from the stylesheet.
import { h, s, fmtDate, signed, localDay, count, sureness } from './ui.js';

const W = 340;

function figure(title, svg, alternative, caption) {
  const id = `c-${Math.random().toString(36).slice(2, 8)}`;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', id);
  svg.prepend(s('title', { id }, title));
  return h('figure.chart',
    h('figcaption', h('h2', title), caption ? h('p.small.muted', caption) : null),
    svg,
    h('details', h('summary', 'Show as a table'), alternative));
}

function table(head, rows) {
  return h('table',
    h('thead', h('tr', head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', rows.map((r) => h('tr', r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', c)))))));
}

/** Mood before and after each session, oldest to newest. points: [{at, pre, post, name}] */
export function prePostChart(points) {
  const H = 170, L = 26, R = 8, T = 10, B = 24;
  const x = (i) => L + (points.length < 2 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + ((10 - v) * (H - T - B)) / 10;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg' });
  for (const v of [0, 5, 10]) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  const path = (key) => points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join('');
  svg.append(s('path', { d: path('pre'), class: 'line pre' }), s('path', { d: path('post'), class: 'line post' }));
  points.forEach((p, i) => svg.append(
    s('circle', { cx: x(i), cy: y(p.pre), r: 3, class: 'dot pre' }),
    s('circle', { cx: x(i), cy: y(p.post), r: 3.5, class: 'dot post' })));
  if (points.length) {
    svg.append(s('text', { x: L, y: H - 6, class: 'axis' }, fmtDate(points[0].at, { day: 'numeric', month: 'short' })),
      s('text', { x: W - R, y: H - 6, class: 'axis', 'text-anchor': 'end' }, fmtDate(points.at(-1).at, { day: 'numeric', month: 'short' })));
  }
  return figure('Mood before and after',
    svg,
    table(['Date', 'Routine', 'Before', 'After'], points.map((p) => [fmtDate(p.at), p.name, String(p.pre), String(p.post)])),
    h('span', h('span.key.pre', '●'), ' before  ', h('span.key.post', '●'), ' after (0 very bad … 10 very good)'));
}

/** Mean mood change per routine with its 95 % confidence interval. rows: [{name, n, mean, lo, hi}] */
export function changeChart(rows) {
  const rowH = 34, L = 110, R = 14, T = 8, B = 22;
  const H = T + B + rowH * rows.length;
  const lo = Math.min(-3, ...rows.map((r) => r.lo ?? r.mean));
  const hi = Math.max(3, ...rows.map((r) => r.hi ?? r.mean));
  const x = (v) => L + ((v - lo) * (W - L - R)) / (hi - lo);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg' });
  svg.append(s('line', { x1: x(0), x2: x(0), y1: T, y2: H - B, class: 'zero' }));
  for (const v of [Math.ceil(lo), 0, Math.floor(hi)]) {
    svg.append(s('text', { x: x(v), y: H - 6, class: 'axis', 'text-anchor': 'middle' }, signed(v)));
  }
  rows.forEach((r, i) => {
    const cy = T + rowH * i + rowH / 2;
    svg.append(s('text', { x: 0, y: cy + 4, class: 'label' }, r.name.length > 16 ? `${r.name.slice(0, 15)}…` : r.name));
    if (r.lo !== null && r.lo !== undefined) {
      svg.append(s('line', { x1: x(r.lo), x2: x(r.hi), y1: cy, y2: cy, class: 'whisker' }),
        s('line', { x1: x(r.lo), x2: x(r.lo), y1: cy - 5, y2: cy + 5, class: 'whisker' }),
        s('line', { x1: x(r.hi), x2: x(r.hi), y1: cy - 5, y2: cy + 5, class: 'whisker' }));
    }
    svg.append(s('circle', { cx: x(r.mean), cy, r: 5, class: 'dot post' }));
  });
  const said = (r) => sureness(r.mean, r.lo === null || r.lo === undefined ? null : [r.lo, r.hi]);
  return figure('Mood change by routine',
    svg,
    table(['Routine', 'Sessions', 'What it shows', 'The numbers'], rows.map((r) => [r.name, count(r.n, 'session'), said(r).words, said(r).numbers])),
    'How mood changed from before to after, per routine: a dot right of 0 is a rise. The line shows how sure that is; a line across 0 means not clear yet. Low starting ratings tend to rise anyway, so compare routines rather than single sessions.');
}

/** The last `weeks` weeks as a grid of days, Monday at the top; practised days filled. */
export function streakCalendar(days, weeks = 12) {
  const cell = 16, gap = 4, T = 4;
  const today = new Date();
  const monday = new Date(today);
  monday.setDate(today.getDate() - ((today.getDay() + 6) % 7) - 7 * (weeks - 1));
  const svg = s('svg', { viewBox: `0 0 ${weeks * (cell + gap)} ${T + 7 * (cell + gap)}`, class: 'chart-svg calendar' });
  let count = 0, total = 0;
  for (let w = 0; w < weeks; w += 1) {
    for (let d = 0; d < 7; d += 1) {
      const date = new Date(monday);
      date.setDate(monday.getDate() + w * 7 + d);
      if (date > today) continue;
      const key = localDay(date);
      const done = days.has(key);
      total += 1;
      if (done) count += 1;
      svg.append(s('rect', { x: w * (cell + gap), y: T + d * (cell + gap), width: cell, height: cell, rx: 4, class: done ? 'day done' : 'day' }));
    }
  }
  const list = [...days].filter((d) => d >= localDay(monday)).sort().reverse();
  return figure('Practice days',
    svg,
    list.length ? h('ul.compact', list.map((d) => h('li', fmtDate(`${d}T12:00:00`, { weekday: 'long', day: 'numeric', month: 'long' })))) : h('p', 'No practice days yet.'),
    `${count} of the last ${total} days. Each column is a week, Monday at the top; this week is on the right.`);
}

/** Retention seconds per round for recent power-breathing sessions. items: [{at, retention: [s…]}] */
export function retentionChart(items) {
  const rounds = Math.max(1, ...items.map((i) => i.retention.length));
  const H = 170, L = 30, R = 6, T = 10, B = 24;
  const max = Math.max(30, ...items.flatMap((i) => i.retention));
  const groupW = (W - L - R) / items.length;
  const barW = Math.min(18, (groupW - 6) / rounds);
  const y = (v) => T + ((max - v) * (H - T - B)) / max;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg' });
  for (const v of [0, Math.round(max / 2), Math.round(max)]) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: L - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, `${v}`));
  }
  items.forEach((item, g) => {
    const x0 = L + g * groupW + (groupW - barW * rounds) / 2;
    item.retention.forEach((v, r) => svg.append(s('rect', {
      x: x0 + r * barW, y: y(v), width: barW - 2, height: y(0) - y(v), rx: 2, class: `bar r${r % 4}`,
    })));
    svg.append(s('text', { x: L + g * groupW + groupW / 2, y: H - 6, class: 'axis', 'text-anchor': 'middle' },
      fmtDate(item.at, { day: 'numeric', month: 'numeric' })));
  });
  const head = ['Date', ...Array.from({ length: rounds }, (_, i) => `Round ${i + 1}`)];
  return figure('Breath retention per round',
    svg,
    table(head, items.map((i) => [fmtDate(i.at), ...Array.from({ length: rounds }, (_, r) => (i.retention[r] === undefined ? '–' : `${i.retention[r].toFixed(1)} s`))])),
    'Seconds held on empty lungs in each round of power breathing. Longer is not better; comfortable is.');
}
