/* test_raft_port.c — a member's Raft port under attack: raft 0.15's own
 * crash packet, a stream of leader-disrupting votes, a fake leader's
 * heartbeats, and clients that are not members (plain TCP, TLS without a
 * certificate, self-signed, signed by the cluster CA for another use, or a
 * member's claiming another member). Every member stays up and serving, no
 * foreign leader is ever reported, and each refusal is logged naming the
 * peer. Also: TLS 1.2 CBC suites are refused, and a member's Raft
 * certificate is kept across restarts and reissued when it stops fitting. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "tests/e2e/raftfx.h"

/* A ConfigMap created through member i: true on 201. */
static bool write_ok(struct cluster *c, int i, const char *name)
{
    char body[200];
    int st;
    json_t *r;

    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\"v\"}}", name);
    r = t_json(c, i, "POST", "/api/v1/namespaces/default/configmaps", body, &st);
    json_decref(r);
    return st == 201;
}

static void check_all_alive(struct cluster *c)
{
    for (int i = 0; i < c->n; i++)
        CHECKF(rw_alive(c, i), "member %d died (log %s)", i, c->m[i].log);
}

TEST_T(crash_packets_leave_every_member_serving, 90)
{
    static struct cluster c;
    struct orc_buf pkt = ORC_BUF_INIT;
    char name[64];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    rw_crash_packet(&pkt);
    CHECK_INT(pkt.len, ==, 120);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++) rw_send_plain(c.m[i].ip, pkt.data, pkt.len, 300, NULL, 0);
    test_sleep_ms(500);
    check_all_alive(&c);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "after-crash-%d", i);
        CHECKF(write_ok(&c, i, name), "a write through member %d failed", i);
    }
    orc_buf_free(&pkt);
}

/* ---- a stream of votes that would depose the leader ---- */

struct attacker {
    struct cluster *c;
    volatile int stop;
    int sent;
    bool heartbeat; /* fake AppendEntries instead of RequestVote */
};

static void *attack(void *arg)
{
    struct attacker *a = arg;
    uint64_t term = 1000;

    while (!a->stop) {
        for (int i = 0; i < a->c->n; i++) {
            struct orc_buf b = ORC_BUF_INIT;
            int fd = tc_connect(a->c->m[i].ip, RAFT_PORT);
            if (fd < 0) continue;
            rw_handshake(&b, 4242, "127.0.0.1:1");
            if (a->heartbeat) rw_append_entries(&b, term);
            else rw_request_vote(&b, term, 4242);
            (void)!send(fd, b.data, b.len, MSG_NOSIGNAL);
            close(fd);
            orc_buf_free(&b);
            a->sent++;
        }
        term++;
        test_sleep_ms(a->heartbeat ? 100 : 200);
    }
    return NULL;
}

TEST_T(disrupting_votes_every_200ms_do_not_stop_writes, 90)
{
    static struct cluster c;
    struct attacker a = {.c = &c};
    pthread_t th;
    uint64_t start, last, gap = 0;
    int ok = 0, tries = 0;
    char name[64];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    CHECK(pthread_create(&th, NULL, attack, &a) == 0);
    start = last = test_now_ms();
    while (test_now_ms() - start < 6000) {
        snprintf(name, sizeof name, "vote-%d", tries++);
        if (write_ok(&c, tries % 3, name)) {
            uint64_t now = test_now_ms();
            if (now - last > gap) gap = now - last;
            last = now;
            ok++;
        }
        test_sleep_ms(50);
    }
    if (test_now_ms() - last > gap) gap = test_now_ms() - last;
    a.stop = 1;
    pthread_join(th, NULL);
    fprintf(stderr, "# %d attack packets; %d of %d writes succeeded, longest gap %llu ms\n", a.sent,
            ok, tries, (unsigned long long)gap);
    check_all_alive(&c);
    CHECKF(ok >= tries * 9 / 10, "only %d of %d writes succeeded under the vote stream", ok, tries);
    CHECKF(gap <= 2500, "no write succeeded for %llu ms", (unsigned long long)gap);
}

TEST_T(a_fake_leader_is_never_reported, 90)
{
    static struct cluster c;
    struct attacker a = {.c = &c, .heartbeat = true};
    pthread_t th;
    uint64_t start;

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    CHECK(pthread_create(&th, NULL, attack, &a) == 0);
    start = test_now_ms();
    while (test_now_ms() - start < 3000) {
        for (int i = 0; i < 3; i++) {
            int st;
            json_t *s = t_json(&c, i, "GET", "/internal/v1/status", NULL, &st);
            const char *lid = orc_json_str(s, "leaderId");
            bool foreign = lid && strcmp(lid, "4242") == 0;
            json_decref(s);
            if (foreign) {
                a.stop = 1;
                pthread_join(th, NULL);
                CHECKF(false, "member %d reports the attacker (4242) as its leader", i);
            }
        }
        test_sleep_ms(50);
    }
    a.stop = 1;
    pthread_join(th, NULL);
    check_all_alive(&c);
    CHECK(cluster_leader(&c, 5000) >= 0);
    CHECK(write_ok(&c, 0, "after-heartbeats"));
}

