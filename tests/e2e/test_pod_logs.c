/* test_pod_logs.c — the kubelet's container log layout as a log shipper
 * sees it: a glob over the container log directory finds every
 * container's lines in CRI format (parsed as promtail's cri stage does),
 * rotation at a small size keeps at most N files (the older gzipped) while
 * `kubectl logs` still shows the recent lines, and a deleted pod's logs
 * and links go with it; `orctl logs` of a Deployment's pods by selector,
 * by deploy/NAME and svc/NAME, every container, prefixed, followed. */
#include <glob.h>
#include <sys/stat.h>

#include "lib/timeutil.h"
#include "tests/e2e/wlfx.h"

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/apis/apps/v1/namespaces/%s/deployments",
                                        "/apis/apps/v1/namespaces/%s/replicasets",
                                        "/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

static char pod_dir[700], ctr_dir[700];

static void start(void)
{
    const char *extra[] = {"--node-name", node, "--container-log-max-size", "8Ki",
                           "--container-log-max-files", "3", NULL};

    fx_setup(true, false);
    wl_init("plogs", delete_pods_at_end);
    snprintf(pod_dir, sizeof pod_dir, "%s/log/pods", C.m[0].dir);
    snprintf(ctr_dir, sizeof ctr_dir, "%s/log/containers", C.m[0].dir);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
}

static void pod_create(const char *name, const char *containers)
{
    char body[4096], *resp = NULL;
    int status;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":2,\"containers\":[%s]}}",
             name, node, containers);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create pod %s: %d %s", name, status, resp ? resp : "");
    free(resp);
}

/* One CRI line as promtail's `cri` stage and fluent-bit's cri parser split
 * it: time (RFC 3339, nanoseconds), stream, tag (F or P), content. */
struct cri_line {
    char time[64], stream[8], tag[8];
    const char *content;
    size_t len;
};

static bool cri_parse(const char *line, size_t len, struct cri_line *out)
{
    const char *end = line + len, *sp1, *sp2, *sp3;
    int64_t ns;

    if ((sp1 = memchr(line, ' ', len)) == NULL || (size_t)(sp1 - line) >= sizeof out->time) return false;
    if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL || sp2 - sp1 - 1 >= 8) return false;
    if ((sp3 = memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1))) == NULL || sp3 - sp2 - 1 >= 8) return false;
    snprintf(out->time, sizeof out->time, "%.*s", (int)(sp1 - line), line);
    snprintf(out->stream, sizeof out->stream, "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    snprintf(out->tag, sizeof out->tag, "%.*s", (int)(sp3 - sp2 - 1), sp2 + 1);
    out->content = sp3 + 1;
    out->len = (size_t)(end - sp3 - 1);
    /* 2016-10-06T00:17:09.669794202Z: nine digits, UTC */
    return strlen(out->time) == 30 && out->time[19] == '.' && out->time[29] == 'Z'
           && orc_time_parse(out->time, &ns) == 0
           && (strcmp(out->stream, "stdout") == 0 || strcmp(out->stream, "stderr") == 0)
           && (strcmp(out->tag, "F") == 0 || strcmp(out->tag, "P") == 0);
}

/* Every line of the file parsed; the contents joined, "stream:text\n". */
static char *read_cri(const char *path)
{
    char *text = run_read_file(path), *p, *nl;
    struct orc_buf out = ORC_BUF_INIT;
    struct cri_line c;

    CHECKF(text != NULL, "cannot read %s", path);
    for (p = text; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        CHECKF(nl != NULL, "%s: a line without its newline: %s", path, p);
        CHECKF(cri_parse(p, (size_t)(nl - p), &c), "%s: not a CRI line: %.*s", path, (int)(nl - p), p);
        orc_buf_printf(&out, "%s:%.*s\n", c.stream, (int)c.len, c.content);
    }
    free(text);
    return out.data ? out.data : strdup("");
}

