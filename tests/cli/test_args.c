/* test_args.c — orctl's command lines: kubectl's flag forms, the messages for
 * mistakes, finding the command word, naming objects (KIND NAME, KIND/NAME,
 * kind lists), and the small request helpers (escaping, warnings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/orc.h"
#include "tests/cli/cx.h"
#include "tests/harness/test.h"

static const struct cli_command fake_get = {"get", "List objects", "get KIND [flags]", NULL, NULL};

struct opts {
    bool all, watch, no_headers;
    const char *output, *labels;
    long long replicas;
    struct cli_strv files, literals;
};

/* Parses a NULL-terminated word list as the arguments after "get". */
static int parse(struct cx *c, struct opts *o, struct cli_strv *pos, const char *const *words)
{
    const struct cli_flag flags[] = {
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &o->all, NULL, "all namespaces"},
        {"watch", 'w', CLI_FLAG_BOOL, &o->watch, NULL, "watch"},
        {"no-headers", 0, CLI_FLAG_BOOL, &o->no_headers, NULL, "no headers"},
        {"output", 'o', CLI_FLAG_STRING, &o->output, "FMT", "format"},
        {"selector", 'l', CLI_FLAG_STRING, &o->labels, "SEL", "labels"},
        {"replicas", 0, CLI_FLAG_INT, &o->replicas, "N", "count"},
        {"filename", 'f', CLI_FLAG_LIST, &o->files, "FILE", "files"},
        {"from-literal", 0, CLI_FLAG_ARRAY, &o->literals, "K=V", "literals"},
    };
    int argc = 0;

    while (words[argc]) argc++;
    c->x.cmd = &fake_get;
    return cli_parse(&c->x, flags, ORC_ARRAY_LEN(flags), argc, (char **)words, pos);
}

static void opts_free(struct opts *o, struct cli_strv *pos)
{
    cli_strv_free(&o->files);
    cli_strv_free(&o->literals);
    cli_strv_free(pos);
}

static void check_namespace(const char *const *words, const char *want)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};

    cx_init(&c);
    CHECK_INT(parse(&c, &o, &pos, words), ==, 0);
    CHECK_STR(c.x.g.ns, want);
    CHECK_INT(pos.n, ==, 1);
    CHECK_STR(pos.v[0], "pods");
    opts_free(&o, &pos);
    cx_free(&c);
}

TEST(namespace_flag_forms)
{
    check_namespace((const char *const[]){"-n", "kube-system", "pods", NULL}, "kube-system");
    check_namespace((const char *const[]){"-nkube-system", "pods", NULL}, "kube-system");
    check_namespace((const char *const[]){"-n=kube-system", "pods", NULL}, "kube-system");
    check_namespace((const char *const[]){"pods", "--namespace=kube-system", NULL}, "kube-system");
    check_namespace((const char *const[]){"pods", "--namespace", "kube-system", NULL}, "kube-system");
    /* The last one wins, as with pflag. */
    check_namespace((const char *const[]){"-n", "a", "pods", "-n", "b", NULL}, "b");
}

TEST(flags_anywhere_bundles_and_double_dash)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};

    cx_init(&c);
    CHECK_INT(parse(&c, &o, &pos, (const char *const[]){"deploy", "-Aw", "web", "-oyaml",
                                                        "--no-headers=true", "--", "-weird", NULL}),
              ==, 0);
    CHECK(o.all && o.watch && o.no_headers);
    CHECK_STR(o.output, "yaml");
    CHECK_INT(pos.n, ==, 3);
    CHECK_STR(pos.v[0], "deploy");
    CHECK_STR(pos.v[1], "web");
    CHECK_STR(pos.v[2], "-weird");
    opts_free(&o, &pos);
    memset(&o, 0, sizeof o);
    /* A value-taking letter ends a bundle and takes the rest (or the next word). */
    CHECK_INT(parse(&c, &o, &pos, (const char *const[]){"-Anfoo", "-wo", "json", "--no-headers=false", NULL}), ==, 0);
    CHECK(o.all && o.watch && !o.no_headers);
    CHECK_STR(c.x.g.ns, "foo");
    CHECK_STR(o.output, "json");
    CHECK_INT(pos.n, ==, 0);
    CHECK_STR(cx_err(&c), "");
    opts_free(&o, &pos);
    cx_free(&c);
}

