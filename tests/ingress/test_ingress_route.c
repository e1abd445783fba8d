/* test_ingress_route.c — the routing model (ingress/route.h): hosts exact
 * before wildcard, Exact before Prefix, longest Prefix by path element,
 * defaultBackend last, ports by number and name, ready endpoints in round
 * robin, classes and TLS Secrets by SNI. */
#include <string.h>

#include "ingress/route.h"
#include "tests/harness/test.h"

static json_t *j(const char *text)
{
    char buf[8192];
    size_t n = strlen(text);
    CHECK(n < sizeof buf);
    for (size_t i = 0; i <= n; i++) buf[i] = text[i] == '\'' ? '"' : text[i];
    json_error_t e;
    json_t *v = json_loads(buf, 0, &e);
    CHECKF(v != NULL, "bad json at %d: %s", e.position, e.text);
    return v;
}

static const char *const classes_json =
    "[{'metadata':{'name':'orc','annotations':{'ingressclass.kubernetes.io/is-default-class':"
    "'true'}},'spec':{'controller':'orc.dev/ingress'}},"
    "{'metadata':{'name':'nginx'},'spec':{'controller':'k8s.io/ingress-nginx'}}]";

#define SVC(name, ports) \
    "{'metadata':{'namespace':'default','name':'" name "'},'spec':{'ports':" ports "}}"
#define SLICE(name, svc, ports, eps)                                                 \
    "{'metadata':{'namespace':'default','name':'" name "','labels':{"              \
    "'kubernetes.io/service-name':'" svc "'}},'addressType':'IPv4','ports':" ports \
    ",'endpoints':" eps "}"
#define PATH(p, type, svc, port) \
    "{'path':'" p "','pathType':'" type "','backend':{'service':{'name':'" svc "','port':" port "}}}"

static const char *const services_json =
    "[" SVC("web", "[{'name':'http','port':80,'targetPort':8080}]") ","
    SVC("api", "[{'port':81,'targetPort':9000}]") ","
    SVC("def", "[{'name':'http','port':80}]") ","
    SVC("empty", "[{'port':80}]") "]";

static const char *const slices_json =
    "[" SLICE("web-1", "web", "[{'name':'http','port':8080,'protocol':'TCP'}]",
              "[{'addresses':['10.0.0.1']},{'addresses':['10.0.0.2'],'conditions':{'ready':true}},"
              "{'addresses':['10.0.0.3'],'conditions':{'ready':false}}]") ","
    SLICE("web-2", "web", "[{'name':'http','port':8080,'protocol':'TCP'}]",
          "[{'addresses':['10.0.0.4']},{'addresses':['10.0.0.1']}]") ","
    SLICE("api-1", "api", "[{'name':'','port':9000,'protocol':'TCP'}]",
          "[{'addresses':['10.0.1.1']}]") ","
    SLICE("def-1", "def", "[{'name':'http','port':8888}]", "[{'addresses':['10.0.2.1']}]") "]";

static const char *const ingresses_json =
    "[{'metadata':{'namespace':'default','name':'b','creationTimestamp':'2026-01-02T00:00:00Z'},"
    "'spec':{'rules':[{'host':'foo.com','http':{'paths':["
    PATH("/", "Prefix", "api", "{'number':81}") "]}}]}},"
    "{'metadata':{'namespace':'default','name':'a','creationTimestamp':'2026-01-01T00:00:00Z'},"
    "'spec':{'ingressClassName':'orc','defaultBackend':{'service':{'name':'def','port':{'name':'http'}}},"
    "'tls':[{'hosts':['foo.com'],'secretName':'foo-tls'},{'hosts':['*.wild.com'],'secretName':'wild-tls'}],"
    "'rules':[{'host':'foo.com','http':{'paths':["
    PATH("/app/", "Prefix", "web", "{'name':'http'}") ","
    PATH("/app/v2", "Prefix", "api", "{'number':81}") ","
    PATH("/exact", "Exact", "api", "{'number':81}") ","
    PATH("/exact", "Prefix", "web", "{'number':80}") ","
    PATH("/impl", "ImplementationSpecific", "web", "{'number':80}") ","
    PATH("/none", "Prefix", "empty", "{'number':80}") ","
    PATH("/missing", "Prefix", "nosuch", "{'number':80}") "]}},"
    "{'host':'*.wild.com','http':{'paths':[" PATH("/", "Prefix", "web", "{'number':80}") "]}},"
    "{'http':{'paths':[" PATH("/any", "Prefix", "api", "{'number':81}") "]}}]}},"
    "{'metadata':{'namespace':'default','name':'other'},'spec':{'ingressClassName':'nginx',"
    "'rules':[{'host':'nginx.com','http':{'paths':[" PATH("/", "Prefix", "web", "{'number':80}")
    "]}}]}}]";

