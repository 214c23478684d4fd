// The sensors: last batch, counts and each one's last status (drops,
// spool, what it cannot see), rendered key by key.
import { getJSON, setStatus } from './api.js';
import { clear, el, table, when } from './dom.js';

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
	return el('dl', { class: 'evidence' }, flat.map(([k, v]) => [el('dt', { class: /drop|lost|fail|blind|cannot|unsupported/.test(k) && v !== '0' ? 'warn' : '' }, k), el('dd', {}, v)]));
}

let timer = null;

export async function showSensors(view) {
	const box = el('div', { id: 'sensors', class: 'card' });
	clear(view).append(el('h1', {}, 'Sensors'), box);
	const load = async () => {
		const sensors = await getJSON('/v1/sensors');
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
