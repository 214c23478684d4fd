/* SPDX-License-Identifier: Apache-2.0 */
#include "batch.h"
#include "text.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NS_PER_MS 1000000LL
#define BATCH_JWT_JSON_MAX 65536

static int64_t ns_to_ms(int64_t ns)
{
	return ns / NS_PER_MS;
}

/*
 * Proto3 strings must be UTF-8 for every decoder, but captured paths and
 * hosts are arbitrary bytes: invalid bytes become '?'. At most max bytes
 * of s are used. "" is the shared empty string free_unpacked skips.
 */
static char *dup_utf8(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;
	char *d;

	if (n == 0)
		return (char *)protobuf_c_empty_string;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);

		if (l == 0) {
			d[i++] = '?';
			continue;
		}
		memcpy(d + i, s + i, l);
		i += l;
	}
	d[n] = '\0';
	return d;
}

/* Sets *field to a copy of s; returns -1 when out of memory. */
static int set_str(char **field, const char *s, size_t max)
{
	*field = dup_utf8(s, max);
	return *field ? 0 : -1;
}

static Tokentap__V1__Token *make_token(const struct sighting *s)
{
	const struct token_info *t = &s->info;
	Tokentap__V1__Token *k = malloc(sizeof(*k));
	int bad = 0;

	if (!k)
		return NULL;
	tokentap__v1__token__init(k);
	bad |= set_str(&k->fingerprint, s->fingerprint, sizeof(s->fingerprint));
	bad |= set_str(&k->token_type, t->type, sizeof(t->type));
	bad |= set_str(&k->scheme, s->scheme, sizeof(s->scheme));
	bad |= set_str(&k->header, s->header, sizeof(s->header));
	k->in_query = s->in_query;
	bad |= set_str(&k->token_prefix, t->prefix, sizeof(t->prefix));
	k->token_length = t->length > UINT32_MAX ? UINT32_MAX : (uint32_t)t->length;
	k->has_checksum = t->has_checksum;
	k->checksum_valid = t->has_checksum && t->checksum_valid;
	k->confidence = t->confidence < 0 ? 0 : t->confidence > 100 ? 100 : (uint32_t)t->confidence;
	bad |= set_str(&k->key_id, t->key_id, sizeof(t->key_id));
	bad |= set_str(&k->aws_key_kind, t->aws_key_kind, sizeof(t->aws_key_kind));
	bad |= set_str(&k->aws_account, t->aws_account, sizeof(t->aws_account));
	bad |= set_str(&k->aws_region, t->aws_region, sizeof(t->aws_region));
	bad |= set_str(&k->aws_service, t->aws_service, sizeof(t->aws_service));
	bad |= set_str(&k->basic_user, t->basic_user, sizeof(t->basic_user));
	bad |= set_str(&k->basic_password_type, t->basic_password_type,
		       sizeof(t->basic_password_type));
	if (t->jwt) {
		/* Compact, and "/" unescaped so issuer URLs read as they are. */
		const char *j = json_object_to_json_string_ext(t->jwt, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE);

		/* cut JSON is worse than none; jwt.h bounds claims well below this */
		if (j && strlen(j) >= BATCH_JWT_JSON_MAX)
			j = "{\"truncated\":true}";
		bad |= set_str(&k->jwt_json, j, BATCH_JWT_JSON_MAX);
	}
	if (bad) {
		tokentap__v1__token__free_unpacked(k, NULL);
		return NULL;
	}
	return k;
}

static Tokentap__V1__ProcessRef *make_process_ref(const struct sighting *s)
{
	Tokentap__V1__ProcessRef *p = malloc(sizeof(*p));
	int bad = 0;

	if (!p)
		return NULL;
	tokentap__v1__process_ref__init(p);
	p->pid = s->pid;
	p->tid = s->tid;
	p->uid = s->uid;
	bad |= set_str(&p->comm, s->comm, sizeof(s->comm));
	bad |= set_str(&p->exe, s->exe, sizeof(s->exe));
	p->cgroup_id = s->cgroup_id;
	if (bad) {
		tokentap__v1__process_ref__free_unpacked(p, NULL);
		return NULL;
	}
	return p;
}