static char *pod_uid(const char *name)
{
    char path[256];
    json_t *p;
    char *uid;

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    p = wl_get(path);
    CHECK(p != NULL);
    uid = strdup(orc_json_str(p, "metadata.uid"));
    json_decref(p);
    return uid;
}

/* Waits until the glob finds n links. */
static void glob_links(const char *pattern, size_t n, glob_t *g)
{
    uint64_t end = test_now_ms() + 15000;

    for (;;) {
        int rv = glob(pattern, 0, NULL, g);
        if (rv == 0 && g->gl_pathc == n) return;
        if (rv == 0) globfree(g);
        CHECKF(test_now_ms() < end, "%s: %zu links, want %zu", pattern, rv == 0 ? g->gl_pathc : 0, n);
        test_sleep_ms(100);
    }
}

static bool log_has(const char *path, const char *needle)
{
    char *t = run_read_file(path);
    bool has = t && strstr(t, needle);
    free(t);
    return has;
}

TEST_T(a_shipper_globs_every_container_in_cri_format, 90)
{
    char pattern[800], want[1200], *uid, *text, *log;
    glob_t g;
    struct stat st;
    uint64_t end;

    start();
    snprintf(want, sizeof want,
             "{\"name\":\"app\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"for i in 1 2 3; do echo app $i; done; "
             "trap 'exit 0' TERM; while true; do sleep 0.1; done\"]},"
             "{\"name\":\"side\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo side says >&2; "
             "trap 'exit 0' TERM; while true; do sleep 0.1; done\"]}",
             F.image, F.image);
    pod_create("duo", want);
    wl_wait_running("duo", 30000);
    uid = pod_uid("duo");

    /* a fluent-bit / promtail glob over /var/log/containers: every *.log */
    snprintf(pattern, sizeof pattern, "%s/*.log", ctr_dir);
    glob_links(pattern, 2, &g);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *name = strrchr(g.gl_pathv[i], '/') + 1;
        const char *ctr = strstr(name, "_app-") ? "app" : "side";
        char target[1200];
        ssize_t n;

        /* <pod>_<ns>_<container>-<containerID>.log -> <ns>_<pod>_<uid>/<container>/0.log */
        snprintf(want, sizeof want, "duo_default_%s-", ctr);
        CHECKF(strncmp(name, want, strlen(want)) == 0, "link %s", name);
        CHECK(lstat(g.gl_pathv[i], &st) == 0 && S_ISLNK(st.st_mode));
        n = readlink(g.gl_pathv[i], target, sizeof target - 1);
        CHECK(n > 0);
        target[n] = '\0';
        snprintf(want, sizeof want, "%s/default_duo_%s/%s/0.log", pod_dir, uid, ctr);
        CHECK_STR(target, want);
        end = test_now_ms() + 10000;
        while (!log_has(g.gl_pathv[i], strcmp(ctr, "app") == 0 ? "app 3" : "side says") && test_now_ms() < end)
            test_sleep_ms(100);
        text = read_cri(g.gl_pathv[i]);
        if (strcmp(ctr, "app") == 0) CHECK_STR(text, "stdout:app 1\nstdout:app 2\nstdout:app 3\n");
        else CHECK_STR(text, "stderr:side says\n");
        free(text);
    }
    globfree(&g);

    /* kubectl logs reads the same files */
    if (run_have_kubectl()) {
        log = run_kubectl_rc(&C, 0, NULL, (const char *const[]){"logs", "duo", "-c", "side", NULL});
        CHECK_STR(log, "side says\n");
        free(log);
    }

    /* deleted: its log directory and its links go with it */
    CHECK_INT(t_http(&C, 0, "DELETE", "/api/v1/namespaces/default/pods/duo", NULL, NULL, NULL, NULL), ==, 200);
    snprintf(want, sizeof want, "%s/default_duo_%s", pod_dir, uid);
    end = test_now_ms() + 20000;
    while ((stat(want, &st) == 0 || (glob(pattern, 0, NULL, &g) == 0 && (globfree(&g), true)))
           && test_now_ms() < end)
        test_sleep_ms(100);
    CHECKF(stat(want, &st) != 0, "%s is still there", want);
    CHECK_INT(glob(pattern, 0, NULL, &g), ==, GLOB_NOMATCH);
    free(uid);
}

