// Entry of the console's one script (no inline script anywhere: the CSP
// forbids it). Routes: #/ inventory, #/token/FP, #/alerts, #/sensors.
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { setStatus } from './api.js';
import { clear, el } from './dom.js';
import { showAlerts } from './alerts.js';
import { showInventory } from './inventory.js';
import { showSensors } from './sensors.js';
import { showToken } from './token.js';

async function route() {
	const view = document.getElementById('view');
	const h = location.hash.replace(/^#/, '') || '/';
	const m = h.match(/^\/token\/([0-9a-f]{32})$/);
	const page = m ? 'token' : h === '/alerts' ? 'alerts' : h === '/sensors' ? 'sensors' : 'inventory';
	for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === page);
	try {
		if (m) await showToken(view, m[1]);
		else if (page === 'alerts') await showAlerts(view);
		else if (page === 'sensors') await showSensors(view);
		else await showInventory(view);
		document.body.dataset.ready = page;
	} catch (e) {
		clear(view).append(el('p', { class: 'error' }, e.message));
		setStatus('error', true);
	}
}

function start() {
	if (document.body.dataset.page === 'login') {
		if (new URLSearchParams(location.search).has('failed'))
			document.getElementById('login-error').hidden = false;
		document.getElementById('token').focus();
		return;
	}
	window.addEventListener('hashchange', () => { delete document.body.dataset.ready; route(); });
	route();
}

start();
