/* test_podspec.c — pod spec to runtime translation: env (order, overrides,
 * expansion, ConfigMap/Secret refs, fieldRef, resourceFieldRef, Service
 * links), argv,
 * resources, security context and named ports. */
#include <stdlib.h>
#include <string.h>

#include "agent/podspec.h"
#include "agent/rt_int.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/agent/lookupfx.h"
#include "tests/harness/test.h"



/* aGVsbG8= "hello", czNjcjN0 "s3cr3t", dG9rZW4= "token" */
static const char *STORE = "{\"configmaps\": {\"default/cfg\": {\"data\": {\"B_KEY\": \"b\","
                           " \"A_KEY\": \"a\", \"bad key\": \"x\", \"1num\": \"y\"}}},"
                           " \"secrets\": {\"default/s\": {\"data\": {\"password\": \"czNjcjN0\","
                           " \"TOKEN\": \"dG9rZW4=\"}}, \"default/bad\": {\"data\": {\"broken\": \"!!\"}}}}";

static const char *POD = "{\"metadata\": {\"name\": \"web-0\", \"namespace\": \"default\","
                         " \"uid\": \"u-1\", \"labels\": {\"app\": \"web\", \"tier\": \"f\\\"e\"},"
                         " \"annotations\": {\"note\": \"hi\"}},"
                         " \"spec\": {\"nodeName\": \"n1\", \"serviceAccountName\": \"sa\","
                         "  \"containers\": [{\"name\": \"side\", \"resources\": {\"limits\":"
                         "   {\"memory\": \"64Mi\"}}}]},"
                         " \"status\": {\"podIP\": \"10.0.0.9\", \"hostIP\": \"192.168.1.1\"}}";

struct envt {
    json_t *store, *pod, *ct;
    struct podspec_lookup lk;
    char **env;
    char err[256];
};

static int run_env(struct envt *t, const char *container, const char *pod_ip)
{
    t->store = J(STORE);
    t->pod = J(POD);
    t->ct = J(container);
    t->lk = (struct podspec_lookup){.get = store_get};
    t->lk.arg = t->store;
    t->err[0] = '\0';
    return podspec_env(t->pod, t->ct, pod_ip, NULL, &t->lk, &t->env, t->err);
}

static void env_done(struct envt *t)
{
    podspec_strv_free(t->env);
    json_decref(t->store);
    json_decref(t->pod);
    json_decref(t->ct);
}

static void check_strv(char **v, const char *const *want, size_t n)
{
    size_t i = 0;

    CHECK(v != NULL);
    for (; v[i] && i < n; i++) CHECK_STR(v[i], want[i]);
    CHECKF(v[i] == NULL && i == n, "got %zu+ entries, want %zu", i, n);
}

TEST(env_order_overrides_and_expansion)
{
    struct envt t;
    int rv = run_env(&t, "{\"envFrom\": [{\"configMapRef\": {\"name\": \"cfg\"}},"
                         " {\"prefix\": \"S_\", \"secretRef\": {\"name\": \"s\"}}],"
                         " \"env\": [{\"name\": \"X\", \"value\": \"1\"},"
                         "  {\"name\": \"A_KEY\", \"value\": \"over-$(B_KEY)\"},"
                         "  {\"name\": \"Y\", \"value\": \"$(X)-$$(X)-$(NOPE)-$(X\"},"
                         "  {\"name\": \"X\", \"value\": \"2\"},"
                         "  {\"name\": \"Z\", \"value\": \"$(X)$$\"},"
                         "  {\"name\": \"E\"}]}", NULL);
    static const char *const want[] = {"A_KEY=over-b", "B_KEY=b", "S_TOKEN=token",
                                       "S_password=s3cr3t", "X=2", "Y=1-$(X)-$(NOPE)-$(X",
                                       "Z=2$", "E="};
    CHECKF(rv == 0, "rv %d: %s", rv, t.err);
    check_strv(t.env, want, ORC_ARRAY_LEN(want));
    env_done(&t);
}