static Tokentap__V1__Destination *make_destination(const struct sighting *s)
{
	Tokentap__V1__Destination *d = malloc(sizeof(*d));
	int bad = 0;

	if (!d)
		return NULL;
	tokentap__v1__destination__init(d);
	bad |= set_str(&d->src, s->src, sizeof(s->src));
	bad |= set_str(&d->dst, s->dst, sizeof(s->dst));
	bad |= set_str(&d->host, s->host, sizeof(s->host));
	d->tls = s->tls;
	bad |= set_str(&d->tls_library, s->tls_library, sizeof(s->tls_library));
	if (bad) {
		tokentap__v1__destination__free_unpacked(d, NULL);
		return NULL;
	}
	return d;
}

/*
 * A new Event of the given kind in *evp, and its message (of descriptor
 * d), allocated and initialised; the caller links it into the oneof.
 * NULL when out of memory.
 */
static void *new_event(const ProtobufCMessageDescriptor *d, Tokentap__V1__Event__KindCase kind,
		       batch_event **evp)
{
	batch_event *ev = malloc(sizeof(*ev));
	void *m = ev ? malloc(d->sizeof_message) : NULL;

	if (!m) {
		free(ev);
		return NULL;
	}
	tokentap__v1__event__init(ev);
	protobuf_c_message_init(d, m);
	ev->kind_case = kind;
	*evp = ev;
	return m;
}

