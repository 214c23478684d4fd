/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go executables: recognising them, reading their Go version from the build
 * info, finding crypto/tls.(*Conn).Write by symbol or, when stripped, in
 * .gopclntab, and attaching the entry uprobe with the right calling
 * convention (register ABI from Go 1.17, stack ABI before).
 */
#ifndef TOKENTAP_ATTACH_GO_H
#define TOKENTAP_ATTACH_GO_H

#include <stddef.h>
#include <stdint.h>

struct attacher;
struct attach_file;
struct content_id;

struct go_exe_info {
	int is_go;             /* has Go build info or a Go function table */
	char version[32];      /* "go1.19.8", or "" when unreadable */
	int major, minor;      /* 0 when unknown */
	int pie;               /* ET_DYN: addresses are relative to the load base */
	uint64_t write_vaddr;  /* crypto/tls.(*Conn).Write, 0 when absent */
	uint64_t write_offset; /* its file offset */
	uint64_t tcpconn_close;/* net.(*TCPConn).Close, 0 when absent */
	int from_pclntab;      /* addresses came from .gopclntab (no symbol table) */
	/* hpack.(*Encoder).WriteField: vendored in the standard library, and from x/net */
	uint64_t hf_vaddr[2];  /* 0 when absent */
	uint64_t hf_offset[2];
	/* the HTTP/2 client's encodeHeaders: net/http's bundled copy, and x/net's */
	uint64_t eh_vaddr[2];  /* 0 when absent */
	uint64_t eh_offset[2];
	/* gRPC-Go's transport encodes requests itself, in (*loopyWriter).writeHeader */
	int has_grpc;
	uint64_t grpc_vaddr;   /* writeHeader, 0 when absent or unplaceable */
	uint64_t grpc_offset;
};

/* go_exe_inspect's answer for a file, kept by content (attacher.go_cache). */
struct go_analysis {
	int rc;
	struct go_exe_info info;
};

/*
 * Reads what the Go probe needs from the ELF file at path. Returns 0 when
 * the file is a Go executable (info filled, possibly without Write), -1
 * otherwise.
 */
int go_exe_inspect(const char *path, struct go_exe_info *info);

/*
 * Parses "go1.19.8" / "go1.16" into major and minor. Returns 0, or -1 for
 * anything else ("devel +abc", garbage).
 */
int go_version_parse(const char *v, int *major, int *minor);

/*
 * Attaches the Go crypto/tls probe to the executable at path when it is a
 * Go program that uses crypto/tls, and with the register ABI the HTTP/2
 * header probes (f->go_hf_links): the client's encodeHeaders, once per
 * request, where this Go version's layouts are known and no other HTTP/2
 * request encoder (gRPC-Go) is linked in; else the HPACK encoder's
 * WriteField, once per field. id (NULL: unknown) is the file's
 * content: its analysis is taken from or kept in a->go_cache. Returns 1 when the crypto/tls probe is
 * attached, else 0; the links are kept in f.
 */
int go_attach(struct attacher *a, struct attach_file *f, const char *path,
	      const struct content_id *id);

#endif
