/* manifest.c — `-f FILE|DIR|-`: files and directories of YAML or JSON, split
 * into documents the way kubectl splits them ("---" lines, JSON streams,
 * `kind: List` items), so that one bad document is reported by file and
 * number while the others still go through. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/yaml.h"

#define MAX_MANIFEST_BYTES (64u << 20)

static int push_doc(struct cli_docs *d, const char *source, int index, json_t *obj, char *err)
{
    struct cli_doc *v = realloc(d->v, (d->n + 1) * sizeof *v);

    if (v == NULL) goto oom;
    d->v = v;
    memset(&v[d->n], 0, sizeof v[d->n]);
    if ((v[d->n].source = strdup(source)) == NULL) goto oom;
    v[d->n].index = index;
    v[d->n].obj = obj;
    v[d->n].err = err;
    d->n++;
    return 0;
oom:
    json_decref(obj);
    free(err);
    return ORC_ENOMEM;
}

static int push_error(struct cli_docs *d, const char *source, int index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int push_error(struct cli_docs *d, const char *source, int index, const char *fmt, ...)
{
    struct orc_buf b = ORC_BUF_INIT;
    va_list ap;
    int rv;

    va_start(ap, fmt);
    rv = orc_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rv != 0) return rv;
    return push_doc(d, source, index, NULL, orc_buf_steal(&b, NULL));
}

/* Why obj cannot be sent, or NULL; sets *kind when it can. */
static const char *object_problem(const json_t *obj, const struct orc_kind **kind, char *why,
                                  size_t n)
{
    const char *av = orc_json_str(obj, "apiVersion"), *k = orc_json_str(obj, "kind");

    if (!json_is_object(obj)) return "not an object (want a mapping with apiVersion and kind)";
    if (av == NULL || *av == '\0') return "apiVersion not set";
    if (k == NULL || *k == '\0') return "kind not set";
    if ((*kind = orc_kind_by_gvk(av, k)) == NULL) {
        snprintf(why, n, "no matches for kind \"%s\" in version \"%s\"", k, av);
        return why;
    }
    if (!json_is_object(json_object_get(obj, "metadata"))) return "metadata not set";
    if ((orc_json_str(obj, "metadata.name") == NULL || !*orc_json_str(obj, "metadata.name"))
        && orc_json_str(obj, "metadata.generateName") == NULL)
        return "metadata.name not set";
    return NULL;
}

static int add_object(struct cli_docs *d, const char *source, int index, const char *item,
                      json_t *obj)
{
    const struct orc_kind *k = NULL;
    char why[256];
    const char *problem = object_problem(obj, &k, why, sizeof why);
    int rv;

    if (problem) {
        rv = push_error(d, source, index, "%s%s", item, problem);
        json_decref(obj);
        return rv;
    }
    if ((rv = push_doc(d, source, index, obj, NULL)) == 0) d->v[d->n - 1].kind = k;
    return rv;
}

static bool is_list(const json_t *obj)
{
    const char *k = orc_json_str(obj, "kind");
    size_t len = k ? strlen(k) : 0;
    return len >= 4 && strcmp(k + len - 4, "List") == 0
           && json_is_array(json_object_get(obj, "items"));
}

/* One parsed document: an object, or a List whose items are the objects. */
static int add_document(struct cli_docs *d, const char *source, int index, json_t *obj)
{
    json_t *items, *it;
    size_t i;
    int rv = 0;

    if (!is_list(obj)) return add_object(d, source, index, "", obj);
    items = json_object_get(obj, "items");
    json_array_foreach(items, i, it)
    {
        char where[48];
        snprintf(where, sizeof where, "items[%zu]: ", i);
        if ((rv = add_object(d, source, index, where, json_incref(it))) != 0) break;
    }
    json_decref(obj);
    return rv;
}

/* ---- YAML ---- */

/* kubectl's rule: a line starting with "---" followed by nothing but
 * blanks or a comment separates documents. */
static bool separator_line(const char *p, size_t len)
{
    if (len < 3 || strncmp(p, "---", 3) != 0) return false;
    for (size_t i = 3; i < len; i++) {
        if (p[i] == '#') return true;
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
    }
    return true;
}

/* True when the chunk holds only blanks and comments. */
static bool blank_chunk(const char *p, size_t len)
{
    bool comment = false;

    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') comment = false;
        else if (p[i] == '#' && !comment) comment = true;
        else if (!comment && p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
    }
    return true;
}