TEST(env_key_refs_and_optional)
{
    struct envt t;
    int rv = run_env(&t, "{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"configMapKeyRef\":"
                         "  {\"name\": \"cfg\", \"key\": \"A_KEY\"}}},"
                         " {\"name\": \"P\", \"valueFrom\": {\"secretKeyRef\":"
                         "  {\"name\": \"s\", \"key\": \"password\"}}},"
                         " {\"name\": \"O1\", \"valueFrom\": {\"secretKeyRef\":"
                         "  {\"name\": \"nope\", \"key\": \"k\", \"optional\": true}}},"
                         " {\"name\": \"O2\", \"valueFrom\": {\"configMapKeyRef\":"
                         "  {\"name\": \"cfg\", \"key\": \"zz\", \"optional\": true}}}],"
                         " \"envFrom\": [{\"configMapRef\": {\"name\": \"gone\", \"optional\": true}}]}",
                     NULL);
    static const char *const want[] = {"A=a", "P=s3cr3t"};
    CHECKF(rv == 0, "rv %d: %s", rv, t.err);
    check_strv(t.env, want, ORC_ARRAY_LEN(want));
    env_done(&t);
}

static void env_error(const char *container, int code, const char *msg)
{
    struct envt t;
    int rv = run_env(&t, container, NULL);

    CHECK_INT(rv, ==, code);
    CHECK(t.env == NULL);
    CHECK_STR(t.err, msg);
    env_done(&t);
}

TEST(env_missing_sources_in_kubelet_words)
{
    env_error("{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"configMapKeyRef\":"
              " {\"name\": \"cfg\", \"key\": \"missing\"}}}]}",
              ORC_ENOENT, "couldn't find key missing in ConfigMap default/cfg");
    env_error("{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"secretKeyRef\":"
              " {\"name\": \"s\", \"key\": \"missing\"}}}]}",
              ORC_ENOENT, "couldn't find key missing in Secret default/s");
    env_error("{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"configMapKeyRef\":"
              " {\"name\": \"nocfg\", \"key\": \"k\"}}}]}",
              ORC_ENOENT, "configmap \"nocfg\" not found");
    env_error("{\"envFrom\": [{\"secretRef\": {\"name\": \"nos\"}}]}", ORC_ENOENT,
              "secret \"nos\" not found");
    env_error("{\"envFrom\": [{\"configMapRef\": {\"name\": \"nocfg\"}}]}", ORC_ENOENT,
              "configmap \"nocfg\" not found");
    env_error("{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"fieldRef\":"
              " {\"fieldPath\": \"spec.bogus\"}}}]}",
              ORC_EINVAL, "unsupported fieldRef spec.bogus");
    env_error("{\"env\": [{\"name\": \"A\", \"valueFrom\": {\"secretKeyRef\":"
              " {\"name\": \"bad\", \"key\": \"broken\"}}}]}",
              ORC_EINVAL, "secret default/bad: key broken is not valid base64");
}

TEST(env_field_refs)
{
    static const char *const paths[] = {
        "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['app']",
        "metadata.annotations['note']", "metadata.labels['none']", "spec.nodeName",
        "spec.serviceAccountName", "status.podIP", "status.hostIP", "metadata.labels"};
    static const char *const want[] = {
        "V0=web-0", "V1=default", "V2=u-1", "V3=web", "V4=hi", "V5=", "V6=n1", "V7=sa",
        "V8=10.1.1.1", "V9=192.168.1.1", "V10=app=\"web\"\ntier=\"f\\\"e\""};
    json_t *env = json_array();
    char name[8];
    struct envt t;

    for (size_t i = 0; i < ORC_ARRAY_LEN(paths); i++) {
        snprintf(name, sizeof name, "V%zu", i);
        json_array_append_new(env, json_pack("{s:s, s:{s:{s:s}}}", "name", name, "valueFrom",
                                             "fieldRef", "fieldPath", paths[i]));
    }
    json_t *ct = json_pack("{s:o}", "env", env);
    char *text = json_dumps(ct, 0);
    int rv = run_env(&t, text, "10.1.1.1");
    CHECKF(rv == 0, "rv %d: %s", rv, t.err);
    check_strv(t.env, want, ORC_ARRAY_LEN(want));
    free(text);
    json_decref(ct);
    env_done(&t);
}