TEST(list_flags_repeat_and_split_arrays_do_not)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};

    cx_init(&c);
    CHECK_INT(parse(&c, &o, &pos, (const char *const[]){"-f", "a.yaml", "--filename=b.yaml,c.yaml",
                                                        "-fd.yaml", "--from-literal=k=a,b",
                                                        "--from-literal", "x=y", "--replicas=-3", NULL}),
              ==, 0);
    CHECK_INT(o.files.n, ==, 4);
    CHECK_STR(o.files.v[0], "a.yaml");
    CHECK_STR(o.files.v[1], "b.yaml");
    CHECK_STR(o.files.v[2], "c.yaml");
    CHECK_STR(o.files.v[3], "d.yaml");
    CHECK_INT(o.literals.n, ==, 2);
    CHECK_STR(o.literals.v[0], "k=a,b");
    CHECK_STR(o.literals.v[1], "x=y");
    CHECK_INT(o.replicas, ==, -3);
    opts_free(&o, &pos);
    cx_free(&c);
}

/* Each mistake: exit status 2, one error line, one hint naming the command. */
static void check_usage_error(const char *const *words, const char *want)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};
    char expect[512];

    cx_init(&c);
    CHECK_INT(cli_stop_status(parse(&c, &o, &pos, words)), ==, CLI_EXIT_USAGE);
    snprintf(expect, sizeof expect, "error: %s\nSee 'orctl get --help' for usage.\n", want);
    CHECK_STR(cx_err(&c), expect);
    CHECK_STR(cx_out(&c), "");
    opts_free(&o, &pos);
    cx_free(&c);
}

TEST(usage_errors_say_what_and_where_to_look)
{
    check_usage_error((const char *const[]){"pods", "--bogus", NULL}, "unknown flag: --bogus");
    check_usage_error((const char *const[]){"pods", "-Ax", NULL}, "unknown shorthand flag: 'x' in -Ax");
    check_usage_error((const char *const[]){"pods", "-o", NULL}, "flag needs an argument: 'o' in -o");
    check_usage_error((const char *const[]){"pods", "--output", NULL}, "flag needs an argument: --output");
    check_usage_error((const char *const[]){"--replicas=three", NULL},
                      "invalid argument \"three\" for \"--replicas\" flag: not an integer");
    check_usage_error((const char *const[]){"--watch=maybe", NULL},
                      "invalid argument \"maybe\" for \"--watch\" flag: want true or false");
}

TEST(help_lists_command_and_global_flags)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};

    cx_init(&c);
    CHECK_INT(parse(&c, &o, &pos, (const char *const[]){"pods", "-h", NULL}), ==, CLI_STOP_HELP);
    CHECK_INT(cli_stop_status(CLI_STOP_HELP), ==, 0);
    CHECK_CONTAINS(cx_out(&c), "Usage:\n  orctl get KIND [flags]\n");
    CHECK_CONTAINS(cx_out(&c), "  -A, --all-namespaces ");
    CHECK_CONTAINS(cx_out(&c), "      --no-headers ");
    CHECK_CONTAINS(cx_out(&c), "  -n, --namespace NS ");
    CHECK_CONTAINS(cx_out(&c), "      --config FILE ");
    CHECK(strstr(cx_out(&c), "kubeconfig") == NULL); /* an alias, not advertised */
    opts_free(&o, &pos);
    cx_free(&c);
}

