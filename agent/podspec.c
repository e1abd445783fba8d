/* podspec.c — a container's process, resources, user and ports from its pod
 * spec, and the helpers agent/podspec_env.c shares ($(VAR) expansion). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/podspec.h"
#include "agent/podspec_int.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/quantity.h"

#define ERRLEN 256

int podspec_strv_push(struct podspec_strv *s, char *str)
{
    if (str == NULL) return ORC_ENOMEM;
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **v = realloc(s->v, cap * sizeof *v);
        if (v == NULL) {
            free(str);
            return ORC_ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

void podspec_strv_free(char **v)
{
    if (v == NULL) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

char *podspec_buf_str(struct orc_buf *b)
{
    size_t len;
    char *s = orc_buf_steal(b, &len);

    return s ? s : strdup("");
}

/* One reference after a '$' at in[0..]: appends its expansion and returns
 * how many bytes after the '$' it consumed, or -1 on ORC_ENOMEM. */
static int expand_ref(const char *r, podspec_map_fn map, void *arg, struct orc_buf *out,
                      size_t *adv)
{
    const char *close;
    const char *v;

    *adv = 1;
    if (r[0] == '$') return orc_buf_append(out, "$", 1);
    if (r[0] != '(') return orc_buf_append(out, r - 1, 2);
    if ((close = strchr(r + 1, ')')) == NULL) return orc_buf_append(out, "$(", 2);
    *adv = (size_t)(close - r) + 1;
    v = map ? map(arg, r + 1, (size_t)(close - r - 1)) : NULL;
    if (v) return orc_buf_puts(out, v);
    return orc_buf_append(out, r - 1, *adv + 1);
}

char *podspec_expand(const char *in, podspec_map_fn map, void *arg)
{
    struct orc_buf out = ORC_BUF_INIT;
    size_t len = strlen(in), cp = 0, adv;

    for (size_t i = 0; i < len; i++) {
        if (in[i] != '$' || i + 1 >= len) continue;
        if (orc_buf_append(&out, in + cp, i - cp) != 0 ||
            expand_ref(in + i + 1, map, arg, &out, &adv) != 0)
            goto nomem;
        i += adv;
        cp = i + 1;
    }
    if (orc_buf_append(&out, in + cp, len - cp) != 0) goto nomem;
    return podspec_buf_str(&out);
nomem:
    orc_buf_free(&out);
    return NULL;
}

int podspec_qty(const json_t *v, int64_t *milli, bool *present)
{
    *milli = 0;
    *present = v != NULL && !json_is_null(v);
    if (!*present) return 0;
    if (json_is_string(v)) return orc_quantity_parse(json_string_value(v), milli);
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > INT64_MAX / 1000) return ORC_EINVAL;
        *milli = (int64_t)n * 1000;
        return 0;
    }
    if (json_is_real(v)) {
        char text[64];
        snprintf(text, sizeof text, "%.15g", json_real_value(v));
        return orc_quantity_parse(text, milli);
    }
    return ORC_EINVAL;
}

/* ---- argv ---- */

const char *podspec_env_lookup(void *arg, const char *name, size_t len)
{
    char *const *env = arg;
    const char *found = NULL;

    for (; env && *env; env++)
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=') found = *env + len + 1;
    return found;
}

/* Appends arr's strings, $(VAR)-expanded from env when expand is set. */
static int push_all(struct podspec_strv *s, const json_t *arr, char *const *env, bool expand,
                    char *errmsg)
{
    size_t i;
    json_t *item;

    json_array_foreach ((json_t *)arr, i, item) {
        const char *str = json_string_value(item);
        if (str == NULL) return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "command: not a string");
        char *copy = expand ? podspec_expand(str, podspec_env_lookup, (void *)env) : strdup(str);
        if (podspec_strv_push(s, copy) != 0) return ORC_ENOMEM;
    }
    return 0;
}

