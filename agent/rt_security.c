/* rt_security.c — the security parts of a container's OCI spec, as
 * containerd's CRI plugin builds them from a Kubernetes securityContext:
 * the capability set, the RuntimeDefault seccomp profile (or a Localhost
 * one), and a privileged container's host devices. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"

/* Linux's capability numbers are the positions here. */
static const char *const cap_names[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

/* What a Kubernetes container gets without a securityContext. */
static const char *const default_caps[] = {
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
    "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
};

#define CAP_BIT(n) ((uint64_t)1 << (n))
#define CAP_SYS_ADMIN 21

int rt_cap_number(const char *name)
{
    if (name == NULL) return -1;
    if (strncasecmp(name, "CAP_", 4) == 0) name += 4;
    for (size_t i = 0; i < ORC_ARRAY_LEN(cap_names); i++)
        if (strcasecmp(name, cap_names[i]) == 0) return (int)i;
    return -1;
}

/* Every capability this process may hand on (its bounding set), as
 * containerd's "all current capabilities": a host that withholds one (a
 * nested container) still starts privileged containers. */
static uint64_t all_caps(void)
{
    char line[128];
    uint64_t bnd = CAP_BIT(ORC_ARRAY_LEN(cap_names)) - 1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "CapBnd:", 7) == 0) bnd &= strtoull(line + 7, NULL, 16);
    if (f) fclose(f);
    return bnd;
}

uint64_t rt_sec_caps(const struct rt_security *sec)
{
    uint64_t caps = 0;

    if (sec->privileged) return all_caps();
    for (size_t i = 0; i < ORC_ARRAY_LEN(default_caps); i++) caps |= CAP_BIT(rt_cap_number(default_caps[i]));
    if (sec->add_all) caps = all_caps();
    if (sec->drop_all) caps = 0;
    caps |= sec->cap_add & all_caps();
    caps &= ~sec->cap_drop;
    return caps;
}

json_t *rt_sec_cap_names(uint64_t caps)
{
    json_t *a = json_array();
    char name[40];

    for (size_t i = 0; a && i < ORC_ARRAY_LEN(cap_names); i++) {
        if (!(caps & CAP_BIT(i))) continue;
        snprintf(name, sizeof name, "CAP_%s", cap_names[i]);
        json_array_append_new(a, json_string(name));
    }
    return a;
}

/* ---- seccomp ---- */

/* The syscalls containerd's and Docker's default profiles leave out, and
 * the capability that lets a container use them anyway (-1: none). The
 * profile allows everything else: a deny list of the same calls, so a
 * syscall newer than this list is allowed (the allow lists refuse it). */
static const struct {
    const char *name;
    int cap;
} denied[] = {
    {"acct", 20},          {"add_key", -1},          {"bpf", 39},
    {"clock_adjtime", 25}, {"clock_settime", 25},    {"create_module", 16},
    {"delete_module", 16}, {"finit_module", 16},     {"get_kernel_syms", -1},
    {"get_mempolicy", 23}, {"init_module", 16},      {"ioperm", 17},
    {"iopl", 17},          {"kcmp", 19},             {"kexec_file_load", 22},
    {"kexec_load", 22},    {"keyctl", -1},           {"lookup_dcookie", 21},
    {"mbind", 23},         {"mount", 21},            {"mount_setattr", 21},
    {"move_mount", 21},    {"move_pages", 23},       {"name_to_handle_at", 21},
    {"nfsservctl", -1},    {"open_by_handle_at", 2}, {"open_tree", 21},
    {"fsconfig", 21},      {"fsmount", 21},          {"fsopen", 21},
    {"fspick", 21},        {"perf_event_open", 38},  {"pivot_root", 21},
    {"process_vm_readv", 19}, {"process_vm_writev", 19}, {"ptrace", 19},
    {"query_module", -1},  {"quotactl", 21},         {"quotactl_fd", 21},
    {"reboot", 22},        {"request_key", -1},      {"set_mempolicy", 23},
    {"setns", 21},         {"settimeofday", 25},     {"stime", 25},
    {"swapon", 21},        {"swapoff", 21},          {"syslog", 34},
    {"sysfs", -1},         {"_sysctl", -1},          {"umount", 21},
    {"umount2", 21},       {"unshare", 21},          {"uselib", -1},
    {"userfaultfd", -1},   {"ustat", -1},            {"vm86", -1},
    {"vm86old", -1},       {"vhangup", 26},
};

/* clone's namespace flags (CLONE_NEWNS ... CLONE_NEWNET), refused without
 * CAP_SYS_ADMIN as the default profile does. */
static const unsigned long clone_ns_flags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                               0x10000000, 0x20000000, 0x40000000};

