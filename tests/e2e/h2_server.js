// Local HTTP/2 test server, loopback only: TLS with ALPN h2, or plaintext
// HTTP/2 with prior knowledge (h2c).
// Usage: node h2_server.js CERT KEY | node h2_server.js --h2c
// Prints "port N" once listening.
// Answers every stream with a small body; never logs request headers, which
// carry the test credentials. With TT_RESPONSE_KEY set, every response also
// carries it as an X-Api-Key header (a server's writes are not requests).
'use strict';
const fs = require('fs');
const http2 = require('http2');

const server = process.argv[2] === '--h2c' ? http2.createServer() : http2.createSecureServer({
	cert: fs.readFileSync(process.argv[2]),
	key: fs.readFileSync(process.argv[3]),
});
const responseKey = process.env.TT_RESPONSE_KEY;
server.on('stream', (stream) => {
	const headers = { ':status': 200, 'content-type': 'text/plain' };

	if (responseKey)
		headers['x-api-key'] = responseKey;
	stream.on('error', () => {});
	stream.respond(headers);
	stream.end('ok\n');
	stream.resume();
});
server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () => {
	process.stdout.write('port ' + server.address().port + '\n');
});
