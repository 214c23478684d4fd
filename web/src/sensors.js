// The sensors: last batch, counts and each one's last status (drops,
// spool, what it cannot see), rendered key by key; then what each node
// cannot see (GET /v1/coverage): the executables that send TLS no probe
// reads, why, where to, and when last.
import { getJSON, setStatus } from './api.js';
import { clear, el, section, table, when } from './dom.js';

// Counters that mean something was lost or not seen. tls_uncovered_sockets
// is not one: it counts candidates, most of them settled as covered.
const WARN = /drop|lost|fail|rejected|errors|blind|cannot|unsupported|uncovered_reports/;

function statusList(st) {
	if (!st) return el('span', { class: 'muted' }, 'no status yet');
	const flat = [];
	const walk = (prefix, v) => {
		if (v && typeof v === 'object' && !Array.isArray(v)) {
			for (const [k, w] of Object.entries(v)) walk(prefix ? prefix + '.' + k : k, w);
		} else {
			flat.push([prefix, Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : String(v)]);
		}
	};
	walk('', st);
	return el('dl', { class: 'evidence' }, flat.map(([k, v]) => [el('dt', { class: WARN.test(k) && v !== '0' ? 'warn' : '' }, k), el('dd', {}, v)]));
}

// The uncovered entries of the coverage report, one row per node and executable.
function coverageTable(cov) {
	const blind = cov.filter((c) => !c.covered);
	const seen = cov.length - blind.length;
	const note = el('p', { class: 'muted' }, `${seen} executable(s) seen into over TLS.`);
	if (!blind.length) return [el('p', { class: 'muted' }, 'Every TLS sender reported is covered.'), note];
	return [table(['Node', 'Executable', 'Why', 'Destinations', 'Last seen'],
		blind.map((c) => [c.node, c.exe, c.detail ? `${c.cause} (${c.detail})` : c.cause,
			(c.destinations || []).join(', '), when(c.last_seen)]), 'grid coverage'), note];
}

let timer = null;

export async function showSensors(view) {
	const box = el('div', { id: 'sensors', class: 'card' });
	const blind = el('div', { id: 'coverage' });
	clear(view).append(el('h1', {}, 'Sensors'), box, section('What each node cannot see', blind));
	const load = async () => {
		const [sensors, cov] = await Promise.all([getJSON('/v1/sensors'), getJSON('/v1/coverage')]);
		clear(blind).append(...coverageTable(cov));
		clear(box).append(sensors.length ? table(['Node', 'Sensor', 'Version', 'Last batch', 'First seen', 'Batches', 'Events', 'Last seq', 'Status'],
			sensors.map((s) => [s.node, s.sensor_id, s.version, when(s.last_seen), when(s.first_seen), String(s.batches),
				String(s.events), String(s.last_seq), statusList(s.status)]), 'grid sensors')
			: el('p', { class: 'muted' }, 'No sensor has shipped yet.'));
		setStatus('updated ' + new Date().toLocaleTimeString());
	};
	await load();
	const poll = async () => {
		if (!view.contains(box)) return;
		try { await load(); } catch (e) { setStatus(e.message, true); }
		timer = setTimeout(poll, 5000);
	};
	clearTimeout(timer);
	timer = setTimeout(poll, 5000);
}
