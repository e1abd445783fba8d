/* test_rt_unit.c — the runtime's pure parts, without containers: image
 * references, registries.yaml, CRI records and times, users from an
 * image's passwd/group, the tail/since scan over rotated files, the shim's
 * log writer. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static void check_ref(const char *in, const char *want)
{
    struct rt_ref r;
    char msg[256];
    int rc = rt_ref_parse(in, &r, msg, sizeof msg);

    CHECKF(rc == 0, "parse %s: %s", in, msg);
    CHECK_STR(r.full, want);
}

static void check_bad_ref(const char *in, const char *why)
{
    struct rt_ref r;
    char msg[256];

    CHECK_INT(rt_ref_parse(in, &r, msg, sizeof msg), ==, ORC_EINVAL);
    CHECKF(strstr(msg, why) != NULL, "%s: message \"%s\" lacks \"%s\"", in, msg, why);
}

TEST(references)
{
    const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char in[200], want[200];

    check_ref("nginx:1.14.2", "docker.io/library/nginx:1.14.2");
    check_ref("busybox", "docker.io/library/busybox:latest");
    check_ref("library/busybox:1", "docker.io/library/busybox:1");
    check_ref("bitnami/redis", "docker.io/bitnami/redis:latest");
    check_ref("index.docker.io/library/alpine:3", "docker.io/library/alpine:3");
    check_ref("host:5000/a/b", "host:5000/a/b:latest");
    check_ref("127.0.0.1:5000/orc/busybox:1", "127.0.0.1:5000/orc/busybox:1");
    check_ref("localhost/x", "localhost/x:latest");
    check_ref("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9");
    check_ref("a__b/c-d.e:v1.0-rc_1", "docker.io/a__b/c-d.e:v1.0-rc_1");
    snprintf(in, sizeof in, "nginx@%s", d);
    snprintf(want, sizeof want, "docker.io/library/nginx@%s", d);
    check_ref(in, want);
    snprintf(in, sizeof in, "quay.io/x/y:1.0@%s", d); /* a digest wins over a tag */
    snprintf(want, sizeof want, "quay.io/x/y@%s", d);
    check_ref(in, want);

    check_bad_ref("", "empty");
    check_bad_ref("Nginx", "lowercase");
    check_bad_ref("nginx:", "tag");
    check_bad_ref("nginx:bad/tag", "invalid");
    check_bad_ref("nginx@sha256:abc", "digest");
    check_bad_ref("a//b", "invalid");
    check_bad_ref("-a", "invalid");
    check_bad_ref("with space", "whitespace");
    check_bad_ref("host:5000/", "repository");
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[4][600];
    static int next;
    char *p = path[next++ % 4];

    snprintf(p, 600, "%s/%s", test_tmpdir(), name);
    CHECK_INT(orc_file_write(p, text, strlen(text), 0600), ==, 0);
    return p;
}

static struct rt_regs *load_regs(const char *yaml, char *msg)
{
    struct rt_regs *g = NULL;
    char certs[600];
    int rc;

    snprintf(certs, sizeof certs, "%s/certs", test_tmpdir());
    rc = rt_regs_load(write_tmp("registries.yaml", yaml), certs, &g, msg, 256);
    return rc == 0 ? g : NULL;
}