/* ---- clients that are not members ---- */

/* The client was turned away (never kept) and the member logged it by its
 * address; the member still serves. */
static void check_refused(struct cluster *c, enum tc_tls_result r, const char *client,
                          const char *what)
{
    char text[128];
    uint64_t end = test_now_ms() + 3000;

    CHECKF(r != TC_TLS_KEPT, "%s: the Raft port kept the connection", what);
    snprintf(text, sizeof text, "from %s", client);
    while (!file_has(c->m[0].log, 0, text) && test_now_ms() < end) test_sleep_ms(20);
    CHECKF(file_has(c->m[0].log, 0, text), "%s: no refusal naming %s in %s", what, client, c->m[0].log);
    CHECKF(rw_alive(c, 0), "%s: the member died (log %s)", what, c->m[0].log);
}

static void tls_as(struct cluster *c, const char *cert, const char *key, const void *pkt,
                   size_t len, const char *what)
{
    struct tc_tls_client cl = {.cert_pem = cert, .key_pem = key, .payload = pkt, .payload_len = len};
    enum tc_tls_result r = tc_tls_try(c->m[0].ip, RAFT_PORT, &cl);

    check_refused(c, r, cl.name, what);
}

TEST_T(non_members_get_no_byte_to_raft, 90)
{
    static struct cluster c;
    struct orc_buf pkt = ORC_BUF_INIT;
    char client[64], err[ORC_TLS_ERRLEN];
    char *ca, *ca_key, *own_ca, *own_key, *cert, *key;
    const char *sans[] = {"127.0.0.1"};

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    rw_crash_packet(&pkt);
    /* plain TCP */
    bool closed = rw_send_plain(c.m[0].ip, pkt.data, pkt.len, 3000, client, sizeof client);
    check_refused(&c, closed ? TC_TLS_REFUSED : TC_TLS_KEPT, client, "plain TCP");
    /* TLS without a certificate */
    tls_as(&c, NULL, NULL, pkt.data, pkt.len, "TLS without a client certificate");
    /* a self-signed certificate */
    CHECK(orc_tls_make_ca("orc-member:1", 10, &own_ca, &own_key, err) == 0);
    tls_as(&c, own_ca, own_key, pkt.data, pkt.len, "a self-signed certificate");
    /* the cluster CA's certificates for other uses: serving, node */
    ca = rw_file(&c.m[0], "ca.crt");
    ca_key = rw_file(&c.m[0], "ca.key");
    CHECKF(orc_tls_make_cert(ca, ca_key, "orcd", sans, 1, 10, &cert, &key, err) == 0, "%s", err);
    tls_as(&c, cert, key, pkt.data, pkt.len, "the cluster CA's serving certificate");
    free(cert);
    free(key);
    CHECKF(orc_tls_make_cert(ca, ca_key, "system:node:n1", sans, 1, 10, &cert, &key, err) == 0, "%s",
           err);
    tls_as(&c, cert, key, pkt.data, pkt.len, "a node certificate of the cluster CA");
    free(cert);
    free(key);
    CHECK(write_ok(&c, 0, "after-non-members"));
    free(ca);
    free(ca_key);
    free(own_ca);
    free(own_key);
    orc_buf_free(&pkt);
}

/* ---- TLS 1.2 suites (issue 7 item 11) ---- */

static enum tc_tls_result try_suite(struct cluster *c, int port, int max_version, const char *cipher)
{
    struct tc_tls_client cl = {.cipher12 = cipher, .max_version = max_version};
    return tc_tls_try(c->m[0].ip, port, &cl);
}