TEST(env_resource_field_refs)
{
    struct envt t;
    int rv = run_env(&t, "{\"resources\": {\"limits\": {\"cpu\": \"250m\", \"memory\": \"512Mi\"},"
                         " \"requests\": {\"memory\": \"100Mi\"}}, \"env\": ["
                         "{\"name\": \"C\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.cpu\"}}},"
                         "{\"name\": \"CM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.cpu\", \"divisor\": \"1m\"}}},"
                         "{\"name\": \"M\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.memory\"}}},"
                         "{\"name\": \"MM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.memory\", \"divisor\": \"1Mi\"}}},"
                         "{\"name\": \"RM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"requests.memory\", \"divisor\": \"1Mi\"}}},"
                         "{\"name\": \"RC\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"requests.cpu\", \"divisor\": \"1m\"}}},"
                         "{\"name\": \"S\", \"valueFrom\": {\"resourceFieldRef\": {\"containerName\": \"side\", \"resource\": \"limits.memory\", \"divisor\": \"1Mi\"}}}"
                         "]}", NULL);
    static const char *const want[] = {"C=1", "CM=250", "M=536870912", "MM=512", "RM=100",
                                       "RC=250", "S=64"};
    CHECKF(rv == 0, "rv %d: %s", rv, t.err);
    check_strv(t.env, want, ORC_ARRAY_LEN(want));
    env_done(&t);
}

TEST(env_empty_is_an_empty_list)
{
    struct envt t;

    CHECK_INT(run_env(&t, "{\"name\": \"c\"}", NULL), ==, 0);
    CHECK(t.env != NULL && t.env[0] == NULL);
    env_done(&t);
}

/* Services by namespace, as the agent's informer gives them. */
static const char *SERVICES =
    "[{\"metadata\": {\"name\": \"kubernetes\", \"namespace\": \"default\"},"
    "  \"spec\": {\"clusterIP\": \"10.43.0.1\", \"ports\": [{\"name\": \"https\", \"port\": 443, \"protocol\": \"TCP\"}]}},"
    " {\"metadata\": {\"name\": \"my-nginx\", \"namespace\": \"shop\"},"
    "  \"spec\": {\"clusterIP\": \"10.43.0.20\", \"ports\": [{\"port\": 80}, {\"name\": \"dns-udp\", \"port\": 53, \"protocol\": \"UDP\"}]}},"
    " {\"metadata\": {\"name\": \"headless\", \"namespace\": \"shop\"}, \"spec\": {\"clusterIP\": \"None\"}},"
    " {\"metadata\": {\"name\": \"other\", \"namespace\": \"elsewhere\"}, \"spec\": {\"clusterIP\": \"10.43.0.30\"}}]";

static void each_service(void *arg, const char *ns, void (*fn)(void *, const json_t *), void *fnarg)
{
    size_t i;
    json_t *svc;
    json_array_foreach ((json_t *)arg, i, svc)
        if (strcmp(orc_json_str(svc, "metadata.namespace"), ns) == 0) fn(fnarg, svc);
}

static char **service_env(const char *pod_text, const char *ct_text)
{
    json_t *svcs = J(SERVICES), *pod = J(pod_text), *ct = J(ct_text);
    struct podspec_lookup lk = {NULL, svcs, each_service};
    char **env = NULL, err[256] = "";
    int rv = podspec_env(pod, ct, NULL, NULL, &lk, &env, err);
    CHECKF(rv == 0, "rv %d: %s", rv, err);
    json_decref(svcs);
    json_decref(pod);
    json_decref(ct);
    return env;
}

