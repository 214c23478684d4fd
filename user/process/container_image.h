/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image a podman container was created from, read from podman's
 * container store (<storage>/overlay-containers/containers.json: each
 * container's "metadata" holds its "image-name"). Kubernetes pods get
 * their image from the pod watcher instead. Bounded and validated: the
 * file is read up to CONTAINER_IMAGE_FILE_MAX, the name must be printable
 * without spaces.
 */
#ifndef TOKENTAP_CONTAINER_IMAGE_H
#define TOKENTAP_CONTAINER_IMAGE_H

#include <stddef.h>

#define CONTAINER_STORAGE_DEFAULT "/var/lib/containers/storage"
#define CONTAINER_IMAGE_FILE_MAX (16u << 20)

/*
 * The image name of container_id (64 hex) in a containers.json body; 0
 * and out filled when found, -1 otherwise (out "").
 */
int container_image_parse(const char *json, size_t len, const char *container_id, char *out,
			  size_t cap);

/* The same from <storage_root>/overlay-containers/containers.json. */
int container_image_read(const char *storage_root, const char *container_id, char *out, size_t cap);

#endif