static size_t files_in(const char *dir, size_t *gz)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, len;

    *gz = 0;
    if (d == NULL) return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        n++;
        len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".gz") == 0) (*gz)++;
    }
    closedir(d);
    return n;
}

TEST_T(rotation_keeps_max_files_and_recent_lines, 90)
{
    char want[1200], dir[1200], *uid, *log, *out, *err;
    size_t n, gz;
    uint64_t end;

    start();
    snprintf(want, sizeof want,
             "{\"name\":\"chatty\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"seq 1 5000; "
             "trap 'exit 0' TERM; while true; do sleep 0.1; done\"]}",
             F.image);
    pod_create("chatty", want);
    wl_wait_running("chatty", 30000);
    uid = pod_uid("chatty");
    snprintf(dir, sizeof dir, "%s/default_chatty_%s/chatty", pod_dir, uid);

    /* about 200 KB of records at 8Ki a file: 3 files at most, the live one
     * too; the agent gzips all but the newest rotated one within 10 s */
    end = test_now_ms() + 25000;
    while ((files_in(dir, &gz), gz) < 1 && test_now_ms() < end) test_sleep_ms(200);
    n = files_in(dir, &gz);
    CHECKF(n >= 2 && n <= 3, "%zu files in %s", n, dir);
    CHECKF(gz == n - 2, "%zu of %zu files gzipped in %s", gz, n, dir);

    CHECK_INT(run_orctl(&C, &out, &err, "logs", "chatty", "--tail", "3", NULL), ==, 0);
    CHECK_STR(out, "4998\n4999\n5000\n");
    free(out);
    free(err);
    if (run_have_kubectl()) {
        log = run_kubectl_rc(&C, 0, NULL, (const char *const[]){"logs", "chatty", "--tail=2", NULL});
        CHECK_STR(log, "4999\n5000\n");
        free(log);
        /* everything kubectl shows is the end of the output, in order */
        log = run_kubectl_rc(&C, 0, NULL, (const char *const[]){"logs", "chatty", NULL});
        CHECKF(strlen(log) < 40000 && strncmp(log, "1\n", 2) != 0, "%zu bytes", strlen(log));
        CHECK(strlen(log) > 6 && strcmp(log + strlen(log) - 5, "5000\n") == 0);
        free(log);
    }
    free(uid);
}

/* The names of the pods app=web selects once `want` of them run. */
static void web_pods(size_t want, char names[][128])
{
    uint64_t end = test_now_ms() + 40000;

    for (;;) {
        json_t *l = wl_get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"), *p;
        size_t i, running = 0;
        json_array_foreach(json_object_get(l, "items"), i, p)
        {
            const char *ph = orc_json_str(p, "status.phase");
            if (ph && strcmp(ph, "Running") == 0 && running < want)
                snprintf(names[running++], 128, "%s", orc_json_str(p, "metadata.name"));
        }
        json_decref(l);
        if (running == want) return;
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "%zu of %zu web pods running", running, want);
        }
        test_sleep_ms(200);
    }
}

static char *orctl_out(char **err, const char *const *words)
{
    const char *argv[24] = {t_bin("orctl")};
    char *out, *e;
    int n = 1, rc;

    while (*words && n < 23) argv[n++] = *words++;
    argv[n] = NULL;
    rc = run_prog(C.home, NULL, &out, &e, argv);
    CHECKF(rc == 0, "orctl %s %s %s: %d\n%s%s", argv[1], argv[2] ? argv[2] : "", argv[2] && argv[3] ? argv[3] : "",
           rc, out, e);
    if (err) *err = e;
    else free(e);
    return out;
}

