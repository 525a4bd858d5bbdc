// Turns benchmark rows into a ratio per row, markdown tables (one per scenario) and an SVG bar chart of
// the figures that have a target.
//
// A row: { scenario, metric, wasmforge, baseline, unit, better: "lower" | "higher", target?, absoluteTarget?,
// ratio?, noRatio?, note? }. The ratio is wasmforge / baseline unless the row brings its own (e.g. a median
// of paired ratios). `target` bounds the ratio; `absoluteTarget` bounds the value. Optional, each shown
// as columns when a row of the scenario has it: `cpu` { wasmforge, baseline, ratio } (server CPU µs per
// call), `reference` { value, cpu? } (the bare v1 SDK server, same unit), `p50` { wasmforge, baseline } (ms).

export function evaluate(row) {
  const ratio = row.ratio ?? (row.wasmforge != null && row.baseline && !row.noRatio ? row.wasmforge / row.baseline : null);
  let pass = null;
  const within = (value, bound) => (row.better === "higher" ? value >= bound : value <= bound);
  if (row.target != null && ratio != null) pass = within(ratio, row.target);
  if (row.absoluteTarget != null && row.wasmforge != null) pass = within(row.wasmforge, row.absoluteTarget);
  return { ...row, ratio, pass };
}

function formatValue(value, unit) {
  if (value == null) return "n/a";
  if (unit === "calls/s") return `${Math.round(value).toLocaleString("en-US")} calls/s`;
  if (unit === "MB") return `${value.toFixed(1)} MB`;
  if (unit === "ms") return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`;
  return `${value} ${unit}`.trim();
}

function formatTarget(row) {
  const op = row.better === "higher" ? "≥" : "≤";
  if (row.target != null) return `${op} ${row.target}×`;
  if (row.absoluteTarget != null) return `${op} ${formatValue(row.absoluteTarget, row.unit)}`;
  return "";
}

const micros = (v) => (v == null ? "n/a" : `${v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString("en-US")} µs`);
const times = (v) => (v == null ? "—" : `${v.toFixed(2)}×`);

/** The table's columns; those with `when` appear only if a row of the scenario has that field. */
const COLUMNS = [
  { header: "Figure", cell: (r) => r.metric },
  { header: "WasmForge", right: true, cell: (r) => formatValue(r.wasmforge, r.unit) },
  { header: "Bare v2", right: true, cell: (r) => (r.baseline == null ? "—" : formatValue(r.baseline, r.unit)) },
  { header: "Ratio", right: true, cell: (r) => times(r.ratio) },
  { header: "Target", cell: formatTarget },
  { header: "", cell: (r) => (r.pass == null ? "" : r.pass ? "✅" : "❌") },
  { header: "CPU/call WasmForge", right: true, when: "cpu", cell: (r) => micros(r.cpu?.wasmforge) },
  { header: "CPU/call bare v2", right: true, when: "cpu", cell: (r) => micros(r.cpu?.baseline) },
  { header: "CPU ratio", right: true, when: "cpu", cell: (r) => times(r.cpu?.ratio) },
  {
    header: "Bare v1",
    right: true,
    when: "reference",
    cell: (r) => (r.reference ? formatValue(r.reference.value, r.unit) + (r.reference.cpu != null ? `, ${micros(r.reference.cpu)}` : "") : "—"),
  },
  { header: "p50 ms", right: true, when: "p50", cell: (r) => (r.p50 ? `${r.p50.wasmforge.toFixed(2)} / ${r.p50.baseline.toFixed(2)}` : "") },
  { header: "Note", when: "note", cell: (r) => r.note ?? "" },
];

/** One table per scenario; `about` maps a scenario title to a sentence printed under its heading. */
export function markdown(rows, about = {}) {
  const out = [];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const ofScenario = rows.filter((x) => x.scenario === scenario);
    const columns = COLUMNS.filter((c) => !c.when || ofScenario.some((r) => r[c.when] != null));
    out.push(`### ${scenario}`, "");
    if (about[scenario]) out.push(about[scenario], "");
    out.push(`| ${columns.map((c) => c.header).join(" | ")} |`, `|${columns.map((c) => (c.right ? "---:" : "---")).join("|")}|`);
    for (const r of ofScenario) out.push(`| ${columns.map((c) => c.cell(r)).join(" | ")} |`);
    out.push("");
  }
  return out.join("\n");
}

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars: each targeted ratio, a dashed line at 1× (the baseline) and a tick at the target. */
export function svgChart(rows, title) {
  const bars = rows.filter((r) => r.ratio != null && r.target != null);
  const labelWidth = 420;
  const plotWidth = 380;
  const rowHeight = 24;
  const top = 40;
  const height = top + bars.length * rowHeight + 30;
  const max = Math.max(2, ...bars.map((b) => b.ratio * 1.1));
  const x = (ratio) => Math.round((labelWidth + (ratio / max) * plotWidth) * 10) / 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 80}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    const colour = b.pass ? "#3a9d5d" : "#d9822b";
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(`${b.scenario}: ${b.metric}`.slice(0, 70))}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${(x(b.ratio) - labelWidth).toFixed(1)}" height="${rowHeight - 8}" fill="${colour}"/>`,
      `<line x1="${x(b.target)}" x2="${x(b.target)}" y1="${y + 1}" y2="${y + rowHeight - 1}" stroke="#b00020" stroke-width="2"/>`,
      `<text x="${x(b.ratio) + 4}" y="${y + 15}">${b.ratio.toFixed(2)}×</text>`,
    );
  });
  const bottom = top + bars.length * rowHeight;
  parts.push(
    `<line x1="${x(1)}" x2="${x(1)}" y1="${top - 4}" y2="${bottom + 4}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<text x="${x(1)}" y="${bottom + 18}" text-anchor="middle">1× = bare v2 SDK server</text>`,
    `<text x="10" y="${bottom + 18}" fill="#555">bar: WasmForge ÷ baseline; red tick: target (cold start ≤, calls ≥); green: met</text>`,
    `</svg>`,
  );
  return parts.join("\n") + "\n";
}
