/* schedfx.h — in-memory nodes and pods for the scheduler's unit tests. */
#ifndef ORC_TESTS_SCHEDFX_H
#define ORC_TESTS_SCHEDFX_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "scheduler/sched.h"
#include "tests/harness/test.h"

/* JSON from printf-style text, parsed or the case fails. New reference. */
static inline json_t *fx_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline json_t *fx_json(const char *fmt, ...)
{
    char buf[8192];
    json_error_t err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_t *v = json_loads(buf, 0, &err);
    CHECKF(v != NULL, "bad fixture JSON: %s: %s", err.text, buf);
    return v;
}

/* A Ready node: cpu and memory as quantities; `extra` is more top-level
 * metadata/spec JSON merged in ("" for none): e.g.
 * "\"spec\":{\"taints\":[...]}" replaces spec. */
static inline json_t *fx_node(const char *name, const char *cpu, const char *mem, const char *labels,
                              const char *spec)
{
    return fx_json("{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":%s,"
                   "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},"
                   "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                   name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem);
}

static inline void fx_add_node(sched_cache *c, const char *name, const char *cpu, const char *mem,
                               const char *labels, const char *spec)
{
    json_t *n = fx_node(name, cpu, mem, labels, spec);
    CHECK_INT(sched_cache_set_node(c, n), ==, 0);
    json_decref(n);
}

/* A pod with one container requesting cpu/mem ("" for none); spec_extra
 * is more PodSpec members (",\"nodeSelector\":{...}" style, may be ""),
 * meta_extra more metadata members. */
static inline json_t *fx_pod(const char *name, const char *cpu, const char *mem, const char *spec_extra,
                             const char *meta_extra)
{
    char req[256] = "";
    if (*cpu && *mem)
        snprintf(req, sizeof req, "\"cpu\":\"%s\",\"memory\":\"%s\"", cpu, mem);
    else if (*cpu)
        snprintf(req, sizeof req, "\"cpu\":\"%s\"", cpu);
    else if (*mem)
        snprintf(req, sizeof req, "\"memory\":\"%s\"", mem);
    return fx_json("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\","
                   "\"uid\":\"uid-%s\"%s},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
                   "\"resources\":{\"requests\":{%s}}}]%s}}",
                   name, name, meta_extra ? meta_extra : "", req, spec_extra ? spec_extra : "");
}

static inline sched_pod *fx_parse(json_t *obj)
{
    sched_pod *p;
    CHECK_INT(sched_pod_parse(obj, NULL, NULL, &p), ==, 0);
    json_decref(obj);
    return p;
}

/* Binds a pod object to node in the cache as the informer would show it. */
static inline void fx_bind(sched_cache *c, json_t *pod, const char *node)
{
    json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
    CHECK_INT(sched_cache_observe_pod(c, pod, NULL, NULL), ==, 0);
    json_decref(pod);
}

/* The node chosen for the pod, or NULL; *msg (may be NULL) gets the failure
 * message (free()). */
static inline const char *fx_place(sched_cache *c, json_t *pod_obj, char **msg)
{
    sched_pod *p = fx_parse(pod_obj);
    struct sched_result r;
    struct sched_weights w = {0};
    const char *where;
    CHECK_INT(sched_schedule(c, p, NULL, &w, &r), ==, 0);
    where = r.node ? r.node->name : NULL;
    if (msg) *msg = r.node ? NULL : sched_result_message(&r);
    sched_result_fini(&r);
    sched_pod_free(p);
    return where;
}

#endif
