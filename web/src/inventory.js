// The token inventory: the collector sorts, filters and pages it
// (GET /v1/tokens?sort=&limit=&cursor=&filters), TanStack Table (headless,
// manual sorting and filtering) holds the columns and their state, we
// render the rows as text. "Load more" follows the page's cursor; the
// loaded rows are refreshed every few seconds while shown.
import { createTable, functionalUpdate, getCoreRowModel } from '@tanstack/table-core';
import { getJSON, setStatus } from './api.js';
import { clear, el, tokenLink, whenStacked } from './dom.js';

const POLL_MS = 5000;
const PAGE = 100;
const PAGE_MAX = 500; // the API's largest page
// columns the API sorts by (descending), by the API's name
const SERVER_SORT = { risk: 'risk', requests: 'requests', last_seen: 'last_seen', first_seen: 'first_seen' };
// filters the API applies, by the API's parameter
const SERVER_FILTER = { fingerprint: 'fingerprint', risk: 'min_risk', type: 'type', namespace: 'namespace',
	workloads: 'workload', nodes: 'node', held: 'held' };

function uniq(list) {
	return [...new Set(list.filter((v) => v !== undefined && v !== null && v !== ''))].sort();
}

function reasonText(r) {
	if (r && typeof r === 'object') return [r.rule, r.reason].filter(Boolean).join(': ');
	return String(r);
}

// Workload of a process: its Kubernetes namespace when known, and its executable.
function workloads(t) {
	return uniq((t.processes || []).map((p) => (p.k8s_namespace ? p.k8s_namespace + '/' : '') + p.exe));
}

function namespaces(t) {
	return uniq((t.processes || []).map((p) => p.k8s_namespace || ''));
}

const columns = [
	{ id: 'fingerprint', header: 'Fingerprint', accessorFn: (t) => t.fingerprint, enableSorting: false,
		render: (t) => tokenLink(t.fingerprint, t.fingerprint.slice(0, 12) + '…') },
	{ id: 'type', header: 'Type', accessorFn: (t) => t.token_type, enableSorting: false },
	{ id: 'risk', header: 'Risk', accessorFn: (t) => (t.risk && t.risk.score !== null && t.risk.score !== undefined ? t.risk.score : -1),
		sortDescFirst: true,
		render: (t) => {
			const s = t.risk && t.risk.score;
			if (s === null || s === undefined) return el('span', { class: 'muted' }, 'not assessed');
			return el('span', { class: 'score ' + scoreClass(s) }, String(s));
		} },
	{ id: 'reasons', header: 'Why', enableSorting: false,
		accessorFn: (t) => ((t.risk && t.risk.reasons) || []).map(reasonText).join('; '),
		render: (t) => el('ul', { class: 'reasons' }, ((t.risk && t.risk.reasons) || []).map((r) => el('li', {}, reasonText(r)))) },
	{ id: 'requests', header: 'Requests', accessorFn: (t) => t.requests || 0, sortDescFirst: true },
	{ id: 'workloads', header: 'Processes / workloads', accessorFn: workloads,
		enableSorting: false,
		render: (t) => el('ul', { class: 'plain' }, workloads(t).slice(0, 4).map((w) => el('li', {}, w)),
			workloads(t).length > 4 ? el('li', { class: 'muted' }, '+' + (workloads(t).length - 4) + ' more') : null) },
	{ id: 'namespace', header: 'Namespace', accessorFn: namespaces, enableSorting: false,
		render: (t) => namespaces(t).join(', ') },
	{ id: 'nodes', header: 'Nodes', accessorFn: (t) => t.nodes || [],
		enableSorting: false,
		render: (t) => (t.nodes || []).join(', ') },
	{ id: 'destinations', header: 'Destinations', enableSorting: false,
		accessorFn: (t) => (t.destinations || []).map((d) => d.host || d.dst).join(' '),
		render: (t) => el('ul', { class: 'plain' }, (t.destinations || []).slice(0, 4).map((d) =>
			el('li', {}, (d.host || d.dst) + (d.tls ? '' : ' (plaintext)')))) },
	{ id: 'first_seen', header: 'First seen', accessorFn: (t) => t.first_seen || '', sortDescFirst: true,
		render: (t) => whenStacked(t.first_seen) },
	{ id: 'last_seen', header: 'Last seen', accessorFn: (t) => t.last_seen || '', sortDescFirst: true, render: (t) => whenStacked(t.last_seen) },
	{ id: 'held', header: 'Held', accessorFn: (t) => t.held_state || '', enableSorting: false,
		render: (t) => el('span', { class: 'held ' + (t.held_state || '') }, (t.held_state || '').replace(/_/g, ' ')) },
];

