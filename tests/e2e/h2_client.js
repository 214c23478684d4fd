// HTTP/2 requests from node's http2 client on ONE connection.
// Usage: node h2_client.js URL [N]       N requests (default 3)
//        node h2_client.js URL pre READY GO
//          one request with TT_TOKEN in x-api-key (which HPACK encoders
//          index), then create READY and wait for GO; then the same request
//          again (now a dynamic-table index) and one with TT_TOKEN2 in
//          Authorization (sent as a never-indexed literal): a connection
//          opened before the sensor started. TT_PRE_REQUESTS: how many
//          requests before the pause (default 1).
// Credentials come in env TT_TOKEN / TT_TOKEN2 and are never printed.
'use strict';
const fs = require('fs');
const http2 = require('http2');

const url = new URL(process.argv[2]);
const pre = process.argv[3] === 'pre';
const session = http2.connect(url.origin, { rejectUnauthorized: false });
session.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });

function request(token, done, apiKey) {
	const headers = { ':method': 'GET', ':path': url.pathname + url.search };

	if (apiKey)
		headers['x-api-key'] = token;
	else
		headers.authorization = 'Bearer ' + token;
	const req = session.request(headers);
	req.on('response', (h) => {
		if (h[':status'] !== 200) {
			console.log('status=' + h[':status']);
			process.exit(1);
		}
	});
	req.resume();
	req.on('end', done);
	req.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });
	req.end();
}

function finish(n) {
	session.close();
	console.log('requests=' + n);
}

function waitFor(path, then) {
	if (fs.existsSync(path))
		return then();
	setTimeout(() => waitFor(path, then), 50);
}

if (pre) {
	// TT_PRE_REQUESTS (default 1) requests with TT_TOKEN before the pause
	const before = parseInt(process.env.TT_PRE_REQUESTS || '1', 10);
	const first = (i) => {
		if (i < before)
			return request(process.env.TT_TOKEN, () => first(i + 1), true);
		fs.writeFileSync(process.argv[4], '');
		waitFor(process.argv[5], () => request(process.env.TT_TOKEN, () =>
			request(process.env.TT_TOKEN2, () => finish(before + 2)), true));
	};
	first(0);
} else {
	const n = parseInt(process.argv[3] || '3', 10);
	const one = (i) => (i === n ? finish(n) : request(process.env.TT_TOKEN, () => one(i + 1)));
	one(0);
}
