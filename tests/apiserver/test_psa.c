/* test_psa.c — each Pod Security Standards check on pod specs, allowed and
 * denied, with Kubernetes' reasons and details, and the namespace policy
 * read from the pod-security.kubernetes.io labels. */
#include <stdlib.h>

#include "apiserver/psa.h"
#include "tests/apiserver/vt.h"

/* A restricted-compliant container, to vary one field at a time. */
#define GOOD_SC "'securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}}"
#define GOOD_POD_SC "'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}}"

/* The ForbiddenDetail of spec at lv ("" when allowed); free() it. */
static char *detail_of(enum api_psa_level lv, const char *meta, const char *spec)
{
    json_t *m = meta ? vt_json(meta) : NULL, *s = vt_json(spec);
    struct orc_buf d = ORC_BUF_INIT;
    int rv = api_psa_check(lv, m, s, &d, NULL);

    CHECK(rv == 0 || rv == 1);
    CHECK((rv == 1) == (d.len > 0));
    json_decref(m);
    json_decref(s);
    return d.data ? d.data : strdup("");
}

#define EXPECT(lv, meta, spec, want)                                      \
    do {                                                                  \
        char *got_ = detail_of(lv, meta, spec);                           \
        test_defer(free, got_);                                           \
        CHECK_STR(got_, want);                                            \
    } while (0)

#define B API_PSA_BASELINE
#define R API_PSA_RESTRICTED

TEST(privileged_allows_everything)
{
    EXPECT(API_PSA_PRIVILEGED, NULL,
           "{'hostNetwork':true,'containers':[{'name':'c','securityContext':{'privileged':true}}]}", "");
}

TEST(empty_pod_is_baseline)
{
    EXPECT(B, NULL, "{'containers':[{'name':'c','image':'busybox'}]}", "");
}

TEST(restricted_default_pod_message)
{
    EXPECT(R, NULL, "{'containers':[{'name':'c','image':'busybox'}]}",
           "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), "
           "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
           "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), "
           "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to "
           "\"RuntimeDefault\" or \"Localhost\")");
}

TEST(restricted_compliant_pod)
{
    EXPECT(R, NULL, "{" GOOD_POD_SC ",'containers':[{'name':'c'," GOOD_SC "}],'initContainers':[{'name':'i'," GOOD_SC "}]}",
           "");
}

TEST(host_namespaces)
{
    EXPECT(B, NULL, "{'hostPID':true,'hostNetwork':true,'containers':[{'name':'c'}]}",
           "host namespaces (hostNetwork, hostPID)");
    EXPECT(B, NULL, "{'hostIPC':false,'containers':[{'name':'c'}]}", "");
}

TEST(privileged_containers)
{
    EXPECT(B, NULL,
           "{'containers':[{'name':'a','securityContext':{'privileged':true}},"
           "{'name':'b','securityContext':{'privileged':true}}]}",
           "privileged (containers \"a\", \"b\" must not set securityContext.privileged=true)");
    EXPECT(B, NULL, "{'containers':[{'name':'a','securityContext':{'privileged':false}}]}", "");
}

TEST(capabilities_baseline)
{
    EXPECT(B, NULL,
           "{'containers':[{'name':'c','securityContext':{'capabilities':{'add':['SYS_ADMIN','NET_ADMIN','CHOWN']}}}]}",
           "non-default capabilities (container \"c\" must not include \"NET_ADMIN\", \"SYS_ADMIN\" in "
           "securityContext.capabilities.add)");
    EXPECT(B, NULL, "{'containers':[{'name':'c','securityContext':{'capabilities':{'add':['KILL','NET_RAW']}}}]}",
           "non-default capabilities (container \"c\" must not include \"NET_RAW\" in securityContext.capabilities.add)");
    EXPECT(B, NULL, "{'containers':[{'name':'c','securityContext':{'capabilities':{'add':['KILL','MKNOD']}}}]}", "");
}

