#include "mlspeed/report/page_assets.h"

namespace mlspeed::report {

const char kPageStyle[] = R"css(
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --card: #fff; --page: #f6f8fa;
        --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0 0 12px; }
h3 { font-size: 16px; margin: 16px 0 8px; }
.sub, .note { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px;
        margin: 18px 0; box-shadow: 0 1px 2px rgba(31, 35, 40, 0.06); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 0; padding: 0; list-style: none; }
.chip { display: inline-flex; align-items: center; gap: 6px; border: 1px solid var(--line); border-radius: 16px;
        padding: 2px 10px; background: var(--card); font-size: 14px; }
.swatch { width: 12px; height: 12px; border-radius: 3px; background: var(--c); display: inline-block; flex: none; }
.swatch.published { background: repeating-linear-gradient(45deg, var(--c) 0 3px, #fff 3px 5px);
                    border: 1px solid var(--c); }
.badge { display: inline-block; border-radius: 12px; padding: 0 8px; font-size: 12px; font-weight: 600;
         border: 1px solid currentColor; white-space: nowrap; }
.badge.published { color: var(--warn); }
.badge.pass { color: #fff; background: var(--pass); border-color: var(--pass); }
.badge.fail { color: #fff; background: var(--fail); border-color: var(--fail); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 5px 10px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.context td { min-width: 180px; overflow-wrap: anywhere; }
.verdicts { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.verdict { border: 1px solid var(--line); border-left: 6px solid var(--pass); border-radius: 8px;
           padding: 10px 14px; }
.verdict.fail { border-left-color: var(--fail); }
.verdict ul { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
.published-note { border-left: 6px solid var(--warn); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 16px; }
.chart { position: relative; height: 410px; min-width: 0; padding-top: 30px; }
.chart.wide { grid-column: 1 / -1; }
.chart button { position: absolute; right: 0; top: 0; z-index: 1; font: inherit; font-size: 12px;
                border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
.failures { color: var(--fail); font-size: 14px; }
details summary { cursor: pointer; color: var(--muted); margin-top: 10px; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 30px; }
)css";

const char kPageScript[] = R"js(
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('mlspeed-data').textContent);
  const canvases = Array.from(document.querySelectorAll('canvas[data-metric]'));
  const number = new Intl.NumberFormat('en', { maximumSignificantDigits: 4 });
  const fmt = (v) => number.format(v);
  const pct = (v) => (100 * v).toFixed(v < 0.1 ? 2 : 1) + '%';
  let drawn = 0;
  const countDrawn = {
    id: 'mlspeedDrawn',
    afterRender(chart) {
      if (chart.$mlspeedDrawn) return;
      chart.$mlspeedDrawn = true;
      drawn += 1;
      document.body.setAttribute('data-charts-drawn', String(drawn));
    }
  };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = '#1f2328';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function colour(s, alpha) {
    const hex = data.palette[s];  // one colour per series (series_colours)
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
  }
  // The series measured in a workload, and each one's bar per category (null where it has none).
  function seriesIn(w) {
    const seen = [];
    for (const b of w.bars) if (!seen.includes(b.s)) seen.push(b.s);
    seen.sort((a, b) => a - b);
    return seen.map((s) => {
      const bars = w.categories.map(() => null);
      for (const b of w.bars) if (b.s === s) bars[b.c] = b;
      return { s: s, info: data.series[s], bars: bars };
    });
  }
  function title(text, subtitle) {
    return { title: { display: true, text: text, font: { size: 16, weight: '600' } },
             subtitle: { display: Boolean(subtitle), text: subtitle || '', color: '#59636e',
                         padding: { bottom: 8 } } };
  }
  function axes(unit, type) {
    return { x: { title: { display: true, text: 'configuration: dtype, shape' } },
             y: { type: type || 'linear', stacked: false, beginAtZero: true, title: { display: true, text: unit } } };
  }
  // Hides and shows a series' spread together with its median bar.
  function legend() {
    return {
      labels: {
        filter: (item, chartData) => chartData.datasets[item.datasetIndex].mlspeedRole === 'main',
        // A series' swatch in its own colour, whatever the outline of its first bar (noise).
        generateLabels: (chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
          const d = chart.data.datasets[item.datasetIndex];
          if (d.type !== 'line') {
            item.strokeStyle = typeof d.backgroundColor === 'string' ? d.backgroundColor : item.fillStyle;
            item.lineWidth = 0;
          }
          return item;
        })
      },
      onClick(event, item, l) {
        const chart = l.chart;
        const stack = chart.data.datasets[item.datasetIndex].stack;
        const show = !chart.isDatasetVisible(item.datasetIndex);
        chart.data.datasets.forEach((d, i) => { if (d.stack === stack) chart.setDatasetVisibility(i, show); });
        chart.update();
      }
    };
  }
  function describe(w, b, name) {
    const lines = [name + ': ' + fmt(b.throughput) + ' ' + w.unit];
    lines.push(b.n ? 'median of ' + b.n + ' samples: ' + fmt(b.median_ms) + ' ms per iteration'
                   : 'published figure: ' + fmt(b.median_ms) + ' ms per iteration');
    if (b.q1 != null) lines.push('interquartile ' + fmt(b.q1) + ' to ' + fmt(b.q3) + ', min to max ' +
                                 fmt(b.min) + ' to ' + fmt(b.max));
    if (b.mfu != null) lines.push('MFU ' + pct(b.mfu));
    if (b.mbu != null) lines.push('bandwidth utilisation ' + pct(b.mbu));
    if (b.speedup != null) lines.push(fmt(b.speedup) + '\u00d7 ' + data.baseline);
    if (b.per_joule != null) lines.push(fmt(b.per_joule) + ' ' + w.unit.replace('/s', '') + ' per joule');
    if (b.throttle) lines.push('throttled: ' + b.throttle);
    if (b.noise) lines.push('noisy samples: ' + b.noise);
    return lines;
  }
  function tooltip(w) {
    return { filter: (item) => item.dataset.mlspeedRole === 'main',
             callbacks: { label: (ctx) => {
               const b = ctx.dataset.mlspeedBars[ctx.dataIndex];
               return b.throughput == null ? ctx.dataset.label : describe(w, b, ctx.dataset.label);
             } } };
  }
  function spread(entry, role, pick, width, alpha) {
    return { label: entry.info.name + ' ' + role, mlspeedRole: role, stack: 's' + entry.s, order: 0,
             grouped: true, barPercentage: width, categoryPercentage: 0.8,
             data: entry.bars.map((b) => (b && b.q1 != null ? pick(b) : null)),
             backgroundColor: 'rgba(31,35,40,' + alpha + ')' };
  }
  function mainBars(entry, value, extra) {
    const published = entry.info.published;
    return Object.assign({
      label: entry.info.name + (published ? ' (published)' : ''), mlspeedRole: 'main', stack: 's' + entry.s,
      order: 2, categoryPercentage: 0.8, mlspeedBars: entry.bars,
      data: entry.bars.map((b) => (b && value(b) != null ? value(b) : null)),
      backgroundColor: colour(entry.s, published ? 0.3 : 0.85),
      borderColor: entry.bars.map((b) => (b && b.noise ? '#cf222e' : colour(entry.s, 1))),
      borderWidth: entry.bars.map((b) => (b && b.noise ? 3 : published ? 2 : 0))
    }, extra || {});
  }
  function throughputChart(w, canvas) {
    const datasets = [];
    for (const entry of seriesIn(w)) {
      datasets.push(mainBars(entry, (b) => b.throughput));
      if (entry.bars.some((b) => b && b.q1 != null)) {
        datasets.push(spread(entry, 'interquartile range', (b) => [b.q1, b.q3], 0.45, 0.55));
        datasets.push(spread(entry, 'min to max', (b) => [b.min, b.max], 0.08, 0.9));
      }
    }
    const values = w.bars.map((b) => b.throughput).filter((v) => v > 0);
    const logScale = values.length > 1 && Math.max(...values) / Math.min(...values) > 50;
    const chart = new Chart(canvas, {
      type: 'bar', data: { labels: w.categories, datasets: datasets }, plugins: [countDrawn],
      options: { plugins: Object.assign(title(w.workload + ': throughput (' + w.unit + ', higher is better)',
                   'bar: median sample \u00b7 box: interquartile range \u00b7 line: min to max \u00b7 ' +
                   'red outline: noisy samples'),
                   { legend: legend(), tooltip: tooltip(w) }),
                 scales: axes(w.unit + (logScale ? ', log scale' : ''), logScale ? 'logarithmic' : 'linear') }
    });
    const button = document.createElement('button');
    button.type = 'button';
    const label = () => {
      button.textContent = chart.options.scales.y.type === 'logarithmic' ? 'linear scale' : 'log scale';
    };
    button.addEventListener('click', () => {
      const log = chart.options.scales.y.type !== 'logarithmic';
      chart.options.scales.y.type = log ? 'logarithmic' : 'linear';
      chart.options.scales.y.title.text = w.unit + (log ? ', log scale' : '');
      chart.update();
      label();
    });
    label();
    canvas.parentNode.insertBefore(button, canvas);
  }
  function speedupChart(w, canvas) {
    const datasets = seriesIn(w).filter((e) => e.bars.some((b) => b && b.speedup != null))
                                .map((e) => mainBars(e, (b) => b.speedup));
    datasets.push({ type: 'line', label: data.baseline + ' = 1\u00d7', mlspeedRole: 'main',
                    data: w.categories.map(() => 1),
                    borderColor: '#59636e', borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, order: 3 });
    new Chart(canvas, {
      type: 'bar', data: { labels: w.categories, datasets: datasets }, plugins: [countDrawn],
      options: { plugins: Object.assign(title(w.workload + ': speedup against ' + data.baseline +
                                              ' (\u00d7, higher is faster)',
                   'throughput at the median over the baseline\u2019s for the same configuration'),
                   { legend: legend(), tooltip: tooltip(w) }),
                 scales: axes('speedup (\u00d7)') }
    });
  }
  function utilisationChart(w, canvas, field, text, subtitle, axis = '% of peak') {
    const datasets = seriesIn(w).filter((e) => e.bars.some((b) => b && b[field] != null))
                                .map((e) => mainBars(e, (b) => (b[field] == null ? null : 100 * b[field])));
    new Chart(canvas, {
      type: 'bar', data: { labels: w.categories, datasets: datasets }, plugins: [countDrawn],
      options: { plugins: Object.assign(title(w.workload + ': ' + text, subtitle),
                                        { legend: legend(), tooltip: tooltip(w) }),
                 scales: axes(axis) }
    });
  }
  // Items per joule; a bar whose clock was held down while it was timed is outlined in orange.
  function efficiencyChart(w, canvas) {
    const datasets = seriesIn(w).filter((e) => e.bars.some((b) => b && b.per_joule != null)).map((e) => {
      const d = mainBars(e, (b) => b.per_joule);
      d.borderColor = e.bars.map((b, i) => (b && b.throttle ? '#bc4c00' : d.borderColor[i]));
      d.borderWidth = e.bars.map((b, i) => (b && b.throttle ? 3 : d.borderWidth[i]));
      return d;
    });
    new Chart(canvas, {
      type: 'bar', data: { labels: w.categories, datasets: datasets }, plugins: [countDrawn],
      options: { plugins: Object.assign(title(w.workload + ': energy efficiency (' + w.unit.replace('/s', '') +
                                              ' per joule, higher is better)',
                   'items over the energy of the timed iterations \u00b7 orange outline: throttled \u00b7 ' +
                   'red outline: noisy samples'),
                   { legend: legend(), tooltip: tooltip(w) }),
                 scales: axes(w.unit.replace('/s', '') + ' per joule') }
    });
  }
  const draw = {
    throughput: throughputChart,
    speedup: speedupChart,
    mfu: (w, c) => utilisationChart(w, c, 'mfu', 'model FLOP utilisation (MFU, % of the device\u2019s peak)',
                                    'achieved model FLOP/s over the peak for the dtype'),
    mbu: (w, c) => utilisationChart(w, c, 'mbu', 'memory bandwidth utilisation (decoding, % of peak)',
                                    'bytes each token must read over the time per token, against the ' +
                                    'memory bandwidth'),
    efficiency: efficiencyChart,
    scaling: (w, c) => utilisationChart(w, c, 'scaling', 'data-parallel scaling efficiency (%, higher is better)',
                                        'throughput on N devices over N times one device\u2019s, the same run',
                                        '% of N \u00d7 one device')
  };
  document.body.setAttribute('data-charts-total', String(canvases.length));
  for (const canvas of canvases) {
    const w = data.workloads[Number(canvas.dataset.workload)];
    draw[canvas.dataset.metric](w, canvas);
  }
  if (canvases.length === 0) document.body.setAttribute('data-charts-drawn', '0');
})();
)js";

}  // namespace mlspeed::report
