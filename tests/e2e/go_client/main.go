// Command go_client sends N GET requests over HTTPS with HTTP/1.1 forced,
// all on one keep-alive connection, with "Authorization: Bearer $TT_TOKEN".
//
//	go_client URL N
//
// TT_H2=1: HTTP/2 instead (net/http's default negotiation over ALPN), all N
// requests as streams of one connection, with "X-Api-Key: $TT_TOKEN2" as
// well. Go's HPACK encoder marks no field sensitive: both headers enter
// its dynamic table, so requests 2..N carry them as table indices.
// TT_DELAY_MS: wait this long before the first request (lets the sensor
// attach to a freshly started executable). TT_READY and TT_GO (files):
// after the first request, create TT_READY and wait until TT_GO exists
// before the others (a connection opened before the sensor started). Prints
// "requests=N connections=C proto=P"; never prints the token.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go_client URL N")
		os.Exit(2)
	}
	url := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "bad N")
		os.Exit(2)
	}
	if ms, err := strconv.Atoi(os.Getenv("TT_DELAY_MS")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	var conns int32
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	h2 := os.Getenv("TT_H2") == "1"
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			atomic.AddInt32(&conns, 1)
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2:   h2,
		MaxIdleConnsPerHost: 1,
	}
	if !h2 {
		// A non-nil empty map turns HTTP/2 off: HTTP/1.1 over TLS.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	proto := ""
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for i := 0; i < n; i++ {
		if i == 1 && os.Getenv("TT_READY") != "" {
			waitFor(os.Getenv("TT_READY"), os.Getenv("TT_GO"))
		}
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad request")
			os.Exit(1)
		}
		req.Header.Set("Authorization", "Bearer "+os.Getenv("TT_TOKEN"))
		if h2 {
			req.Header.Set("X-Api-Key", os.Getenv("TT_TOKEN2"))
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "request failed")
			os.Exit(1)
		}
		// Drained and closed, so the connection goes back to the pool.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		proto = resp.Proto
		if resp.StatusCode != 200 {
			fmt.Fprintf(os.Stderr, "status %d\n", resp.StatusCode)
			os.Exit(1)
		}
	}
	fmt.Printf("requests=%d connections=%d proto=%s\n", n, atomic.LoadInt32(&conns), proto)
}

// waitFor creates ready, then waits (up to five minutes: the tests before
// the one that releases it may take long) until goFile exists.
func waitFor(ready, goFile string) {
	if f, err := os.Create(ready); err == nil {
		f.Close()
	}
	for i := 0; i < 6000; i++ {
		if _, err := os.Stat(goFile); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "never told to go on")
	os.Exit(1)
}
