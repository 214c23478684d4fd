/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokentap: see every API credential leaving the processes of this host.
 *
 * Loads the capture programs, attaches them to every TLS library and
 * executable in use, and turns what they capture into fingerprinted,
 * classified, aggregated token events.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "attach_thread.h"
#include "coverage.h"
#include "cap_check.h"
#include "clock.h"
#include "cred.h"
#include "envflags.h"
#include "java_agent.h"
#include "fingerprint.h"
#include "wipe.h"
#include "fsutil.h"
#include "loader.h"
#include "sensor_options.h"
#include "metrics_collect.h"
#include "metrics_server.h"
#include "log.h"
#include "memtrim.h"
#include "pipeline.h"
#include "exe_cache.h"
#include "held_procs.h"
#include "container_image.h"
#include "fnv.h"
#include "kube_cache.h"
#include "kube_config.h"
#include "kube_watch.h"
#include "exec_gate.h"
#include "hold_watch.h"
#include "latency_stats.h"
#include "link_reaper.h"
#include "revoker.h"
#include "batch_sink.h"
#include "shipper.h"
#include "status_report.h"
#include "tokentap.h"
#include "tokentap.skel.h"
#include "uprobe_link.h"

#define SCAN_QUEUE 1024
#define CRED_NAMES_MAX 256

/* Set by the signal handler, which has no other way to reach the app. */
static volatile sig_atomic_t stopping;


/* The image of each podman container seen, direct-mapped by id. */
#define IMAGE_MEMO_SLOTS 64
struct image_memo {
	pthread_mutex_t lock;
	struct {
		char id[65];
		char image[POD_IMAGE_MAX];
	} slot[IMAGE_MEMO_SLOTS];
};

/* Everything main() sets up; app_free() releases what was, in any state. */
struct app {
	struct sensor_options opt;
	struct fp_key *key;
	struct exe_cache *exes;   /* programs by pid, taken at exec */
	struct tokentap_bpf *skel;
	struct ring_buffer *rb;
	struct pipeline *pipe;
	struct attacher att;
	struct shipper *shipper; /* NULL without --collector */
	struct batch_sink ssink;  /* the shipper's pipeline sink */
	struct held_procs *held;  /* NULL with --no-held-scan */
	struct coverage *cov;     /* tls_uncovered reports */
	struct coverage_probed probed; /* its view of the tls_tgids map */
	struct revoker *revoker; /* NULL without --revoke-command */
	struct metrics_server *metrics;  /* NULL without --metrics-listen */
	struct metrics_collect *mcollect;
	struct exec_gate *gate;   /* NULL without --gate-exec */
	struct hold_watch *hold;  /* NULL without --hold-unknown-tls */
	struct attach_thread *athread; /* reads the mapping events */
	struct link_reaper *reaper;    /* destroys released uprobe links */
	struct java_agent *java;  /* NULL without --java */
	struct kube_cache *pods;  /* NULL when the pod watcher is off */
	struct kube_watch *kube;
	struct image_memo images; /* podman containers' images */
	struct kube_config kube_cfg;
	bool kube_on;             /* kube_cfg names an API server */
	uint64_t hold_timeouts;   /* copied for the status */
	uint64_t records_read;    /* ring-buffer records handed to on_record */
	struct pipeline_raw_hook raw_hook;
	/* the built-in credential names plus --header and --param */
	const char *cred_headers[CRED_NAMES_MAX], *cred_params[CRED_NAMES_MAX];
	struct cred_config cred;
	uint32_t scan_pids[SCAN_QUEUE];
	size_t nscan;
	uint64_t scan_overflow;
	bool exits_seen;            /* a process exited since the last release pass */
	/*
	 * The attacher is shared by the main loop, the attach thread and the
	 * exec gate's analysis thread; so are the two delays below.
	 */
	pthread_mutex_t att_lock;
	struct latency_stats lib_attach; /* from a library's mapping to its probes attached */
	struct latency_stats held_time;  /* --hold-unknown-tls: how long processes were stopped */
};

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The built-in credential names plus the ones given on the command line. */
static const struct cred_config *build_cred_config(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	const struct cred_config *def = cred_config_default();

	if (o->n_headers == 0 && o->n_params == 0)
		return def;
	if (def->n_headers + o->n_headers > CRED_NAMES_MAX ||
	    def->n_params + o->n_params > CRED_NAMES_MAX)
		return def;
	memcpy(a->cred_headers, def->headers, def->n_headers * sizeof(*a->cred_headers));
	memcpy(a->cred_headers + def->n_headers, o->headers, o->n_headers * sizeof(*a->cred_headers));
	memcpy(a->cred_params, def->params, def->n_params * sizeof(*a->cred_params));
	memcpy(a->cred_params + def->n_params, o->params, o->n_params * sizeof(*a->cred_params));
	a->cred.headers = a->cred_headers;
	a->cred.n_headers = def->n_headers + o->n_headers;
	a->cred.params = a->cred_params;
	a->cred.n_params = def->n_params + o->n_params;
	cred_config_index(&a->cred);
	return &a->cred;
}

