// One HTTPS request from node (OpenSSL linked into the node binary).
// Usage: node node_client.js URL   (credential in env TT_TOKEN, never printed)
'use strict';
const https = require('https');

const url = new URL(process.argv[2]);
const req = https.request({
	host: url.hostname,
	port: url.port,
	path: url.pathname + url.search,
	method: 'GET',
	rejectUnauthorized: false,
	agent: false,
	headers: { Authorization: 'Bearer ' + process.env.TT_TOKEN },
	timeout: 15000,
}, (res) => {
	res.resume();
	res.on('end', () => {
		console.log('status=' + res.statusCode);
		process.exit(res.statusCode === 200 ? 0 : 1);
	});
});
req.on('timeout', () => { console.log('timeout'); process.exit(1); });
req.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });
req.end();
