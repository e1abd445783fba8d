/* test_agent_security.c — a pod's securityContext end to end: a real orcd
 * server and `orcd agent`, the test image from a local registry. The
 * container runs with what its pod asked (no_new_privs, seccomp filter, no
 * capabilities); runAsNonRoot with a root image is refused with the
 * kubelet's reason and message; --seccomp-default confines every pod. */
#include "tests/agent/agentfx.h"

#define STATUS "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"

static bool config_error(const json_t *pod, void *arg)
{
    const char *r = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");
    (void)arg;
    return r && strcmp(r, "CreateContainerConfigError") == 0;
}

static void expect_log(const char *name, const char *want)
{
    char *log;

    json_decref(afx_wait_phase(name, "Succeeded", 30000));
    log = afx_logs(name, NULL);
    CHECKF(log && strstr(log, want), "%s: want %s in log:\n%s", name, want, log ? log : "(none)");
    free(log);
}

TEST_T(pod_security_context_applied_and_non_root_refused, 120)
{
    char spec[2048];
    json_t *p;
    const char *msg;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"securityContext\":{\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"" STATUS "\"],"
             "\"securityContext\":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]}}}]}",
             F.image);
    afx_pod("confined", spec);
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"securityContext\":{\"runAsNonRoot\":true},"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"true\"]}]}",
             F.image);
    afx_pod("nonroot", spec);
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\""
             STATUS "\"]}]}",
             F.image);
    afx_pod("plain", spec);
    expect_log("confined", "CapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2");
    expect_log("plain", "CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t0");
    p = afx_wait_pod("nonroot", config_error, NULL, 30000, "CreateContainerConfigError");
    msg = orc_json_str(afx_cs(p, 0), "state.waiting.message") ?: "";
    CHECKF(strstr(msg, "container has runAsNonRoot and image will run as root (pod: \"nonroot_default(")
               && strstr(msg, ")\", container: c)"),
           "message: %s", msg);
    json_decref(p);
}

TEST_T(seccomp_default_flag_confines_every_pod, 120)
{
    static const char *const flags[] = {"--seccomp-default", NULL};
    char spec[2048];

    afx_setup_with(flags);
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\""
             STATUS "\"]}]}",
             F.image);
    afx_pod("defaulted", spec);
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\""
             STATUS "\"],\"securityContext\":{\"seccompProfile\":{\"type\":\"Unconfined\"}}}]}",
             F.image);
    afx_pod("unconfined", spec);
    expect_log("defaulted", "Seccomp:\t2");
    expect_log("unconfined", "Seccomp:\t0");
}