TEST(env_service_links_as_the_kubelet)
{
    /* the pod's own variables win and keep their place; $(VAR) reads the
     * Services'; headless Services and other namespaces give nothing */
    char **env = service_env("{\"metadata\": {\"name\": \"p\", \"namespace\": \"shop\"}}",
                             "{\"env\": [{\"name\": \"MY_NGINX_SERVICE_PORT\", \"value\": \"8080\"},"
                             " {\"name\": \"URL\", \"value\": \"http://$(MY_NGINX_SERVICE_HOST)/\"}]}");
    static const char *const want[] = {
        "MY_NGINX_SERVICE_PORT=8080", "URL=http://10.43.0.20/",
        "KUBERNETES_SERVICE_HOST=10.43.0.1", "KUBERNETES_SERVICE_PORT=443",
        "KUBERNETES_SERVICE_PORT_HTTPS=443", "KUBERNETES_PORT=tcp://10.43.0.1:443",
        "KUBERNETES_PORT_443_TCP=tcp://10.43.0.1:443", "KUBERNETES_PORT_443_TCP_PROTO=tcp",
        "KUBERNETES_PORT_443_TCP_PORT=443", "KUBERNETES_PORT_443_TCP_ADDR=10.43.0.1",
        "MY_NGINX_SERVICE_HOST=10.43.0.20", "MY_NGINX_SERVICE_PORT_DNS_UDP=53",
        "MY_NGINX_PORT=tcp://10.43.0.20:80", "MY_NGINX_PORT_80_TCP=tcp://10.43.0.20:80",
        "MY_NGINX_PORT_80_TCP_PROTO=tcp", "MY_NGINX_PORT_80_TCP_PORT=80", "MY_NGINX_PORT_80_TCP_ADDR=10.43.0.20",
        "MY_NGINX_PORT_53_UDP=udp://10.43.0.20:53", "MY_NGINX_PORT_53_UDP_PROTO=udp",
        "MY_NGINX_PORT_53_UDP_PORT=53", "MY_NGINX_PORT_53_UDP_ADDR=10.43.0.20"};
    check_strv(env, want, ORC_ARRAY_LEN(want));
    podspec_strv_free(env);

    /* enableServiceLinks false: the kubernetes Service's only */
    env = service_env("{\"metadata\": {\"name\": \"p\", \"namespace\": \"shop\"},"
                      " \"spec\": {\"enableServiceLinks\": false}}", "{}");
    size_t n = 0;
    for (; env[n]; n++) CHECKF(strncmp(env[n], "KUBERNETES_", 11) == 0, "%s", env[n]);
    CHECK_INT(n, ==, 8);
    podspec_strv_free(env);
}

/* ---- argv ---- */

static void argv_case(const char *ct_text, const char *img_text, const char *const *want, size_t n)
{
    json_t *ct = J(ct_text), *img = img_text ? J(img_text) : NULL;
    char *env[] = {"X=1", "HOME=/root", NULL};
    char **argv = NULL, err[256] = "";
    int rv = podspec_argv(ct, img, env, &argv, err);

    CHECKF(rv == 0, "rv %d: %s", rv, err);
    check_strv(argv, want, n);
    podspec_strv_free(argv);
    json_decref(ct);
    json_decref(img);
}

TEST(argv_kubernetes_rules)
{
    static const char *IMG = "{\"Entrypoint\": [\"/ep\", \"-v\"], \"Cmd\": [\"serve\", \"$(X)\"]}";
    static const char *const img[] = {"/ep", "-v", "serve", "$(X)"};
    static const char *const cmd_only[] = {"/bin/sh", "-c", "echo 1 $(Y)"};
    static const char *const args_only[] = {"/ep", "-v", "run", "/root", "$(X)"};
    static const char *const both[] = {"/x", "a"};
    static const char *const cmd_no_img[] = {"sleep", "1"};

    argv_case("{}", IMG, img, ORC_ARRAY_LEN(img));
    argv_case("{\"command\": [\"/bin/sh\", \"-c\", \"echo $(X) $(Y)\"]}", IMG, cmd_only,
              ORC_ARRAY_LEN(cmd_only));
    argv_case("{\"args\": [\"run\", \"$(HOME)\", \"$$(X)\"]}", IMG, args_only,
              ORC_ARRAY_LEN(args_only));
    argv_case("{\"command\": [\"/x\"], \"args\": [\"a\"]}", IMG, both, ORC_ARRAY_LEN(both));
    argv_case("{\"command\": [\"sleep\", \"1\"]}", NULL, cmd_no_img, ORC_ARRAY_LEN(cmd_no_img));
    argv_case("{\"command\": [], \"args\": []}", "{\"Cmd\": [\"sh\"]}", (const char *[]){"sh"}, 1);
}

