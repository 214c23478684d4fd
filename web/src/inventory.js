// The token inventory: TanStack Table (headless) sorts and filters, we
// render its rows as text. Refreshed every few seconds while shown.
import {
	createTable, functionalUpdate, getCoreRowModel, getFilteredRowModel, getSortedRowModel,
} from '@tanstack/table-core';
import { getJSON, setStatus } from './api.js';
import { clear, el, tokenLink, when } from './dom.js';

const POLL_MS = 5000;

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

const equalsFilter = (row, id, v) => !v || row.getValue(id) === v;
const listFilter = (row, id, v) => !v || row.getValue(id).includes(v);

const columns = [
	{ id: 'fingerprint', header: 'Fingerprint', accessorFn: (t) => t.fingerprint,
		filterFn: (row, id, v) => !v || row.getValue(id).startsWith(v.toLowerCase()),
		render: (t) => tokenLink(t.fingerprint, t.fingerprint.slice(0, 12) + '…') },
	{ id: 'type', header: 'Type', accessorFn: (t) => t.token_type, filterFn: equalsFilter },
	{ id: 'risk', header: 'Risk', accessorFn: (t) => (t.risk && t.risk.score !== null && t.risk.score !== undefined ? t.risk.score : -1),
		filterFn: (row, id, v) => !v || row.getValue(id) >= Number(v), sortDescFirst: true,
		render: (t) => {
			const s = t.risk && t.risk.score;
			if (s === null || s === undefined) return el('span', { class: 'muted' }, 'not assessed');
			return el('span', { class: 'score ' + scoreClass(s) }, String(s));
		} },
	{ id: 'reasons', header: 'Why', enableSorting: false,
		accessorFn: (t) => ((t.risk && t.risk.reasons) || []).map(reasonText).join('; '),
		render: (t) => el('ul', { class: 'reasons' }, ((t.risk && t.risk.reasons) || []).map((r) => el('li', {}, reasonText(r)))) },
	{ id: 'requests', header: 'Requests', accessorFn: (t) => t.requests || 0, sortDescFirst: true },
	{ id: 'workloads', header: 'Processes / workloads', accessorFn: workloads, filterFn: listFilter,
		sortingFn: (a, b) => a.original.processes.length - b.original.processes.length,
		render: (t) => el('ul', { class: 'plain' }, workloads(t).slice(0, 4).map((w) => el('li', {}, w)),
			workloads(t).length > 4 ? el('li', { class: 'muted' }, '+' + (workloads(t).length - 4) + ' more') : null) },
	{ id: 'namespace', header: 'Namespace', accessorFn: namespaces, filterFn: listFilter, enableSorting: false,
		render: (t) => namespaces(t).join(', ') },
	{ id: 'nodes', header: 'Nodes', accessorFn: (t) => t.nodes || [], filterFn: listFilter,
		sortingFn: (a, b) => a.original.nodes.length - b.original.nodes.length,
		render: (t) => (t.nodes || []).join(', ') },
	{ id: 'destinations', header: 'Destinations', enableSorting: false,
		accessorFn: (t) => (t.destinations || []).map((d) => d.host || d.dst).join(' '),
		render: (t) => el('ul', { class: 'plain' }, (t.destinations || []).slice(0, 4).map((d) =>
			el('li', {}, (d.host || d.dst) + (d.tls ? '' : ' (plaintext)')))) },
	{ id: 'first_seen', header: 'First seen', accessorFn: (t) => t.first_seen || '', render: (t) => when(t.first_seen) },
	{ id: 'last_seen', header: 'Last seen', accessorFn: (t) => t.last_seen || '', sortDescFirst: true, render: (t) => when(t.last_seen) },
	{ id: 'held', header: 'Held', accessorFn: (t) => t.held_state || '', filterFn: equalsFilter,
		render: (t) => el('span', { class: 'held ' + (t.held_state || '') }, (t.held_state || '').replace(/_/g, ' ')) },
];

export function scoreClass(s) {
	return s >= 75 ? 'critical' : s >= 50 ? 'high' : s >= 25 ? 'medium' : 'low';
}

let table = null;
let state = null;
let timer = null;

