/* test_root_ca.c — the root CA publisher against a real `orcd server`:
 * every namespace gets the ConfigMap kube-root-ca.crt holding the cluster
 * CA's PEM (ca.crt), a new namespace too; deleted, it comes back; edited,
 * it is put back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define MERGE "application/merge-patch+json"

static struct cluster c;
static char ca[8192];

/* Waits until ns's kube-root-ca.crt holds exactly the CA and is not `not_uid`;
 * returns its uid (static). */
static const char *wait_published(const char *ns, const char *not_uid)
{
    static char uid[64];
    char path[256];
    uint64_t end = test_now_ms() + 15000;
    json_t *cm = NULL;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/kube-root-ca.crt", ns);
    for (;;) {
        int st;
        cm = t_json(&c, 0, "GET", path, NULL, &st);
        const char *v = json_string_value(json_object_get(orc_json_get(cm, "data"), "ca.crt")), *u = orc_json_str(cm, "metadata.uid");
        if (st == 200 && v && strcmp(v, ca) == 0 && json_object_size(orc_json_get(cm, "data")) == 1
            && u && (!not_uid || strcmp(u, not_uid) != 0)) {
            snprintf(uid, sizeof uid, "%s", u);
            json_decref(cm);
            return uid;
        }
        CHECKF(test_now_ms() < end, "%s: not published: %d %s\nwant %s", path, st,
               cm ? orc_json_dumps(cm) : "", ca);
        json_decref(cm);
        usleep(100 * 1000);
    }
}

static void http_ok(const char *method, const char *path, const char *ctype, const char *body,
                    int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, NULL);
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
}

TEST_T(every_namespace_gets_the_cluster_ca, 60)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[700];
    const char *uid;

    cluster_init(&c, 1);
    c.root_ca = true;
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    snprintf(path, sizeof path, "%s/ca.crt", c.m[0].dir);
    CHECK(orc_file_read(path, sizeof ca - 1, &b) == 0 && b.len > 0);
    memcpy(ca, b.data, b.len);
    ca[b.len] = '\0';
    orc_buf_free(&b);

    wait_published("default", NULL);
    wait_published("kube-system", NULL);
    http_ok("POST", "/api/v1/namespaces", NULL, "{\"metadata\":{\"name\":\"team\"}}", 201);
    uid = wait_published("team", NULL);

    /* deleted: made again */
    http_ok("DELETE", "/api/v1/namespaces/team/configmaps/kube-root-ca.crt", NULL, NULL, 200);
    char old[64];
    snprintf(old, sizeof old, "%s", uid);
    uid = wait_published("team", old);

    /* edited: put back (same object) */
    http_ok("PATCH", "/api/v1/namespaces/team/configmaps/kube-root-ca.crt", MERGE,
            "{\"data\":{\"ca.crt\":\"not a CA\",\"extra\":\"x\"}}", 200);
    CHECK_STR(wait_published("team", NULL), uid);

    /* and left alone once right: its resourceVersion holds still */
    int st;
    json_t *a = t_json(&c, 0, "GET", "/api/v1/namespaces/team/configmaps/kube-root-ca.crt", NULL, &st);
    usleep(1500 * 1000);
    json_t *b2 = t_json(&c, 0, "GET", "/api/v1/namespaces/team/configmaps/kube-root-ca.crt", NULL, &st);
    CHECK_STR(orc_json_str(a, "metadata.resourceVersion"), orc_json_str(b2, "metadata.resourceVersion"));
    json_decref(a);
    json_decref(b2);
}