TEST(argv_nothing_to_run)
{
    json_t *ct = J("{\"args\": []}"), *img = J("{\"Entrypoint\": null}");
    char **argv = (char **)1, err[256] = "";

    CHECK_INT(podspec_argv(ct, img, NULL, &argv, err), ==, ORC_EINVAL);
    CHECK(argv == NULL);
    CHECK_STR(err, "no command specified");
    CHECK_INT(podspec_argv(ct, NULL, NULL, &argv, err), ==, ORC_EINVAL);
    json_decref(ct);
    json_decref(img);
}

/* ---- resources, security, ports ---- */

static struct podspec_resources res(const char *text)
{
    json_t *ct = J(text);
    struct podspec_resources r;

    CHECK_INT(podspec_resources(ct, &r), ==, 0);
    json_decref(ct);
    return r;
}

TEST(resources_arithmetic)
{
    struct podspec_resources r = res("{\"resources\": {\"limits\": {\"memory\": \"512Mi\","
                                     " \"cpu\": \"500m\"}, \"requests\": {\"cpu\": \"250m\"}}}");
    CHECK_INT(r.memory_limit, ==, 536870912);
    CHECK_INT(r.cpu_quota_us, ==, 50000);
    CHECK_INT(r.cpu_period_us, ==, 100000);
    CHECK_INT(r.cpu_shares, ==, 256);

    r = res("{}");
    CHECK(r.memory_limit == 0 && r.cpu_quota_us == 0 && r.cpu_period_us == 0 && r.cpu_shares == 0);
    r = res("{\"resources\": {\"limits\": {\"cpu\": \"2\"}}}");
    CHECK_INT(r.cpu_quota_us, ==, 200000);
    CHECK_INT(r.cpu_shares, ==, 2048);
    r = res("{\"resources\": {\"limits\": {\"cpu\": \"1m\"}, \"requests\": {\"cpu\": \"1m\"}}}");
    CHECK_INT(r.cpu_quota_us, ==, 1000);
    CHECK_INT(r.cpu_shares, ==, 2);
    r = res("{\"resources\": {\"requests\": {\"cpu\": \"100\", \"memory\": \"1Gi\"},"
            " \"limits\": {\"memory\": 1000}}}");
    CHECK_INT(r.cpu_shares, ==, 102400);
    CHECK_INT(r.memory_limit, ==, 1000);
    CHECK_INT(r.cpu_quota_us, ==, 0);
    r = res("{\"resources\": {\"limits\": {\"cpu\": 0.5}}}");
    CHECK_INT(r.cpu_quota_us, ==, 50000);
    CHECK_INT(r.cpu_shares, ==, 512);
    r = res("{\"resources\": {\"requests\": {\"cpu\": \"1000\"}}}");
    CHECK_INT(r.cpu_shares, ==, 262144);

    json_t *bad = J("{\"resources\": {\"limits\": {\"memory\": \"lots\"}}}");
    struct podspec_resources b;
    CHECK_INT(podspec_resources(bad, &b), ==, ORC_EINVAL);
    json_decref(bad);
}

TEST(security_container_overrides_pod)
{
    json_t *pod = J("{\"spec\": {\"securityContext\": {\"runAsUser\": 1000, \"runAsGroup\": 3000}}}");
    json_t *c1 = J("{\"securityContext\": {\"runAsUser\": 0, \"readOnlyRootFilesystem\": true}}");
    json_t *c2 = J("{}"), *bare = J("{\"spec\": {}}");
    struct podspec_security s;
    char err[256];

    CHECK_INT(podspec_security(pod, c1, NULL, &s, err), ==, 0);
    CHECK_INT(s.uid, ==, 0);
    CHECK_INT(s.gid, ==, 3000);
    CHECK(s.readonly_rootfs);
    CHECK_INT(podspec_security(pod, c2, NULL, &s, err), ==, 0);
    CHECK_INT(s.uid, ==, 1000);
    CHECK_INT(s.gid, ==, 3000);
    CHECK(!s.readonly_rootfs);
    CHECK_INT(podspec_security(bare, c2, NULL, &s, err), ==, 0);
    CHECK_INT(s.uid, ==, -1);
    CHECK_INT(s.gid, ==, -1);
    json_decref(pod);
    json_decref(c1);
    json_decref(c2);
    json_decref(bare);
}