int podspec_argv(const json_t *container, const json_t *image_config, char *const *env,
                 char ***argv_out, char *errmsg)
{
    const json_t *cmd = json_object_get(container, "command");
    const json_t *args = json_object_get(container, "args");
    bool has_cmd = json_array_size(cmd) > 0, has_args = json_array_size(args) > 0;
    struct podspec_strv s = {NULL, 0, 0};
    int rv;

    *argv_out = NULL;
    if (has_cmd) rv = push_all(&s, cmd, env, true, errmsg);
    else rv = push_all(&s, json_object_get(image_config, "Entrypoint"), NULL, false, errmsg);
    if (rv == 0 && has_args) rv = push_all(&s, args, env, true, errmsg);
    else if (rv == 0 && !has_cmd)
        rv = push_all(&s, json_object_get(image_config, "Cmd"), NULL, false, errmsg);
    if (rv == 0 && s.n == 0) rv = orc_errf(errmsg, ERRLEN, ORC_EINVAL, "no command specified");
    if (rv != 0) {
        if (rv == ORC_ENOMEM) orc_errf(errmsg, ERRLEN, rv, "out of memory");
        podspec_strv_free(s.v);
        return rv;
    }
    *argv_out = s.v;
    return 0;
}

/* ---- resources ---- */

#define CPU_PERIOD_US 100000
#define MIN_QUOTA_US 1000
#define MIN_SHARES 2
#define MAX_SHARES 262144

static int64_t cpu_quota(int64_t milli)
{
    int64_t per_milli = CPU_PERIOD_US / 1000;
    int64_t q = milli > INT64_MAX / per_milli ? INT64_MAX : milli * per_milli;
    return q < MIN_QUOTA_US ? MIN_QUOTA_US : q;
}

static int64_t cpu_shares(int64_t milli)
{
    if (milli >= (int64_t)MAX_SHARES * 1000 / 1024) return MAX_SHARES;
    int64_t shares = milli * 1024 / 1000;
    return shares < MIN_SHARES ? MIN_SHARES : shares;
}

int podspec_resources(const json_t *container, struct podspec_resources *out)
{
    const json_t *res = json_object_get(container, "resources");
    const json_t *lim = json_object_get(res, "limits"), *req = json_object_get(res, "requests");
    int64_t mem, lcpu, rcpu;
    bool has_mem, has_lcpu, has_rcpu;

    memset(out, 0, sizeof *out);
    if (podspec_qty(json_object_get(lim, "memory"), &mem, &has_mem) != 0 ||
        podspec_qty(json_object_get(lim, "cpu"), &lcpu, &has_lcpu) != 0 ||
        podspec_qty(json_object_get(req, "cpu"), &rcpu, &has_rcpu) != 0)
        return ORC_EINVAL;
    if (has_mem) out->memory_limit = mem / 1000 + (mem % 1000 != 0);
    if (has_lcpu) {
        out->cpu_quota_us = cpu_quota(lcpu);
        out->cpu_period_us = CPU_PERIOD_US;
    }
    if (!has_rcpu && has_lcpu) {
        rcpu = lcpu;
        has_rcpu = true;
    }
    if (has_rcpu) out->cpu_shares = cpu_shares(rcpu);
    return 0;
}

/* ---- ports ---- */

static int port_number(long long n, int *out)
{
    if (n < 1 || n > 65535) return ORC_EINVAL;
    *out = (int)n;
    return 0;
}

static int port_by_name(const json_t *container, const char *name, int *out)
{
    size_t i;
    json_t *p;

    json_array_foreach (json_object_get(container, "ports"), i, p) {
        const char *pn = json_string_value(json_object_get(p, "name"));
        if (pn && strcmp(pn, name) == 0)
            return port_number(json_integer_value(json_object_get(p, "containerPort")), out);
    }
    return ORC_ENOENT;
}

int podspec_port(const json_t *container, const json_t *port, int *out)
{
    const char *s = json_string_value(port);
    char *end;
    long long n;

    if (json_is_integer(port)) return port_number(json_integer_value(port), out);
    if (s == NULL || *s == '\0') return ORC_EINVAL;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && s[0] >= '0' && s[0] <= '9') return port_number(n, out);
    return port_by_name(container, s, out);
}
