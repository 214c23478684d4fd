// Local gRPC server (@grpc/grpc-js over TLS, or over h2c with --insecure),
// loopback only, for the unary call tests.
// Usage: NODE_PATH=DIR/node_modules node grpc_server.js CERT KEY | --insecure
// Prints "port N" once listening. One method, /tt.Echo/Call, with raw-byte
// messages (no protobuf schema needed); never logs metadata, which carries
// the test credentials.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');

const raw = (b) => b;
const service = {
	Call: {
		path: '/tt.Echo/Call', requestStream: false, responseStream: false,
		requestSerialize: raw, requestDeserialize: raw,
		responseSerialize: raw, responseDeserialize: raw,
	},
};
const server = new grpc.Server();
server.addService(service, { Call: (call, cb) => cb(null, Buffer.from('ok')) });
const creds = process.argv[2] === '--insecure' ? grpc.ServerCredentials.createInsecure() :
	grpc.ServerCredentials.createSsl(null, [{
		cert_chain: fs.readFileSync(process.argv[2]),
		private_key: fs.readFileSync(process.argv[3]),
	}], false);
server.bindAsync('127.0.0.1:0', creds, (err, port) => {
	if (err) {
		process.stderr.write('bind failed\n');
		process.exit(1);
	}
	process.stdout.write('port ' + port + '\n');
});