static int port(const json_t *ct, const char *text, int *out)
{
    json_t *p = json_loads(text, JSON_DECODE_ANY, NULL);
    int rv;

    CHECK(p != NULL);
    rv = podspec_port(ct, p, out);
    json_decref(p);
    return rv;
}

TEST(ports_by_number_and_name)
{
    json_t *ct = J("{\"ports\": [{\"name\": \"http\", \"containerPort\": 8080},"
                   " {\"containerPort\": 9000}, {\"name\": \"admin\", \"containerPort\": 9090}]}");
    int p = 0;

    CHECK_INT(port(ct, "80", &p), ==, 0);
    CHECK_INT(p, ==, 80);
    CHECK_INT(port(ct, "\"http\"", &p), ==, 0);
    CHECK_INT(p, ==, 8080);
    CHECK_INT(port(ct, "\"admin\"", &p), ==, 0);
    CHECK_INT(p, ==, 9090);
    CHECK_INT(port(ct, "\"8443\"", &p), ==, 0);
    CHECK_INT(p, ==, 8443);
    CHECK_INT(port(ct, "\"metrics\"", &p), ==, ORC_ENOENT);
    CHECK_INT(port(ct, "0", &p), ==, ORC_EINVAL);
    CHECK_INT(port(ct, "70000", &p), ==, ORC_EINVAL);
    CHECK_INT(port(ct, "true", &p), ==, ORC_EINVAL);
    json_decref(ct);
}

TEST(security_capabilities_privileged_and_no_new_privs)
{
    json_t *pod = J("{\"spec\": {\"securityContext\": {\"supplementalGroups\": [5, 6], \"fsGroup\": 7}}}");
    json_t *c = J("{\"securityContext\": {\"allowPrivilegeEscalation\": false, \"capabilities\": "
                  "{\"add\": [\"NET_ADMIN\", \"CAP_SYS_TIME\", \"BOGUS\"], \"drop\": [\"ALL\", \"chown\"]}}}");
    json_t *admin = J("{\"securityContext\": {\"allowPrivilegeEscalation\": false, \"capabilities\": "
                      "{\"add\": [\"SYS_ADMIN\"]}}}");
    json_t *priv = J("{\"securityContext\": {\"privileged\": true, \"procMount\": \"Unmasked\"}}");
    struct podspec_security s;
    char err[256];

    CHECK_INT(podspec_security(pod, c, NULL, &s, err), ==, 0);
    CHECK(s.rt.drop_all && !s.rt.add_all && !s.rt.privileged);
    CHECK(s.rt.cap_add == (((uint64_t)1 << 12) | ((uint64_t)1 << 25)));
    CHECK(s.rt.cap_drop == 1);
    CHECK(s.rt.no_new_privs);
    CHECK(s.rt.seccomp == RT_SECCOMP_UNCONFINED);
    CHECK_INT(s.rt.n_extra_gids, ==, 3);
    CHECK_INT(s.rt.extra_gids[2], ==, 7);
    /* drop ALL then the adds, as containerd: NET_ADMIN and SYS_TIME only */
    CHECK(rt_sec_caps(&s.rt) == (((uint64_t)1 << 12) | ((uint64_t)1 << 25)));
    CHECK_INT(podspec_security(pod, admin, NULL, &s, err), ==, 0);
    CHECK(!s.rt.no_new_privs); /* CAP_SYS_ADMIN can gain privileges anyway */
    CHECK_INT(podspec_security(pod, priv, NULL, &s, err), ==, 0);
    CHECK(s.rt.privileged && s.rt.unmasked_proc && !s.rt.no_new_privs);
    json_decref(pod);
    json_decref(c);
    json_decref(admin);
    json_decref(priv);
}