/* The parser numbers lines within the chunk; report them within the file. */
static int push_yaml_error(struct cli_docs *d, const char *source, int index, const char *msg,
                           int first_line)
{
    int doc, line, col, used = 0;

    if (sscanf(msg, "document %d, line %d, column %d: %n", &doc, &line, &col, &used) == 3 && used)
        return push_error(d, source, index, "line %d, column %d: %s", line + first_line - 1, col,
                          msg + used);
    return push_error(d, source, index, "%s", msg);
}

static int parse_chunk(struct cli_docs *d, const char *source, int *index, const char *p,
                       size_t len, int first_line)
{
    char err[512];
    json_t *docs, *doc;
    size_t i;
    int rv = 0;

    if (blank_chunk(p, len)) return 0;
    docs = orc_yaml_parse(p, len, err, sizeof err);
    if (docs == NULL) return push_yaml_error(d, source, ++*index, err, first_line);
    json_array_foreach(docs, i, doc)
    {
        if ((rv = add_document(d, source, ++*index, json_incref(doc))) != 0) break;
    }
    json_decref(docs);
    return rv;
}

static int split_yaml(struct cli_docs *d, const char *source, const char *text, size_t len)
{
    const char *chunk = text, *p = text, *end = text + len;
    int index = 0, line = 1, chunk_line = 1, rv = 0;

    while (p < end && rv == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (separator_line(p, llen)) {
            rv = parse_chunk(d, source, &index, chunk, (size_t)(p - chunk), chunk_line);
            chunk = nl ? nl + 1 : end;
            chunk_line = line + 1;
        }
        p = nl ? nl + 1 : end;
        line++;
    }
    if (rv == 0) rv = parse_chunk(d, source, &index, chunk, (size_t)(end - chunk), chunk_line);
    return rv;
}

/* ---- JSON streams ---- */

static size_t skip_space(const char *text, size_t len, size_t i)
{
    while (i < len && strchr(" \t\r\n", text[i])) i++;
    return i;
}

static int line_of(const char *text, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++) line += text[i] == '\n';
    return line;
}

/* Concatenated JSON values, as `kubectl apply -f` accepts them. Returns 1
 * when the text is not JSON after all (a YAML flow mapping), so the caller
 * reads it as YAML. */
static int split_json(struct cli_docs *d, const char *source, const char *text, size_t len)
{
    size_t i = skip_space(text, len, 0);
    int index = 0, rv = 0;

    while (i < len && rv == 0) {
        json_error_t je;
        json_t *v = orc_json_loadb(text + i, len - i, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
        if (v == NULL && index == 0) return 1;
        if (v == NULL)
            return push_error(d, source, index + 1, "line %d, column %d: %s",
                              line_of(text, i) + je.line - 1, je.column, je.text);
        i = skip_space(text, len, i + (size_t)je.position);
        rv = add_document(d, source, ++index, v);
    }
    return rv;
}

static int split_text(struct cli_docs *d, const char *source, const char *text, size_t len)
{
    size_t i = skip_space(text, len, 0);
    int rv;

    if (i < len && text[i] == '{' && (rv = split_json(d, source, text, len)) != 1) return rv;
    return split_yaml(d, source, text, len);
}

/* ---- sources ---- */

static int read_stream(FILE *in, struct orc_buf *out)
{
    char chunk[8192];
    size_t got;

    if (orc_buf_reserve(out, 0) != 0) return ORC_ENOMEM;
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0) {
        if (out->len + got > MAX_MANIFEST_BYTES) return ORC_ETOOBIG;
        if (orc_buf_append(out, chunk, got) != 0) return ORC_ENOMEM;
    }
    return ferror(in) ? ORC_EIO : orc_buf_append(out, "", 0);
}

static int read_source(struct cli_docs *d, const char *path, FILE *in, char *errmsg, size_t n)
{
    struct orc_buf text = ORC_BUF_INIT;
    bool is_stdin = strcmp(path, "-") == 0;
    int rv = is_stdin ? read_stream(in, &text) : orc_file_read(path, MAX_MANIFEST_BYTES, &text);

    if (rv == 0) rv = split_text(d, is_stdin ? "STDIN" : path, text.data ? text.data : "", text.len);
    else if (rv == ORC_ETOOBIG) snprintf(errmsg, n, "%s: larger than %u bytes", path, MAX_MANIFEST_BYTES);
    else if (rv != ORC_ENOMEM) snprintf(errmsg, n, "%s: %s", path, strerror(errno));
    if (rv == ORC_ENOMEM) snprintf(errmsg, n, "%s: out of memory", path);
    orc_buf_free(&text);
    return rv;
}