TEST(capabilities_restricted)
{
    EXPECT(R, NULL,
           "{" GOOD_POD_SC ",'containers':[{'name':'c','securityContext':{'allowPrivilegeEscalation':false,"
           "'capabilities':{'drop':['ALL'],'add':['NET_BIND_SERVICE','CHOWN']}}}]}",
           "unrestricted capabilities (container \"c\" must not include \"CHOWN\" in securityContext.capabilities.add)");
    EXPECT(R, NULL,
           "{" GOOD_POD_SC ",'containers':[{'name':'c','securityContext':{'allowPrivilegeEscalation':false,"
           "'capabilities':{'drop':['ALL'],'add':['NET_BIND_SERVICE']}}}]}",
           "");
}

TEST(host_path_and_volume_types)
{
    const char *spec = "{" GOOD_POD_SC ",'containers':[{'name':'c'," GOOD_SC "}],'volumes':["
                       "{'name':'h','hostPath':{'path':'/'}},{'name':'e','emptyDir':{}},"
                       "{'name':'n','nfs':{'server':'x','path':'/'}},{'name':'s','secret':{'secretName':'s'}}]}";
    EXPECT(B, NULL, spec, "hostPath volumes (volume \"h\")");
    EXPECT(R, NULL, spec,
           "restricted volume types (volumes \"h\", \"n\" use restricted volume types \"hostPath\", \"nfs\")");
}

TEST(host_ports)
{
    EXPECT(B, NULL, "{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080},{'containerPort':81}]}]}",
           "hostPort (container \"c\" uses hostPort 8080)");
    EXPECT(B, NULL, "{'containers':[{'name':'c','ports':[{'containerPort':80}]}]}", "");
}

TEST(probe_hosts)
{
    EXPECT(B, NULL, "{'containers':[{'name':'c','livenessProbe':{'httpGet':{'host':'10.0.0.1','port':80}}}]}",
           "probe or lifecycle host (container \"c\" uses probe or lifecycle host \"10.0.0.1\")");
}

TEST(apparmor)
{
    EXPECT(B, "{'annotations':{'container.apparmor.security.beta.kubernetes.io/c':'unconfined'}}",
           "{'containers':[{'name':'c'}]}",
           "forbidden AppArmor profile (annotation must not set AppArmor profile type to "
           "\"container.apparmor.security.beta.kubernetes.io/c=\"unconfined\"\")");
    EXPECT(B, NULL,
           "{'securityContext':{'appArmorProfile':{'type':'Unconfined'}},'containers':[{'name':'c',"
           "'securityContext':{'appArmorProfile':{'type':'Unconfined'}}},{'name':'d','securityContext':{"
           "'appArmorProfile':{'type':'RuntimeDefault'}}}]}",
           "forbidden AppArmor profile (pod and container \"c\" must not set AppArmor profile type to \"Unconfined\")");
    EXPECT(B, "{'annotations':{'container.apparmor.security.beta.kubernetes.io/c':'runtime/default'}}",
           "{'containers':[{'name':'c'}]}", "");
}

TEST(selinux)
{
    EXPECT(B, NULL, "{'securityContext':{'seLinuxOptions':{'type':'spc_t'}},'containers':[{'name':'c'}]}",
           "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\")");
    EXPECT(B, NULL, "{'containers':[{'name':'c','securityContext':{'seLinuxOptions':{'type':'container_t'}}}]}", "");
}

TEST(proc_mount_and_sysctls)
{
    EXPECT(B, NULL, "{'containers':[{'name':'c','securityContext':{'procMount':'Unmasked'}}]}",
           "procMount (container \"c\" must not set securityContext.procMount to \"Unmasked\")");
    EXPECT(B, NULL,
           "{'securityContext':{'sysctls':[{'name':'kernel.msgmax','value':'1'},"
           "{'name':'net.ipv4.tcp_syncookies','value':'1'}]},'containers':[{'name':'c'}]}",
           "forbidden sysctls (kernel.msgmax)");
}