struct fx {
    json_t *ing, *cls, *svc, *sl;
    struct ingress_table *t;
};

static void fx_init(struct fx *f)
{
    f->ing = j(ingresses_json);
    f->cls = j(classes_json);
    f->svc = j(services_json);
    f->sl = j(slices_json);
    struct ingress_inputs in = {f->ing, f->cls, f->svc, f->sl};
    f->t = ingress_table_build(&in);
    CHECK(f->t != NULL);
}

static void fx_free(struct fx *f)
{
    ingress_table_free(f->t);
    json_decref(f->ing);
    json_decref(f->cls);
    json_decref(f->svc);
    json_decref(f->sl);
}

static const char *svc_of(struct fx *f, const char *host, const char *path)
{
    struct ingress_backend *be = ingress_route(f->t, host, path);
    return be ? be->service : "(none)";
}

TEST(route_hosts_and_paths)
{
    struct fx f;
    fx_init(&f);
    CHECK_STR(svc_of(&f, "foo.com", "/app"), "web");
    CHECK_STR(svc_of(&f, "FOO.com:8080", "/app/x?q=1"), "web");
    CHECK_STR(svc_of(&f, "foo.com.", "/app/v2"), "api");   /* longest prefix */
    CHECK_STR(svc_of(&f, "foo.com", "/app/v2/x"), "api");
    CHECK_STR(svc_of(&f, "foo.com", "/app/v20"), "web");   /* by element */
    CHECK_STR(svc_of(&f, "foo.com", "/appx"), "api");      /* not /app: b's "/" */
    CHECK_STR(svc_of(&f, "foo.com", "/exact"), "api");     /* Exact before Prefix */
    CHECK_STR(svc_of(&f, "foo.com", "/exact/y"), "web");
    CHECK_STR(svc_of(&f, "foo.com", "/impl/z"), "web");    /* ImplementationSpecific = Prefix */
    CHECK_STR(svc_of(&f, "x.com", "/"), "def");            /* hostless rules miss: default */
    CHECK_STR(svc_of(&f, "a.wild.com", "/x"), "web");      /* one label under the wildcard */
    CHECK_STR(svc_of(&f, "a.b.wild.com", "/any"), "api");  /* two labels: the hostless rules */
    CHECK_STR(svc_of(&f, "wild.com", "/any"), "api");
    CHECK_STR(svc_of(&f, "nginx.com", "/x"), "def");       /* another class's Ingress: ignored */
    CHECK_STR(svc_of(&f, NULL, "/"), "def");
    fx_free(&f);
}

TEST(route_endpoints_round_robin)
{
    struct fx f;
    fx_init(&f);
    struct ingress_backend *be = ingress_route(f.t, "foo.com", "/app");
    CHECK(be && be->service_found);
    CHECK_INT(be->n_eps, ==, 3); /* 10.0.0.1 twice in two slices, 10.0.0.3 not ready */
    int seen[5] = {0};
    for (int i = 0; i < 30; i++) {
        const struct ingress_endpoint *ep = ingress_backend_pick(be);
        CHECK(ep && ep->port == 8080);
        seen[ep->ip[7] - '0']++;
    }
    CHECK(seen[1] == 10 && seen[2] == 10 && seen[4] == 10 && seen[3] == 0);
    /* Every rule naming the same Service port the same way shares one backend. */
    CHECK(ingress_route(f.t, "foo.com", "/app/x/y") == be);
    be = ingress_route(f.t, "foo.com", "/app/v2");
    CHECK(be && be->n_eps == 1 && be->eps[0].port == 9000);
    be = ingress_route(f.t, "x.com", "/");
    CHECK(be && strcmp(be->service, "def") == 0 && be->eps[0].port == 8888);
    be = ingress_route(f.t, "foo.com", "/none");
    CHECK(be && be->service_found && be->n_eps == 0 && ingress_backend_pick(be) == NULL);
    be = ingress_route(f.t, "foo.com", "/missing");
    CHECK(be && !be->service_found);
    fx_free(&f);
}

TEST(route_oldest_ingress_wins)
{
    struct fx f;
    fx_init(&f);
    /* "b" (newer) also claims foo.com "/" Prefix; "a" has no "/" on foo.com,
     * so b's rule serves it; b's foo.com rules merge into the same host. */
    CHECK_STR(svc_of(&f, "foo.com", "/other"), "api");
    fx_free(&f);
}

