/* rt_cgroup.c — where the host's cgroup hierarchies are (v1, v2 or both),
 * removing a container's or pod's cgroup in all of them, and reading the
 * OOM-kill count the shim records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/hash.h"
#include "lib/orc.h"

void rt_node_tag(const char *node_name, char out[9])
{
    orc_name_tag(node_name, out); /* the tag net.h names bridges and chains with */
}

static int add_mount(struct rt_cg *cg, const char *path)
{
    char **m = realloc(cg->mounts, (cg->n + 1) * sizeof *m);

    if (m == NULL) return ORC_ENOMEM;
    cg->mounts = m;
    if ((m[cg->n] = strdup(path)) == NULL) return ORC_ENOMEM;
    cg->n++;
    return 0;
}

/* True when the comma-separated list opts holds word. */
static bool has_opt(const char *opts, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

/* One /proc/self/mountinfo line: "... MOUNTPOINT OPTS ... - FSTYPE SRC SUPEROPTS". */
static int scan_line(struct rt_cg *cg, char *line, char **v2root)
{
    char *f[5] = {0}, *sep = strstr(line, " - "), *save = NULL, *tok;
    char fstype[32], super[512];
    int i = 0;

    if (sep == NULL) return 0;
    *sep = '\0';
    for (tok = strtok_r(line, " ", &save); tok && i < 5; tok = strtok_r(NULL, " ", &save))
        f[i++] = tok;
    if (i < 5 || sscanf(sep + 3, "%31s %*s %511s", fstype, super) != 2) return 0;
    if (strcmp(fstype, "cgroup2") == 0) {
        if (*v2root == NULL && (*v2root = strdup(f[4])) == NULL) return ORC_ENOMEM;
        return add_mount(cg, f[4]);
    }
    if (strcmp(fstype, "cgroup") != 0) return 0;
    if (has_opt(super, "memory") && cg->memory == NULL && (cg->memory = strdup(f[4])) == NULL)
        return ORC_ENOMEM;
    if (has_opt(super, "cpuacct") && cg->cpu == NULL && (cg->cpu = strdup(f[4])) == NULL) return ORC_ENOMEM;
    return add_mount(cg, f[4]);
}

int rt_cg_load(struct rt_cg *cg)
{
    struct orc_buf b = ORC_BUF_INIT;
    char *save = NULL, *v2root = NULL;
    int rv;

    memset(cg, 0, sizeof *cg);
    rv = orc_file_read("/proc/self/mountinfo", 1 << 22, &b);
    for (char *l = rv == 0 ? strtok_r(b.data, "\n", &save) : NULL; l && rv == 0;
         l = strtok_r(NULL, "\n", &save))
        rv = scan_line(cg, l, &v2root);
    orc_buf_free(&b);
    if (rv == 0 && cg->memory == NULL && v2root != NULL) {
        cg->memory = v2root; /* memory is a v2 controller here */
        cg->v2 = true;
        v2root = NULL;
        if (cg->cpu == NULL && (cg->cpu = strdup(cg->memory)) == NULL) rv = ORC_ENOMEM;
    }
    free(v2root);
    if (rv != 0) rt_cg_free(cg);
    return rv;
}

void rt_cg_free(struct rt_cg *cg)
{
    for (size_t i = 0; i < cg->n; i++) free(cg->mounts[i]);
    free(cg->mounts);
    free(cg->memory);
    free(cg->cpu);
    memset(cg, 0, sizeof *cg);
}

int rt_cg_rmdir(const struct rt_cg *cg, const char *rel)
{
    char path[RT_PATH];
    int rv = 0;

    for (size_t i = 0; i < cg->n; i++) {
        if (rt_path(path, "%s%s", cg->mounts[i], rel) != 0) return ORC_EINVAL;
        if (rmdir(path) != 0 && errno != ENOENT) rv = ORC_EIO;
    }
    return rv;
}

int64_t rt_cg_oom_kills(const struct rt_cg *cg, const char *rel)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[RT_PATH];
    int64_t n = -1;
    const char *p;

    if (cg->memory == NULL
        || rt_path(path, "%s%s/%s", cg->memory, rel, cg->v2 ? "memory.events" : "memory.oom_control"))
        return -1;
    if (orc_file_read(path, 1 << 16, &b) == 0) {
        for (p = b.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
            if (strncmp(p, "oom_kill ", 9) == 0) n = strtoll(p + 9, NULL, 10);
    }
    orc_buf_free(&b);
    return n;
}