TEST(global_flags_and_aliases)
{
    struct cx c;
    struct opts o = {0};
    struct cli_strv pos = {0};

    cx_init(&c);
    CHECK_INT(parse(&c, &o, &pos, (const char *const[]){"--kubeconfig", "/x/admin.conf", "-s",
                                                        "http://h:1", "--token=t0k", "pods", NULL}),
              ==, 0);
    CHECK_STR(c.x.g.config, "/x/admin.conf");
    CHECK_STR(c.x.g.server, "http://h:1");
    CHECK_STR(c.x.g.token, "t0k");
    opts_free(&o, &pos);
    cx_free(&c);
}

static int find(const char *const *words)
{
    int argc = 0;
    while (words[argc]) argc++;
    return cli_find_command(argc, (char **)words);
}

TEST(command_word_found_past_global_flags)
{
    CHECK_INT(find((const char *const[]){"orctl", "get", "po", NULL}), ==, 1);
    CHECK_INT(find((const char *const[]){"orctl", "-n", "x", "get", NULL}), ==, 3);
    CHECK_INT(find((const char *const[]){"orctl", "-nx", "get", NULL}), ==, 2);
    CHECK_INT(find((const char *const[]){"orctl", "--namespace=x", "get", NULL}), ==, 2);
    CHECK_INT(find((const char *const[]){"orctl", "--config", "f", "--help", "apply", NULL}), ==, 4);
    CHECK_INT(find((const char *const[]){"orctl", "-h", NULL}), ==, 0);
    CHECK_INT(find((const char *const[]){"orctl", NULL}), ==, 0);
}

/* ---- naming objects ---- */

static void check_targets(const char *const *words, const char *want)
{
    struct cx c;
    struct cli_targets t;
    struct orc_buf got = ORC_BUF_INIT;
    size_t n = 0;

    while (words[n]) n++;
    cx_init(&c);
    CHECK_INT(cli_targets_parse(&c.x, (char **)words, n, &t), ==, 0);
    for (size_t i = 0; i < t.n; i++)
        orc_buf_printf(&got, "%s%s/%s", i ? " " : "", t.v[i].kind->resource,
                       t.v[i].name ? t.v[i].name : "*");
    orc_buf_printf(&got, " (%zu kinds)", t.n_kinds);
    CHECK_STR(got.data, want);
    orc_buf_free(&got);
    cli_targets_free(&t);
    cx_free(&c);
}

TEST(targets_in_every_form)
{
    check_targets((const char *const[]){"po", NULL}, "pods/* (1 kinds)");
    check_targets((const char *const[]){"deploy", "web", "api", NULL},
                  "deployments/web deployments/api (1 kinds)");
    check_targets((const char *const[]){"deployments.apps", "web", NULL}, "deployments/web (1 kinds)");
    check_targets((const char *const[]){"deploy/web", "po/x", "Deployment/api", NULL},
                  "deployments/web pods/x deployments/api (2 kinds)");
    check_targets((const char *const[]){"deploy,po", NULL}, "deployments/* pods/* (2 kinds)");
    check_targets((const char *const[]){"cm,ns,no,svc,ev,rs,sts,ds,cj", NULL},
                  "configmaps/* namespaces/* nodes/* services/* events/* replicasets/* "
                  "statefulsets/* daemonsets/* cronjobs/* (9 kinds)");
    check_targets((const char *const[]){"all", NULL},
                  "pods/* replicationcontrollers/* services/* daemonsets/* deployments/* "
                  "replicasets/* statefulsets/* horizontalpodautoscalers/* cronjobs/* jobs/* "
                  "(10 kinds)");
}

static void check_target_error(const char *const *words, const char *want)
{
    struct cx c;
    struct cli_targets t;
    size_t n = 0;

    while (words[n]) n++;
    cx_init(&c);
    CHECK_INT(cli_targets_parse(&c.x, (char **)words, n, &t), ==, ORC_EINVAL);
    CHECK_CONTAINS(cx_err(&c), want);
    CHECK(t.n == 0 && t.v == NULL);
    cx_free(&c);
}

