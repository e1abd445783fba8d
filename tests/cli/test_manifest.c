/* test_manifest.c — reading `-f` sources: multi-document YAML, JSON and JSON
 * streams, `kind: List`, directories in name order, stdin, and errors that
 * name the file and the document while the other documents still load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/cli/cx.h"
#include "tests/harness/test.h"

static char *write_file(const char *name, const char *text)
{
    char *path = NULL;
    FILE *f;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Reads the sources; fails the case on a source-level error. */
static void read_docs(struct cli_docs *d, const char *const *paths, FILE *in)
{
    struct cli_strv files = {0};
    char err[512];

    for (size_t i = 0; paths[i]; i++) CHECK(cli_strv_push(&files, paths[i], strlen(paths[i])) == 0);
    CHECKF(cli_docs_read(&files, in, d, err, sizeof err) == 0, "read: %s", err);
    cli_strv_free(&files);
}

/* "source#index kind/name" per document, or "source#index error: why". */
static char *summary(const struct cli_docs *d)
{
    struct orc_buf b = ORC_BUF_INIT;
    const char *base;

    for (size_t i = 0; i < d->n; i++) {
        const struct cli_doc *doc = &d->v[i];
        base = strrchr(doc->source, '/') ? strrchr(doc->source, '/') + 1 : doc->source;
        if (doc->err) orc_buf_printf(&b, "%s#%d error: %s\n", base, doc->index, doc->err);
        else orc_buf_printf(&b, "%s#%d %s/%s\n", base, doc->index, doc->kind->resource,
                            orc_json_str(doc->obj, "metadata.name") ?: "?");
    }
    return orc_buf_steal(&b, NULL);
}

static void check_docs(const char *const *paths, const char *want)
{
    struct cli_docs d;
    char *got;

    read_docs(&d, paths, NULL);
    got = summary(&d);
    CHECKF(strcmp(got ? got : "", want) == 0, "documents:\n%s---- want:\n%s", got ? got : "", want);
    free(got);
    cli_docs_free(&d);
}

TEST(multi_document_yaml_skips_empty_documents)
{
    char *p = write_file("app.yaml",
                         "# leading comment\n---\n"
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata: {a: '1'}\n"
                         "--- # a separator with a comment\n"
                         "# only a comment\n"
                         "---\n"
                         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                         "---   \n"
                         "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"
                         "---\n");
    check_docs((const char *const[]){p, NULL},
               "app.yaml#1 configmaps/one\napp.yaml#2 deployments/web\napp.yaml#3 namespaces/ns1\n");
    free(p);
}

TEST(block_scalars_keep_their_dashes)
{
    char *p = write_file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata:\n"
                                    "  script: |\n    echo a\n    ---\n    echo b\n");
    struct cli_docs d;

    read_docs(&d, (const char *const[]){p, NULL}, NULL);
    CHECK_INT(d.n, ==, 1);
    CHECK_STR(orc_json_str(d.v[0].obj, "data.script"), "echo a\n---\necho b\n");
    cli_docs_free(&d);
    free(p);
}

TEST(list_items_become_objects)
{
    char *p = write_file("list.yaml",
                         "apiVersion: v1\nkind: List\nitems:\n"
                         "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
                         "- {apiVersion: v1, kind: Service, metadata: {name: b}}\n"
                         "---\n"
                         "apiVersion: v1\nkind: ConfigMapList\nitems:\n"
                         "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
                         "- {apiVersion: v1, metadata: {name: d}}\n");
    check_docs((const char *const[]){p, NULL},
               "list.yaml#1 configmaps/a\nlist.yaml#1 services/b\nlist.yaml#2 configmaps/c\n"
               "list.yaml#2 error: items[1]: kind not set\n");
    free(p);
}

TEST(json_objects_and_streams)
{
    char *one = write_file("one.json", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n"
                                       "  \"metadata\": {\"name\": \"j\"}\n}\n");
    char *stream = write_file("stream.json",
                              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"s1\"}}\n"
                              "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s2\"}}");
    /* Starts with '{' but is YAML flow style, not JSON. */
    char *flow = write_file("flow.yaml", "{apiVersion: v1, kind: Namespace, metadata: {name: f}}\n");
    check_docs((const char *const[]){one, stream, flow, NULL},
               "one.json#1 configmaps/j\nstream.json#1 configmaps/s1\nstream.json#2 secrets/s2\n"
               "flow.yaml#1 namespaces/f\n");
    free(one);
    free(stream);
    free(flow);
}