export function scoreClass(s) {
	return s >= 75 ? 'critical' : s >= 50 ? 'high' : s >= 25 ? 'medium' : 'low';
}

let table = null;
let state = null;
let timer = null;
let rows = [];      // the tokens loaded so far, in the server's order
let next = null;    // the cursor of the next page, or null on the last
let seq = 0;        // answers to an older query are dropped

function makeTable(onChange) {
	const t = createTable({
		data: rows, columns, state: {}, onStateChange: () => {}, renderFallbackValue: '',
		getCoreRowModel: getCoreRowModel(), manualSorting: true, manualFiltering: true,
	});
	state = state || { ...t.initialState, sorting: [{ id: 'risk', desc: true }] };
	t.setOptions((prev) => ({
		...prev, state,
		onStateChange: (updater) => {
			state = functionalUpdate(updater, state);
			t.setOptions((p) => ({ ...p, state }));
			onChange();
		},
	}));
	return t;
}

function current(id) {
	return (state.columnFilters.find((f) => f.id === id) || {}).value || '';
}

// The query of the first page for the table's sort and filters; null when
// no token can match (a value the API would refuse), so nothing is asked.
function query(limit, cursor) {
	const sort = SERVER_SORT[(state.sorting[0] || {}).id] || 'risk';
	const q = new URLSearchParams({ sort, limit: String(limit) });
	for (const [id, param] of Object.entries(SERVER_FILTER)) {
		let v = String(current(id)).trim();
		if (!v) continue;
		if (id === 'fingerprint') {
			v = v.toLowerCase();
			if (!/^[0-9a-f]{1,32}$/.test(v)) return null;
		}
		if (id === 'risk') {
			const n = Number(v);
			if (n > 100) return null;
			if (!Number.isInteger(n) || n < 0) continue;
			v = String(n);
		}
		q.set(param, v);
	}
	if (cursor) q.set('cursor', cursor);
	return q;
}

// A page and the query it answers ("none=1" when nothing was asked).
async function fetchPage(limit, cursor) {
	const q = query(limit, cursor);
	if (!q) return { page: { tokens: [] }, asked: 'none=1' };
	return { page: await getJSON('/v1/tokens?' + q.toString()), asked: q.toString() };
}

function setFilter(id, value) {
	table.getColumn(id).setFilterValue(value || undefined);
}

function filterBar() {
	// the choices of the loaded rows, and the one selected even when none of them has it
	const select = (id, label, values) => el('label', {}, label + ' ',
		el('select', { id: 'filter-' + id, onchange: (e) => setFilter(id, e.target.value) },
			el('option', { value: '' }, 'any'),
			uniq(values.concat([current(id)])).map((v) => el('option', { value: v, selected: v === current(id) }, v))));
	return el('div', { class: 'filters', id: 'filters' },
		el('label', {}, 'Fingerprint ', el('input', { id: 'filter-fingerprint', type: 'search', placeholder: 'prefix', maxlength: 32,
			value: current('fingerprint'), oninput: (e) => setFilter('fingerprint', e.target.value.trim()) })),
		el('label', {}, 'Risk ≥ ', el('input', { id: 'filter-risk', type: 'number', min: 0, max: 100, step: 1,
			value: current('risk'), oninput: (e) => setFilter('risk', e.target.value) })),
		select('type', 'Type', rows.map((t) => t.token_type)),
		select('namespace', 'Namespace', rows.flatMap(namespaces)),
		select('workloads', 'Workload', rows.flatMap(workloads)),
		select('nodes', 'Node', rows.flatMap((t) => t.nodes || [])),
		el('label', {}, 'Held ', el('select', { id: 'filter-held', onchange: (e) => setFilter('held', e.target.value) },
			el('option', { value: '' }, 'any'),
			['held_and_used', 'held_never_used', 'used_not_held'].map((v) =>
				el('option', { value: v, selected: v === current('held') }, v)))));
}