static void queue_scan(struct app *a, uint32_t pid)
{
	for (size_t i = 0; i < a->nscan; i++)
		if (a->scan_pids[i] == pid)
			return;
	if (a->nscan == SCAN_QUEUE) {
		a->scan_overflow++;
		return;
	}
	a->scan_pids[a->nscan++] = pid;
}

static bool raw_wants(void *ctx, const char *fp)
{
	return revoker_wants(ctx, fp);
}

static void raw_take(void *ctx, const char *fp, const char *type, const char *value, size_t len)
{
	log_info("token %s is marked for revocation: running the revoke command", fp);
	revoker_take(ctx, fp, type, value, len);
}

/* A revoke command finished: report it like any event (it holds no secret). */
static void on_revoked(void *ctx, const struct revoker_result *res)
{
	struct app *a = ctx;

	log_info("revocation of token %s: %s (exit %d)", res->fingerprint, res->outcome,
		 res->exit_code);
	if (a->shipper)
		shipper_add(a->shipper, batch_event_revocation(res->ts_ns, res->fingerprint,
							       res->token_type, res->outcome,
							       res->exit_code, res->detail));
}

/*
 * A process maps a file not decided yet (a new library, dlopen): examine it
 * now, through the process's descriptor, before it gets to send anything.
 * Runs on the attach thread.
 */
static void on_mmap(struct app *a, const struct tt_event_hdr *h)
{
	struct tt_file_key key = { .dev = h->aux, .ino = h->conn, .gen = h->len };
	int64_t now, woken = clock_mono_ns();
	bool closed;
	int rc;

	/* probes removed now would hold up this attachment (link_reaper.h) */
	link_reaper_busy(a->reaper);
	pthread_mutex_lock(&a->att_lock);
	rc = attacher_mapped(&a->att, h->pid, h->fd, &key);
	/* the descriptor is closed already: the mapping is in place, scan the maps now */
	closed = rc < 0;
	if (closed) {
		rc = attacher_scan_pid(&a->att, h->pid);
		attacher_mark_scanned(&a->att, &key);
	}
	now = clock_mono_ns();
	if (rc > 0)
		latency_add(&a->lib_attach, (uint64_t)(now - (int64_t)h->ts_ns));
	if (h->flags & TT_F_HELD)
		latency_add(&a->held_time, (uint64_t)(now - (int64_t)h->ts_ns));
	pthread_mutex_unlock(&a->att_lock);
	if (rc > 0)
		log_verbose(a->opt.verbose, "probes attached %lld us after the mapping by pid %u (read after %lld us)",
			    (long long)(now - (int64_t)h->ts_ns) / 1000, h->pid,
			    (long long)(woken - (int64_t)h->ts_ns) / 1000);
	else
		log_verbose(a->opt.verbose, "mapping by pid %u: nothing newly attached (%s; read after %lld us)",
			    h->pid, closed ? "descriptor closed, found in the maps" : "known or nothing to probe",
			    (long long)(woken - (int64_t)h->ts_ns) / 1000);
	if (h->flags & TT_F_HELD) {
		/* a stop not delivered yet is discarded by SIGCONT: no race */
		hold_watch_release(a->hold, h->pid);
		kill((pid_t)h->pid, SIGCONT);
	}
}

