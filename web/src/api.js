// The console reads the same JSON API as everyone else, with its session
// cookie (same origin); an expired session sends the browser to log in.
export async function getJSON(path) {
	const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
	if (r.status === 401 || r.status === 403) {
		if (r.status === 401) location.assign('/login');
		throw new Error('not allowed to read (' + r.status + ')');
	}
	if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
	return r.json();
}

export function setStatus(text, bad) {
	const s = document.getElementById('status');
	if (!s) return;
	s.textContent = text;
	s.classList.toggle('bad', !!bad);
}
