// Command go_client sends N GET requests over HTTPS with HTTP/1.1 forced,
// all on one keep-alive connection, with "Authorization: Bearer $TT_TOKEN".
//
//	go_client URL N
//
// TT_DELAY_MS: wait this long before the first request (lets the sensor
// attach to a freshly started executable). Prints
// "requests=N connections=C"; never prints the token.
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
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			atomic.AddInt32(&conns, 1)
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		// A non-nil empty map turns HTTP/2 off: HTTP/1.1 over TLS.
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 1,
	}
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for i := 0; i < n; i++ {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad request")
			os.Exit(1)
		}
		req.Header.Set("Authorization", "Bearer "+os.Getenv("TT_TOKEN"))
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "request failed")
			os.Exit(1)
		}
		// Drained and closed, so the connection goes back to the pool.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Fprintf(os.Stderr, "status %d\n", resp.StatusCode)
			os.Exit(1)
		}
	}
	fmt.Printf("requests=%d connections=%d proto=%s\n", n, atomic.LoadInt32(&conns), "HTTP/1.1")
}
