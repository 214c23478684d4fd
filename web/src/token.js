// One token's forensics: usage timeline, destinations, holders grouped by
// executable and node, findings with their evidence, revocations.
import { getJSON, setStatus } from './api.js';
import { HOUR, MARK_COLORS, MIN, drawChart } from './chart.js';
import { clear, el, section, table, when } from './dom.js';
import { scoreClass } from './inventory.js';

// Finding fields shown in their own columns; the rest is its evidence.
const FINDING_COLS = new Set(['id', 'fingerprint', 'token_type', 'rule', 'severity', 'subject', 'reason',
	'weight', 'first_seen', 'last_seen', 'count', 'open', 'resolved_at', 'token_score', 'deliveries']);

function value(v) {
	if (v === null || v === undefined) return '';
	if (typeof v === 'object') return JSON.stringify(v);
	return String(v);
}

// Processes that used the token, one row per (executable, node).
function holders(token) {
	const groups = new Map();
	for (const p of token.processes || []) {
		const k = p.exe + '\u0000' + p.node;
		const g = groups.get(k) || { exe: p.exe, node: p.node, pids: new Set(), uids: new Set(), requests: 0,
			first: p.first_seen, last: p.last_seen, cmdlines: new Set(), ns: new Set(), workloads: new Set(),
			pods: new Set(), containers: new Set(), images: new Set() };
		g.pids.add(p.pid);
		g.uids.add(p.uid);
		g.requests += p.requests || 0;
		if (p.first_seen < g.first) g.first = p.first_seen;
		if (p.last_seen > g.last) g.last = p.last_seen;
		if (p.cmdline) g.cmdlines.add(p.cmdline);
		if (p.k8s_namespace) g.ns.add(p.k8s_namespace);
		// the pod watcher's names: stable across restarts, unlike pods
		if (p.workload_kind && p.workload_name) g.workloads.add(p.workload_kind + '/' + p.workload_name);
		if (p.pod) g.pods.add(p.pod);
		if (p.container) g.containers.add(p.container);
		if (p.image) g.images.add(p.image);
		groups.set(k, g);
	}
	return [...groups.values()].sort((a, b) => b.requests - a.requests);
}

function heldGroups(token) {
	const groups = new Map();
	for (const h of token.held || []) {
		const k = h.exe + '\u0000' + h.node;
		const g = groups.get(k) || { exe: h.exe, node: h.node, pids: new Set(), where: new Set(), last: h.last_seen };
		g.pids.add(h.pid);
		g.where.add(h.source + (h.name ? ' ' + h.name : ''));
		if (h.last_seen > g.last) g.last = h.last_seen;
		groups.set(k, g);
	}
	return [...groups.values()];
}

function cmdlineList(set) {
	const list = [...set];
	return el('ul', { class: 'plain cmdlines' }, list.slice(0, 3).map((c) => el('li', {}, el('code', {}, c))),
		list.length > 3 ? el('li', { class: 'muted' }, '+' + (list.length - 3) + ' more command lines') : null);
}

// One finding as a block: what, when, and its evidence key by key.
function findingCard(f) {
	const evidence = Object.entries(f).filter(([k]) => !FINDING_COLS.has(k));
	return el('div', { class: 'finding' },
		el('p', {}, el('span', { class: 'sev ' + f.severity }, f.severity), ' ', el('strong', {}, f.rule), ' ',
			f.open ? 'open' : 'resolved ' + when(f.resolved_at),
			el('span', { class: 'muted' }, ' ×' + f.count + ', first ' + when(f.first_seen) + ', last ' + when(f.last_seen))),
		el('p', {}, f.reason),
		f.subject ? el('p', {}, 'Subject: ', el('code', {}, f.subject)) : null,
		el('dl', { class: 'evidence' }, evidence.map(([k, v]) => [el('dt', {}, k), el('dd', {}, value(v))])),
		(f.deliveries || []).length ? el('p', { class: 'muted' }, 'deliveries: ',
			(f.deliveries || []).map((d) => value(d)).join('; ')) : null);
}

