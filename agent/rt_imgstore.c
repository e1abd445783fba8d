/* rt_imgstore.c — the local image store: one OCI layout (DATA/images/oci)
 * whose blobs every pull shares and whose index.json holds one tag per
 * normalized reference, and unpacked root filesystems per manifest digest
 * (DATA/images/rootfs/<hex>). The index is ours: skopeo writes each pull
 * into a one-image layout beside it (sharing the blob directory), and we
 * tag the result here, under a lock, so concurrent pulls never lose a tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/rt_int.h"
#include "lib/orc.h"

#define REF_NAME "org.opencontainers.image.ref.name"

static const char *hex_of(const char *digest)
{
    return strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
}

int rt_image_rootfs(const rt *r, const char *digest, char out[RT_PATH])
{
    return rt_path(out, "%s/%s", r->dir_rootfs, hex_of(digest));
}

static bool digest_ok(const char *d)
{
    if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71) return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static json_t *read_index(const char *layout)
{
    char path[RT_PATH];
    json_t *idx;

    if (rt_path(path, "%s/index.json", layout) != 0) return NULL;
    idx = rt_read_json(path);
    if (idx == NULL) idx = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
    if (idx && !json_is_array(json_object_get(idx, "manifests")))
        json_object_set_new(idx, "manifests", json_array());
    return idx;
}

static struct rt_img *img_add(rt *r, const char *ref, const char *digest)
{
    struct rt_img *i = calloc(1, sizeof *i);

    if (i == NULL || (i->ref = strdup(ref)) == NULL || (i->digest = strdup(digest)) == NULL) {
        if (i) free(i->ref);
        free(i);
        return NULL;
    }
    i->next = r->images;
    r->images = i;
    return i;
}

int rt_images_load(rt *r, char *msg)
{
    json_t *idx = read_index(r->dir_oci), *m;
    char path[RT_PATH];
    struct stat st;
    size_t i;

    if (idx == NULL) return orc_errf(msg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
    json_array_foreach(json_object_get(idx, "manifests"), i, m) {
        const char *ref = json_string_value(json_object_get(json_object_get(m, "annotations"), REF_NAME));
        const char *digest = json_string_value(json_object_get(m, "digest"));
        struct rt_img *img;
        if (ref == NULL || !digest_ok(digest)) continue;
        if ((img = img_add(r, ref, digest)) == NULL) {
            json_decref(idx);
            return orc_errf(msg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
        }
        img->unpacked = rt_image_rootfs(r, digest, path) == 0 && stat(path, &st) == 0;
    }
    json_decref(idx);
    return 0;
}

void rt_images_free(rt *r)
{
    while (r->images) {
        struct rt_img *i = r->images;
        r->images = i->next;
        free(i->ref);
        free(i->digest);
        json_decref(i->config);
        free(i);
    }
}

/* Replaces ref's entry in the shared index with desc. Caller holds the lock. */
static int tag_locked(rt *r, const char *ref, json_t *desc)
{
    json_t *idx = read_index(r->dir_oci), *list, *m, *entry;
    char path[RT_PATH];
    size_t i;
    int rv;

    if (idx == NULL) return ORC_ENOMEM;
    list = json_object_get(idx, "manifests");
    for (i = json_array_size(list); i-- > 0;) {
        m = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"), REF_NAME));
        if (name && strcmp(name, ref) == 0) json_array_remove(list, i);
    }
    entry = json_deep_copy(desc);
    if (entry == NULL) {
        json_decref(idx);
        return ORC_ENOMEM;
    }
    json_object_set_new(entry, "annotations", json_pack("{s:s}", REF_NAME, ref));
    json_array_append_new(list, entry);
    rv = rt_path(path, "%s/index.json", r->dir_oci) ? ORC_EINVAL : rt_write_json(path, idx);
    json_decref(idx);
    return rv;
}

int rt_store_commit(rt *r, const char *tmp_layout, const char *ref, char **digest, char *msg)
{
    json_t *idx = read_index(tmp_layout);
    json_t *desc = json_array_get(json_object_get(idx, "manifests"), 0);
    const char *d = json_string_value(json_object_get(desc, "digest"));
    int rv;

    *digest = NULL;
    if (!digest_ok(d)) {
        json_decref(idx);
        return orc_errf(msg, RT_ERRLEN, ORC_ECORRUPT, "the pull left no image manifest in %s", tmp_layout);
    }
    uv_mutex_lock(&r->index_lock);
    rv = tag_locked(r, ref, desc);
    uv_mutex_unlock(&r->index_lock);
    if (rv == 0 && (*digest = strdup(d)) == NULL) rv = ORC_ENOMEM;
    json_decref(idx);
    if (rv != 0) orc_errf(msg, RT_ERRLEN, rv, "tagging %s in the image store: %s", ref, orc_strerror(rv));
    return rv;
}

static json_t *read_blob(rt *r, const char *digest)
{
    char path[RT_PATH];

    if (!digest_ok(digest) || rt_path(path, "%s/blobs/sha256/%s", r->dir_oci, hex_of(digest)) != 0)
        return NULL;
    return rt_read_json(path);
}

int rt_store_config(rt *r, const char *digest, json_t **config, char *msg)
{
    json_t *manifest = read_blob(r, digest), *blob = NULL, *c;
    const char *cdigest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));

    *config = NULL;
    if (manifest == NULL)
        return orc_errf(msg, RT_ERRLEN, ORC_ECORRUPT, "image manifest %s unreadable", digest);
    blob = read_blob(r, cdigest);
    json_decref(manifest);
    if (blob == NULL)
        return orc_errf(msg, RT_ERRLEN, ORC_ECORRUPT, "image config of %s unreadable", digest);
    c = json_object_get(blob, "config");
    *config = json_is_object(c) ? json_incref(c) : json_object();
    json_decref(blob);
    return *config ? 0 : orc_errf(msg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
}