batch_event *batch_event_token_seen(const struct sighting *s)
{
	batch_event *ev;
	Tokentap__V1__TokenSeen *m;
	int bad = 0;

	m = new_event(&tokentap__v1__token_seen__descriptor, TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN, &ev);
	if (!m)
		return NULL;
	ev->token_seen = m;
	m->ts_ms = ns_to_ms(s->ts_unix_ns);
	m->token = make_token(s);
	m->process = make_process_ref(s);
	m->destination = make_destination(s);
	bad |= set_str(&m->method, s->method, sizeof(s->method));
	bad |= set_str(&m->path, s->path, sizeof(s->path));
	if (bad || !m->token || !m->process || !m->destination) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

batch_event *batch_event_token_usage(const struct sighting *s, int64_t last_seen_ns,
				     uint64_t count, int64_t start_ns, int64_t end_ns)
{
	batch_event *ev;
	Tokentap__V1__TokenUsage *m;
	int bad = 0;

	m = new_event(&tokentap__v1__token_usage__descriptor, TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE, &ev);
	if (!m)
		return NULL;
	ev->token_usage = m;
	m->start_ms = ns_to_ms(start_ns);
	m->end_ms = ns_to_ms(end_ns);
	m->token = make_token(s);
	m->process = make_process_ref(s);
	m->destination = make_destination(s);
	bad |= set_str(&m->method, s->method, sizeof(s->method));
	bad |= set_str(&m->path, s->path, sizeof(s->path));
	m->count = count;
	m->last_seen_ms = ns_to_ms(last_seen_ns);
	if (bad || !m->token || !m->process || !m->destination) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

batch_event *batch_event_token_held(const struct sighting *s, enum held_source src,
				    const char *name, int64_t process_start_ms)
{
	batch_event *ev;
	Tokentap__V1__TokenHeld *m;

	m = new_event(&tokentap__v1__token_held__descriptor, TOKENTAP__V1__EVENT__KIND_TOKEN_HELD, &ev);
	if (!m)
		return NULL;
	ev->token_held = m;
	m->ts_ms = ns_to_ms(s->ts_unix_ns);
	m->token = make_token(s);
	m->process = make_process_ref(s);
	m->source = src == HELD_ARGV ? TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV
				     : TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON;
	m->process_start_ms = process_start_ms;
	if (set_str(&m->name, name, 64) || !m->token || !m->process) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

batch_event *batch_event_revocation(int64_t ts_ns, const char *fingerprint, const char *type,
				    const char *outcome, int exit_code, const char *detail)
{
	batch_event *ev;
	Tokentap__V1__RevocationResult *m;
	int bad = 0;

	m = new_event(&tokentap__v1__revocation_result__descriptor,
		      TOKENTAP__V1__EVENT__KIND_REVOCATION_RESULT, &ev);
	if (!m)
		return NULL;
	ev->revocation_result = m;
	m->ts_ms = ns_to_ms(ts_ns);
	m->exit_code = exit_code;
	bad |= set_str(&m->fingerprint, fingerprint, FINGERPRINT_HEX_LEN + 1);
	bad |= set_str(&m->token_type, type, 32);
	bad |= set_str(&m->outcome, outcome, 16);
	bad |= set_str(&m->detail, detail, 1024);
	if (bad) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

batch_event *batch_event_tls_uncovered(const struct uncov_report *r)
{
	Tokentap__V1__TlsUncovered *m;
	struct sighting s;
	batch_event *ev;
	int bad = 0;

	m = new_event(&tokentap__v1__tls_uncovered__descriptor, TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED,
		      &ev);
	if (!m)
		return NULL;
	ev->tls_uncovered = m;
	m->ts_ms = ns_to_ms(r->ts_ns);
	/* the process reference is built the one way, from a sighting's fields */
	memset(&s, 0, sizeof(s));
	s.pid = r->pid;
	s.uid = r->uid;
	memcpy(s.comm, r->comm, sizeof(s.comm));
	memcpy(s.exe, r->exe, sizeof(s.exe));
	s.cgroup_id = r->cgroup_id;
	m->process = make_process_ref(&s);
	bad |= !m->process;
	bad |= set_str(&m->dst, r->dst, sizeof(r->dst));
	bad |= set_str(&m->cause, uncov_cause_name(r->cause), 32);
	bad |= set_str(&m->detail, r->detail, sizeof(r->detail));
	bad |= set_str(&m->container_id, r->container_id, sizeof(r->container_id));
	bad |= set_str(&m->pod_uid, r->pod_uid, sizeof(r->pod_uid));
	if (bad) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

static uint32_t clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/*
 * A 32-bit wire field saturates instead of wrapping. A field of any other
 * type (or a misspelt one) in status_counters.h fails the build here.
 */
#define STATUS_PUT(dst, v) (*(dst) = _Generic(*(dst), uint32_t: clamp_u32(v), uint64_t: (v)))

static void put_status(Tokentap__V1__SensorStatus *m, int id, uint64_t v)
{
	switch (id) {
#define STATUS_WIRE_CASE_(name, field)			\
	case STATUS_ID_##name:				\
		STATUS_PUT(&m->field, v);		\
		break;
#define STATUS_LOCAL_CASE_(name)
	STATUS_COUNTERS(STATUS_WIRE_CASE_, STATUS_LOCAL_CASE_)
#undef STATUS_WIRE_CASE_
#undef STATUS_LOCAL_CASE_
	default:
		/* reported locally only, or not a counter */
		break;
	}
}

batch_event *batch_event_status(int64_t ts_ns, const struct status_field *f, size_t n)
{
	batch_event *ev;
	Tokentap__V1__SensorStatus *m;

	m = new_event(&tokentap__v1__sensor_status__descriptor,
		      TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS, &ev);
	if (!m)
		return NULL;
	ev->sensor_status = m;
	m->ts_ms = ns_to_ms(ts_ns);
	for (size_t i = 0; i < n; i++)
		put_status(m, status_counter_find(f[i].name), f[i].value);
	return ev;
}

batch_event *batch_event_process_info(const struct procdesc *d)
{
	batch_event *ev;
	Tokentap__V1__ProcessInfo *m;
	int bad = 0;

	m = new_event(&tokentap__v1__process_info__descriptor,
		      TOKENTAP__V1__EVENT__KIND_PROCESS_INFO, &ev);
	if (!m)
		return NULL;
	ev->process_info = m;
	m->pid = d->pid;
	m->start_time_ms = d->start_time_ms;
	m->ppid = d->ppid;
	m->uid = d->uid;
	bad |= set_str(&m->exe, d->exe, sizeof(d->exe));
	bad |= set_str(&m->cmdline, d->cmdline, sizeof(d->cmdline));
	bad |= set_str(&m->cgroup, d->cgroup, sizeof(d->cgroup));
	bad |= set_str(&m->container_id, d->container_id, sizeof(d->container_id));
	/* the watcher's namespace is the API's; the volume's is the fallback */
	bad |= set_str(&m->k8s_namespace,
		       d->pod.k8s_namespace[0] ? d->pod.k8s_namespace : d->k8s_namespace,
		       sizeof(d->k8s_namespace));
	bad |= set_str(&m->pod_uid, d->pod_uid, sizeof(d->pod_uid));
	bad |= set_str(&m->pod, d->pod.pod, sizeof(d->pod.pod));
	bad |= set_str(&m->container, d->pod.container, sizeof(d->pod.container));
	bad |= set_str(&m->workload_kind, d->pod.workload_kind, sizeof(d->pod.workload_kind));
	bad |= set_str(&m->workload_name, d->pod.workload_name, sizeof(d->pod.workload_name));
	bad |= set_str(&m->service_account, d->pod.service_account, sizeof(d->pod.service_account));
	bad |= set_str(&m->image, d->pod.image, sizeof(d->pod.image));
	m->cgroup_id = d->cgroup_id;
	if (bad) {
		batch_event_free(ev);
		return NULL;
	}
	return ev;
}

void batch_event_free(batch_event *ev)
{
	/* NULL strings and submessages of a half-built event are skipped by the free. */
	if (ev)
		tokentap__v1__event__free_unpacked(ev, NULL);
}

void batch_init(struct batch *b, size_t max_events, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	b->max_events = max_events ? max_events : BATCH_DEFAULT_MAX_EVENTS;
	b->max_bytes = max_bytes ? max_bytes : BATCH_DEFAULT_MAX_BYTES;
}

void batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		batch_event_free(b->events[i]);
	b->n = 0;
	b->bytes = 0;
}

void batch_free(struct batch *b)
{
	batch_reset(b);
	free(b->events);
	b->events = NULL;
	b->cap = 0;
}

int batch_full(const struct batch *b)
{
	return b->n >= b->max_events || b->bytes >= b->max_bytes;
}

int batch_add(struct batch *b, batch_event *ev)
{
	/* tag + length prefix of a repeated field: at most 1 + 10 bytes */
	size_t sz = tokentap__v1__event__get_packed_size(ev) + 11;

	if (b->n > 0 && (batch_full(b) || b->bytes + sz > b->max_bytes))
		goto fail;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		batch_event **ne;

		if (ncap > b->max_events)
			ncap = b->max_events;
		if (ncap <= b->n)
			ncap = b->n + 1;
		ne = realloc(b->events, ncap * sizeof(*ne));
		if (!ne)
			goto fail;
		b->events = ne;
		b->cap = ncap;
	}
	b->events[b->n++] = ev;
	b->bytes += sz;
	return 0;
fail:
	batch_event_free(ev);
	return -1;
}

int batch_gzip(const void *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	z_stream z;
	uint8_t *buf;
	uLong bound;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (inlen > UINT32_MAX)
		return -1;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	/* deflateBound does not count the gzip wrapper: add room for it */
	bound = deflateBound(&z, (uLong)inlen) + 32;
	buf = malloc(bound);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		free(buf);
		return -1;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	*out = buf;
	return 0;
}

int batch_serialize(const struct batch *b, const struct batch_meta *meta, uint8_t **out,
		    size_t *outlen)
{
	Tokentap__V1__Batch m;
	uint8_t *packed;
	size_t len;
	int rc;

	*out = NULL;
	*outlen = 0;
	tokentap__v1__batch__init(&m);
	/* The batch borrows the strings and events: nothing here is freed by protobuf-c. */
	m.sensor_id = (char *)(meta->sensor_id ? meta->sensor_id : "");
	m.node = (char *)(meta->node ? meta->node : "");
	m.seq = meta->seq;
	m.sent_at_ms = meta->sent_at_ms;
	m.sensor_version = (char *)(meta->sensor_version ? meta->sensor_version : "");
	m.n_events = b->n;
	m.events = b->events;
	len = tokentap__v1__batch__get_packed_size(&m);
	packed = malloc(len ? len : 1);
	if (!packed)
		return -1;
	if (tokentap__v1__batch__pack(&m, packed) != len) {
		free(packed);
		return -1;
	}
	rc = batch_gzip(packed, len, out, outlen);
	free(packed);
	return rc;
}