TEST(security_seccomp_profiles)
{
    struct podspec_sec_opts on = {true, "/var/lib/orc/seccomp"}, off = {false, "/var/lib/orc/seccomp"};
    json_t *bare = J("{\"spec\": {}}"), *c = J("{}");
    json_t *pod_rd = J("{\"spec\": {\"securityContext\": {\"seccompProfile\": {\"type\": \"RuntimeDefault\"}}}}");
    json_t *unconf = J("{\"securityContext\": {\"seccompProfile\": {\"type\": \"Unconfined\"}}}");
    json_t *local = J("{\"securityContext\": {\"seccompProfile\": {\"type\": \"Localhost\", "
                      "\"localhostProfile\": \"profiles/audit.json\"}}}");
    json_t *escape = J("{\"securityContext\": {\"seccompProfile\": {\"type\": \"Localhost\", "
                       "\"localhostProfile\": \"../../etc/x.json\"}}}");
    struct podspec_security s;
    char err[256];

    CHECK_INT(podspec_security(bare, c, &off, &s, err), ==, 0);
    CHECK(s.rt.seccomp == RT_SECCOMP_UNCONFINED);
    CHECK_INT(podspec_security(bare, c, &on, &s, err), ==, 0);
    CHECK(s.rt.seccomp == RT_SECCOMP_RUNTIME_DEFAULT); /* --seccomp-default */
    CHECK_INT(podspec_security(pod_rd, c, &off, &s, err), ==, 0);
    CHECK(s.rt.seccomp == RT_SECCOMP_RUNTIME_DEFAULT);
    CHECK_INT(podspec_security(pod_rd, unconf, &on, &s, err), ==, 0);
    CHECK(s.rt.seccomp == RT_SECCOMP_UNCONFINED); /* the container's wins */
    CHECK_INT(podspec_security(bare, local, &off, &s, err), ==, 0);
    CHECK(s.rt.seccomp == RT_SECCOMP_LOCALHOST);
    CHECK_STR(s.rt.seccomp_file, "/var/lib/orc/seccomp/profiles/audit.json");
    CHECK_INT(podspec_security(bare, escape, &off, &s, err), ==, ORC_EINVAL);
    CHECKF(strstr(err, "without \"..\""), "%s", err);
    json_decref(bare);
    json_decref(c);
    json_decref(pod_rd);
    json_decref(unconf);
    json_decref(local);
    json_decref(escape);
}

TEST(security_run_as_non_root)
{
    json_t *pod = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\", \"uid\": \"u1\"}, "
                    "\"spec\": {\"securityContext\": {\"runAsNonRoot\": true}}}");
    json_t *c = J("{}"), *root0 = J("{\"securityContext\": {\"runAsUser\": 0}}");
    json_t *u1000 = J("{\"securityContext\": {\"runAsUser\": 1000}}");
    json_t *img_root = J("{}"), *img_zero = J("{\"User\": \"0:0\"}"), *img_app = J("{\"User\": \"1000\"}");
    json_t *img_name = J("{\"User\": \"nginx\"}");
    struct podspec_security s;
    char err[256];

    CHECK_INT(podspec_security(pod, c, NULL, &s, err), ==, 0);
    CHECK(s.run_as_non_root);
    CHECK_INT(podspec_check_non_root(&s, img_root, pod, "c", err), ==, ORC_EPERM);
    CHECK_STR(err, "container has runAsNonRoot and image will run as root (pod: \"p_ns(u1)\", container: c)");
    CHECK_INT(podspec_check_non_root(&s, img_zero, pod, "c", err), ==, ORC_EPERM);
    CHECK_INT(podspec_check_non_root(&s, img_app, pod, "c", err), ==, 0);
    CHECK_INT(podspec_check_non_root(&s, img_name, pod, "c", err), ==, ORC_EPERM);
    CHECK_STR(err, "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is "
                   "non-root (pod: \"p_ns(u1)\", container: c)");
    CHECK_INT(podspec_security(pod, root0, NULL, &s, err), ==, 0);
    CHECK_INT(podspec_check_non_root(&s, img_app, pod, "c", err), ==, ORC_EPERM);
    CHECK_STR(err, "container's runAsUser breaks non-root policy (pod: \"p_ns(u1)\", container: c)");
    CHECK_INT(podspec_security(pod, u1000, NULL, &s, err), ==, 0);
    CHECK_INT(podspec_check_non_root(&s, img_root, pod, "c", err), ==, 0);
    json_decref(pod);
    json_decref(c);
    json_decref(root0);
    json_decref(u1000);
    json_decref(img_root);
    json_decref(img_zero);
    json_decref(img_app);
    json_decref(img_name);
}
