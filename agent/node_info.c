/* node_info.c — the Node's status.nodeInfo, every field a kubelet fills:
 * client libraries (the Python client among them) refuse a Node without
 * bootID, machineID, systemUUID and the versions. The identifiers come from
 * the machine, or, where it does not say, a value derived stably from what
 * it does say, so they do not change between reports. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/agent_int.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/hash.h"
#include "lib/orc.h"

#define ID_MAX 64

/* The first line of a small file, trimmed, into out; "" when unreadable. */
static void read_line(const char *path, char *out, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    size_t len = 0;

    out[0] = '\0';
    if (orc_file_read(path, 4096, &b) == 0 && b.data) {
        while (len < b.len && len + 1 < n && b.data[len] != '\n' && b.data[len] != '\0') len++;
        memcpy(out, b.data, len);
        out[len] = '\0';
        while (len > 0 && isspace((unsigned char)out[len - 1])) out[--len] = '\0';
    }
    orc_buf_free(&b);
}

/* 128 bits as a UUID, folded from two FNV-1a hashes of `seed`. */
static void derived_uuid(const char *seed, char *out, size_t n)
{
    uint64_t h1 = orc_fnv1a(ORC_FNV_OFFSET, seed, strlen(seed));
    uint64_t h2 = orc_fnv1a(h1 ^ 0x9e3779b97f4a7c15ull, seed, strlen(seed));

    snprintf(out, n, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h1 >> 32), (unsigned)(h1 >> 16) & 0xffff,
             (unsigned)h1 & 0xffff, (unsigned)(h2 >> 48), (unsigned long long)(h2 & 0xffffffffffffull));
}

/* /etc/os-release's PRETTY_NAME, unquoted. */
static void os_image(char *out, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    const char *p;

    snprintf(out, n, "Linux");
    if (orc_file_read("/etc/os-release", 1u << 16, &b) == 0 && b.data
        && (p = strstr(b.data, "PRETTY_NAME=")) && (p == b.data || p[-1] == '\n')) {
        p += strlen("PRETTY_NAME=");
        if (*p == '"') p++;
        size_t len = strcspn(p, "\"\n");
        if (len > 0) snprintf(out, n, "%.*s", (int)len, p);
    }
    orc_buf_free(&b);
}

static const char *go_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0) return "amd64";
    if (strcmp(machine, "aarch64") == 0) return "arm64";
    return machine;
}

json_t *agent_node_info(struct agent *a)
{
    char boot[ID_MAX], machine[ID_MAX], uuid[ID_MAX], image[256];
    struct utsname u;

    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
    read_line("/etc/machine-id", machine, sizeof machine);
    read_line("/sys/class/dmi/id/product_uuid", uuid, sizeof uuid);
    if (!machine[0]) derived_uuid(a->node_name, machine, sizeof machine);
    if (!boot[0]) derived_uuid(machine, boot, sizeof boot);
    if (!uuid[0]) derived_uuid(machine, uuid, sizeof uuid);
    os_image(image, sizeof image);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "machineID", machine,
                     "systemUUID", uuid, "bootID", boot, "kernelVersion", u.release, "osImage",
                     image, "containerRuntimeVersion", a->rt.ops ? rth_version(&a->rt) : "",
                     "kubeletVersion", AGENT_KUBELET_VERSION, "kubeProxyVersion",
                     AGENT_KUBELET_VERSION, "operatingSystem", "linux", "architecture",
                     go_arch(u.machine));
}