TEST_T(cbc_only_clients_are_refused_on_the_api_and_raft_ports, 60)
{
    static struct cluster c;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    CHECK_INT(try_suite(&c, 6443, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"), ==, TC_TLS_REFUSED);
    CHECK_INT(try_suite(&c, 6443, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256"),
              ==, TC_TLS_REFUSED);
    CHECK_INT(try_suite(&c, RAFT_PORT, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"), ==, TC_TLS_REFUSED);
    /* what stays: TLS 1.3, and TLS 1.2 with AES-GCM or ChaCha20 */
    CHECK(try_suite(&c, 6443, 0, NULL) != TC_TLS_REFUSED);
    CHECK(try_suite(&c, 6443, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256") != TC_TLS_REFUSED);
    CHECK(try_suite(&c, 6443, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305") != TC_TLS_REFUSED);
    CHECK(write_ok(&c, 0, "after-suites"));
}

/* ---- member certificates ---- */

/* orc's hello (store/transport.h) claiming member `id`. */
static void hello_claiming(struct orc_buf *b, uint64_t id, const char *address)
{
    unsigned char len[4] = {(unsigned char)strlen(address), 0, 0, 0};

    orc_buf_append(b, "orcraft1", 8);
    rw_u64(b, id);
    orc_buf_append(b, len, 4);
    orc_buf_append(b, address, strlen(address));
}

TEST_T(a_member_certificate_cannot_claim_another_member, 60)
{
    static struct cluster c;
    struct orc_buf hello = ORC_BUF_INIT;
    char err[ORC_TLS_ERRLEN], *ca, *ca_key, *cert, *key;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    ca = rw_file(&c.m[0], "ca.crt");
    ca_key = rw_file(&c.m[0], "ca.key");
    CHECKF(orc_tls_make_cert_o(ca, ca_key, "system:orc-members", "orc-member:999", NULL, 0, 10, &cert,
                               &key, err) == 0, "%s", err);
    hello_claiming(&hello, 1, "127.0.0.1:1");
    struct tc_tls_client cl = {.cert_pem = cert, .key_pem = key, .payload = hello.data,
                               .payload_len = hello.len};
    check_refused(&c, tc_tls_try(c.m[0].ip, RAFT_PORT, &cl), cl.name, "a hello claiming member 1");
    CHECKF(file_has(c.m[0].log, 0, "claims member 1 with the certificate of member 999"),
           "the refusal does not say why (log %s)", c.m[0].log);
    /* and a certificate for member 999 in O=system:masters is nobody's */
    free(cert);
    free(key);
    CHECKF(orc_tls_make_cert_o(ca, ca_key, "system:masters", "orc-member:999", NULL, 0, 10, &cert, &key,
                               err) == 0, "%s", err);
    orc_buf_reset(&hello);
    hello_claiming(&hello, 999, "127.0.0.1:1");
    struct tc_tls_client cl2 = {.cert_pem = cert, .key_pem = key, .payload = hello.data,
                                .payload_len = hello.len};
    check_refused(&c, tc_tls_try(c.m[0].ip, RAFT_PORT, &cl2), cl2.name, "another group");
    free(cert);
    free(key);
    free(ca);
    free(ca_key);
    orc_buf_free(&hello);
}

static mode_t mode_of(const struct member *m, const char *name)
{
    char path[700];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECKF(stat(path, &st) == 0, "no %s", path);
    return st.st_mode & 0777;
}

static void put_file(const struct member *m, const char *name, const char *text)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
}

TEST_T(the_raft_certificate_is_kept_and_reissued_when_it_stops_fitting, 60)
{
    static struct cluster c;
    struct orc_tls_subject sub;
    char err[ORC_TLS_ERRLEN], *cert, *again, *ca, *ca_key, *other, *other_key;
    char cn[64];
    int st;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    CHECK_INT(mode_of(&c.m[0], "raft.crt"), ==, 0600);
    CHECK_INT(mode_of(&c.m[0], "raft.key"), ==, 0600);
    json_t *s = t_json(&c, 0, "GET", "/internal/v1/status", NULL, &st);
    snprintf(cn, sizeof cn, "orc-member:%s", orc_json_str(s, "id"));
    json_decref(s);
    cert = rw_file(&c.m[0], "raft.crt");
    CHECK_INT(orc_tls_cert_subject(cert, &sub, err), ==, 0);
    CHECK_STR(sub.cn, cn);
    CHECK_STR(sub.org, "system:orc-members");
    /* a restart keeps it */
    member_stop(&c, 0);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    again = rw_file(&c.m[0], "raft.crt");
    CHECK_STR(again, cert);
    free(again);
    /* another member's certificate from the same CA stops fitting: reissued */
    ca = rw_file(&c.m[0], "ca.crt");
    ca_key = rw_file(&c.m[0], "ca.key");
    CHECKF(orc_tls_make_cert_o(ca, ca_key, "system:orc-members", "orc-member:4242", NULL, 0, 10, &other,
                               &other_key, err) == 0, "%s", err);
    member_stop(&c, 0);
    put_file(&c.m[0], "raft.crt", other);
    put_file(&c.m[0], "raft.key", other_key);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    again = rw_file(&c.m[0], "raft.crt");
    CHECK(strcmp(again, other) != 0);
    CHECK_INT(orc_tls_cert_subject(again, &sub, err), ==, 0);
    CHECK_STR(sub.cn, cn);
    CHECK(file_has(c.m[0].log, 0, "issuing a new Raft certificate"));
    CHECK(write_ok(&c, 0, "after-reissue"));
    free(again);
    free(cert);
    free(ca);
    free(ca_key);
    free(other);
    free(other_key);
}