function renderRows(tbody, count, more) {
	clear(tbody);
	for (const row of table.getRowModel().rows) {
		const tr = el('tr', { dataset: { fingerprint: row.original.fingerprint } });
		for (const cell of row.getVisibleCells()) {
			const def = cell.column.columnDef;
			const v = def.render ? def.render(row.original) : cell.getValue();
			tr.appendChild(el('td', { class: 'col-' + cell.column.id }, v));
		}
		tbody.appendChild(tr);
	}
	count.textContent = rows.length + ' tokens' + (next ? ' shown, more to load' : '');
	more.hidden = !next;
}

function renderHead(thead, onSort) {
	clear(thead);
	for (const hg of table.getHeaderGroups()) {
		thead.appendChild(el('tr', {}, hg.headers.map((h) => {
			const sorted = h.column.getIsSorted();
			const can = h.column.getCanSort();
			return el('th', { class: can ? 'sortable' : '', dataset: { col: h.column.id },
				'aria-sort': sorted ? (sorted === 'desc' ? 'descending' : 'ascending') : null,
				onclick: can ? () => onSort(h.column.id) : null },
			h.column.columnDef.header, sorted ? (sorted === 'desc' ? ' ▼' : ' ▲') : '');
		})));
	}
}

export async function showInventory(view) {
	const thead = el('thead'), tbody = el('tbody'), count = el('span', { class: 'muted', id: 'count' });
	const filters = el('div');
	const more = el('button', { id: 'load-more', type: 'button', hidden: true }, 'Load more');
	const grid = el('table', { class: 'grid', id: 'inventory' }, thead, tbody);
	let pending = null;
	const show = ({ page, asked }, append) => {
		rows = append ? rows.concat(page.tokens) : page.tokens;
		next = page.next_cursor || null;
		table.setOptions((p) => ({ ...p, data: rows }));
		renderHead(thead, sortBy);
		renderRows(tbody, count, more);
		// new types, nodes or workloads appear in the selects; the focused input keeps its value
		if (!filters.contains(document.activeElement)) clear(filters).appendChild(filterBar());
		// what the rows answer, for whoever waits on them
		if (!append) grid.dataset.query = asked;
		setStatus('updated ' + new Date().toLocaleTimeString());
	};
	// the first page again, for the table's current sort and filters
	const reload = async () => {
		const my = ++seq;
		try {
			const page = await fetchPage(PAGE);
			if (my === seq) show(page, false);
		} catch (e) {
			setStatus(e.message, true);
		}
	};
	// typing in a filter asks once it pauses
	const onChange = () => {
		clearTimeout(pending);
		pending = setTimeout(reload, 150);
	};
	const sortBy = (id) => {
		state = { ...state, sorting: [{ id, desc: true }] };
		table.setOptions((p) => ({ ...p, state }));
		reload();
	};
	more.addEventListener('click', async () => {
		if (!next) return;
		const my = seq;
		more.disabled = true;
		try {
			const page = await fetchPage(PAGE, next);
			if (my === seq) show(page, true);
		} catch (e) {
			setStatus(e.message, true);
		} finally {
			more.disabled = false;
		}
	});
	rows = [];
	next = null;
	table = makeTable(onChange);
	clear(view).append(el('h1', {}, 'Token inventory'), filters, count,
		el('div', { class: 'scroll' }, grid), more);
	++seq;
	show(await fetchPage(PAGE), false);
	const poll = async () => {
		if (!view.contains(tbody)) return; // another page is shown
		const my = ++seq;
		try {
			// the rows loaded so far, refreshed (up to the API's largest page)
			const page = await fetchPage(Math.min(PAGE_MAX, Math.max(PAGE, rows.length)));
			if (my === seq) show(page, false);
		} catch (e) {
			setStatus(e.message, true);
		}
		timer = setTimeout(poll, POLL_MS);
	};
	clearTimeout(timer);
	timer = setTimeout(poll, POLL_MS);
}
