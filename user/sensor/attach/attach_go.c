/* SPDX-License-Identifier: Apache-2.0 */
#include "attach_go.h"
#include "content_cache.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "elfsym.h"
#include "gopclntab.h"
#include "gotls.h"
#include "log.h"
#include "probepoint.h"
#include "tokentap.h"
#include "tokentap.skel.h"
#include "uprobe_link.h"

#define PCLNTAB_MAX (256u << 20)
#define BUILDINFO_MAGIC "\xff Go buildinf:"

static const char *const go_funcs[] = {
	"crypto/tls.(*Conn).Write",
	"net.(*TCPConn).Close",
	"vendor/golang.org/x/net/http2/hpack.(*Encoder).WriteField",
	"golang.org/x/net/http2/hpack.(*Encoder).WriteField",
	"net/http.(*http2ClientConn).encodeHeaders",
	"golang.org/x/net/http2.(*ClientConn).encodeHeaders",
	"google.golang.org/grpc/internal/transport.(*loopyWriter).writeHeader",
};
enum { GO_F_WRITE, GO_F_CLOSE, GO_F_HF, GO_F_EH = GO_F_HF + 2, GO_F_GRPC = GO_F_EH + 2 };
#define GO_NFUNCS (sizeof(go_funcs) / sizeof(go_funcs[0]))

/*
 * Struct layouts behind the *tls.Conn -> socket walk, per Go release. Each
 * row is read from that release's sources; a release not listed gets no
 * walk (the nested write(2) still binds the session).
 *
 * Go 1.19 (src/crypto/tls/conn.go, src/net/net.go, src/net/tcpsock.go,
 * src/net/fd_posix.go, src/internal/poll/fd_unix.go, src/runtime/runtime2.go):
 *   tls.Conn      { conn net.Conn; ... }        iface {itab, data}: 0, 8
 *   runtime.itab  { inter, _type, hash uint32, _ [4]byte, fun [1]uintptr }: fun at 24
 *   net.TCPConn   { conn{ fd *netFD } }         fd at 0
 *   net.netFD     { pfd poll.FD; ... }          pfd at 0
 *   poll.FD       { fdmu fdMutex{uint64, uint32, uint32}; Sysfd int; ... }: Sysfd at 16
 */
static const struct {
	int major, minor;
	unsigned conn_itab, conn_data, itab_fun0, tcpconn_fd, netfd_sysfd;
} go_layouts[] = {
	{ 1, 19, 0, 8, 24, 0, 16 },
};

/*
 * What the once-per-request HTTP/2 probe (goh2.bpf.h) reads, per Go
 * release: http2ClientConn.encodeHeaders(req *Request, addGzipHeader bool,
 * trailers string, contentLength int64) with cc in RAX and req in RBX;
 * the net/http.Request and net/url.URL field offsets; and req.Header as a
 * runtime.hmap of map[string][]string buckets. A release not listed keeps
 * the encoder probe.
 *
 * Go 1.19 (src/net/http/request.go, src/net/url/url.go, unsafe.Offsetof
 * of a go1.19.8 build; src/runtime/map.go; src/net/http/h2_bundle.go):
 *   Request { Method 0, URL 16, Header 56, Host 128 }
 *   URL     { Scheme 0, Host 40, Path 56, RawPath 72, RawQuery 96 }
 */
static const struct {
	int major, minor;
	unsigned req_method, req_url, req_header, req_host;
	unsigned url_scheme, url_host, url_path, url_rawpath, url_query;
} go_req_layouts[] = {
	{ 1, 19, 0, 16, 56, 128, 0, 40, 56, 72, 96 },
};

