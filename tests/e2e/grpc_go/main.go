// gRPC-Go over TLS on loopback, for the sensor's tests: a server with the
// standard health service, and a client making unary calls on one
// connection with credentials in its metadata. Built in GOPATH mode against
// Debian's golang-google-grpc-dev (no module download).
//
// Usage: grpc_go server CERT KEY      prints "port N" once listening
//        grpc_go client ADDR N        N Health.Check calls; prints "rpcs=N"
//
// The client sends env TT_TOKEN as "authorization: Bearer ..." and, when
// set, TT_TOKEN2 as "x-api-key"; with TT_READY and TT_GO it makes one call,
// creates TT_READY and waits for TT_GO before the others (a connection
// opened before the sensor started). Credentials are never printed.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "grpc_go: "+format+"\n", a...)
	os.Exit(1)
}

func serve(certFile, keyFile string) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		fail("%v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	healthpb.RegisterHealthServer(s, health.NewServer())
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	if err := s.Serve(ln); err != nil {
		fail("%v", err)
	}
}

func waitFile(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func client(addr string, n int) {
	creds := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})
	conn, err := grpc.Dial(addr, grpc.WithTransportCredentials(creds), grpc.WithBlock())
	if err != nil {
		fail("dial: %v", err)
	}
	defer conn.Close()
	md := metadata.Pairs("authorization", "Bearer "+os.Getenv("TT_TOKEN"))
	if k := os.Getenv("TT_TOKEN2"); k != "" {
		md.Append("x-api-key", k)
	}
	ctx := metadata.NewOutgoingContext(context.Background(), md)
	hc := healthpb.NewHealthClient(conn)
	ready, goFile := os.Getenv("TT_READY"), os.Getenv("TT_GO")
	for i := 0; i < n; i++ {
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			fail("call %d: %v", i+1, err)
		}
		if i == 0 && ready != "" {
			if f, err := os.Create(ready); err == nil {
				f.Close()
			}
			waitFile(goFile)
		}
	}
	fmt.Printf("rpcs=%d\n", n)
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "server" {
		serve(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "client" {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil || n < 1 {
			fail("N must be a positive number")
		}
		client(os.Args[2], n)
		return
	}
	fail("usage: grpc_go server CERT KEY | grpc_go client ADDR N")
}
