/* pod.c — a pod as the scheduler sees it: requests, host ports, priority,
 * owner; and which pods this scheduler places. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "scheduler/sched.h"

/* Kubernetes' scheduler counts a container asking nothing as 100m cpu and
 * 200Mi memory when scoring, so empty pods still spread and pack. */
#define NZ_CPU 100
#define NZ_MEM (200LL * 1024 * 1024)

static int64_t quantity(const json_t *res, const char *name)
{
    const json_t *v = json_object_get(res, name);
    int64_t milli = 0;
    if (json_is_string(v)) {
        if (orc_quantity_parse(json_string_value(v), &milli) != 0) return 0;
    } else if (json_is_integer(v)) {
        milli = json_integer_value(v) * 1000;
    } else if (json_is_real(v)) {
        milli = (int64_t)(json_real_value(v) * 1000);
    }
    return milli;
}

struct req {
    int64_t cpu, mem, cpu_nz, mem_nz;
};

static struct req container_req(const json_t *c)
{
    const json_t *r = orc_json_get(c, "resources.requests");
    struct req q = {0};
    /* As Kubernetes defaults them: requests absent take the limits. */
    if (r == NULL || json_object_get(r, "cpu") == NULL)
        q.cpu = quantity(orc_json_get(c, "resources.limits"), "cpu");
    else
        q.cpu = quantity(r, "cpu");
    if (r == NULL || json_object_get(r, "memory") == NULL)
        q.mem = quantity(orc_json_get(c, "resources.limits"), "memory");
    else
        q.mem = quantity(r, "memory");
    q.mem = (q.mem + 999) / 1000;
    q.cpu_nz = q.cpu ? q.cpu : NZ_CPU;
    q.mem_nz = q.mem ? q.mem : NZ_MEM;
    return q;
}

static void max_into(struct req *a, const struct req *b)
{
    if (b->cpu > a->cpu) a->cpu = b->cpu;
    if (b->mem > a->mem) a->mem = b->mem;
    if (b->cpu_nz > a->cpu_nz) a->cpu_nz = b->cpu_nz;
    if (b->mem_nz > a->mem_nz) a->mem_nz = b->mem_nz;
}

static void requests(const json_t *spec, sched_pod *p)
{
    struct req sum = {0}, init = {0}, q;
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(spec, "containers"), i, c) {
        q = container_req(c);
        sum.cpu += q.cpu;
        sum.mem += q.mem;
        sum.cpu_nz += q.cpu_nz;
        sum.mem_nz += q.mem_nz;
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        q = container_req(c);
        max_into(&init, &q);
    }
    max_into(&sum, &init);
    p->cpu = sum.cpu;
    p->mem = sum.mem;
    p->cpu_nz = sum.cpu_nz;
    p->mem_nz = sum.mem_nz;
}

static int host_ports(const json_t *spec, sched_pod *p)
{
    const json_t *c, *port;
    size_t i, j, n = 0;

    json_array_foreach(json_object_get(spec, "containers"), i, c)
        json_array_foreach(json_object_get(c, "ports"), j, port)
            if (json_integer_value(json_object_get(port, "hostPort")) > 0) n++;
    if (n == 0) return 0;
    p->ports = calloc(n, sizeof *p->ports);
    if (p->ports == NULL) return ORC_ENOMEM;
    json_array_foreach(json_object_get(spec, "containers"), i, c)
        json_array_foreach(json_object_get(c, "ports"), j, port) {
            int hp = (int)json_integer_value(json_object_get(port, "hostPort"));
            const char *proto = orc_json_str(port, "protocol");
            const char *ip = orc_json_str(port, "hostIP");
            if (hp <= 0) continue;
            struct sched_port *sp = &p->ports[p->nports++];
            sp->port = hp;
            snprintf(sp->proto, sizeof sp->proto, "%s", proto && *proto ? proto : "TCP");
            sp->ip = ip ? ip : "";
        }
    return 0;
}

static int32_t priority(const json_t *spec, sched_prio_fn prio, void *arg)
{
    const json_t *v = json_object_get(spec, "priority");
    const char *cls = orc_json_str(spec, "priorityClassName");
    int32_t val = 0;

    if (json_is_integer(v)) return (int32_t)json_integer_value(v);
    if (prio == NULL) return 0;
    if (cls && *cls && prio(arg, cls, &val) == 0) return val;
    if ((cls == NULL || *cls == '\0') && prio(arg, NULL, &val) == 0) return val;
    return 0;
}

int32_t sched_pod_priority(const json_t *pod, sched_prio_fn prio, void *arg)
{
    return priority(json_object_get(pod, "spec"), prio, arg);
}

static bool has_required(const json_t *aff, const char *kind)
{
    const json_t *k = json_object_get(aff, kind);
    return json_array_size(json_object_get(k, "requiredDuringSchedulingIgnoredDuringExecution")) > 0;
}

int sched_pod_parse(const json_t *obj, sched_prio_fn prio, void *prio_arg, sched_pod **out)
{
    const json_t *spec = json_object_get(obj, "spec");
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = orc_json_str(obj, "metadata.name");
    sched_pod *p;
    size_t len;

    *out = NULL;
    if (!json_is_object(obj) || name == NULL) return ORC_EINVAL;
    if (ns == NULL) ns = "default";
    p = calloc(1, sizeof *p);
    if (p == NULL) return ORC_ENOMEM;
    p->obj = json_incref((json_t *)obj);
    len = strlen(ns) + strlen(name) + 2;
    p->key = malloc(len);
    if (p->key == NULL || host_ports(spec, p) != 0) {
        sched_pod_free(p);
        return ORC_ENOMEM;
    }
    snprintf(p->key, len, "%s/%s", ns, name);
    p->ns = ns;
    p->name = name;
    p->uid = orc_json_str(obj, "metadata.uid");
    requests(spec, p);
    p->priority = priority(spec, prio, prio_arg);
    p->preempt_never = orc_json_str(spec, "preemptionPolicy")
                       && strcmp(orc_json_str(spec, "preemptionPolicy"), "Never") == 0;
    p->terminating = orc_json_get(obj, "metadata.deletionTimestamp") != NULL;
    p->owner_uid = ctl_controller_uid(obj);
    p->labels = orc_json_get(obj, "metadata.labels");
    p->affinity = json_object_get(spec, "affinity");
    p->tolerations = json_object_get(spec, "tolerations");
    p->spread = json_object_get(spec, "topologySpreadConstraints");
    p->anti_affinity = has_required(p->affinity, "podAntiAffinity");
    p->node_rules = json_object_size(json_object_get(spec, "nodeSelector")) > 0
                    || orc_json_get(p->affinity, "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
    *out = p;
    return 0;
}

void sched_pod_free(sched_pod *p)
{
    if (p == NULL) return;
    json_decref(p->obj);
    free(p->key);
    free(p->ports);
    free(p);
}

bool sched_pod_wanted(const json_t *pod)
{
    const char *node = orc_json_str(pod, "spec.nodeName");
    const char *sched = orc_json_str(pod, "spec.schedulerName");
    const char *phase = orc_json_str(pod, "status.phase");

    if (node && *node) return false;
    if (sched && *sched && strcmp(sched, SCHED_NAME) != 0) return false;
    if (orc_json_get(pod, "metadata.deletionTimestamp")) return false;
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) return false;
    return true;
}

bool sched_pod_gated(const json_t *pod)
{
    return json_array_size(orc_json_get(pod, "spec.schedulingGates")) > 0;
}
