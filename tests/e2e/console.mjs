// The console in a real browser: Debian's chromium, headless, driven by
// playwright-core (never a downloaded browser). Run by run_console.py,
// which fed the collector; prints one JSON line per test:
// {"name", "status": "PASS"|"FAIL"|"SKIP", "detail"}.
//
// Environment: TOKENTAP_URL, TOKENTAP_READ_TOKEN_FILE, TOKENTAP_FPS (JSON
// {t1, t3, t4}), TOKENTAP_HOSTILE_EXE, TOKENTAP_WEB_MODULES,
// TOKENTAP_CHROMIUM, TOKENTAP_SCREENSHOTS, TOKENTAP_TEXTS (page texts and
// JSON go there, for the runner's search for raw credentials).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(path.resolve(env.TOKENTAP_WEB_MODULES), 'x.js'));
const { chromium } = require('playwright-core');

const BASE = env.TOKENTAP_URL;
const FPS = JSON.parse(env.TOKENTAP_FPS);
const HOSTILE_EXE = env.TOKENTAP_HOSTILE_EXE;
const HOSTILE_DIR_TEXT = '"><img src=x onerror=window.__pwned=1>';
const readToken = fs.readFileSync(env.TOKENTAP_READ_TOKEN_FILE, 'utf8').trim();
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let failed = 0;
function report(name, status, detail) {
	if (status === 'FAIL') failed++;
	console.log(JSON.stringify({ name, status, detail: detail || '' }));
}

class Fail extends Error {}
function check(cond, msg) {
	if (!cond) throw new Fail(msg);
}

let nText = 0;
function keepText(label, text) {
	fs.writeFileSync(path.join(env.TOKENTAP_TEXTS, `${String(++nText).padStart(2, '0')}-${label}.txt`), text);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(env.TOKENTAP_SCREENSHOTS, name + '.png'), fullPage: true });
	keepText(name, await page.evaluate(() => document.body.innerText));
}

async function apiJSON(ctx, p) {
	const r = await ctx.request.get(BASE + p, { headers: { Authorization: 'Bearer ' + readToken } });
	const body = await r.text();
	keepText('api', body);
	check(r.ok(), `GET ${p}: ${r.status()}`);
	return JSON.parse(body);
}

const steps = [];
function step(name, fn) {
	steps.push([name, fn]);
}

// What the page must never do with stored values: run them.
const dialogs = [];
const cspViolations = [];

step('headers_and_csp', async ({ page }) => {
	const r = await page.goto(BASE + '/login');
	const h = r.headers();
	check(h['content-security-policy'] === CSP, 'CSP on /login: ' + h['content-security-policy']);
	check(h['x-content-type-options'] === 'nosniff', 'nosniff missing');
	check(h['referrer-policy'] === 'no-referrer', 'Referrer-Policy missing');
	check(h['cache-control'] === 'no-store', 'page Cache-Control: ' + h['cache-control']);
	const scripts = await page.$$eval('script', (s) => s.map((x) => ({ src: x.getAttribute('src'), text: x.textContent })));
	check(scripts.length === 1 && /^\/assets\/console\.[0-9a-f]{12}\.js$/.test(scripts[0].src) && !scripts[0].text.trim(),
		'expected one external hashed script, got ' + JSON.stringify(scripts));
	const js = await page.request.get(BASE + scripts[0].src);
	check(/immutable/.test(js.headers()['cache-control'] || ''), 'bundle Cache-Control: ' + js.headers()['cache-control']);
	check(/javascript/.test(js.headers()['content-type'] || ''), 'bundle Content-Type: ' + js.headers()['content-type']);
});

step('login_required', async ({ page, context }) => {
	const r = await page.goto(BASE + '/');
	check(new URL(page.url()).pathname === '/login', 'unauthenticated / ended at ' + page.url());
	check(r.status() === 200, 'login page status ' + r.status());
	const api = await context.request.get(BASE + '/v1/tokens');
	check(api.status() === 401, 'GET /v1/tokens without credentials: ' + api.status());
	await page.fill('#token', 'not-the-read-token');
	await Promise.all([page.waitForURL(/\/login\?failed=1$/), page.click('button[type=submit]')]);
	check(await page.isVisible('#login-error'), 'no error shown after a wrong token');
	await shot(page, 'login');
});