function makeTable(data, onChange) {
	const t = createTable({
		data, columns, state: {}, onStateChange: () => {}, renderFallbackValue: '',
		getCoreRowModel: getCoreRowModel(), getSortedRowModel: getSortedRowModel(),
		getFilteredRowModel: getFilteredRowModel(),
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

function setFilter(id, value) {
	table.getColumn(id).setFilterValue(value || undefined);
}

function filterBar(data) {
	const current = (id) => (state.columnFilters.find((f) => f.id === id) || {}).value || '';
	const select = (id, label, values) => el('label', {}, label + ' ',
		el('select', { id: 'filter-' + id, onchange: (e) => setFilter(id, e.target.value) },
			el('option', { value: '' }, 'any'),
			values.map((v) => el('option', { value: v, selected: v === current(id) }, v === '' ? '(none)' : v))));
	return el('div', { class: 'filters', id: 'filters' },
		el('label', {}, 'Fingerprint ', el('input', { id: 'filter-fingerprint', type: 'search', placeholder: 'prefix', maxlength: 32,
			value: current('fingerprint'), oninput: (e) => setFilter('fingerprint', e.target.value.trim()) })),
		el('label', {}, 'Risk ≥ ', el('input', { id: 'filter-risk', type: 'number', min: 0, max: 100, step: 1,
			value: current('risk'), oninput: (e) => setFilter('risk', e.target.value) })),
		select('type', 'Type', uniq(data.map((t) => t.token_type))),
		select('namespace', 'Namespace', uniq(data.flatMap(namespaces)).concat([])),
		select('workloads', 'Workload', uniq(data.flatMap(workloads))),
		select('nodes', 'Node', uniq(data.flatMap((t) => t.nodes || []))),
		select('held', 'Held', ['held_and_used', 'held_never_used', 'used_not_held']));
}

function renderRows(tbody, count) {
	clear(tbody);
	const rows = table.getRowModel().rows;
	for (const row of rows) {
		const tr = el('tr', { dataset: { fingerprint: row.original.fingerprint } });
		for (const cell of row.getVisibleCells()) {
			const def = cell.column.columnDef;
			const v = def.render ? def.render(row.original) : cell.getValue();
			tr.appendChild(el('td', { class: 'col-' + cell.column.id }, v));
		}
		tbody.appendChild(tr);
	}
	count.textContent = rows.length + ' of ' + table.getCoreRowModel().rows.length + ' tokens';
}

function renderHead(thead) {
	clear(thead);
	for (const hg of table.getHeaderGroups()) {
		thead.appendChild(el('tr', {}, hg.headers.map((h) => {
			const sorted = h.column.getIsSorted();
			const can = h.column.getCanSort();
			return el('th', { class: can ? 'sortable' : '', dataset: { col: h.column.id },
				'aria-sort': sorted ? (sorted === 'desc' ? 'descending' : 'ascending') : null,
				onclick: can ? h.column.getToggleSortingHandler() : null },
			h.column.columnDef.header, sorted ? (sorted === 'desc' ? ' ▼' : ' ▲') : '');
		})));
	}
}

export async function showInventory(view) {
	const thead = el('thead'), tbody = el('tbody'), count = el('span', { class: 'muted', id: 'count' });
	const filters = el('div');
	const render = () => { renderHead(thead); renderRows(tbody, count); };
	let data = await getJSON('/v1/tokens?sort=risk');
	table = makeTable(data, render);
	clear(view).append(el('h1', {}, 'Token inventory'), filters, count,
		el('div', { class: 'scroll' }, el('table', { class: 'grid', id: 'inventory' }, thead, tbody)));
	filters.appendChild(filterBar(data));
	render();
	setStatus('updated ' + new Date().toLocaleTimeString());
	const poll = async () => {
		if (!view.contains(tbody)) return; // another page is shown
		try {
			data = await getJSON('/v1/tokens?sort=risk');
			table.setOptions((p) => ({ ...p, data }));
			render();
			// new types, nodes or workloads appear in the selects; the focused input keeps its value
			if (!filters.contains(document.activeElement)) clear(filters).appendChild(filterBar(data));
			setStatus('updated ' + new Date().toLocaleTimeString());
		} catch (e) {
			setStatus(e.message, true);
		}
		timer = setTimeout(poll, POLL_MS);
	};
	clearTimeout(timer);
	timer = setTimeout(poll, POLL_MS);
}
