// The usage timeline of one token, drawn with uPlot (canvas): requests per
// minute or hour, in total or split by node, workload or executable, with the first
// sighting of each new workload, destination and node marked.
import uPlot from 'uplot';

const MIN = 60, HOUR = 3600;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const MARK_COLORS = { workload: '#7c3aed', destination: '#d97706', node: '#0891b2' };
const MAX_SERIES = 8; // the rest is summed into "other"

const secs = (t) => Math.floor(Date.parse(t) / 1000);

// Buckets from the first to the last used minute, gaps as zeros, and an
// empty one on each side so that a single busy minute still has a width.
function buckets(rows, step) {
	if (!rows.length) return [];
	const lo = Math.floor(secs(rows[0].minute) / step) * step - step;
	const hi = Math.floor(secs(rows[rows.length - 1].minute) / step) * step + step;
	const xs = [];
	for (let t = lo; t <= hi; t += step) xs.push(t);
	return xs;
}

// {x: [...], series: [{label, values}]}: usage totals, or usage_split by key.
export function chartData(token, step, split) {
	const usage = token.usage || [];
	const xs = buckets(usage, step);
	const index = new Map(xs.map((t, i) => [t, i]));
	const at = (m) => index.get(Math.floor(secs(m) / step) * step);
	if (split === 'total') {
		const v = xs.map(() => 0);
		for (const u of usage) v[at(u.minute)] += u.count;
		return { x: xs, series: [{ label: 'requests', values: v }] };
	}
	const totals = new Map();
	for (const u of token.usage_split || []) totals.set(u[split], (totals.get(u[split]) || 0) + u.count);
	const keys = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));
	const shown = keys.slice(0, keys.length > MAX_SERIES ? MAX_SERIES - 1 : MAX_SERIES);
	const series = shown.map((k) => ({ label: k, values: xs.map(() => 0) }));
	const other = { label: 'other', values: xs.map(() => 0) };
	const pos = new Map(shown.map((k, i) => [k, i]));
	for (const u of token.usage_split || []) {
		const i = at(u.minute);
		if (i === undefined) continue;
		(pos.has(u[split]) ? series[pos.get(u[split])] : other).values[i] += u.count;
	}
	if (keys.length > shown.length) series.push(other);
	return { x: xs, series };
}

// The first sighting of each workload (as the risk engine names it), destination and node.
export function markers(token) {
	const first = new Map();
	const note = (kind, name, t) => {
		if (!t || !name) return;
		const k = kind + '\u0000' + name;
		if (!first.has(k) || first.get(k).t > secs(t)) first.set(k, { kind, name, t: secs(t) });
	};
	for (const p of token.processes || []) {
		note('workload', p.workload || p.exe, p.first_seen);
		note('node', p.node, p.first_seen);
	}
	for (const d of token.destinations || []) note('destination', d.host || d.dst, d.first_seen);
	return [...first.values()].sort((a, b) => a.t - b.t);
}

// Vertical lines at each marker, drawn on the chart's canvas.
function markerPlugin(marks) {
	return {
		hooks: {
			draw: [(u) => {
				const { ctx } = u;
				const { top, height } = u.bbox;
				ctx.save();
				ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
				ctx.lineWidth = devicePixelRatio;
				for (const m of marks) {
					const x = Math.round(u.valToPos(m.t, 'x', true));
					if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
					ctx.strokeStyle = MARK_COLORS[m.kind];
					ctx.beginPath();
					ctx.moveTo(x, top);
					ctx.lineTo(x, top + height);
					ctx.stroke();
				}
				ctx.restore();
			}],
		},
	};
}

export function drawChart(target, token, step, split, width) {
	const d = chartData(token, step, split);
	const marks = markers(token);
	const x = d.x;
	const opts = {
		width, height: 280,
		scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
		axes: [{}, { label: step === HOUR ? 'requests / hour' : 'requests / minute' }],
		series: [{}].concat(d.series.map((s, i) => ({
			label: s.label, stroke: COLORS[i % COLORS.length], width: 2,
			fill: d.series.length === 1 ? 'rgba(37,99,235,0.12)' : undefined,
			points: { show: x.length < 120 },
			paths: uPlot.paths.stepped({ align: 1 }),
		}))),
		plugins: [markerPlugin(marks)],
	};
	const u = new uPlot(opts, [x].concat(d.series.map((s) => s.values)), target);
	return { plot: u, data: d, marks };
}

export { MIN, HOUR, MARK_COLORS };
