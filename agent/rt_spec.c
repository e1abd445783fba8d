/* rt_spec.c — the OCI runtime spec (config.json, version 1.0.2) of a
 * container: its process, root, namespaces, mounts, capabilities and
 * seccomp (rt_security.c), runc's masked and read-only paths, and cgroup
 * limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rt_int.h"
#include "lib/orc.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* runc's defaults: kernel interfaces a container has no business with. */
static const char *const masked[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
};
static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static size_t name_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Adds kv, replacing an earlier value of the same name. */
static void env_set(json_t *env, const char *kv)
{
    size_t n = name_len(kv), i;
    json_t *v;

    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s && name_len(s) == n && strncmp(s, kv, n) == 0) {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

static bool env_has(json_t *env, const char *name)
{
    size_t n = strlen(name), i;
    json_t *v;

    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s && name_len(s) == n && strncmp(s, name, n) == 0) return true;
    }
    return false;
}

/* The image's Env, then the pod's (which wins), as containerd merges them. */
static json_t *build_env(const struct rt_spec_in *in)
{
    json_t *env = json_array(), *v;
    char host[300];
    size_t i;

    if (env == NULL) return NULL;
    json_array_foreach(json_object_get(in->image_config, "Env"), i, v)
        if (json_is_string(v)) env_set(env, json_string_value(v));
    for (char *const *e = in->spec->env; e && *e; e++) env_set(env, *e);
    if (!env_has(env, "PATH")) env_set(env, DEFAULT_PATH);
    if (in->spec->hostname && *in->spec->hostname && !env_has(env, "HOSTNAME")) {
        snprintf(host, sizeof host, "HOSTNAME=%s", in->spec->hostname);
        env_set(env, host);
    }
    return env;
}

static json_t *build_user(const struct rt_spec_in *in, char *msg, size_t n)
{
    uint32_t uid, gid, gids[RT_MAX_GIDS];
    size_t ng = 0;
    json_t *u, *extra;
    int rv;

    rv = rt_user_resolve(in->rootfs, json_string_value(json_object_get(in->image_config, "User")),
                         in->spec->uid, in->spec->gid, &uid, &gid, gids, &ng, msg, n);
    if (rv != 0) return NULL;
    u = json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
    if (u && ng + in->spec->sec.n_extra_gids > 0 && (extra = json_array()) != NULL) {
        for (size_t i = 0; i < ng; i++) json_array_append_new(extra, json_integer(gids[i]));
        for (size_t i = 0; i < in->spec->sec.n_extra_gids && i < RT_MAX_EXTRA_GIDS; i++)
            json_array_append_new(extra, json_integer(in->spec->sec.extra_gids[i]));
        json_object_set_new(u, "additionalGids", extra);
    }
    return u;
}

static const char *work_dir(const struct rt_spec_in *in)
{
    const char *w = in->spec->cwd;

    if (w == NULL || *w == '\0') w = json_string_value(json_object_get(in->image_config, "WorkingDir"));
    return w && *w ? w : "/";
}

static json_t *build_process(const struct rt_spec_in *in, char *msg, size_t n)
{
    json_t *args = json_array(), *c = rt_sec_cap_names(rt_sec_caps(&in->spec->sec)), *user, *p;
    char cwd[RT_PATH];

    for (char *const *a = in->spec->argv; args && a && *a; a++) json_array_append_new(args, json_string(*a));
    if (args == NULL || json_array_size(args) == 0) {
        json_decref(args);
        json_decref(c);
        orc_errf(msg, n, ORC_EINVAL, "no command: neither the pod nor the image gives one");
        return NULL;
    }
    if ((user = build_user(in, msg, n)) == NULL) {
        json_decref(args);
        json_decref(c);
        return NULL;
    }
    /* a relative WorkingDir is taken from the root, as Docker does */
    snprintf(cwd, sizeof cwd, "%s%s", work_dir(in)[0] == '/' ? "" : "/", work_dir(in));
    p = json_pack("{s:b, s:o, s:o, s:o, s:s, s:{s:O, s:O, s:O, s:[]}, s:b}", "terminal", in->spec->tty, "user",
                  user, "args", args, "env", build_env(in), "cwd", cwd, "capabilities", "bounding",
                  c, "effective", c, "permitted", c, "inheritable", "noNewPrivileges",
                  in->spec->sec.no_new_privs);
    json_decref(c);
    return p;
}

static json_t *mount(const char *dst, const char *type, const char *src, const char *opts)
{
    json_t *o = json_array();
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", opts);
    for (char *t = strtok_r(buf, ",", &save); o && t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(o, json_string(t));
    return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src, "options", o);
}

