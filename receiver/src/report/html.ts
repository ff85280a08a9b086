import fs from 'node:fs';
import type { ReportFigures } from './figures';
import { reportSections } from './sections';
import type { Suggestion } from './suggestions';

/** uPlot's browser build and stylesheet, inlined so the file opens without a network. */
function uplotAssets(): { js: string; css: string } {
  const js = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js: js.replace(/<\/script/gi, '<\\/script'), css: css.replace(/<\/style/gi, '<\\/style') };
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside a <script> element: no "</script>" or "<!--" can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const STYLE = `
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;background:#fff;padding:0 16px}
h1{font-size:24px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #dde;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border:1px solid #ccd;padding:4px 8px;text-align:left}
th{background:#f2f4f8}td{font-variant-numeric:tabular-nums}.chart{margin:12px 0}.chart h3{font-size:14px;margin:4px 0}
li{margin:6px 0}.evidence{color:#555}`;

/** Draws every chart of the embedded figures with uPlot; marks each drawn chart (data-drawn = points). */
const DRAW = `
(function(){
  var figures = JSON.parse(document.getElementById('report-figures').textContent);
  var colors = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];
  figures.charts.forEach(function(c){
    var el = document.getElementById('chart-' + c.id);
    if (!el) return;
    var opts = {
      width: Math.min(1060, (el.clientWidth || 1000)), height: 240,
      scales: { x: { time: true } },
      series: [{}].concat(c.series.map(function(s, i){
        var color = colors[i % colors.length];
        if (c.id === 'requests') return { label: s.label, stroke: color, fill: color + '99', width: 1, paths: uPlot.paths.bars({ size: [0.8, 40], align: -1 }) };
        return { label: s.label, stroke: color, width: 2, paths: c.id === 'running' ? uPlot.paths.stepped({ align: 1 }) : undefined };
      })),
      axes: [{}, { label: c.unit, size: 70,
        values: c.unit === 'bytes' ? function(u, v){ return v.map(function(x){ return (x / 1073741824).toFixed(1) + ' GiB'; }); } : undefined }],
      hooks: { draw: [function(u){ el.setAttribute('data-drawn', String(u.data[0].length)); }] }
    };
    new uPlot(opts, [c.x].concat(c.series.map(function(s){ return s.values; })), el);
  });
})();`;

export function renderHtml(f: ReportFigures, suggestions: Suggestion[], generatedAt: Date): string {
  const { js, css } = uplotAssets();
  const body: string[] = [];
  for (const s of reportSections(f, suggestions)) {
    body.push(`<section id="${escape(s.id)}"><h2>${escape(s.title)}</h2>`);
    if (s.id === 'suggestions' && suggestions.length > 0) {
      body.push('<ul>');
      for (const sg of suggestions) {
        body.push(`<li data-suggestion="${escape(sg.id)}">${escape(sg.text)}<br><span class="evidence">Evidence: ${escape(sg.evidence)}</span></li>`);
      }
      body.push('</ul>');
    } else {
      for (const p of s.paragraphs) body.push(`<p>${escape(p)}</p>`);
    }
    if (s.table && s.table.rows.length > 0) {
      body.push(`<table><thead><tr>${s.table.head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>`);
      for (const row of s.table.rows) body.push(`<tr>${row.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`);
      body.push('</tbody></table>');
    }
    for (const id of s.charts ?? []) {
      const chart = f.charts.find((c) => c.id === id)!;
      body.push(`<div class="chart"><h3>${escape(chart.title)}</h3><div id="chart-${escape(id)}" data-chart="${escape(id)}"></div></div>`);
    }
    body.push('</section>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>ai-dispatcher report</title>
<style>${css}</style><style>${STYLE}</style>
</head><body>
<h1>ai-dispatcher report</h1>
<p>Generated ${escape(generatedAt.toISOString())} from Prometheus series; every number below is read from them.</p>
${body.join('\n')}
<script type="application/json" id="report-figures">${scriptJson(f)}</script>
<script type="application/json" id="report-suggestions">${scriptJson(suggestions)}</script>
<script>${js}</script>
<script>${DRAW}</script>
</body></html>
`;
}