TEST(route_classes)
{
    json_t *cls = j(classes_json);
    json_t *mine = j("{'spec':{'ingressClassName':'orc'}}");
    json_t *theirs = j("{'spec':{'ingressClassName':'nginx'}}");
    json_t *none = j("{'spec':{}}");
    json_t *ann = j("{'metadata':{'annotations':{'kubernetes.io/ingress.class':'orc'}},'spec':{}}");
    CHECK(ingress_is_ours(mine, cls));
    CHECK(!ingress_is_ours(theirs, cls));
    CHECK(ingress_is_ours(none, cls));
    CHECK(ingress_is_ours(ann, cls));
    json_t *nodefault = j("[{'metadata':{'name':'orc'},'spec':{'controller':'orc.dev/ingress'}}]");
    CHECK(!ingress_is_ours(none, nodefault));
    CHECK(ingress_is_ours(mine, nodefault));
    CHECK(!ingress_is_ours(mine, NULL));
    json_decref(nodefault);
    json_decref(cls);
    json_decref(mine);
    json_decref(theirs);
    json_decref(none);
    json_decref(ann);
}

static void count(void *arg, const char *ns, const char *name)
{
    (void)ns;
    (void)name;
    (*(int *)arg)++;
}

TEST(route_tls_by_sni)
{
    struct fx f;
    const char *ns, *name;
    fx_init(&f);
    CHECK(ingress_tls_secret(f.t, "foo.com", &ns, &name));
    CHECK_STR(name, "foo-tls");
    CHECK_STR(ns, "default");
    CHECK(ingress_tls_secret(f.t, "x.wild.com", &ns, &name));
    CHECK_STR(name, "wild-tls");
    CHECK(!ingress_tls_secret(f.t, "x.y.wild.com", &ns, &name));
    CHECK(!ingress_tls_secret(f.t, NULL, &ns, &name));
    int n = 0;
    ingress_tls_each(f.t, count, &n);
    CHECK_INT(n, ==, 2);
    fx_free(&f);
}

/* 3,000 Ingresses, Services and slices: indexed, not scanned per rule (the
 * first version took 2.2 s here, quadratic; now ~30 ms). */
TEST(route_build_scales)
{
    int n = 3000;
    json_t *ing = json_array(), *svc = json_array(), *sl = json_array(), *cls = j(classes_json);
    for (int i = 0; i < n; i++) {
        char name[32], host[64], ip[32];
        snprintf(name, sizeof name, "s%d", i);
        snprintf(host, sizeof host, "h%d.example.com", i);
        snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
        json_array_append_new(svc, json_pack("{s:{s:s,s:s},s:{s:[{s:i}]}}", "metadata", "namespace",
                                             "d", "name", name, "spec", "ports", "port", 80));
        json_array_append_new(sl, json_pack("{s:{s:s,s:s,s:{s:s}},s:s,s:[{s:i}],s:[{s:[s]}]}",
                                            "metadata", "namespace", "d", "name", name, "labels",
                                            "kubernetes.io/service-name", name, "addressType",
                                            "IPv4", "ports", "port", 8080, "endpoints",
                                            "addresses", ip));
        json_array_append_new(ing, json_pack("{s:{s:s,s:s},s:{s:[{s:s,s:{s:[{s:s,s:s,s:{s:{s:s,"
                                             "s:{s:i}}}}]}}]}}", "metadata", "namespace", "d",
                                             "name", name, "spec", "rules", "host", host, "http",
                                             "paths", "path", "/", "pathType", "Prefix", "backend",
                                             "service", "name", name, "port", "number", 80));
    }
    struct ingress_inputs in = {ing, cls, svc, sl};
    uint64_t t0 = test_now_ms();
    struct ingress_table *t = ingress_table_build(&in);
    uint64_t ms = test_now_ms() - t0;
    CHECK(t != NULL);
    CHECK_INT(ingress_table_hosts(t), ==, (size_t)n);
    struct ingress_backend *be = ingress_route(t, "h2999.example.com", "/");
    CHECK(be && strcmp(be->service, "s2999") == 0 && be->n_eps == 1 && be->eps[0].port == 8080);
    CHECKF(ms < 1000, "building %d Ingresses took %llu ms", n, (unsigned long long)ms);
    ingress_table_free(t);
    json_decref(ing);
    json_decref(svc);
    json_decref(sl);
    json_decref(cls);
}
