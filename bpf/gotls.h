/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Per-executable settings for the Go crypto/tls probe, shared by the BPF
 * program and the sensor. Fixed-size types only.
 */
#ifndef TOKENTAP_GOTLS_H
#define TOKENTAP_GOTLS_H

#include "tokentap.h" /* TT_LAYOUT */

#define TT_GO_BINS_MAX 1024

/*
 * The Go probe's attach cookie is TT_GO_COOKIE | index into go_bins. The
 * flag bit keeps the cookie above the range on_tls_write reads as an
 * OpenSSL handshake-flag offset, so it is never used as one.
 */
#define TT_GO_COOKIE (1ULL << 32)

enum tt_go_abi {
	TT_GO_ABI_REG = 1,   /* Go >= 1.17 on amd64: arguments in RAX, RBX, RCX, ... */
	TT_GO_ABI_STACK = 2, /* older: arguments on the stack above the return address */
};

struct tt_go_bin {
	unsigned int abi;             /* enum tt_go_abi */
	unsigned int has_fd_offsets;  /* the offsets below are known for this Go version */
	/*
	 * itab.fun[0] of (*net.TCPConn, net.Conn): the address of
	 * net.(*TCPConn).Close. Only when the interface's itab has it is the
	 * conn a *net.TCPConn and the walk below valid.
	 */
	unsigned long long tcpconn_close;
	unsigned int conn_itab_off;   /* tls.Conn.conn (interface): itab pointer */
	unsigned int conn_data_off;   /* tls.Conn.conn (interface): data pointer */
	unsigned int itab_fun0_off;   /* runtime.itab.fun[0] */
	unsigned int tcpconn_fd_off;  /* net.TCPConn{conn{fd *netFD}} */
	unsigned int netfd_sysfd_off; /* net.netFD.pfd (poll.FD) .Sysfd */
	/*
	 * hpack.(*Encoder).WriteField is probed: header fields are captured
	 * before encoding, so this binary's TLS writes are not decoded as
	 * HTTP/2 as well (each request would be counted twice).
	 */
	unsigned int hf_hooked;
	/*
	 * The HTTP/2 client's encodeHeaders(req *http.Request, ...) is probed
	 * instead of the encoder: one trap per request. The offsets below are
	 * this Go version's net/http.Request and net/url.URL fields (strings
	 * and pointers), and req.Header is a runtime.hmap (Go < 1.24).
	 */
	unsigned int h2req_hooked;
	unsigned int req_method_off;  /* Request.Method string */
	unsigned int req_url_off;     /* Request.URL *url.URL */
	unsigned int req_header_off;  /* Request.Header map[string][]string */
	unsigned int req_host_off;    /* Request.Host string */
	unsigned int url_scheme_off;  /* URL.Scheme string */
	unsigned int url_host_off;    /* URL.Host string */
	unsigned int url_path_off;    /* URL.Path string */
	unsigned int url_rawpath_off; /* URL.RawPath string */
	unsigned int url_query_off;   /* URL.RawQuery string */
};

/* The sensor writes this struct into go_bins and the probe reads it. */
_Static_assert(sizeof(struct tt_go_bin) == 80, "struct tt_go_bin size");
TT_LAYOUT(struct tt_go_bin, abi, 0);
TT_LAYOUT(struct tt_go_bin, has_fd_offsets, 4);
TT_LAYOUT(struct tt_go_bin, tcpconn_close, 8);
TT_LAYOUT(struct tt_go_bin, conn_itab_off, 16);
TT_LAYOUT(struct tt_go_bin, conn_data_off, 20);
TT_LAYOUT(struct tt_go_bin, itab_fun0_off, 24);
TT_LAYOUT(struct tt_go_bin, tcpconn_fd_off, 28);
TT_LAYOUT(struct tt_go_bin, netfd_sysfd_off, 32);
TT_LAYOUT(struct tt_go_bin, hf_hooked, 36);
TT_LAYOUT(struct tt_go_bin, h2req_hooked, 40);
TT_LAYOUT(struct tt_go_bin, url_query_off, 76);

#endif