/* The attach thread's events: mappings only. */
static int on_lib_record(void *ctx, void *data, size_t size)
{
	const struct tt_event_hdr *h = data;

	if (size >= sizeof(*h) && h->kind == TT_EV_MMAP)
		on_mmap(ctx, h);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	const struct tt_event_hdr *h = data;

	a->records_read++;
	if (size < sizeof(*h))
		return 0;
	if (h->kind == TT_EV_EXEC && size >= sizeof(struct tt_exec_event)) {
		struct tt_exec_event *e = data;
		char filename[TT_FILENAME_MAX];

		memcpy(filename, e->filename, sizeof(filename));
		filename[sizeof(filename) - 1] = '\0';
		exe_cache_exec(a->exes, h->pid, filename);
		queue_scan(a, h->pid);
		java_agent_queue(a->java, h->pid, false);
		/* a program run from a filesystem not marked yet (a private mount): mark it */
		exec_gate_cover_pid(a->gate, h->pid);
		/* now, while the program's environment is fresh and the process alive */
		if (a->held && (!a->opt.pid || a->opt.pid == h->pid))
			held_procs_scan_pid(a->held, h->pid);
		return 0;
	}
	if (h->kind == TT_EV_UNCOVERED) {
		/* the attacher's files tell which TLS libraries of the process are attached */
		pthread_mutex_lock(&a->att_lock);
		coverage_record(a->cov, &a->att, h);
		pthread_mutex_unlock(&a->att_lock);
		return 0;
	}
	if (h->kind == TT_EV_EXIT) {
		a->exits_seen = true;
		coverage_exit(a->cov, h->pid);
	}
	pipeline_handle(a->pipe, data, size);
	/* after the pipeline: the exit is the process's last event in the ring */
	if (h->kind == TT_EV_EXIT)
		exe_cache_forget(a->exes, h->pid);
	return 0;
}

/* The tls_tgids map for the blind-spot report (coverage.h). */
static bool tgid_probed(void *ctx, uint32_t pid)
{
	struct app *a = ctx;
	uint8_t v;

	return bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.tls_tgids), &pid, &v) == 0;
}

static void tgid_forget(void *ctx, uint32_t pid)
{
	struct app *a = ctx;

	bpf_map_delete_elem(bpf_map__fd(a->skel->maps.tls_tgids), &pid);
}

/* Captured memory holds secrets: no core dumps, no ptrace by others. */
static void protect_process(void)
{
	struct rlimit no_core = { 0, 0 };

	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &no_core);
}