function chartSection(token) {
	const box = el('div', { id: 'chart', class: 'chart' });
	const stepSel = el('select', { id: 'chart-step' }, el('option', { value: MIN }, 'per minute'), el('option', { value: HOUR }, 'per hour'));
	const splitSel = el('select', { id: 'chart-split' }, el('option', { value: 'total' }, 'total'),
		el('option', { value: 'node' }, 'by node'), el('option', { value: 'workload' }, 'by workload'),
		el('option', { value: 'exe' }, 'by executable'));
	const legend = el('ul', { class: 'plain marks', id: 'chart-marks' });
	const draw = () => {
		clear(box);
		const width = Math.max(320, Math.min(1100, box.parentElement ? box.parentElement.clientWidth - 32 : 900));
		const c = drawChart(box, token, Number(stepSel.value), splitSel.value, width);
		box.uplot = c.plot; // read by the end-to-end test: the numbers drawn
		clear(legend).append(...c.marks.map((m) => el('li', { class: 'mark-' + m.kind },
			el('span', { class: 'swatch', dataset: { kind: m.kind } }), 'first ' + m.kind + ': ', el('code', {}, m.name),
			' at ' + when(new Date(m.t * 1000).toISOString()))));
	};
	stepSel.addEventListener('change', draw);
	splitSel.addEventListener('change', draw);
	const sec = section('Usage timeline',
		el('div', { class: 'controls' }, el('label', {}, 'Requests ', stepSel), el('label', {}, ' split ', splitSel),
			el('span', { class: 'muted' }, ' dashed lines: first sighting of a ',
				Object.keys(MARK_COLORS).map((k) => el('span', { class: 'mark-' + k }, k + ' ')))),
		box, legend);
	return { sec, draw };
}

export async function showToken(view, fp) {
	const token = await getJSON('/v1/tokens/' + encodeURIComponent(fp));
	const risk = token.risk || {};
	const score = risk.score === null || risk.score === undefined ? null : risk.score;
	const chart = chartSection(token);
	clear(view).append(
		el('h1', {}, 'Token ', el('code', { id: 'token-fp' }, token.fingerprint)),
		el('p', { class: 'summary' },
			el('span', { class: 'pill' }, token.token_type),
			score === null ? el('span', { class: 'muted' }, 'not assessed yet')
				: el('span', { class: 'score ' + scoreClass(score), id: 'token-score' }, 'risk ' + score),
			el('span', {}, ' ' + token.requests + ' requests, first seen ' + when(token.first_seen) + ', last seen ' + when(token.last_seen)),
			el('span', { class: 'held ' + (token.held_state || '') }, ' ' + (token.held_state || '').replace(/_/g, ' ')),
			' ', el('a', { href: '/v1/tokens/' + token.fingerprint, id: 'json-link' }, 'JSON')),
		section('Why this score',
			risk.impact_why ? el('p', {}, 'Impact: ' + risk.impact_why) : null,
			el('ul', { id: 'risk-reasons' }, (risk.reasons || []).map((r) => el('li', {}, value(r && r.rule ? r.rule + ': ' + (r.reason || '') : r))))),
		chart.sec,
		section('Destinations', table(['Host', 'Address', 'TLS', 'Library', 'Requests', 'First seen', 'Last seen'],
			(token.destinations || []).map((d) => [d.host, d.dst, d.tls ? 'yes' : 'PLAINTEXT', d.tls_library || '',
				String(d.requests), when(d.first_seen), when(d.last_seen)]), 'grid', { empty: 'Never sent.' })),
		section('Holders (by executable and node)', table(['Executable', 'Node', 'Processes', 'UIDs', 'Namespace', 'Workload', 'Pods', 'Container', 'Image', 'Requests', 'First seen', 'Last seen', 'Command lines'],
			holders(token).map((g) => [el('code', {}, g.exe), g.node, String(g.pids.size), [...g.uids].join(', '), [...g.ns].join(', '),
				[...g.workloads].join(', '), [...g.pods].join(', '), [...g.containers].join(', '), [...g.images].join(', '),
				String(g.requests), when(g.first), when(g.last), cmdlineList(g.cmdlines)]), 'grid holders',
			{ empty: 'No process has sent it.', optional: ['Namespace', 'Workload', 'Pods', 'Container', 'Image'] })),
		section('Held in environment or arguments', table(['Executable', 'Node', 'Processes', 'Where', 'Last seen'],
			heldGroups(token).map((g) => [el('code', {}, g.exe), g.node, String(g.pids.size), [...g.where].join(', '), when(g.last)]),
			'grid', { empty: 'No process seen holding it.' })),
		section('Findings', el('div', { id: 'findings' }, (token.findings || []).length
			? (token.findings || []).map(findingCard) : el('p', { class: 'muted' }, 'No findings.'))),
		section('Revocation and hooks',
			token.sensor_revocation ? el('p', {}, 'Marked for sensor-side revocation: ' + value(token.sensor_revocation)) : null,
			table(['Hook', 'When', 'Outcome', 'Exit', 'HTTP', 'Detail'], (token.revocations || []).map((r) =>
				[r.hook, when(r.ts), r.outcome, String(r.exit_code), r.http_status ? String(r.http_status) : '', r.detail || '']),
				'grid', { empty: 'No revocation hook has run for it.' })));
	chart.draw();
	setStatus('loaded ' + new Date().toLocaleTimeString());
}