TEST(directory_files_in_name_order)
{
    char dir[600], *a, *b, *c, *skip;

    snprintf(dir, sizeof dir, "%s/manifests", test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    b = write_file("manifests/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n");
    c = write_file("manifests/c.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    a = write_file("manifests/a.json", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}");
    skip = write_file("manifests/README.md", "not a manifest: [\n");
    check_docs((const char *const[]){dir, NULL}, "a.json#1 namespaces/a\nb.yaml#1 configmaps/b\nc.yml#1 configmaps/c\n");
    free(a);
    free(b);
    free(c);
    free(skip);
}

TEST(stdin_is_named_STDIN)
{
    static const char text[] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: in}\n---\nkind: Pod\n";
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    struct cli_docs d;
    char *got;

    read_docs(&d, (const char *const[]){"-", NULL}, in);
    got = summary(&d);
    CHECK_STR(got, "STDIN#1 configmaps/in\nSTDIN#2 error: apiVersion not set\n");
    free(got);
    cli_docs_free(&d);
    fclose(in);
}

TEST(bad_documents_are_named_and_the_rest_still_load)
{
    char *p = write_file("bad.yaml",
                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good1}\n"
                         "---\n"
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n   bad: indent\n"
                         "---\n"
                         "apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n"
                         "---\n"
                         "- just\n- a list\n"
                         "---\n"
                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n"
                         "---\n"
                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good2}\n");
    struct cli_docs d;
    char *got;

    read_docs(&d, (const char *const[]){p, NULL}, NULL);
    got = summary(&d);
    /* The parse error's line counts from the top of the file (line 9). */
    CHECK_STR(got, "bad.yaml#1 configmaps/good1\n"
                   "bad.yaml#2 error: line 9, column 7: mapping values are not allowed in this context\n"
                   "bad.yaml#3 error: no matches for kind \"Frobnicator\" in version \"v1\"\n"
                   "bad.yaml#4 error: not an object (want a mapping with apiVersion and kind)\n"
                   "bad.yaml#5 error: metadata.name not set\n"
                   "bad.yaml#6 configmaps/good2\n");
    CHECK_INT(cli_docs_usable(&d), ==, 2);
    free(got);
    cli_docs_free(&d);
    free(p);
}

TEST(broken_json_stream_names_its_document)
{
    char *p = write_file("s.json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n"
                                   "{\"apiVersion\":\"v1\",\n \"kind\": }\n");
    check_docs((const char *const[]){p, NULL},
               "s.json#1 configmaps/a\ns.json#2 error: line 3, column 10: unexpected token near '}'\n");
    free(p);
}

TEST(load_prints_errors_with_file_and_document)
{
    char *p = write_file("two.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
                                     "kind: ConfigMap\nmetadata: {name: nover}\n");
    struct cli_strv files = {0};
    struct cli_docs d;
    struct cx c;
    bool bad;
    char want[1024];

    cx_init(&c);
    cli_strv_push(&files, p, strlen(p));
    CHECK_INT(cli_docs_load(&c.x, &files, &d, &bad), ==, 0);
    CHECK(bad);
    snprintf(want, sizeof want, "error: %s: document 2: apiVersion not set\n", p);
    CHECK_STR(cx_err(&c), want);
    cli_docs_free(&d);
    cli_strv_free(&files);
    cx_free(&c);
    free(p);
}

TEST(missing_path_is_reported)
{
    struct cli_strv files = {0};
    struct cli_docs d;
    char err[256];

    cli_strv_push(&files, "/nonexistent/app.yaml", 21);
    CHECK_INT(cli_docs_read(&files, NULL, &d, err, sizeof err), ==, ORC_ENOENT);
    CHECK_STR(err, "the path \"/nonexistent/app.yaml\" does not exist");
    CHECK(d.n == 0 && d.v == NULL);
    cli_strv_free(&files);
}

TEST(namespace_of_a_document)
{
    char *p = write_file("ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: prod}\n"
                                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
                                    "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: c, namespace: x}\n");
    struct cli_docs d;
    struct cx c;
    bool err;

    read_docs(&d, (const char *const[]){p, NULL}, NULL);
    cx_init(&c);
    c.x.ns = "default";
    CHECK_STR(cli_doc_namespace(&c.x, &d.v[0], &err), "prod");
    CHECK_STR(cli_doc_namespace(&c.x, &d.v[1], &err), "default");
    CHECK(cli_doc_namespace(&c.x, &d.v[2], &err) == NULL && !err);
    c.x.ns = "staging";
    c.x.ns_explicit = true;
    CHECK_STR(cli_doc_namespace(&c.x, &d.v[1], &err), "staging");
    CHECK(cli_doc_namespace(&c.x, &d.v[0], &err) == NULL && err);
    CHECK_CONTAINS(cx_err(&c), "error: the namespace from the provided object \"prod\" does not match "
                               "the namespace \"staging\". You must pass '--namespace=prod'");
    cx_free(&c);
    cli_docs_free(&d);
    free(p);
}