TEST(seccomp)
{
    EXPECT(B, NULL, "{'securityContext':{'seccompProfile':{'type':'Unconfined'}},'containers':[{'name':'c'}]}",
           "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")");
    /* a container-level profile covers the pod for restricted */
    EXPECT(R, NULL,
           "{'securityContext':{'runAsNonRoot':true},'containers':[{'name':'c','securityContext':{"
           "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']},'seccompProfile':{'type':'Localhost',"
           "'localhostProfile':'p.json'}}}]}",
           "");
    EXPECT(R, NULL,
           "{'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}},'containers':[{'name':'c',"
           "'securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']},"
           "'seccompProfile':{'type':'Unconfined'}}}]}",
           "seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")");
}

TEST(run_as_non_root_and_user)
{
    EXPECT(R, NULL,
           "{'securityContext':{'runAsNonRoot':false,'seccompProfile':{'type':'RuntimeDefault'}},"
           "'containers':[{'name':'c'," GOOD_SC "}]}",
           "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)");
    EXPECT(R, NULL,
           "{" GOOD_POD_SC ",'containers':[{'name':'c','securityContext':{'allowPrivilegeEscalation':false,"
           "'capabilities':{'drop':['ALL']},'runAsUser':0}}]}",
           "runAsUser=0 (container \"c\" must not set runAsUser=0)");
    /* a pod in its own user namespace may be root in it */
    EXPECT(R, NULL,
           "{'hostUsers':false,'securityContext':{'seccompProfile':{'type':'RuntimeDefault'},'runAsUser':0},"
           "'containers':[{'name':'c'," GOOD_SC "}]}",
           "");
}

TEST(privileged_pod_in_restricted_names_the_field)
{
    EXPECT(R, NULL, "{" GOOD_POD_SC ",'containers':[{'name':'c','securityContext':{'privileged':true,"
                    "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}}}]}",
           "privileged (container \"c\" must not set securityContext.privileged=true)");
}

TEST(policy_from_labels)
{
    struct api_psa_policy p;
    json_t *l = vt_json("{'pod-security.kubernetes.io/enforce':'restricted'}"), *errs = json_array();
    char buf[48];

    test_defer((void (*)(void *))json_decref, errs);
    CHECK_INT(api_psa_policy(NULL, &p, NULL), ==, 0);
    CHECK_INT(p.enforce.level, ==, API_PSA_PRIVILEGED);
    CHECK_INT(api_psa_policy(l, &p, NULL), ==, 0);
    CHECK_STR(api_psa_lv_str(&p.enforce, buf, sizeof buf), "restricted:latest");
    CHECK_INT(p.warn.level, ==, API_PSA_RESTRICTED); /* warn follows a stricter enforce */
    CHECK_INT(p.audit.level, ==, API_PSA_PRIVILEGED);
    json_decref(l);

    l = vt_json("{'pod-security.kubernetes.io/enforce':'baseline','pod-security.kubernetes.io/enforce-version':'v1.30',"
                "'pod-security.kubernetes.io/warn':'privileged'}");
    CHECK_INT(api_psa_policy(l, &p, NULL), ==, 0);
    CHECK_STR(api_psa_lv_str(&p.enforce, buf, sizeof buf), "baseline:v1.30");
    CHECK_INT(p.warn.level, ==, API_PSA_PRIVILEGED);
    json_decref(l);

    l = vt_json("{'pod-security.kubernetes.io/enforce':'strict','pod-security.kubernetes.io/warn':'x',"
                "'pod-security.kubernetes.io/audit-version':'1.2'}");
    CHECK_INT(api_psa_policy(l, &p, errs), ==, 3);
    CHECK_INT(p.enforce.level, ==, API_PSA_RESTRICTED); /* fail closed */
    CHECK_INT(p.warn.level, ==, API_PSA_PRIVILEGED);    /* fail open */
    CHECK_INT(json_array_size(errs), ==, 3);
    json_decref(l);
}