int go_version_parse(const char *v, int *major, int *minor)
{
	char *end;
	long ma, mi;

	if (strncmp(v, "go", 2) != 0 || v[2] < '0' || v[2] > '9')
		return -1;
	ma = strtol(v + 2, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	mi = strtol(end + 1, &end, 10);
	if (ma < 1 || ma > 99 || mi < 0 || mi > 999 || (*end >= '0' && *end <= '9'))
		return -1;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

static Elf_Data *section(Elf *elf, const char *name, GElf_Shdr *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *n;

		if (!gelf_getshdr(scn, out) || out->sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, out->sh_name);
		if (n && strcmp(n, name) == 0)
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Copies a version string of len bytes into out when it looks like one. */
static void set_version(struct go_exe_info *info, const uint8_t *s, uint64_t len)
{
	if (len == 0 || len >= sizeof(info->version))
		return;
	for (uint64_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return;
	memcpy(info->version, s, len);
	info->version[len] = '\0';
}

/*
 * The build info (src/debug/buildinfo/buildinfo.go): 14-byte magic, pointer
 * size, flags. Go 1.18+ (flags bit 1) inlines the version as a varint-length
 * string at 32; older releases point to a Go string header instead.
 */
static void read_build_version(int fd, Elf *elf, struct go_exe_info *info)
{
	GElf_Shdr sh;
	Elf_Data *d = section(elf, ".go.buildinfo", &sh);
	const uint8_t *b;
	size_t n;

	if (!d || !d->d_buf || d->d_size < 32)
		return;
	b = d->d_buf;
	n = d->d_size;
	if (memcmp(b, BUILDINFO_MAGIC, 14) != 0)
		return;
	info->is_go = 1;
	if (b[15] & 2) {
		uint64_t len = 0;
		size_t i = 32;

		for (int shift = 0; i < n && shift < 35; shift += 7) {
			len |= (uint64_t)(b[i] & 0x7f) << shift;
			if (!(b[i++] & 0x80))
				break;
		}
		if (i < n && len <= n - i)
			set_version(info, b + i, len);
		return;
	}
	/* pointer format: only 8-byte little-endian pointers */
	if (b[14] == 8 && !(b[15] & 1)) {
		uint8_t hdr[16], s[sizeof(info->version)];
		uint64_t off, len;

		if (elf_vaddr_to_offset(elf, le64(b + 16), 0, &off) != 0 ||
		    pread(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr))
			return;
		len = le64(hdr + 8);
		if (len == 0 || len >= sizeof(s) || elf_vaddr_to_offset(elf, le64(hdr), 0, &off) != 0 ||
		    pread(fd, s, len, (off_t)off) != (ssize_t)len)
			return;
		set_version(info, s, len);
	}
}

static void find_in_pclntab(Elf *elf, struct go_exe_info *info)
{
	GElf_Shdr sh;
	Elf_Data *d = section(elf, ".gopclntab", &sh);
	uint64_t entries[GO_NFUNCS] = { 0 };
	int found[GO_NFUNCS] = { 0 };

	if (!d || !d->d_buf || d->d_size > PCLNTAB_MAX)
		return;
	info->is_go = 1;
	if (gopclntab_find(d->d_buf, d->d_size, go_funcs, GO_NFUNCS, entries, found) <= 0)
		return;
	info->from_pclntab = 1;
	if (found[GO_F_WRITE] && elf_vaddr_to_offset(elf, entries[GO_F_WRITE], 1, &info->write_offset) == 0)
		info->write_vaddr = entries[GO_F_WRITE];
	if (found[GO_F_CLOSE])
		info->tcpconn_close = entries[GO_F_CLOSE];
	for (int k = 0; k < 2; k++) {
		if (found[GO_F_HF + k] &&
		    elf_vaddr_to_offset(elf, entries[GO_F_HF + k], 1, &info->hf_offset[k]) == 0)
			info->hf_vaddr[k] = entries[GO_F_HF + k];
		if (found[GO_F_EH + k] &&
		    elf_vaddr_to_offset(elf, entries[GO_F_EH + k], 1, &info->eh_offset[k]) == 0)
			info->eh_vaddr[k] = entries[GO_F_EH + k];
	}
	info->has_grpc = found[GO_F_GRPC];
	if (found[GO_F_GRPC] &&
	    elf_vaddr_to_offset(elf, entries[GO_F_GRPC], 1, &info->grpc_offset) == 0)
		info->grpc_vaddr = entries[GO_F_GRPC];
}

int go_exe_inspect(const char *path, struct go_exe_info *info)
{
	struct elf_func fn[GO_NFUNCS];
	int found[GO_NFUNCS], fd;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	Elf *elf;

	memset(info, 0, sizeof(*info));
	elf = elf_open_file(path, &fd);
	if (!elf)
		return -1;
	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64) {
		elf_close_file(elf, fd);
		return -1;
	}
	info->pie = eh.e_type == ET_DYN;
	read_build_version(fd, elf, info);
	/* most executables are not Go: stop before the symbol scan */
	if (!info->is_go && !section(elf, ".gopclntab", &sh)) {
		elf_close_file(elf, fd);
		return -1;
	}
	if (info->version[0] && go_version_parse(info->version, &info->major, &info->minor) != 0)
		info->major = info->minor = 0;
	/* the symbol table when there is one, else the Go function table */
	if (elf_find_funcs(path, go_funcs, GO_NFUNCS, fn, found) > 0 && found[GO_F_WRITE]) {
		info->write_vaddr = fn[GO_F_WRITE].vaddr;
		info->write_offset = fn[GO_F_WRITE].offset;
		info->tcpconn_close = found[GO_F_CLOSE] ? fn[GO_F_CLOSE].vaddr : 0;
		for (int k = 0; k < 2; k++) {
			if (found[GO_F_HF + k]) {
				info->hf_vaddr[k] = fn[GO_F_HF + k].vaddr;
				info->hf_offset[k] = fn[GO_F_HF + k].offset;
			}
			if (found[GO_F_EH + k]) {
				info->eh_vaddr[k] = fn[GO_F_EH + k].vaddr;
				info->eh_offset[k] = fn[GO_F_EH + k].offset;
			}
		}
		info->has_grpc = found[GO_F_GRPC];
		if (found[GO_F_GRPC]) {
			info->grpc_vaddr = fn[GO_F_GRPC].vaddr;
			info->grpc_offset = fn[GO_F_GRPC].offset;
		}
	} else {
		find_in_pclntab(elf, info);
	}
	elf_close_file(elf, fd);
	return info->is_go ? 0 : -1;
}

/*
 * The HTTP/2 header probes (register ABI only), with the same cookie as
 * the crypto/tls probe, into f->go_hf_links from slot: each of the n
 * functions (a pair: the standard library's copy and x/net's; or gRPC-Go's
 * one) that the file has. Returns how many were attached. Without attach
 * cookies the probe cannot find its go_bins entry: not attached, and
 * HTTP/2 stays decoded from the TLS writes.
 */
static int go_attach_headers(struct attacher *a, struct attach_file *f, const char *path,
			     const uint64_t *vaddr, const uint64_t *offset, int n_funcs, int slot,
			     struct bpf_program *entry_prog, struct bpf_program *check_prog,
			     const char *const *names, uint32_t idx)
{
	int n = 0;

	for (int k = 0; k < n_funcs; k++) {
		struct bpf_program *prog = entry_prog;
		uint64_t probe_at = offset[k];
		struct uprobe_link **link = &f->go_hf_links[slot + k];

		if (!vaddr[k] || *link)
			continue;
		if (!a->entry_probes) {
			uint8_t code[32];
			uint64_t delta = 0;

			if (elf_read_bytes(path, offset[k], code, sizeof(code)) == (ssize_t)sizeof(code))
				delta = probe_go_stack_check(code, sizeof(code), vaddr[k]);
			if (delta) {
				prog = check_prog;
				probe_at += delta;
			}
		}
		*link = uprobe_link_attach(prog, path, probe_at, TT_GO_COOKIE | idx);
		if (!*link) {
			if (errno == EACCES || errno == EPERM)
				a->attach_denied++;
			log_verbose(a->verbose, "%s: %s not probed: %s", path, names[k], strerror(errno));
			continue;
		}
		if (probe_at != offset[k])
			a->probes_at_call++;
		a->probes++;
		n++;
		log_verbose(a->verbose, "%s: %s probed", path, names[k]);
	}
	return n;
}

/*
 * The request probe's settings for this executable, when its Go version's
 * layouts are known. Returns true when gb was filled.
 */
static bool go_request_layout(const struct go_exe_info *info, struct tt_go_bin *gb)
{
	for (size_t i = 0; i < sizeof(go_req_layouts) / sizeof(go_req_layouts[0]); i++) {
		if (go_req_layouts[i].major != info->major || go_req_layouts[i].minor != info->minor)
			continue;
		gb->req_method_off = go_req_layouts[i].req_method;
		gb->req_url_off = go_req_layouts[i].req_url;
		gb->req_header_off = go_req_layouts[i].req_header;
		gb->req_host_off = go_req_layouts[i].req_host;
		gb->url_scheme_off = go_req_layouts[i].url_scheme;
		gb->url_host_off = go_req_layouts[i].url_host;
		gb->url_path_off = go_req_layouts[i].url_path;
		gb->url_rawpath_off = go_req_layouts[i].url_rawpath;
		gb->url_query_off = go_req_layouts[i].url_query;
		return true;
	}
	return false;
}

/* Detaches the header probes go_attach_h2 attached, and uncounts them. */
static void go_detach_headers(struct attacher *a, struct attach_file *f, unsigned probes,
			      unsigned at_call)
{
	for (int k = 0; k < GO_HF_LINKS; k++) {
		uprobe_link_destroy(f->go_hf_links[k]);
		f->go_hf_links[k] = NULL;
	}
	a->probes = probes;
	a->probes_at_call = at_call;
}

/*
 * Once per request where it can, else once per field (the encoder).
 * Once per request needs every encoder of requests the binary has probed
 * that way: net/http's encodeHeaders (with its Go version's layouts) and
 * gRPC-Go's writeHeader. Then the encoder must not be probed too, or it
 * would see the same requests again: all of them, or none and the encoder.
 * Either way the header fields are captured before HPACK encoding, and gb
 * says so (hf_hooked).
 */
static void go_attach_h2(struct attacher *a, struct attach_file *f, const char *path,
			 const struct go_exe_info *info, struct tt_go_bin *gb, uint32_t idx)
{
	struct tokentap_bpf *sk = a->skel;
	struct tt_go_bin req = *gb;
	bool eh = info->eh_vaddr[0] || info->eh_vaddr[1];
	bool grpc = info->has_grpc;
	unsigned probes = a->probes, at_call = a->probes_at_call;

	if ((eh || grpc) && (!eh || go_request_layout(info, &req)) && (!grpc || info->grpc_vaddr)) {
		/* settings first: a probe may fire as soon as it is attached */
		req.h2req_hooked = eh;
		req.hf_hooked = 1;
		if (bpf_map_update_elem(bpf_map__fd(sk->maps.go_bins), &idx, &req, BPF_ANY) == 0 &&
		    (!eh || go_attach_headers(a, f, path, info->eh_vaddr, info->eh_offset, 2, 0,
					      sk->progs.probe_go_h2_req_reg,
					      sk->progs.probe_go_h2_req_reg_check,
					      go_funcs + GO_F_EH, idx)) &&
		    (!grpc || go_attach_headers(a, f, path, &info->grpc_vaddr, &info->grpc_offset, 1,
						2, sk->progs.probe_go_grpc_hdr_reg,
						sk->progs.probe_go_grpc_hdr_reg_check,
						go_funcs + GO_F_GRPC, idx))) {
			*gb = req;
			return;
		}
		go_detach_headers(a, f, probes, at_call);
	}
	if (go_attach_headers(a, f, path, info->hf_vaddr, info->hf_offset, 2, 0,
			      sk->progs.probe_go_hfield_reg, sk->progs.probe_go_hfield_reg_check,
			      go_funcs + GO_F_HF, idx))
		gb->hf_hooked = 1;
	/* only now: until the encoder is probed, HTTP/2 is decoded from the TLS writes */
	if (bpf_map_update_elem(bpf_map__fd(sk->maps.go_bins), &idx, gb, BPF_ANY) != 0)
		log_warn("Go executable %s: cannot store its settings: %s", path, strerror(errno));
}

int go_attach(struct attacher *a, struct attach_file *f, const char *path,
	      const struct content_id *id)
{
	struct tt_go_bin gb = { 0 };
	struct go_analysis an;
	struct go_exe_info info;
	struct bpf_program *prog;
	uint64_t probe_at;
	uint32_t idx;

	if (!id || !a->go_cache || !content_cache_get(a->go_cache, id, &an)) {
		an.rc = go_exe_inspect(path, &an.info);
		if (id && a->go_cache)
			content_cache_put(a->go_cache, id, &an);
	}
	info = an.info;
	if (an.rc != 0 || !info.write_vaddr)
		return 0;
	/* The calling convention depends on the version: never guess it. */
	if (info.major != 1 || info.minor < 2) {
		log_warn("Go executable %s: unknown Go version \"%s\", crypto/tls not probed", path,
			 info.version);
		return 0;
	}
	/* a file released and mapped again reuses its slot */
	if (!f->go_slot && a->go_bins_used >= TT_GO_BINS_MAX) {
		log_warn("Go executable %s: too many Go executables, not probed", path);
		return 0;
	}
	gb.abi = info.minor >= 17 ? TT_GO_ABI_REG : TT_GO_ABI_STACK;
	/* the itab check compares link-time addresses: not for PIE */
	for (size_t i = 0; i < sizeof(go_layouts) / sizeof(go_layouts[0]) && !info.pie; i++) {
		if (go_layouts[i].major != info.major || go_layouts[i].minor != info.minor ||
		    !info.tcpconn_close)
			continue;
		gb.has_fd_offsets = 1;
		gb.tcpconn_close = info.tcpconn_close;
		gb.conn_itab_off = go_layouts[i].conn_itab;
		gb.conn_data_off = go_layouts[i].conn_data;
		gb.itab_fun0_off = go_layouts[i].itab_fun0;
		gb.tcpconn_fd_off = go_layouts[i].tcpconn_fd;
		gb.netfd_sysfd_off = go_layouts[i].netfd_sysfd;
	}
	idx = f->go_slot ? f->go_slot - 1 : a->go_bins_used;
	if (bpf_map_update_elem(bpf_map__fd(a->skel->maps.go_bins), &idx, &gb, BPF_ANY) != 0) {
		log_warn("Go executable %s: cannot store its settings: %s", path, strerror(errno));
		return 0;
	}
	prog = gb.abi == TT_GO_ABI_REG ? a->skel->progs.probe_go_tls_write_reg :
					 a->skel->progs.probe_go_tls_write_stack;
	probe_at = info.write_offset;
	/* the stack check's jbe is emulated; the entry's lea/cmp are single-stepped */
	if (gb.abi == TT_GO_ABI_REG && !a->entry_probes) {
		uint8_t code[32];
		uint64_t delta = 0;

		if (elf_read_bytes(path, info.write_offset, code, sizeof(code)) == (ssize_t)sizeof(code))
			delta = probe_go_stack_check(code, sizeof(code), info.write_vaddr);
		if (delta) {
			prog = a->skel->progs.probe_go_tls_write_reg_check;
			probe_at += delta;
			a->probes_at_call++;
		}
		log_verbose(a->verbose, "%s: crypto/tls.(*Conn).Write at +%llu (%s)", path,
			    (unsigned long long)delta,
			    delta ? "stack-check jbe, taken branch ignored" : "entry");
	}
	f->go_link = uprobe_link_attach(prog, path, probe_at, TT_GO_COOKIE | idx);
	/* kernels before 5.15 have no attach cookies: no socket walk, the nested write binds */
	if (!f->go_link)
		f->go_link = uprobe_link_attach(prog, path, probe_at, 0);
	if (!f->go_link) {
		attach_failed(a);
		log_warn("cannot attach crypto/tls.(*Conn).Write in %s: %s", path, strerror(errno));
		return 0;
	}
	if (!f->go_slot) {
		f->go_slot = idx + 1;
		a->go_bins_used++;
	}
	if (gb.abi == TT_GO_ABI_REG)
		go_attach_h2(a, f, path, &info, &gb, idx);
	f->lib = TT_LIB_GO;
	a->probes++;
	log_verbose(a->verbose, "%s: Go %s, %s ABI, crypto/tls.(*Conn).Write from %s%s%s", path,
		    info.version, gb.abi == TT_GO_ABI_REG ? "register" : "stack",
		    info.from_pclntab ? ".gopclntab" : "symbols",
		    gb.has_fd_offsets ? ", socket from netFD" : "",
		    gb.hf_hooked && !f->go_hf_links[0] && !f->go_hf_links[1] && f->go_hf_links[2] ?
			    ", gRPC once per request" :
		    gb.hf_hooked && f->go_hf_links[2] ? ", HTTP/2 and gRPC once per request" :
		    gb.h2req_hooked ? ", HTTP/2 once per request" :
		    gb.hf_hooked    ? ", HTTP/2 once per header field" : "");
	return 1;
}