TEST(target_errors)
{
    check_target_error((const char *const[]){"foo", NULL},
                       "error: the server doesn't have a resource type \"foo\"\n");
    check_target_error((const char *const[]){"deploy,bar", "x", NULL},
                       "error: the server doesn't have a resource type \"bar\"\n");
    check_target_error((const char *const[]){"deploy", "po/x", NULL},
                       "there is no need to specify a resource type as a separate argument");
    check_target_error((const char *const[]){"deploy/x", "web", NULL},
                       "there is no need to specify a resource type as a separate argument");
    check_target_error((const char *const[]){"deploy/", NULL}, "must have a single resource and name");
    check_target_error((const char *const[]){",", NULL}, "no resource type");
}

/* ---- request helpers ---- */

TEST(paths_escape_what_users_type)
{
    struct orc_buf p = ORC_BUF_INIT;
    const struct orc_kind *deploy = orc_kind_lookup("deploy"), *ns = orc_kind_lookup("ns");

    CHECK_INT(cli_object_path(deploy, "default", "web", NULL, &p), ==, 0);
    CHECK_STR(p.data, "/apis/apps/v1/namespaces/default/deployments/web");
    orc_buf_reset(&p);
    CHECK_INT(cli_object_path(deploy, NULL, NULL, NULL, &p), ==, 0);
    CHECK_STR(p.data, "/apis/apps/v1/deployments");
    CHECK_INT(cli_query_add(&p, "labelSelector", "app in (a,b),!x"), ==, 0);
    CHECK_INT(cli_query_add(&p, "limit", "500"), ==, 0);
    CHECK_STR(p.data, "/apis/apps/v1/deployments?labelSelector=app%20in%20%28a%2Cb%29%2C%21x&limit=500");
    orc_buf_reset(&p);
    CHECK_INT(cli_object_path(deploy, "d", "a?b/c", "scale", &p), ==, 0);
    CHECK_STR(p.data, "/apis/apps/v1/namespaces/d/deployments/a%3Fb%2Fc/scale");
    orc_buf_reset(&p);
    CHECK_INT(cli_object_path(ns, "ignored", "kube-system", NULL, &p), ==, 0);
    CHECK_STR(p.data, "/api/v1/namespaces/kube-system");
    orc_buf_reset(&p);
    CHECK_INT(cli_ref_name(deploy, "web", &p), ==, 0);
    CHECK_STR(p.data, "deployment.apps/web");
    orc_buf_free(&p);
}

static void check_warning(const char *header, const char *want)
{
    struct orc_buf b = ORC_BUF_INIT;
    cli_warning_text(header, &b);
    CHECK_STR(b.data, want);
    orc_buf_free(&b);
}

TEST(warning_headers_read_like_kubectl)
{
    check_warning("299 - \"unknown field \\\"spec.replcas\\\"\"", "unknown field \"spec.replcas\"");
    check_warning("299 orc \"plain\"", "plain");
    check_warning("not the RFC form", "not the RFC form");
}

TEST(names_do_not_mix_with_selectors_or_all_namespaces)
{
    struct cx c;
    struct cli_targets t;

    cx_init(&c);
    CHECK_INT(cli_targets_parse(&c.x, (char *[]){"deploy", "web"}, 2, &t), ==, 0);
    CHECK_INT(cli_targets_check(&c.x, &t, NULL, false), ==, 0);
    CHECK_INT(cli_targets_check(&c.x, &t, "app=web", false), ==, ORC_EINVAL);
    CHECK_INT(cli_targets_check(&c.x, &t, NULL, true), ==, ORC_EINVAL);
    CHECK_STR(cx_err(&c), "error: name cannot be provided when a selector is specified\n"
                          "error: a resource cannot be retrieved by name across all namespaces\n");
    cli_targets_free(&t);
    /* Cluster-scoped objects have no namespace to cross. */
    CHECK_INT(cli_targets_parse(&c.x, (char *[]){"ns/default"}, 1, &t), ==, 0);
    CHECK_INT(cli_targets_check(&c.x, &t, NULL, true), ==, 0);
    cli_targets_free(&t);
    cx_free(&c);
}