static json_t *archs(void)
{
#if defined(__x86_64__)
    return json_pack("[s, s, s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__)
    return json_pack("[s, s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#else
    return json_array();
#endif
}

static json_t *runtime_default(uint64_t caps)
{
    json_t *names = json_array(), *rules = json_array(), *p;

    if (!names || !rules) goto nomem;
    for (size_t i = 0; i < ORC_ARRAY_LEN(denied); i++)
        if (denied[i].cap < 0 || !(caps & CAP_BIT(denied[i].cap)))
            json_array_append_new(names, json_string(denied[i].name));
    json_array_append_new(rules, json_pack("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ERRNO"));
    names = NULL;
    if (!(caps & CAP_BIT(CAP_SYS_ADMIN))) {
        /* glibc falls back to clone, whose flags can be filtered */
        json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
                                               "SCMP_ACT_ERRNO", "errnoRet", 38));
        for (size_t i = 0; i < ORC_ARRAY_LEN(clone_ns_flags); i++)
            json_array_append_new(
                rules, json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}]}", "names", "clone", "action",
                                 "SCMP_ACT_ERRNO", "args", "index", 0, "value", (json_int_t)clone_ns_flags[i],
                                 "valueTwo", (json_int_t)clone_ns_flags[i], "op", "SCMP_CMP_MASKED_EQ"));
    }
    p = json_pack("{s:s, s:o, s:o}", "defaultAction", "SCMP_ACT_ALLOW", "architectures", archs(), "syscalls", rules);
    return p;
nomem:
    json_decref(names);
    json_decref(rules);
    return NULL;
}

/* A Localhost profile: OCI linux.seccomp or Docker's format (the same
 * fields; Docker's archMap becomes architectures). */
static json_t *localhost(const char *path, char *msg, size_t n)
{
    json_error_t e;
    json_t *p = json_load_file(path, 0, &e), *out;
    size_t i;
    json_t *m;

    if (!json_is_object(p) || !json_is_string(json_object_get(p, "defaultAction"))) {
        json_decref(p);
        orc_errf(msg, n, ORC_EINVAL, "seccomp profile %s: %s", path,
                 p ? "no defaultAction" : e.text);
        return NULL;
    }
    if ((out = json_pack("{s:O}", "defaultAction", json_object_get(p, "defaultAction"))) == NULL) {
        json_decref(p);
        orc_errf(msg, n, ORC_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    if (json_object_get(p, "architectures")) json_object_set(out, "architectures", json_object_get(p, "architectures"));
    else if (json_object_get(p, "archMap")) {
        json_t *a = json_array();
        json_array_foreach(json_object_get(p, "archMap"), i, m)
            if (json_object_get(m, "architecture")) json_array_append(a, json_object_get(m, "architecture"));
        json_object_set_new(out, "architectures", a);
    }
    if (json_object_get(p, "defaultErrnoRet")) json_object_set(out, "defaultErrnoRet", json_object_get(p, "defaultErrnoRet"));
    json_array_foreach(json_object_get(p, "syscalls"), i, m) {
        json_t *r = json_object();
        static const char *const keep[] = {"names", "action", "errnoRet", "args"};
        for (size_t k = 0; r && k < ORC_ARRAY_LEN(keep); k++)
            if (json_object_get(m, keep[k])) json_object_set(r, keep[k], json_object_get(m, keep[k]));
        if (json_object_get(m, "name") && !json_object_get(m, "names"))
            json_object_set_new(r, "names", json_pack("[O]", json_object_get(m, "name")));
        if (!json_object_get(out, "syscalls")) json_object_set_new(out, "syscalls", json_array());
        json_array_append_new(json_object_get(out, "syscalls"), r);
    }
    json_decref(p);
    return out;
}

int rt_sec_seccomp(const struct rt_security *sec, uint64_t caps, json_t **out, char *msg, size_t n)
{
    *out = NULL;
    if (sec->privileged) return 0; /* containerd: privileged runs unconfined */
    if (sec->seccomp == RT_SECCOMP_RUNTIME_DEFAULT) *out = runtime_default(caps);
    else if (sec->seccomp == RT_SECCOMP_LOCALHOST) {
        if (sec->seccomp_file[0] != '/')
            return orc_errf(msg, n, ORC_EINVAL, "seccomp profile path must be absolute");
        if ((*out = localhost(sec->seccomp_file, msg, n)) == NULL) return ORC_EINVAL;
        return 0;
    } else return 0;
    return *out ? 0 : orc_errf(msg, n, ORC_ENOMEM, "out of memory building the seccomp profile");
}

/* ---- a privileged container's devices ---- */

/* runc makes these itself in the container's /dev. */
static bool runc_default(const char *name)
{
    static const char *const own[] = {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "console"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(own); i++)
        if (strcmp(name, own[i]) == 0) return true;
    return false;
}

/* The host's /dev character and block devices (top level), as containerd
 * gives a privileged container. */
json_t *rt_sec_devices(void)
{
    DIR *d = opendir("/dev");
    json_t *a = json_array();
    struct dirent *e;
    char path[300];
    struct stat st;

    if (d == NULL || a == NULL) {
        if (d) closedir(d);
        return a;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || runc_default(e->d_name)) continue;
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        if (stat(path, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", path, "type",
                                           S_ISCHR(st.st_mode) ? "c" : "b", "major", (json_int_t)major(st.st_rdev),
                                           "minor", (json_int_t)minor(st.st_rdev), "fileMode",
                                           (int)(st.st_mode & 0777), "uid", (int)st.st_uid, "gid", (int)st.st_gid));
    }
    closedir(d);
    return a;
}
