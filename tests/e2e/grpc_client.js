// N unary gRPC calls (@grpc/grpc-js over TLS) on one channel, with
// "authorization: Bearer $TT_TOKEN" metadata.
// Usage: NODE_PATH=DIR/node_modules node grpc_client.js HOST:PORT CERT N
// Prints "calls=N"; never prints the token.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');

const n = parseInt(process.argv[4], 10);
// The test certificate names 127.0.0.1 only in its CN, which TLS does not
// match against an IP address: trust the certificate itself, skip the name.
const creds = grpc.credentials.createSsl(fs.readFileSync(process.argv[3]), null, null,
	{ checkServerIdentity: () => undefined });
const client = new grpc.Client(process.argv[2], creds);
const raw = (b) => b;
let done = 0;

function call() {
	const md = new grpc.Metadata();

	md.set('authorization', 'Bearer ' + process.env.TT_TOKEN);
	client.makeUnaryRequest('/tt.Echo/Call', raw, raw, Buffer.from('hi'), md, (err) => {
		if (err) {
			console.log('error code=' + err.code);
			process.exit(1);
		}
		if (++done < n)
			return call();
		console.log('calls=' + done);
		client.close();
	});
}
call();
