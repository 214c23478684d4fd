// Local HTTP/2 test server, loopback only: TLS with ALPN h2, or plaintext
// HTTP/2 with prior knowledge (h2c).
// Usage: node h2_server.js CERT KEY | node h2_server.js --h2c
// Prints "port N" once listening.
// Answers every stream with a small body; never logs request headers, which
// carry the test credentials.
'use strict';
const fs = require('fs');
const http2 = require('http2');

const server = process.argv[2] === '--h2c' ? http2.createServer() : http2.createSecureServer({
	cert: fs.readFileSync(process.argv[2]),
	key: fs.readFileSync(process.argv[3]),
});
server.on('stream', (stream) => {
	stream.on('error', () => {});
	stream.respond({ ':status': 200, 'content-type': 'text/plain' });
	stream.end('ok\n');
	stream.resume();
});
server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () => {
	process.stdout.write('port ' + server.address().port + '\n');
});
