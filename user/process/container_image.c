/* SPDX-License-Identifier: Apache-2.0 */
#include "container_image.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* containers.json is an array of flat objects; its metadata strings are flat too. */
#define JSON_DEPTH 8
#define ID_LEN 64

static struct json_object *parse(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool image_ok(const char *s, size_t cap)
{
	size_t n = 0;

	if (!s || !s[0])
		return false;
	for (; s[n]; n++)
		if (n + 1 >= cap || s[n] <= ' ' || s[n] > '~')
			return false;
	return true;
}

int container_image_parse(const char *json, size_t len, const char *container_id, char *out,
			  size_t cap)
{
	struct json_object *arr, *meta = NULL;
	size_t i, n;
	int rc = -1;

	if (cap)
		out[0] = '\0';
	if (!json || !len || len > CONTAINER_IMAGE_FILE_MAX || len > 0x7fffffff || !container_id ||
	    strlen(container_id) != ID_LEN || cap == 0)
		return -1;
	arr = parse(json, len);
	if (!arr || !json_object_is_type(arr, json_type_array))
		goto out;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		const char *id = get_str(c, "id"), *m = get_str(c, "metadata"), *img;

		if (!id || strcmp(id, container_id) != 0)
			continue;
		/* the metadata is a JSON document inside a string */
		if (!m || !(meta = parse(m, strlen(m))))
			break;
		img = get_str(meta, "image-name");
		if (image_ok(img, cap)) {
			snprintf(out, cap, "%s", img);
			rc = 0;
		}
		break;
	}
out:
	json_object_put(meta);
	json_object_put(arr);
	return rc;
}

int container_image_read(const char *storage_root, const char *container_id, char *out, size_t cap)
{
	char path[512];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc = -1;

	if (cap)
		out[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/overlay-containers/containers.json", storage_root) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > CONTAINER_IMAGE_FILE_MAX) {
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size);
	if (buf) {
		while (got < (size_t)st.st_size) {
			ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		rc = container_image_parse(buf, got, container_id, out, cap);
		free(buf);
	}
	close(fd);
	return rc;
}
