// go_tls_client - Go crypto/tls workload for the benchmark.
//
// HTTP/1.1 mode (default): one keep-alive TLS connection to tls_server; N
// requests of ~300 bytes, each one crypto/tls.(*Conn).Write, with
// "Authorization: Bearer ghp_..." (a random token made at start, never
// printed, zeroed at exit).
//
// HTTP/2 mode (-h2): net/http over TLS with ALPN h2 against an HTTP/2
// server (tests/e2e/h2_server.js); N requests on one connection, so the
// token goes out as an HPACK table index after the first request.
//
// Prints "ns_per_op=<mean ns per timed request> requests=<N>".
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"time"
)

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func newToken() []byte {
	t := []byte("ghp_")
	for i := 0; i < 36; i++ {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			fail("random: %v", err)
		}
		t = append(t, alnum[n.Int64()])
	}
	return t
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_tls_client: "+format+"\n", a...)
	os.Exit(1)
}

// http1 sends warm+n requests on one connection; returns the ns of the last n.
func http1(port, warm, n int, token []byte) float64 {
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port),
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		fail("connect: %v", err)
	}
	defer conn.Close()
	head := "GET /v1/repos/bench/items?page=1 HTTP/1.1\r\n" +
		"Host: api.bench.example\r\n" +
		"User-Agent: tokentap-bench-go/1.0 (loopback)\r\n" +
		"Accept: application/json\r\n" +
		"Accept-Encoding: identity\r\n" +
		"Accept-Language: en-US\r\n" +
		"Authorization: Bearer "
	tail := "\r\nX-Request-Id: "
	req := make([]byte, 0, 512)
	br := bufio.NewReader(conn)
	var start time.Time
	for i := 0; i < warm+n; i++ {
		if i == warm {
			start = time.Now()
		}
		req = append(req[:0], head...)
		req = append(req, token...)
		req = append(req, tail...)
		req = append(req, fmt.Sprintf("%012d", i)...)
		req = append(req, "\r\nConnection: keep-alive\r\n\r\n"...)
		// one Write per request: one probe hit, as tls_client's one SSL_write
		if _, err := conn.Write(req); err != nil {
			fail("write: %v", err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			fail("response: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ns := float64(time.Since(start).Nanoseconds())
	for i := range req {
		req[i] = 0
	}
	return ns
}

// http2 sends warm+n requests over one HTTP/2 connection.
func http2(port, warm, n int, token []byte) float64 {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
		MaxConnsPerHost:   1,
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/v1/repos/bench/items?page=1"
	auth := "Bearer " + string(token)
	var start time.Time
	for i := 0; i < warm+n; i++ {
		if i == warm {
			start = time.Now()
		}
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			fail("request: %v", err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "tokentap-bench-go/1.0 (loopback)")
		resp, err := client.Do(req)
		if err != nil {
			fail("request: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			fail("server answered %s, not HTTP/2", resp.Proto)
		}
	}
	ns := float64(time.Since(start).Nanoseconds())
	tr.CloseIdleConnections()
	return ns
}

func main() {
	port := flag.Int("port", 0, "server port on 127.0.0.1")
	n := flag.Int("n", 20000, "timed requests")
	warm := flag.Int("w", 1000, "untimed warm-up requests")
	h2 := flag.Bool("h2", false, "HTTP/2 (net/http, ALPN h2) instead of raw HTTP/1.1")
	flag.Parse()
	if *port <= 0 || *port > 65535 || *n <= 0 || *warm < 0 {
		fmt.Fprintln(os.Stderr, "usage: go_tls_client -port N [-n N] [-w N] [-h2]")
		os.Exit(2)
	}
	token := newToken()
	var ns float64
	if *h2 {
		ns = http2(*port, *warm, *n, token)
	} else {
		ns = http1(*port, *warm, *n, token)
	}
	for i := range token {
		token[i] = 0
	}
	fmt.Printf("ns_per_op=%.1f requests=%d\n", ns/float64(*n), *n)
}