TEST(registries_mirrors_and_configs)
{
    char msg[256] = "", yaml[2048];
    struct rt_endpoint *e;
    struct rt_regs *g;
    struct rt_ref ref;
    size_t n;
    const char *ca = write_tmp("ca.pem", "x");

    snprintf(yaml, sizeof yaml,
             "mirrors:\n"
             "  docker.io:\n"
             "    endpoint: [\"http://127.0.0.1:5001\", \"https://mirror.example.com/v2\"]\n"
             "    rewrite:\n"
             "      \"^library/(.*)$\": \"mirrored/$1\"\n"
             "  \"*\":\n"
             "    endpoint: [\"https://all.example.com\"]\n"
             "configs:\n"
             "  mirror.example.com:\n"
             "    auth: {username: u, password: p}\n"
             "    tls: {ca_file: %s}\n"
             "  quay.io:\n"
             "    tls: {insecure_skip_verify: true}\n",
             ca);
    g = load_regs(yaml, msg);
    CHECKF(g != NULL, "load: %s", msg);

    CHECK_INT(rt_ref_parse("nginx:1", &ref, msg, sizeof msg), ==, 0);
    CHECK_INT(rt_regs_endpoints(g, &ref, &e, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    CHECK_STR(e[0].host, "127.0.0.1:5001");
    CHECK_STR(e[0].path, "mirrored/nginx");
    CHECK(e[0].plain_ok && e[0].is_mirror && e[0].auth_b64 == NULL);
    CHECK_STR(e[1].host, "mirror.example.com");
    CHECK(!e[1].plain_ok && e[1].cert_dir != NULL);
    CHECK_STR(e[1].auth_b64, "dTpw"); /* base64("u:p") */
    CHECK_STR(e[2].host, "docker.io"); /* the registry itself, last, without rewrites */
    CHECK_STR(e[2].path, "library/nginx");
    CHECK(!e[2].is_mirror && !e[2].plain_ok);
    {
        char link[700], target[700];
        ssize_t k;
        snprintf(link, sizeof link, "%s/ca.crt", e[1].cert_dir);
        k = readlink(link, target, sizeof target - 1);
        CHECK(k > 0);
        target[k] = '\0';
        CHECK_STR(target, ca);
    }
    free(e);

    CHECK_INT(rt_ref_parse("quay.io/a/b:1", &ref, msg, sizeof msg), ==, 0);
    CHECK_INT(rt_regs_endpoints(g, &ref, &e, &n), ==, 0);
    CHECK_INT(n, ==, 2); /* "*" mirror, then quay.io itself */
    CHECK_STR(e[0].host, "all.example.com");
    CHECK_STR(e[1].host, "quay.io");
    CHECK(e[1].plain_ok); /* insecure_skip_verify */
    free(e);
    rt_regs_free(g);

    /* no file: the registry itself; loopback registries may be plain HTTP */
    CHECK_INT(rt_regs_load(NULL, "/nonexistent", &g, msg, sizeof msg), ==, 0);
    CHECK_INT(rt_ref_parse("127.0.0.1:5000/x:1", &ref, msg, sizeof msg), ==, 0);
    CHECK_INT(rt_regs_endpoints(g, &ref, &e, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK(e[0].plain_ok);
    free(e);
    rt_regs_free(g);
}

static void check_bad_regs(const char *yaml, const char *why)
{
    char msg[256] = "";
    struct rt_regs *g = load_regs(yaml, msg);

    CHECKF(g == NULL, "accepted: %s", yaml);
    CHECKF(strstr(msg, why) != NULL, "message \"%s\" lacks \"%s\"", msg, why);
    CHECKF(strstr(msg, "registries.yaml") != NULL, "message \"%s\" does not name the file", msg);
}

TEST(registries_bad_files)
{
    char msg[256];
    struct rt_regs *g;

    check_bad_regs("mirrors: [1, 2]\n", "mirrors must be a map");
    check_bad_regs("mirrors:\n  docker.io:\n    endpoint: \"x\"\n", "endpoint must be a list");
    check_bad_regs("mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]\n", "only http and https");
    check_bad_regs("mirrors:\n  docker.io:\n    endpoint: [\"https://x/y\"]\n", "path");
    check_bad_regs("configs:\n  x:\n    tls: {ca_file: /nonexistent/ca.pem}\n", "/nonexistent/ca.pem");
    check_bad_regs("configs:\n  x:\n    tls: {insecure_skip_verify: maybe}\n", "true or false");
    check_bad_regs("mirrors: {a: {endpoint: [x]}\n", "line");
    CHECK_INT(rt_regs_load("/nonexistent/registries.yaml", "/tmp", &g, msg, sizeof msg), ==, ORC_EINVAL);
    CHECKF(strstr(msg, "/nonexistent/registries.yaml") && strstr(msg, "no such file"), "%s", msg);
}

TEST(times_and_cri_records)
{
    char ts[RT_TIME_LEN];
    int64_t ns;
    struct rt_cri c;
    struct orc_buf out = ORC_BUF_INIT;
    bool in_line = false;
    const char *rec;

    rt_time_fmt(1795452245123456789LL, ts);
    CHECK_STR(ts, "2026-11-23T16:44:05.123456789Z");
    CHECK_INT(rt_time_parse(ts, strlen(ts), &ns), ==, 0);
    CHECK_INT(ns, ==, 1795452245123456789LL);
    CHECK_INT(rt_time_parse("2026-11-23T16:44:05Z", 20, &ns), ==, 0);
    CHECK_INT(ns, ==, 1795452245000000000LL);
    CHECK_INT(rt_time_parse("2026-11-23T17:44:05.5+01:00", 27, &ns), ==, 0);
    CHECK_INT(ns, ==, 1795452245500000000LL);
    CHECK_INT(rt_time_parse("2026-11-23 16:44:05Z", 20, &ns), ==, ORC_EINVAL);
    CHECK_INT(rt_time_parse("2026-11-23T16:44", 16, &ns), ==, ORC_EINVAL);

    rec = "2026-11-23T16:44:05.1Z stdout P abc";
    CHECK(rt_cri_parse(rec, strlen(rec), &c));
    CHECK(c.partial && c.len == 3 && memcmp(c.text, "abc", 3) == 0 && c.ts_len == 22);
    rec = "2026-11-23T16:44:05.1Z stderr F ";
    CHECK(rt_cri_parse(rec, strlen(rec), &c) && !c.partial && c.len == 0);
    CHECK(!rt_cri_parse("garbage", 7, &c));

    /* P records join; timestamps only where a line starts; since filters */
    const char *recs[] = {"2026-11-23T16:44:05.1Z stdout P ab", "2026-11-23T16:44:05.2Z stdout F cd",
                          "2026-11-23T16:44:06.0Z stderr F ef", "not cri"};
    for (size_t i = 0; i < 4; i++)
        CHECK_INT(rt_logfmt(&out, recs[i], strlen(recs[i]), true, 0, &in_line), ==, 0);
    CHECK_STR(out.data, "2026-11-23T16:44:05.1Z abcd\n2026-11-23T16:44:06.0Z ef\nnot cri\n");
    orc_buf_reset(&out);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(rt_logfmt(&out, recs[i], strlen(recs[i]), false, 1795452246000000000LL, &in_line), ==, 0);
    CHECK_STR(out.data, "ef\n");
    orc_buf_free(&out);
}

static void make_root(const char *root)
{
    char p[700];

    snprintf(p, sizeof p, "%s/etc/x", root);
    CHECK_INT(orc_mkdirs(p, 0755), ==, 0); /* makes the parents of x */
}

TEST(users_from_the_image)
{
    char root[600], p[700], msg[256];
    uint32_t uid, gid, gids[RT_MAX_GIDS];
    size_t ng;
    const char *pw = "root:x:0:0::/root:/bin/sh\n# comment\nweb:x:33:33::/var/www:/bin/sh\n"
                     "app:x:1000:1001::/home/app:/bin/sh\n";
    const char *gr = "root:x:0:\nweb:x:33:\napps:x:1001:\nextra:x:2000:app,web\nmore:x:2001:app\n";

    snprintf(root, sizeof root, "%s/rootfs", test_tmpdir());
    make_root(root);
    snprintf(p, sizeof p, "%s/etc/passwd", root);
    CHECK_INT(orc_file_write(p, pw, strlen(pw), 0644), ==, 0);
    snprintf(p, sizeof p, "%s/etc/group", root);
    CHECK_INT(orc_file_write(p, gr, strlen(gr), 0644), ==, 0);

    CHECK_INT(rt_user_resolve(root, "", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 0 && gid == 0 && ng == 0);
    CHECK_INT(rt_user_resolve(root, "app", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 1000 && gid == 1001 && ng == 2 && gids[0] == 2000 && gids[1] == 2001);
    CHECK_INT(rt_user_resolve(root, "web:extra", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 33 && gid == 2000 && ng == 0);
    CHECK_INT(rt_user_resolve(root, "1000:33", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 1000 && gid == 33);
    CHECK_INT(rt_user_resolve(root, "4242", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 4242 && gid == 0 && ng == 0);
    /* runAsUser / runAsGroup win over the image */
    CHECK_INT(rt_user_resolve(root, "web", 1000, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 1000 && gid == 1001);
    CHECK_INT(rt_user_resolve(root, "web", 7, 8, &uid, &gid, gids, &ng, msg, sizeof msg), ==, 0);
    CHECK(uid == 7 && gid == 8);
    CHECK_INT(rt_user_resolve(root, "nobody", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, ORC_EINVAL);
    CHECKF(strstr(msg, "unable to find user nobody"), "%s", msg);
    CHECK_INT(rt_user_resolve(root, "app:nogroup", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, ORC_EINVAL);
    CHECKF(strstr(msg, "group nogroup"), "%s", msg);

    /* an image's /etc/passwd that points outside is read inside the image */
    snprintf(p, sizeof p, "%s/etc/passwd", root);
    CHECK_INT(unlink(p), ==, 0);
    CHECK_INT(symlink("/etc/passwd", p), ==, 0);
    CHECK_INT(rt_user_resolve(root, "root", -1, -1, &uid, &gid, gids, &ng, msg, sizeof msg), ==, ORC_EINVAL);
}

/* Writes n records "line<i>" stamped base+i seconds, `partial` every third. */
static void write_log(const char *path, int from, int n)
{
    struct orc_buf b = ORC_BUF_INIT;
    char ts[RT_TIME_LEN];

    for (int i = from; i < from + n; i++) {
        rt_time_fmt((1795452245LL + i) * 1000000000LL, ts);
        orc_buf_printf(&b, "%s stdout F line%d\n", ts, i);
    }
    CHECK_INT(orc_file_write(path, b.data, b.len, 0644), ==, 0);
    orc_buf_free(&b);
}

TEST(log_scan_tail_and_since)
{
    char p[3][600];
    int fds[3];
    struct rt_logpos pos;
    char buf[64];

    for (int i = 0; i < 3; i++) {
        snprintf(p[i], sizeof p[i], "%s/log.%d", test_tmpdir(), i);
        write_log(p[i], i * 10, 10); /* file 0: lines 0-9, 1: 10-19, 2: 20-29 */
        fds[i] = open(p[i], O_RDONLY);
        CHECK(fds[i] >= 0);
    }
    CHECK_INT(rt_logscan_start(fds, 3, -1, 0, &pos), ==, 0);
    CHECK(pos.file == 0 && pos.off == 0);
    CHECK_INT(rt_logscan_start(fds, 3, 3, 0, &pos), ==, 0); /* lines 27-29 */
    CHECK_INT(pos.file, ==, 2);
    CHECK_INT(pread(fds[2], buf, 48, pos.off), ==, 48);
    CHECK(memcmp(buf + 30, " stdout F line27", 16) == 0);
    CHECK_INT(rt_logscan_start(fds, 3, 15, 0, &pos), ==, 0); /* from line 15 */
    CHECK_INT(pos.file, ==, 1);
    CHECK_INT(pread(fds[1], buf, 48, pos.off), ==, 48);
    CHECK(memcmp(buf + 30, " stdout F line15", 16) == 0);
    CHECK_INT(rt_logscan_start(fds, 3, 100, 0, &pos), ==, 0);
    CHECK(pos.file == 0 && pos.off == 0);
    CHECK_INT(rt_logscan_start(fds, 3, 0, 0, &pos), ==, 0); /* nothing */
    CHECK_INT(pos.file, ==, 2);
    CHECK_INT(pos.off, ==, lseek(fds[2], 0, SEEK_END));
    /* since line 12's time, tail 100: from line 12 */
    CHECK_INT(rt_logscan_start(fds, 3, 100, (1795452245LL + 12) * 1000000000LL, &pos), ==, 0);
    CHECK_INT(pos.file, ==, 1);
    CHECK_INT(pread(fds[1], buf, 48, pos.off), ==, 48);
    CHECK(memcmp(buf + 30, " stdout F line12", 16) == 0);
    for (int i = 0; i < 3; i++) close(fds[i]);
}

TEST(shim_log_writer_rotates)
{
    char path[600], p[700], *text, **rot;
    size_t nrot;
    struct shim_log l;
    struct orc_buf b = ORC_BUF_INIT;
    struct stat st;

    snprintf(path, sizeof path, "%s/c.log", test_tmpdir());
    shim_log_open(&l, path, 1000, 3);
    for (int i = 0; i < 100; i++) {
        char line[32];
        snprintf(line, sizeof line, "record %d", i);
        shim_log_write(&l, i % 2 ? "stderr" : "stdout", false, line, strlen(line));
    }
    shim_log_write(&l, "stdout", true, "part", 4);
    shim_log_close(&l);
    /* three files in all: the live one and two rotated, oldest first */
    CHECK_INT(podlogs_rotated(path, true, &rot, &nrot), ==, 0);
    CHECK_INT(nrot, ==, 2);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s", i < 2 ? rot[i] : path);
        CHECKF(stat(p, &st) == 0 && st.st_size <= 1000 && st.st_size > 0, "%s", p);
    }
    {
        struct orc_buf all = ORC_BUF_INIT;
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s", i < 2 ? rot[i] : path);
            CHECK_INT(orc_file_read(p, 1 << 20, &b), ==, 0);
            orc_buf_append(&all, b.data, b.len);
        }
        text = all.data;
        CHECKF(strstr(text, " stdout F record 96\n") && strstr(text, " stderr F record 97\n")
                   && strstr(text, " stderr F record 99\n") && strstr(text, " stdout P part\n"),
               "%s", text);
        CHECK(text[4] == '-' && text[10] == 'T' && text[29] == 'Z'); /* RFC 3339, 9 digits */
        orc_buf_free(&all);
    }
    orc_buf_free(&b);
    podlogs_strv_free(rot, nrot);

    /* a log that cannot be opened drops output, and says nothing */
    shim_log_open(&l, "/nonexistent/dir/c.log", 0, 0);
    shim_log_write(&l, "stdout", false, "x", 1);
    shim_log_close(&l);
}