static json_t *build_mounts(const struct rt_spec_in *in, char *msg, size_t n)
{
    const struct rt_spec *s = in->spec;
    json_t *m = json_array();

    if (m == NULL) return NULL;
    json_array_append_new(m, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
    json_array_append_new(m, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
    json_array_append_new(m, mount("/dev/pts", "devpts", "devpts",
                                   "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
    json_array_append_new(m, mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
    json_array_append_new(m, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    /* containerd gives a privileged container a writable /sys */
    json_array_append_new(m, mount("/sys", "sysfs", "sysfs", s->sec.privileged ? "nosuid,noexec,nodev,rw"
                                                                              : "nosuid,noexec,nodev,ro"));
    json_array_append_new(m, mount("/sys/fs/cgroup", "cgroup", "cgroup",
                                   s->sec.privileged ? "nosuid,noexec,nodev,relatime,rw"
                                                     : "nosuid,noexec,nodev,relatime,ro"));
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct rt_mount *b = &s->mounts[i];
        if (!b->source || b->source[0] != '/' || !b->destination || b->destination[0] != '/') {
            json_decref(m);
            orc_errf(msg, n, ORC_EINVAL, "mount %zu (%s): source and destination must be absolute paths",
                     i, b->destination ? b->destination : "?");
            return NULL;
        }
        json_array_append_new(m, mount(b->destination, "bind", b->source,
                                       b->readonly ? "rbind,rprivate,ro" : "rbind,rprivate,rw"));
    }
    return m;
}

static json_t *build_namespaces(const struct rt_spec *s)
{
    json_t *ns = json_array();

    if (ns == NULL) return NULL;
    if (!s->host_pid) json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
    if (!s->host_ipc) json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
    json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
    json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
    if (s->netns_path && *s->netns_path)
        json_array_append_new(ns, json_pack("{s:s, s:s}", "type", "network", "path", s->netns_path));
    return ns;
}

static json_t *build_resources(const struct rt_spec *s)
{
    json_t *r = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", s->sec.privileged, "access", "rwm"), *cpu;

    if (r == NULL) return NULL;
    if (s->memory_limit > 0)
        json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)s->memory_limit));
    if (s->cpu_quota_us > 0 || s->cpu_shares > 0) {
        if ((cpu = json_object()) == NULL) {
            json_decref(r);
            return NULL;
        }
        if (s->cpu_quota_us > 0) {
            json_object_set_new(cpu, "quota", json_integer(s->cpu_quota_us));
            json_object_set_new(cpu, "period", json_integer(s->cpu_period_us > 0 ? s->cpu_period_us : 100000));
        }
        if (s->cpu_shares > 0) json_object_set_new(cpu, "shares", json_integer(s->cpu_shares));
        json_object_set_new(r, "cpu", cpu);
    }
    return r;
}

/* Masked and read-only /proc paths, the host's devices, seccomp. */
static int add_security(const struct rt_spec *s, json_t *linux, char *msg, size_t n)
{
    bool bare = s->sec.privileged || s->sec.unmasked_proc;
    json_t *seccomp;
    int rv;

    json_object_set_new(linux, "maskedPaths", bare ? json_array() : str_array(masked, ORC_ARRAY_LEN(masked)));
    json_object_set_new(linux, "readonlyPaths",
                        bare ? json_array() : str_array(readonly, ORC_ARRAY_LEN(readonly)));
    if (s->sec.privileged) json_object_set_new(linux, "devices", rt_sec_devices());
    if ((rv = rt_sec_seccomp(&s->sec, rt_sec_caps(&s->sec), &seccomp, msg, n)) != 0) return rv;
    if (seccomp) json_object_set_new(linux, "seccomp", seccomp);
    return 0;
}

int rt_spec_build(const struct rt_spec_in *in, json_t **out, char *msg, size_t n)
{
    const struct rt_spec *s = in->spec;
    json_t *process, *mounts, *spec;
    int rv;

    *out = NULL;
    if (msg && n) msg[0] = '\0';
    if ((process = build_process(in, msg, n)) == NULL)
        return msg && *msg ? ORC_EINVAL : orc_errf(msg, n, ORC_ENOMEM, "out of memory");
    if ((mounts = build_mounts(in, msg, n)) == NULL) {
        json_decref(process);
        return ORC_EINVAL;
    }
    spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:{s:o, s:s, s:o}}",
                     "ociVersion", "1.0.2", "process", process, "root", "path", "rootfs", "readonly",
                     s->readonly_rootfs, "hostname", s->hostname && *s->hostname ? s->hostname : s->id,
                     "mounts", mounts, "linux", "resources", build_resources(s), "cgroupsPath",
                     in->cgroups_path, "namespaces", build_namespaces(s));
    if (spec == NULL) return orc_errf(msg, n, ORC_ENOMEM, "out of memory building config.json");
    if ((rv = add_security(s, json_object_get(spec, "linux"), msg, n)) != 0) {
        json_decref(spec);
        return rv;
    }
    *out = spec;
    return 0;
}