step('login_cross_site_refused', async ({ context }) => {
	const r = await context.request.post(BASE + '/login', {
		headers: { Origin: 'http://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
		data: 'token=' + encodeURIComponent(readToken), maxRedirects: 0,
	});
	check(r.status() === 403, 'POST /login from another origin: ' + r.status());
	check(!(r.headers()['set-cookie'] || ''), 'a cross-site login set a cookie');
	const none = await context.request.post(BASE + '/login', {
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		data: 'token=' + encodeURIComponent(readToken), maxRedirects: 0,
	});
	check(none.status() === 403, 'POST /login without Origin: ' + none.status());
});

step('login', async ({ page, context }) => {
	await page.goto(BASE + '/login');
	await page.fill('#token', readToken);
	await Promise.all([page.waitForURL(BASE + '/'), page.click('button[type=submit]')]);
	await page.waitForSelector('body[data-ready=inventory]');
	const cookies = await context.cookies(BASE);
	const c = cookies.find((x) => x.name === 'tokentap_session');
	check(c, 'no session cookie after login');
	check(c.httpOnly && c.sameSite === 'Strict' && c.path === '/', 'cookie flags: ' + JSON.stringify({ ...c, value: undefined }));
	check(c.value !== readToken && !c.value.includes(readToken), 'the cookie holds the read token');
	check(/^[0-9a-f]{64}$/.test(c.value), 'session value is not opaque hex');
	check(!(await page.evaluate(() => document.cookie)).includes('tokentap_session'), 'the cookie is readable by script');
});

// The rows once the inventory shows the answer to a query containing want.
async function rowsFor(page, want) {
	await page.waitForSelector(`#inventory[data-query*="${want}"]`);
	return page.$$eval('#inventory tbody tr', (trs) => trs.map((tr) => tr.dataset.fingerprint));
}

step('inventory_sorted_by_risk', async ({ page, context }) => {
	// the console's first page: the collector sorts and pages
	const api = (await apiJSON(context, '/v1/tokens?sort=risk&limit=100')).tokens;
	await page.goto(BASE + '/#/');
	await page.waitForSelector('#inventory tbody tr');
	const rows = await page.$$eval('#inventory tbody tr', (trs) => trs.map((tr) => tr.dataset.fingerprint));
	check(JSON.stringify(rows) === JSON.stringify(api.map((t) => t.fingerprint)),
		'row order differs from GET /v1/tokens?sort=risk&limit=100: ' + rows.length + ' rows vs ' + api.length);
	const scores = await page.$$eval('#inventory tbody td.col-risk', (tds) => tds.map((td) => td.textContent));
	const want = api.map((t) => (t.risk && Number.isInteger(t.risk.score) ? String(t.risk.score) : 'not assessed'));
	check(JSON.stringify(scores) === JSON.stringify(want), `scores shown ${scores} vs API ${want}`);
	const nums = api.map((t) => t.risk.score);
	check(nums.every((s, i) => i === 0 || nums[i - 1] >= s), 'API scores not descending: ' + nums);
	const why = await page.textContent(`#inventory tr[data-fingerprint="${FPS.t3}"] td.col-reasons`);
	check(/wrong_provider/.test(why), 'its reasons do not say wrong_provider: ' + why);
	// a click on the Requests header sorts by requests, descending first
	await page.click('th[data-col=requests]');
	await rowsFor(page, 'sort=requests');
	const req = await page.$$eval('#inventory tbody td.col-requests', (tds) => tds.map((td) => Number(td.textContent)));
	check(req.every((v, i) => i === 0 || req[i - 1] >= v), 'not sorted by requests: ' + req);
	await page.click('th[data-col=risk]');
	await rowsFor(page, 'sort=risk');
	await shot(page, 'inventory');
});

step('inventory_filters', async ({ page }) => {
	await page.goto(BASE + '/#/');
	await page.waitForSelector('#inventory tbody tr');
	await page.fill('#filter-fingerprint', FPS.t1.slice(0, 6));
	let rows = await rowsFor(page, 'fingerprint=' + FPS.t1.slice(0, 6));
	check(rows.length >= 1 && rows.every((f) => f.startsWith(FPS.t1.slice(0, 6))) && rows.includes(FPS.t1),
		'fingerprint prefix filter: ' + rows);
	await page.fill('#filter-fingerprint', '');
	await page.selectOption('#filter-held', 'held_never_used');
	rows = await rowsFor(page, 'held=held_never_used');
	check(rows.includes(FPS.t4) && !rows.includes(FPS.t1) && !rows.includes(FPS.t3), 'held filter: ' + rows);
	await shot(page, 'inventory-filtered');
	await page.selectOption('#filter-held', '');
	await page.selectOption('#filter-type', 'github_pat');
	rows = await rowsFor(page, 'type=github_pat');
	check(rows.includes(FPS.t3) && !rows.includes(FPS.t1), 'type filter: ' + rows);
	await page.selectOption('#filter-type', '');
	await page.fill('#filter-risk', '101');
	rows = await rowsFor(page, 'none=1');
	check(rows.length === 0, 'risk >= 101 left rows: ' + rows.length);
	// a lowest score the collector applies: every row shown has it
	await page.fill('#filter-risk', '1');
	await rowsFor(page, 'min_risk=1');
	const scores = await page.$$eval('#inventory tbody td.col-risk', (tds) => tds.map((td) => td.textContent));
	check(scores.every((x) => Number(x) >= 1), 'risk >= 1 shows ' + scores);
	await page.fill('#filter-risk', '');
});

// uPlot's data: [x seconds, series...]; the API's per-minute totals.
function sameAsApi(data, usage, step) {
	const want = new Map();
	for (const u of usage) {
		const t = Math.floor(Date.parse(u.minute) / 1000 / step) * step;
		want.set(t, (want.get(t) || 0) + u.count);
	}
	const got = new Map();
	data[0].forEach((t, i) => {
		const sum = data.slice(1).reduce((s, serie) => s + (serie[i] || 0), 0);
		if (sum) got.set(t, sum);
	});
	return JSON.stringify([...want].sort()) === JSON.stringify([...got].sort()) ? null
		: `chart ${JSON.stringify([...got])} vs API ${JSON.stringify([...want])}`;
}

step('token_page_chart', async ({ page, context }) => {
	const tok = await apiJSON(context, '/v1/tokens/' + FPS.t1);
	await page.goto(BASE + '/#/');
	await page.waitForSelector(`#inventory tr[data-fingerprint="${FPS.t1}"] a.fp`);
	await page.click(`#inventory tr[data-fingerprint="${FPS.t1}"] a.fp`);
	await page.waitForSelector('body[data-ready=token]');
	check((await page.textContent('#token-fp')) === FPS.t1, 'token page shows another fingerprint');
	await page.waitForSelector('#chart canvas');
	const total = await page.evaluate(() => document.querySelector('#chart').uplot.data);
	let diff = sameAsApi(total, tok.usage, 60);
	check(!diff, 'per minute: ' + diff);
	check(total.length === 2, 'total view has ' + (total.length - 1) + ' series');
	const sum = tok.usage.reduce((s, u) => s + u.count, 0);
	check(sum === tok.requests, `API usage sums to ${sum}, requests ${tok.requests}`);
	await page.selectOption('#chart-split', 'exe');
	const byExe = await page.evaluate(() => ({ data: document.querySelector('#chart').uplot.data,
		labels: document.querySelector('#chart').uplot.series.slice(1).map((s) => s.label) }));
	diff = sameAsApi(byExe.data, tok.usage, 60);
	check(!diff, 'split by executable: ' + diff);
	check(byExe.labels.includes(HOSTILE_EXE), 'no series for the hostile executable: ' + byExe.labels);
	const perExe = new Map();
	for (const u of tok.usage_split) perExe.set(u.exe, (perExe.get(u.exe) || 0) + u.count);
	byExe.labels.forEach((l, i) => {
		const got = byExe.data[i + 1].reduce((a, b) => a + b, 0);
		check(got === perExe.get(l), `series ${i}: ${got} requests vs API ${perExe.get(l)}`);
	});
	await page.selectOption('#chart-split', 'workload');
	const byWorkload = await page.evaluate(() => ({ data: document.querySelector('#chart').uplot.data,
		labels: document.querySelector('#chart').uplot.series.slice(1).map((s) => s.label) }));
	diff = sameAsApi(byWorkload.data, tok.usage, 60);
	check(!diff, 'split by workload: ' + diff);
	const perWorkload = new Map();
	for (const u of tok.usage_split) perWorkload.set(u.workload, (perWorkload.get(u.workload) || 0) + u.count);
	check(byWorkload.labels.length === perWorkload.size && byWorkload.labels.every((l) => perWorkload.has(l)),
		'workload series ' + byWorkload.labels + ' vs API ' + [...perWorkload.keys()]);
	byWorkload.labels.forEach((l, i) => {
		const got = byWorkload.data[i + 1].reduce((a, b) => a + b, 0);
		check(got === perWorkload.get(l), `workload series ${l}: ${got} requests vs API ${perWorkload.get(l)}`);
	});
	await page.selectOption('#chart-step', '3600');
	const hourly = await page.evaluate(() => document.querySelector('#chart').uplot.data);
	diff = sameAsApi(hourly, tok.usage, 3600);
	check(!diff, 'per hour: ' + diff);
	await page.selectOption('#chart-step', '60');
	await page.selectOption('#chart-split', 'node');
	const marks = await page.$$eval('#chart-marks li', (li) => li.map((x) => x.textContent));
	check(marks.some((m) => m.includes('first workload') && m.includes(HOSTILE_EXE)), 'no first-sighting mark for the hostile workload');
	check(marks.some((m) => m.includes('first destination')) && marks.some((m) => m.includes('first node')), 'destination/node marks missing');
	const holders = await page.$$eval('table.holders tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
	check(new Set(holders).size === holders.length, 'holders not grouped by executable and node: ' + holders);
	const curlRows = holders.filter((h) => /\/curl$/.test(h));
	check(curlRows.length === 1, 'three curl processes should make one holder row, got ' + curlRows.length);
	// outside Kubernetes the pod columns are left out, and an empty section says so
	const heads = await page.$$eval('table.holders thead th', (th) => th.map((x) => x.textContent));
	check(heads.includes('Executable') && heads.includes('Command lines') && !heads.includes('Pods') && !heads.includes('Image'),
		'holder columns: ' + heads);
	const body = await page.textContent('#view');
	check(body.includes('No process seen holding it.') && body.includes('No revocation hook has run for it.'),
		'the empty held and revocation sections do not say they are empty');
	const json = await page.getAttribute('#json-link', 'href');
	check(json === '/v1/tokens/' + FPS.t1, 'JSON link: ' + json);
	const viaCookie = await context.request.get(BASE + json);
	check(viaCookie.ok(), 'the JSON link with the session cookie: ' + viaCookie.status());
	await shot(page, 'token');
});

step('hostile_values_inert', async ({ page }) => {
	await page.goto(BASE + '/#/token/' + FPS.t1);
	await page.waitForSelector('body[data-ready=token]');
	await page.waitForSelector('table.holders');
	const text = await page.textContent('table.holders');
	check(text.includes(HOSTILE_EXE), 'the hostile executable path is not shown literally');
	check(text.includes('<script>window.__pwned=3</script>'), 'the hostile command line is not shown literally');
	check(text.includes('<img src=x onerror=window.__pwned=4>'), 'the hostile header argument is not shown literally');
	const injected = await page.evaluate(() => ({
		pwned: typeof window.__pwned,
		imgs: document.querySelectorAll('#view img').length,
		scripts: document.querySelectorAll('script').length,
	}));
	check(injected.pwned === 'undefined', 'a payload ran: window.__pwned is set');
	check(injected.imgs === 0, 'a payload made ' + injected.imgs + ' img elements');
	check(injected.scripts === 1, 'the page has ' + injected.scripts + ' script elements');
	await page.goto(BASE + '/#/alerts');
	await page.waitForSelector('body[data-ready=alerts]');
	const alertsText = await page.textContent('#alerts');
	check(alertsText.includes(HOSTILE_DIR_TEXT), 'the alerts feed does not show the hostile subject literally');
	check(await page.evaluate(() => typeof window.__pwned) === 'undefined', 'a payload ran on the alerts page');
	check(dialogs.length === 0, 'dialogs opened: ' + dialogs.join(', '));
});

step('inline_script_refused', async ({ page }) => {
	await page.goto(BASE + '/#/');
	await page.waitForSelector('body[data-ready=inventory]');
	const r = await page.evaluate(() => new Promise((resolve) => {
		let violated = false;
		document.addEventListener('securitypolicyviolation', () => { violated = true; });
		const s = document.createElement('script');
		s.textContent = 'window.__inline = 1';
		document.body.appendChild(s);
		const a = document.createElement('a');
		a.setAttribute('onclick', 'window.__inline = 2');
		document.body.appendChild(a);
		a.click();
		setTimeout(() => resolve({ inline: typeof window.__inline, violated }), 200);
	}));
	check(r.inline === 'undefined', 'an inline script ran');
	check(r.violated, 'no securitypolicyviolation event');
});

step('alerts_feed', async ({ page, context }) => {
	const api = await apiJSON(context, '/v1/alerts?limit=500');
	await page.goto(BASE + '/#/alerts');
	await page.waitForSelector('body[data-ready=alerts]');
	const rows = await page.$$eval('table.alerts tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
	check(rows.length === api.length, `alerts shown ${rows.length} vs API ${api.length}`);
	check(rows.some((r) => r[2] === 'wrong_provider' && r[3].startsWith(FPS.t3.slice(0, 12))), 'no wrong_provider alert row for T3');
	check(rows.some((r) => r[2] === 'new_workload' && r[3].startsWith(FPS.t1.slice(0, 12))), 'no new_workload alert row for T1');
	await page.selectOption('#alerts-severity', 'high');
	await page.waitForFunction(() => [...document.querySelectorAll('table.alerts tbody tr td:nth-child(2)')]
		.every((td) => ['high', 'critical'].includes(td.textContent)));
	await page.selectOption('#alerts-severity', 'info');
	await page.waitForFunction((n) => document.querySelectorAll('table.alerts tbody tr').length === n, api.length);
	await shot(page, 'alerts');
});

step('sensors_page', async ({ page, context }) => {
	const api = await apiJSON(context, '/v1/sensors');
	await page.goto(BASE + '/#/sensors');
	await page.waitForSelector('body[data-ready=sensors]');
	const rows = await page.$$eval('table.sensors tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
	check(rows.length === api.length && api.length >= 1, `sensors shown ${rows.length} vs API ${api.length}`);
	check(rows[0][0] === api[0].node && rows[0][5] === String(api[0].batches), 'sensor row differs: ' + rows[0].slice(0, 6));
	// what each node cannot see: one row per uncovered entry of GET /v1/coverage
	const blind = (await apiJSON(context, '/v1/coverage')).filter((c) => !c.covered);
	const crow = await page.$$eval('table.coverage tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
	check(crow.length === blind.length, `uncovered shown ${crow.length} vs API ${blind.length}`);
	if (blind.length) check(crow[0][1] === blind[0].exe && crow[0][2].startsWith(blind[0].cause), 'coverage row differs: ' + crow[0]);
	else check((await page.textContent('#coverage')).includes('Every TLS sender reported is covered'), 'no coverage note');
	await shot(page, 'sensors');
});

step('logout', async ({ page, context }) => {
	const before = (await context.cookies(BASE)).find((x) => x.name === 'tokentap_session');
	const cross = await context.request.post(BASE + '/logout', { headers: { Origin: 'http://evil.example' }, maxRedirects: 0 });
	check(cross.status() === 403, 'POST /logout from another origin: ' + cross.status());
	await page.goto(BASE + '/#/');
	await page.waitForSelector('body[data-ready=inventory]');
	await Promise.all([page.waitForURL(BASE + '/login'), page.click('form.logout button')]);
	const r = await context.request.get(BASE + '/v1/tokens', { headers: { Cookie: 'tokentap_session=' + before.value } });
	check(r.status() === 403, 'the old session still reads after logout: ' + r.status());
});

async function main() {
	const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokentap-chromium-'));
	let context;
	try {
		context = await chromium.launchPersistentContext(userDir, {
			executablePath: env.TOKENTAP_CHROMIUM,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
				'--disable-component-update'],
			viewport: { width: 1400, height: 900 },
		});
	} catch (e) {
		report('browser_start', 'FAIL', String(e.message || e).split('\n')[0]);
		fs.rmSync(userDir, { recursive: true, force: true });
		process.exit(1);
	}
	const page = context.pages()[0] || await context.newPage();
	page.on('dialog', (d) => { dialogs.push(d.type() + ': ' + d.message()); d.dismiss(); });
	page.on('console', (m) => { if (/Content.Security.Policy|Refused/.test(m.text())) cspViolations.push(m.text()); });
	page.setDefaultTimeout(15000);
	for (const [name, fn] of steps) {
		try {
			await fn({ page, context });
			report(name, 'PASS');
		} catch (e) {
			report(name, 'FAIL', e instanceof Fail ? e.message : String(e.message || e).split('\n')[0]);
			try { await shot(page, 'failed-' + name); } catch (_) { /* the page may be gone */ }
		}
	}
	await context.close();
	fs.rmSync(userDir, { recursive: true, force: true });
	process.exit(failed ? 1 : 0);
}

main();