static bool manifest_name(const char *name)
{
    static const char *const exts[] = {".yaml", ".yml", ".json"};
    size_t len = strlen(name);

    for (size_t i = 0; i < ORC_ARRAY_LEN(exts); i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcmp(name + len - el, exts[i]) == 0) return true;
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's manifests, sorted by name so the order is the same everywhere. */
static int read_dir(struct cli_docs *d, const char *dir, char *errmsg, size_t n)
{
    struct cli_strv names = {0};
    struct dirent *e;
    DIR *dp = opendir(dir);
    int rv = 0;

    if (dp == NULL) {
        snprintf(errmsg, n, "%s: %s", dir, strerror(errno));
        return ORC_EIO;
    }
    while ((e = readdir(dp)) != NULL && rv == 0)
        if (manifest_name(e->d_name)) rv = cli_strv_push(&names, e->d_name, strlen(e->d_name));
    closedir(dp);
    if (names.n) qsort(names.v, names.n, sizeof *names.v, cmp_names);
    for (size_t i = 0; i < names.n && rv == 0; i++) {
        struct orc_buf path = ORC_BUF_INIT;
        size_t dl = strlen(dir);
        rv = orc_buf_printf(&path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names.v[i]);
        if (rv == 0) rv = read_source(d, path.data, NULL, errmsg, n);
        orc_buf_free(&path);
    }
    if (rv == ORC_ENOMEM) snprintf(errmsg, n, "%s: out of memory", dir);
    cli_strv_free(&names);
    return rv;
}

int cli_docs_read(const struct cli_strv *files, FILE *in, struct cli_docs *out, char *errmsg,
                  size_t n)
{
    int rv = 0;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < files->n && rv == 0; i++) {
        const char *f = files->v[i];
        struct stat st;
        if (strcmp(f, "-") == 0) {
            rv = read_source(out, f, in, errmsg, n);
        } else if (stat(f, &st) != 0) {
            snprintf(errmsg, n, "the path \"%s\" does not exist", f);
            rv = ORC_ENOENT;
        } else if (S_ISDIR(st.st_mode)) {
            rv = read_dir(out, f, errmsg, n);
        } else {
            rv = read_source(out, f, NULL, errmsg, n);
        }
    }
    if (rv != 0) cli_docs_free(out);
    return rv;
}

void cli_docs_free(struct cli_docs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].source);
        json_decref(d->v[i].obj);
        free(d->v[i].err);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

size_t cli_docs_usable(const struct cli_docs *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) n += d->v[i].err == NULL;
    return n;
}

int cli_docs_load(cli_ctx *x, const struct cli_strv *files, struct cli_docs *out, bool *bad)
{
    char errmsg[1024];
    int rv = cli_docs_read(files, stdin, out, errmsg, sizeof errmsg);

    *bad = false;
    if (rv != 0) {
        fprintf(x->err, "error: %s\n", errmsg);
        return rv;
    }
    for (size_t i = 0; i < out->n; i++) {
        if (out->v[i].err == NULL) continue;
        fprintf(x->err, "error: %s: document %d: %s\n", out->v[i].source, out->v[i].index,
                out->v[i].err);
        *bad = true;
    }
    return 0;
}

const char *cli_doc_namespace(cli_ctx *x, const struct cli_doc *d, bool *err)
{
    const char *own = orc_json_str(d->obj, "metadata.namespace");

    *err = false;
    if (!d->kind->namespaced) return NULL;
    if (own && *own && x->ns_explicit && strcmp(own, x->ns) != 0) {
        fprintf(x->err, "error: the namespace from the provided object \"%s\" does not match the "
                        "namespace \"%s\". You must pass '--namespace=%s' to perform this "
                        "operation.\n", own, x->ns, own);
        *err = true;
        return NULL;
    }
    return own && *own ? own : x->ns;
}

int cli_each_doc(cli_ctx *x, const struct cli_strv *files, cli_doc_fn fn, const void *arg)
{
    struct cli_docs docs = {0};
    bool bad = false, failed = false;
    int rv = CLI_EXIT_FAIL;

    if (cli_docs_load(x, files, &docs, &bad) != 0 || cli_docs_usable(&docs) == 0
        || cli_connect(x) != 0)
        goto out;
    for (size_t i = 0; i < docs.n; i++) {
        bool ns_err = false;
        if (docs.v[i].err) continue;
        const char *ns = cli_doc_namespace(x, &docs.v[i], &ns_err);
        int one = ns_err ? ORC_EINVAL : fn(x, &docs.v[i], ns, arg);
        if (cli_unreachable(one)) goto out;
        failed |= one != 0;
    }
    rv = failed || bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    cli_docs_free(&docs);
    return rv;
}
