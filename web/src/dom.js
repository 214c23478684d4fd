// Building DOM nodes. Every value is set as text (textContent or a text
// node), never parsed as HTML: what the collector stores comes from
// sensors and is untrusted.

// el('a', {href: '#/x', class: 'c'}, 'text', child, ...): strings become text nodes.
export function el(tag, attrs, ...children) {
	const node = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') node.className = v;
		else if (k === 'dataset') Object.assign(node.dataset, v);
		else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
		else node.setAttribute(k, v === true ? '' : String(v));
	}
	append(node, children);
	return node;
}

function append(node, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false) continue;
		if (Array.isArray(c)) append(node, c);
		else if (c instanceof Node) node.appendChild(c);
		else node.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(node) {
	while (node.firstChild) node.removeChild(node.firstChild);
	return node;
}

// A link to a console route; the fingerprint is checked so the href is ours.
export function tokenLink(fp, text) {
	const ok = typeof fp === 'string' && /^[0-9a-f]{32}$/.test(fp);
	return ok ? el('a', { href: '#/token/' + fp, class: 'fp' }, text || fp) : el('span', {}, String(fp));
}

// "2026-12-03T14:20:00Z" -> "2026-12-03 14:20:00" (UTC, as stored).
export function when(t) {
	if (!t) return '';
	return String(t).replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

function blank(c) {
	return c === undefined || c === null || c === '' || (c instanceof Node && c.textContent === '');
}

// A grid of text cells. opts.empty: what to say instead of an empty table;
// opts.optional: headers of columns left out when no row has a value there
// (pod, image, ... on a host outside Kubernetes).
export function table(headers, rows, cls, opts) {
	const o = opts || {};
	if (!rows.length && o.empty) return el('p', { class: 'muted' }, o.empty);
	const keep = headers.map((h, i) => !(o.optional || []).includes(h) || rows.some((r) => !blank(r[i])));
	const pick = (list) => list.filter((_, i) => keep[i]);
	return el('table', { class: cls || 'grid' },
		el('thead', {}, el('tr', {}, pick(headers).map((h) => el('th', {}, h)))),
		el('tbody', {}, rows.map((r) => el('tr', {}, pick(r).map((c) => el('td', {}, c))))));
}

// "2026-12-03T14:20:00Z" as the date over the time, for narrow columns.
export function whenStacked(t) {
	const s = when(t);
	const i = s.indexOf(' ');
	return i < 0 ? s : el('span', { class: 'stacked', title: s }, s.slice(0, i), el('br'), s.slice(i + 1));
}

export function section(title, ...children) {
	return el('section', { class: 'card' }, el('h2', {}, title), ...children);
}
