// The alerts feed, newest first, refreshed while shown.
import { getJSON, setStatus } from './api.js';
import { clear, el, table, tokenLink, when } from './dom.js';

let timer = null;

export async function showAlerts(view) {
	const box = el('div', { id: 'alerts', class: 'card' });
	const sevSel = el('select', { id: 'alerts-severity' }, ['info', 'low', 'medium', 'high', 'critical'].map((s) => el('option', { value: s }, s)));
	clear(view).append(el('h1', {}, 'Alerts'), el('div', { class: 'filters' }, el('label', {}, 'Minimum severity ', sevSel)), box);
	const load = async () => {
		const alerts = await getJSON('/v1/alerts?limit=500&min_severity=' + encodeURIComponent(sevSel.value));
		clear(box).append(alerts.length ? table(['Last seen', 'Severity', 'Rule', 'Token', 'Type', 'Subject', 'Reason', 'Count', 'State'],
			alerts.map((a) => [when(a.last_seen), el('span', { class: 'sev ' + a.severity }, a.severity), a.rule,
				tokenLink(a.fingerprint, a.fingerprint.slice(0, 12) + '…'), a.token_type, a.subject || '', a.reason,
				String(a.count), a.open ? 'open' : 'resolved']), 'grid alerts')
			: el('p', { class: 'muted' }, 'No alerts.'));
		setStatus('updated ' + new Date().toLocaleTimeString());
	};
	sevSel.addEventListener('change', () => load().catch((e) => setStatus(e.message, true)));
	await load();
	const poll = async () => {
		if (!view.contains(box)) return;
		try { await load(); } catch (e) { setStatus(e.message, true); }
		timer = setTimeout(poll, 5000);
	};
	clearTimeout(timer);
	timer = setTimeout(poll, 5000);
}
