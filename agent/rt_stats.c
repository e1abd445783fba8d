/* rt_stats.c — a container's or pod's CPU and memory usage from its cgroup
 * (runtime.h rt_stats). Apart from rt_cgroup.c so the static shim, which
 * links that, does not pull the container code in. */
#include "agent/rt_int.h"
#include "agent/stats.h"
#include "lib/orc.h"

int rt_stats(rt *r, const char *pod_uid, const char *id, struct agent_cstats *out)
{
    char rel[RT_PATH], cpu[RT_PATH], mem[RT_PATH];
    const struct rt_cg *cg = &r->cg;

    if (!rt_name_ok(pod_uid) || (id && !rt_name_ok(id))) return ORC_EINVAL;
    rt_cgroup_path(r, pod_uid, id, rel);
    if ((cg->cpu && rt_path(cpu, "%s%s", cg->cpu, rel) != 0)
        || (cg->memory && rt_path(mem, "%s%s", cg->memory, rel) != 0))
        return ORC_EINVAL;
    return agent_stats_cgroup(cg->cpu ? cpu : NULL, cg->memory ? mem : NULL, cg->v2, out);
}
