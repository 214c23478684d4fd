/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A process of a pod that started a moment ago may send its first request
 * before the pod watcher has heard of the pod. Its first sighting waits
 * here, at most POD_HOLD_NS, for the names; then it goes out with the pod
 * UID alone and the collector fills the names in when a later
 * ProcessInfo brings them. Bounded: when full, a sighting is not held.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"

#define POD_HOLD_MAX 128
#define POD_HOLD_NS (2LL * 1000000000LL)

struct pod_hold {
	size_t n;
	struct {
		struct sighting s;
		int64_t due;
	} e[POD_HOLD_MAX];
};

static bool known(struct pipeline *p, const struct sighting *s)
{
	struct pod_ident id;

	return p->o.pods.resolve(p->o.pods.ctx, s->pod_uid, s->container_id, &id) != 0;
}

bool pod_hold_add(struct pipeline *p, const struct sighting *s, int64_t now)
{
	struct pod_hold *h;

	if (!p->o.pods.resolve || !s->pod_uid[0] || known(p, s))
		return false;
	if (!p->pod_hold) {
		p->pod_hold = calloc(1, sizeof(*p->pod_hold));
		if (!p->pod_hold)
			return false;
	}
	h = p->pod_hold;
	if (h->n == POD_HOLD_MAX)
		return false;
	sighting_copy(&h->e[h->n].s, s);
	h->e[h->n].due = now + POD_HOLD_NS;
	h->n++;
	p->st.pod_held++;
	return true;
}

void pod_hold_tick(struct pipeline *p, int64_t now, bool all)
{
	struct pod_hold *h = p->pod_hold;
	size_t i = 0;

	if (!h)
		return;
	/* in arrival order, so a process's sightings keep theirs */
	while (i < h->n) {
		bool is_known = known(p, &h->e[i].s);

		if (!all && !is_known && now < h->e[i].due) {
			i++;
			continue;
		}
		if (!is_known)
			p->st.pod_unknown++;
		output_report(p, &h->e[i].s);
		sighting_release(&h->e[i].s);
		h->n--;
		memmove(&h->e[i], &h->e[i + 1], (h->n - i) * sizeof(h->e[0]));
	}
}

void pod_hold_free(struct pipeline *p)
{
	struct pod_hold *h = p->pod_hold;

	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		sighting_release(&h->e[i].s);
	free(h);
	p->pod_hold = NULL;
}
