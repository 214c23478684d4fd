/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the pod watcher reaches the API server. Flags win; otherwise, in a
 * pod, KUBERNETES_SERVICE_HOST/PORT and the service-account files. Pure:
 * the environment is read through a function.
 */
#ifndef TOKENTAP_KUBE_CONFIG_H
#define TOKENTAP_KUBE_CONFIG_H

#include <stddef.h>

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_URL_MAX 300
#define KUBE_PATH_MAX 512

struct kube_config {
	char api[KUBE_URL_MAX];         /* "https://host:port", no trailing slash */
	char token_file[KUBE_PATH_MAX];
	char ca_file[KUBE_PATH_MAX];    /* "": the system's CAs */
};

/*
 * Fills out from the flags (NULL when not given) and getenv_fn. 1 when the
 * watcher is configured, 0 when it is off (no --kube-api and no
 * KUBERNETES_SERVICE_HOST), -1 with err set when a value is invalid.
 */
int kube_config_resolve(const char *api, const char *token_file, const char *ca_file,
			const char *(*getenv_fn)(const char *name), struct kube_config *out,
			char *err, size_t errlen);

#endif