TEST_T(orctl_logs_of_selected_pods_and_workloads, 120)
{
    char body[2048], names[2][128], want[1024], path[700], *out, *err, *resp = NULL;
    int status;
    pid_t pid;

    start();
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
             "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
             "\"terminationGracePeriodSeconds\":2,\"containers\":["
             "{\"name\":\"app\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo app of $(hostname); "
             "echo second; trap 'exit 0' TERM; while true; do sleep 0.2; done\"]},"
             "{\"name\":\"side\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo side of $(hostname); "
             "trap 'exit 0' TERM; while true; do sleep 0.2; done\"]}]}}}}",
             F.image, F.image);
    status = t_http(&C, 0, "POST", "/apis/apps/v1/namespaces/default/deployments", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create deployment: %d %s", status, resp ? resp : "");
    free(resp);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/services", NULL,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
                    "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80}]}}",
                    NULL, NULL);
    CHECK_INT(status, ==, 201);
    web_pods(2, names);
    test_sleep_ms(1000); /* both containers have written their lines */

    /* -l, every container, prefixed */
    out = orctl_out(NULL, (const char *const[]){"logs", "-l", "app=web", "--all-containers", "--prefix", NULL});
    for (int i = 0; i < 2; i++) {
        snprintf(want, sizeof want, "[pod/%s/app] app of %s\n[pod/%s/app] second\n", names[i], names[i], names[i]);
        CHECK_HAS(out, want);
        snprintf(want, sizeof want, "[pod/%s/side] side of %s\n", names[i], names[i]);
        CHECK_HAS(out, want);
    }
    free(out);

    /* -l takes the last 10 lines of each; --tail says otherwise */
    out = orctl_out(NULL, (const char *const[]){"logs", "-l", "app=web", "--tail", "1", NULL});
    CHECK_STR(out, "second\nsecond\n");
    free(out);

    /* deploy/NAME and svc/NAME: one of their pods, the default container said */
    out = orctl_out(&err, (const char *const[]){"logs", "deploy/web", NULL});
    CHECK_HAS(err, "Defaulted container \"app\" out of: app, side\n");
    CHECKF(strncmp(out, "app of web-", 11) == 0 && strstr(out, "\nsecond\n"), "%s", out);
    free(out);
    free(err);
    out = orctl_out(NULL, (const char *const[]){"logs", "svc/web", "-c", "side", NULL});
    CHECKF(strncmp(out, "side of web-", 12) == 0, "%s", out);
    free(out);
    out = orctl_out(NULL, (const char *const[]){"logs", "deploy/web", "side", "--since-time", "2000-01-01T00:00:00Z", NULL});
    CHECKF(strncmp(out, "side of web-", 12) == 0, "%s", out);
    free(out);

    /* -f over four streams: more than --max-log-requests is refused */
    {
        const char *argv[] = {t_bin("orctl"), "logs", "-l", "app=web", "--all-containers",
                              "-f", "--max-log-requests", "3", NULL};
        CHECK_INT(run_prog(C.home, NULL, &out, &err, argv), ==, 1);
        CHECK_HAS(err, "you are attempting to follow 4 log streams, but maximum allowed concurrency is 3");
        free(out);
        free(err);
    }
    /* ... and within it every stream is followed, whole lines interleaved */
    snprintf(path, sizeof path, "%s/follow.out", test_tmpdir());
    pid = spawn_orctl(C.home, path, (const char *const[]){"logs", "-l", "app=web", "--all-containers",
                                                           "--prefix", "-f", NULL});
    snprintf(want, sizeof want, "[pod/%s/side] side of %s\n", names[1], names[1]);
    free(wait_for_output(path, want, 15000));
    snprintf(want, sizeof want, "[pod/%s/app] second\n", names[0]);
    free(wait_for_output(path, want, 15000));
    CHECK_INT(stop_orctl(pid, SIGINT), ==, 0);
}