/* Root, kernel and BTF; the state directory, the fingerprint key, the exe cache. */
static int check_environment(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	enum uprobe_mode um;
	char err[512];

	if (loader_check_env(err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (cap_check(o->verbose, &um) != 0)
		return -1;
	if (o->uprobe_attach && strcmp(o->uprobe_attach, "auto") != 0) {
		um = strcmp(o->uprobe_attach, "perf") == 0 ? UPROBE_MODE_PERF : UPROBE_MODE_MULTI;
		log_info("uprobes attached by %s (--uprobe-attach)",
			 um == UPROBE_MODE_PERF ? "perf events" : "uprobe_multi links");
	}
	uprobe_link_set_mode(um);
	if ((!o->key_file || o->collector) && fs_mkdir_p(o->state_dir) != 0) {
		log_error("cannot create state directory %s: %s", o->state_dir, strerror(errno));
		return -1;
	}
	a->key = calloc(1, sizeof(*a->key));
	if (!a->key || fingerprint_key_load(a->key, o->key_file, o->state_dir, err, sizeof(err)) != 0) {
		log_error("%s", a->key ? err : "out of memory");
		return -1;
	}
	a->exes = exe_cache_new();
	if (!a->exes) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

/*
 * Names a process's pod (the pod watcher) or, outside a pod, its podman
 * container's image (podman's store, remembered per container).
 */
static int resolve_pod(void *ctx, const char *pod_uid, const char *container_id,
		       struct pod_ident *out)
{
	struct app *a = ctx;
	struct image_memo *m = &a->images;
	size_t slot;
	int found = 0;

	if (pod_uid[0])
		return a->pods ? kube_cache_lookup(a->pods, pod_uid, container_id, out) : 0;
	if (strlen(container_id) != 64)
		return 0;
	slot = (size_t)fnv1a(FNV1A_SEED, container_id, 64) % IMAGE_MEMO_SLOTS;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&m->lock);
	if (!strcmp(m->slot[slot].id, container_id)) {
		snprintf(out->image, sizeof(out->image), "%s", m->slot[slot].image);
		found = 1;
	} else if (container_image_read(CONTAINER_STORAGE_DEFAULT, container_id, out->image,
				       sizeof(out->image)) == 0) {
		memcpy(m->slot[slot].id, container_id, 65);
		snprintf(m->slot[slot].image, sizeof(m->slot[slot].image), "%s", out->image);
		found = 1;
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

/*
 * Where the pod watcher reaches the API server: --kube-api, or inside a pod
 * KUBERNETES_SERVICE_HOST. Checked with the flags, before anything loads.
 */
static int resolve_kube(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	char err[256];
	int on = kube_config_resolve(o->kube_api, o->kube_token_file, o->kube_ca_file, env_get,
				     &a->kube_cfg, err, sizeof(err));

	if (on < 0) {
		log_error("%s", err);
		return -1;
	}
	if (on == 0 && (o->kube_token_file || o->kube_ca_file))
		log_warn("--kube-token-file/--kube-ca-file without --kube-api nor "
			 "KUBERNETES_SERVICE_HOST: the pod watcher is off");
	a->kube_on = on == 1;
	return 0;
}

/* The pod watcher's thread, when resolve_kube() found an API server. */
static int start_kube(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	const struct kube_config *kc = &a->kube_cfg;
	char host[256];
	const char *node = o->node;

	if (!a->kube_on)
		return 0;
	if (!node) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		node = host;
	}
	a->pods = kube_cache_new();
	a->kube = a->pods ? kube_watch_start(kc, node, a->pods) : NULL;
	if (!a->kube) {
		log_error("cannot start the pod watcher (node \"%s\")", node);
		return -1;
	}
	status_set_kube(a->pods, a->kube);
	log_info("pod watcher on: %s, pods of node %s", kc->api, node);
	return 0;
}

/* The BPF programs, and what takes their events: shipper, revoker, pipeline, ring buffer. */
static int load(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	struct loader_opts lo = { .only_pid = o->pid, .max_capture = o->max_header_bytes,
				  .ringbuf_bytes = o->ringbuf_bytes,
				  .verbose = o->verbose, .hold_unknown_tls = o->hold_unknown_tls };
	struct pipeline_opts po = { 0 };
	char err[512];

	a->skel = loader_load(&lo, err, sizeof(err));
	if (!a->skel) {
		log_error("%s", err);
		return -1;
	}
	if (o->metrics_listen) {
		a->metrics = metrics_server_start(o->metrics_listen, err, sizeof(err));
		a->mcollect = a->metrics ? metrics_collect_new(a->skel) : NULL;
		if (!a->mcollect) {
			log_error("%s", a->metrics ? "out of memory" : err);
			return -1;
		}
	}
	if (start_kube(a) != 0)
		return -1;
	po.pods = (struct pod_resolver){ resolve_pod, a };
	if (o->collector) {
		struct shipper_opts so = {
			.urls = &o->collectors,
			.token_file = o->collector_token_file,
			.ca_file = o->ca_file, .client_cert = o->client_cert,
			.client_key = o->client_key, .node = o->node, .state_dir = o->state_dir,
			.spool_max_bytes = o->spool_max_bytes, .verbose = o->verbose,
		};

		a->shipper = shipper_new(&so, err, sizeof(err));
		if (!a->shipper || batch_sink_init(&a->ssink, a->shipper, &po.pods) != 0) {
			log_error("%s", a->shipper ? "out of memory" : err);
			return -1;
		}
		po.sink = &a->ssink.sink;
	}
	po.json = o->json;
	po.interval_s = o->interval_s;
	po.max_header_bytes = o->max_header_bytes;
	po.key = a->key;
	po.exes = a->exes;
	po.cred = build_cred_config(a);
	po.out = o->quiet ? NULL : stdout;
	if (o->revoke_command) {
		a->revoker = revoker_new(o->revoke_command, o->revoke_timeout_s);
		if (!a->revoker) {
			log_error("out of memory");
			return -1;
		}
		a->raw_hook = (struct pipeline_raw_hook){ raw_wants, raw_take, a->revoker };
		po.raw = &a->raw_hook;
		log_info("sensor-side revocation on: %s runs for tokens the collector marks",
			 o->revoke_command);
	}
	if (o->hold_unknown_tls) {
		a->hold = hold_watch_start(bpf_map__fd(a->skel->maps.held));
		if (!a->hold) {
			log_error("--hold-unknown-tls: cannot start its watchdog thread");
			return -1;
		}
	}
	a->pipe = pipeline_new(&po);
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), on_record, a, NULL);
	if (!a->pipe || !a->rb) {
		log_error("cannot set up the event ring buffer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The exec gate's analysis thread: examine the program about to run. */
static void gate_decide(void *ctx, int fd)
{
	struct app *a = ctx;

	pthread_mutex_lock(&a->att_lock);
	attacher_examine_open(&a->att, fd, true);
	pthread_mutex_unlock(&a->att_lock);
}

static int start_gate(struct app *a)
{
	struct exec_gate_opts go = { .timeout_ms = a->opt.gate_timeout_ms, .decide = gate_decide,
				     .ctx = a, .verbose = a->opt.verbose };
	char err[512];

	a->gate = exec_gate_start(&go, err, sizeof(err));
	if (!a->gate) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static void destroy_link(void *l)
{
	uprobe_link_destroy(l);
}

/* --java: the agent's thread, which looks at every process running now first. */
static int start_java(struct app *a)
{
	char exe[4096], dir[4096 + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	exe[n > 0 ? n : 0] = '\0';
	slash = strrchr(exe, '/');
	if (!slash) {
		log_error("--java: cannot tell where this binary is");
		return -1;
	}
	*slash = '\0';
	/* next to the binary in a build tree; ../lib/tokentap/java when installed */
	snprintf(dir, sizeof(dir), "%s/java/tokentap-agent.jar", exe);
	if (access(dir, R_OK) == 0)
		snprintf(dir, sizeof(dir), "%s/java", exe);
	else
		snprintf(dir, sizeof(dir), "%s/../lib/tokentap/java", exe);
	a->java = java_agent_start(dir, (uint32_t)getpid(), a->opt.pid, a->opt.verbose);
	if (!a->java)
		return -1;
	log_info("java: loading the agent into HotSpot JVMs (--java)");
	return 0;
}

/* Probes on every TLS library and executable in use, then the held-credential scan. */
static int attach(struct app *a)
{
	const struct sensor_options *o = &a->opt;

	/* before the scans, which take a while: a signal then ends the run at once */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	attacher_init(&a->att, a->skel, a->exes, o->pid, o->entry_probes, o->verbose);
	a->reaper = link_reaper_start(destroy_link);
	if (!a->reaper) {
		log_error("cannot start the thread that releases probes");
		return -1;
	}
	a->att.reaper = a->reaper;
	metrics_collect_publish(a->mcollect, a->metrics, a->pipe, &a->att, a->shipper, NULL, NULL,
				0, false, o->interval_s);
	/* mappings during the scan wait for it, then are handled at once */
	a->athread = attach_thread_start(bpf_map__fd(a->skel->maps.lib_events), on_lib_record, a);
	if (!a->athread) {
		log_error("cannot start the attach thread: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&a->att_lock);
	attacher_scan_all(&a->att);
	pthread_mutex_unlock(&a->att_lock);
	/* after the scan: what runs now is decided, the gate holds only new programs */
	if (o->gate_exec && start_gate(a) != 0)
		return -1;
	if (o->java && start_java(a) != 0)
		return -1;
	if (!o->no_held) {
		a->held = held_procs_new(a->key, "/proc", o->json, o->quiet ? NULL : stdout,
					 a->shipper ? &a->ssink.sink : NULL);
		if (!a->held) {
			log_error("out of memory");
			return -1;
		}
		held_procs_set_pods(a->held, &(struct pod_resolver){ resolve_pod, a });
		held_procs_scan_all(a->held, o->pid);
	}
	a->probed = (struct coverage_probed){ tgid_probed, tgid_forget, a };
	a->cov = coverage_new("/proc", a->exes, o->interval_s, o->json, o->quiet ? NULL : stdout,
			      a->shipper ? &a->ssink.sink : NULL, &a->probed);
	if (!a->cov) {
		log_error("out of memory");
		return -1;
	}
	/*
	 * Start-up is over: the BPF object's ELF, the kernel BTF and every
	 * library's relocation tables have been read for the last time.
	 */
	struct memtrim_result mt;

	memtrim_after_start(&mt);
	log_verbose(o->verbose, "start-up memory released: %zu read-only segments of %zu objects, %zu KiB",
		    mt.segments, mt.objects, mt.bytes / 1024);
	/* a sensor that cannot see TLS must not look healthy: it says so, and /readyz fails */
	if (!attacher_tls_possible(&a->att))
		log_error("NOT READY: TLS capture is off (%u uprobe attachments refused by the kernel); plaintext only",
			  a->att.attach_denied);
	log_info("%s: %u tracepoints; %u TLS libraries and %u executables attached (openssl: %u, gnutls: %u, go: %u, nss: %u, rustls: %u files; %u uprobes, %u at call sites)%s%s%s",
		 attacher_tls_possible(&a->att) ? "ready" : "degraded",
		 loader_tracepoints(), a->att.tls_libs, a->att.tls_exes,
		 a->att.files_by_lib[TT_LIB_OPENSSL], a->att.files_by_lib[TT_LIB_GNUTLS],
		 a->att.files_by_lib[TT_LIB_GO], a->att.files_by_lib[TT_LIB_NSS],
		 a->att.files_by_lib[TT_LIB_RUSTLS], a->att.probes,
		 a->att.probes_at_call, o->pid ? " for one process" : "",
		 o->collector ? "; shipping to " : "", o->collector ? o->collector : "");
	if (a->gate)
		log_info("exec gate on: new programs wait up to %u ms for their probes", o->gate_timeout_ms);
	if (o->hold_unknown_tls)
		log_info("holding processes that map a TLS library not examined yet until it is attached");
	return 0;
}

/* The sensor_status fields of this file's own counters. */
static const struct status_extra *status_extra(struct app *a)
{
	static struct status_extra x;
	static struct exec_gate_stats gs;
	static struct java_agent_stats js;

	if (a->gate)
		exec_gate_stats(a->gate, &gs);
	java_agent_get_stats(a->java, &js);
	if (a->hold)
		a->hold_timeouts = hold_watch_timeouts(a->hold);
	x = (struct status_extra){
		.lib_attach = &a->lib_attach,
		.held = a->opt.hold_unknown_tls ? &a->held_time : NULL,
		.hold_timeouts = a->opt.hold_unknown_tls ? &a->hold_timeouts : NULL,
		.gate = a->gate ? &gs : NULL,
		.java = a->java ? &js : NULL,
		.records_read = &a->records_read,
	};
	return &x;
}

/*
 * Releases the probes of files no process maps any more. Reading every
 * process's maps holds no lock, and the links go to the reaper thread: the
 * attach thread is never kept waiting by a pass.
 */
static void release_pass(struct app *a)
{
	struct release_pass p;
	int64_t t0 = clock_mono_ns();
	int released;

	pthread_mutex_lock(&a->att_lock);
	attacher_release_begin(&a->att, &p);
	pthread_mutex_unlock(&a->att_lock);
	if (p.n == 0)
		return;
	release_pass_scan(&p);
	pthread_mutex_lock(&a->att_lock);
	released = attacher_release_end(&a->att, &p);
	pthread_mutex_unlock(&a->att_lock);
	log_verbose(a->opt.verbose, "release pass: %d of %zu candidate files released in %lld us",
		    released, p.n, (long long)(clock_mono_ns() - t0) / 1000);
}

/* Events, new processes, timers and revocations, until SIGINT or SIGTERM. */
static void run_loop(struct app *a)
{
	const struct sensor_options *o = &a->opt;
	int64_t next_status, next_release, last_release, release_gap, next_metrics = 0;
	bool trim = false;

	next_status = clock_mono_ns() + (int64_t)o->interval_s * 1000000000LL;
	last_release = clock_mono_ns();
	next_release = last_release + (int64_t)o->release_interval_s * 1000000000LL;
	/* exits bring the pass forward, but a busy host does not get one per exit */
	release_gap = (int64_t)(o->release_interval_s < 5 ? o->release_interval_s : 5) * 1000000000LL;
	while (!stopping) {
		int64_t now;

		/* Producers wake us only past a fill level: also read on a timer. */
		if (ring_buffer__poll(a->rb, 50) < 0 && errno != EINTR)
			break;
		ring_buffer__consume(a->rb);
		/* one process at a time: the attach thread waits for one scan at most */
		for (size_t i = 0; i < a->nscan; i++) {
			pthread_mutex_lock(&a->att_lock);
			attacher_scan_pid(&a->att, a->scan_pids[i]);
			pthread_mutex_unlock(&a->att_lock);
		}
		a->nscan = 0;
		now = clock_mono_ns();
		pipeline_tick(a->pipe, now);
		coverage_tick(a->cov, now);
		if (a->revoker) {
			char marked[SHIPPER_REVOKE_MAX][33];
			size_t n = shipper_revoke_list(a->shipper, marked, SHIPPER_REVOKE_MAX);

			revoker_set_marked(a->revoker, marked, n);
			revoker_results(a->revoker, on_revoked, a);
		}
		if (a->shipper)
			shipper_tick(a->shipper, now);
		pthread_mutex_lock(&a->att_lock);
		if (a->exits_seen) {
			a->exits_seen = false;
			if (next_release > last_release + release_gap && attacher_has_releasable(&a->att))
				next_release = last_release + release_gap;
		}
		pthread_mutex_unlock(&a->att_lock);
		if (now >= next_release) {
			release_pass(a);
			last_release = now;
			next_release = now + (int64_t)o->release_interval_s * 1000000000LL;
		}
		pthread_mutex_lock(&a->att_lock);
		if (a->metrics && now >= next_metrics) {
			metrics_collect_publish(a->mcollect, a->metrics, a->pipe, &a->att, a->shipper,
						a->held, a->cov, a->scan_overflow, true, o->interval_s);
			next_metrics = now + 1000000000LL;
		}
		if (now >= next_status) {
			report_status(a->pipe, &a->att, a->skel, a->shipper, a->held, a->cov, a->scan_overflow,
				      status_extra(a), false);
			next_status = now + (int64_t)o->interval_s * 1000000000LL;
			trim = true;
		}
		pthread_mutex_unlock(&a->att_lock);
		if (trim) {
			memtrim_heap();
			trim = false;
		}
	}
}

/* After a run: report what is still held and deliver it, or leave it spooled. */
static void shutdown_run(struct app *a)
{
	/* mappings read now continue any process still held (--hold-unknown-tls) */
	attach_thread_stop(a->athread);
	a->athread = NULL;
	ring_buffer__consume(a->rb);
	/* its count first: the final status is reported after the watchdog is gone */
	a->hold_timeouts = hold_watch_timeouts(a->hold);
	hold_watch_stop(a->hold);
	a->hold = NULL;
	pipeline_flush_all(a->pipe);
	/* the reports still settling: the process had its chance to show a probe */
	coverage_tick(a->cov, INT64_MAX);
	if (a->revoker) {
		/* commands under way finish; their outcomes are shipped with the rest */
		revoker_stop(a->revoker);
		revoker_results(a->revoker, on_revoked, a);
		revoker_free(a->revoker);
		a->revoker = NULL;
	}
	report_status(a->pipe, &a->att, a->skel, a->shipper, a->held, a->cov, a->scan_overflow,
		      status_extra(a), true);
	/* Deliver what is left, or leave it spooled for the next start. */
	if (a->shipper)
		shipper_close(a->shipper, 5000);
}

/* Releases whatever was set up, in reverse order; safe at any step. */
static void app_free(struct app *a)
{
	/* first: their threads use the attacher */
	attach_thread_stop(a->athread);
	exec_gate_stop(a->gate);
	java_agent_stop(a->java);
	hold_watch_stop(a->hold);
	metrics_server_stop(a->metrics);
	metrics_collect_free(a->mcollect);
	revoker_free(a->revoker);
	shipper_free(a->shipper);
	batch_sink_free(&a->ssink);
	kube_watch_stop(a->kube);
	ring_buffer__free(a->rb);
	pipeline_free(a->pipe);
	held_procs_free(a->held);
	coverage_free(a->cov);
	attacher_free(&a->att);
	/* the links released but not destroyed yet */
	link_reaper_stop(a->reaper);
	loader_destroy(a->skel);
	exe_cache_free(a->exes);
	status_set_kube(NULL, NULL);
	kube_cache_free(a->pods);
	if (a->key) {
		secure_wipe(a->key, sizeof(*a->key));
		free(a->key);
	}
	sensor_options_free(&a->opt);
}

int main(int argc, char **argv)
{
	struct app a = {
		.att_lock = PTHREAD_MUTEX_INITIALIZER,
		.images = { .lock = PTHREAD_MUTEX_INITIALIZER },
	};
	int status = 1;

	sensor_options_init(&a.opt);
	if (sensor_options_parse(&a.opt, argc, argv) != 0 || resolve_kube(&a) != 0)
		goto out;
	protect_process();
	if (check_environment(&a) != 0 || load(&a) != 0 || attach(&a) != 0)
		goto out;
	run_loop(&a);
	shutdown_run(&a);
	status = 0;
out:
	app_free(&a);
	return status;
}
