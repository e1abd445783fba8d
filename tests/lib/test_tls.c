/* test_tls.c — lib/tls: a client and a server session pumped in memory
 * (handshake, data both ways, fragments, close_notify), certificate checks
 * (host and IP names, wrong CA, fingerprint pinning), bad input, the PKI,
 * AEAD-only suites under TLS 1.2, mutual TLS and certificate subjects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/orc.h"
#include "lib/tls.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* The harness ends a case with _exit, which skips LeakSanitizer: check here. */
static void leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

struct pki {
    char *ca, *ca_key, *cert, *key, *chain;
};

static void pki_make(struct pki *p, const char *const *sans, size_t n)
{
    char err[ORC_TLS_ERRLEN] = "";
    size_t cl, al;

    CHECKF(orc_tls_make_ca("orc-ca", ORC_TLS_CA_DAYS, &p->ca, &p->ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(p->ca, p->ca_key, "orc-server", sans, n, ORC_TLS_CERT_DAYS, &p->cert,
                             &p->key, err) == 0,
           "%s", err);
    cl = strlen(p->cert);
    al = strlen(p->ca);
    p->chain = malloc(cl + al + 1);
    CHECK(p->chain != NULL);
    memcpy(p->chain, p->cert, cl);
    memcpy(p->chain + cl, p->ca, al + 1);
}

static void pki_free(struct pki *p)
{
    free(p->ca);
    free(p->ca_key);
    free(p->cert);
    free(p->key);
    free(p->chain);
    memset(p, 0, sizeof *p);
}

static const char *const default_sans[] = {"127.0.0.1", "::1", "localhost", "orc.example"};

/* A server and a client session over one in-memory "wire". */
struct pair {
    struct orc_tls_ctx *sctx, *cctx;
    struct orc_tls *s, *c;
    struct orc_buf s_plain, c_plain; /* what each side decrypted */
    int s_err, c_err;
    size_t frag; /* deliver ciphertext in pieces of this size (0: whole) */
};

static void pair_open(struct pair *p, const struct pki *k, const struct orc_tls_trust *trust,
                      const char *peer)
{
    char err[ORC_TLS_ERRLEN] = "";

    memset(p, 0, sizeof *p);
    CHECKF(orc_tls_server_ctx(k->chain, k->key, &p->sctx, err) == 0, "%s", err);
    CHECKF(orc_tls_client_ctx(trust, &p->cctx, err) == 0, "%s", err);
    CHECK_INT(orc_tls_new(p->sctx, NULL, &p->s), ==, 0);
    CHECK_INT(orc_tls_new(p->cctx, peer, &p->c), ==, 0);
}

static void pair_close(struct pair *p)
{
    orc_tls_free(p->s);
    orc_tls_free(p->c);
    orc_tls_ctx_unref(p->sctx);
    orc_tls_ctx_unref(p->cctx);
    orc_buf_free(&p->s_plain);
    orc_buf_free(&p->c_plain);
}

/* Moves one side's outbox into the other; returns bytes moved. */
static size_t deliver(struct pair *p, struct orc_tls *from, struct orc_tls *to, struct orc_buf *plain,
                      int *err)
{
    size_t len, off = 0;
    char *data = orc_tls_take(from, &len);

    while (off < len && *err == 0) {
        size_t n = p->frag && p->frag < len - off ? p->frag : len - off;
        *err = orc_tls_recv(to, data + off, n, plain);
        off += n;
    }
    free(data);
    return len;
}

/* Runs the wire until neither side has anything to send or one failed. */
static void pump(struct pair *p)
{
    for (int i = 0; i < 1000; i++) {
        size_t moved = 0;
        if (p->c_err == 0) moved += deliver(p, p->c, p->s, &p->s_plain, &p->s_err);
        if (p->s_err == 0) moved += deliver(p, p->s, p->c, &p->c_plain, &p->c_err);
        if (moved == 0 || p->s_err || p->c_err) return;
    }
    test_fail(__FILE__, __LINE__, "the sessions never went quiet");
}

static const struct orc_tls_trust *trust_ca(const struct pki *k, struct orc_tls_trust *t)
{
    memset(t, 0, sizeof *t);
    t->ca_pem = k->ca;
    return t;
}

TEST(handshake_and_data_both_ways)
{
    struct pki k = {0};
    struct orc_tls_trust tr;
    struct pair p;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

    pki_make(&k, default_sans, 4);
    pair_open(&p, &k, trust_ca(&k, &tr), "127.0.0.1");
    /* The client writes its request before any handshake: it waits inside. */
    CHECK_INT(orc_tls_send(p.c, req, strlen(req)), ==, 0);
    CHECK(orc_tls_pending(p.c) > 0); /* the ClientHello */
    CHECK(!orc_tls_handshake_done(p.c));
    pump(&p);
    CHECKF(p.s_err == 0 && p.c_err == 0, "%s / %s", orc_tls_errmsg(p.s), orc_tls_errmsg(p.c));
    CHECK(orc_tls_handshake_done(p.c) && orc_tls_handshake_done(p.s));
    CHECK_STR(p.s_plain.data, req);
    CHECK_INT(orc_tls_send(p.s, "HTTP/1.1 200 OK\r\n\r\n", 19), ==, 0);
    pump(&p);
    CHECK_STR(p.c_plain.data, "HTTP/1.1 200 OK\r\n\r\n");
    /* More requests on the same session, as a kept-alive connection does. */
    for (int i = 0; i < 20; i++) {
        char line[32];
        orc_buf_reset(&p.s_plain);
        snprintf(line, sizeof line, "request %d", i);
        CHECK_INT(orc_tls_send(p.c, line, strlen(line)), ==, 0);
        pump(&p);
        CHECK_STR(p.s_plain.data, line);
    }
    /* close_notify ends it cleanly; sending afterwards is refused. */
    CHECK_INT(orc_tls_shutdown(p.s), ==, 0);
    pump(&p);
    CHECK(orc_tls_peer_closed(p.c));
    CHECK_INT(orc_tls_send(p.s, "x", 1), ==, ORC_ESHUTDOWN);
    pair_close(&p);
    pki_free(&k);
    leak_check();
}

TEST(dns_names_and_ipv6_are_checked)
{
    struct pki k = {0};
    struct orc_tls_trust tr;
    const char *ok[] = {"localhost", "orc.example", "::1", "ORC.example"};

    pki_make(&k, default_sans, 4);
    for (size_t i = 0; i < 4; i++) {
        struct pair p;
        pair_open(&p, &k, trust_ca(&k, &tr), ok[i]);
        CHECK_INT(orc_tls_send(p.c, "hi", 2), ==, 0);
        pump(&p);
        CHECKF(p.c_err == 0 && p.s_err == 0, "%s: %s", ok[i], orc_tls_errmsg(p.c));
        CHECK_STR(p.s_plain.data, "hi");
        pair_close(&p);
    }
    pki_free(&k);
    leak_check();
}

/* Runs a handshake that must fail on the client; returns its message. */
static void expect_refused(const struct pki *k, const struct orc_tls_trust *tr, const char *peer,
                           const char *msg_has)
{
    struct pair p;

    pair_open(&p, k, tr, peer);
    CHECK_INT(orc_tls_send(p.c, "secret request", 14), ==, 0);
    pump(&p);
    CHECKF(p.c_err == ORC_EPROTO, "%s: handshake passed", peer);
    CHECKF(strstr(orc_tls_errmsg(p.c), msg_has) != NULL, "%s: message \"%s\" lacks \"%s\"", peer,
           orc_tls_errmsg(p.c), msg_has);
    CHECK(p.s_plain.len == 0); /* nothing of the request left the client */
    /* The client told the server (an alert): it fails too, or never finished. */
    deliver(&p, p.c, p.s, &p.s_plain, &p.s_err);
    CHECK(p.s_err != 0 || !orc_tls_handshake_done(p.s));
    CHECK_INT(orc_tls_send(p.c, "x", 1), ==, ORC_EPROTO);
    pair_close(&p);
}

TEST(name_mismatch_is_refused)
{
    struct pki k = {0};
    struct orc_tls_trust tr;

    pki_make(&k, default_sans, 4);
    expect_refused(&k, trust_ca(&k, &tr), "10.9.9.9", "IP address mismatch");
    expect_refused(&k, trust_ca(&k, &tr), "other.example", "hostname mismatch");
    expect_refused(&k, trust_ca(&k, &tr), "x.orc.example", "hostname mismatch");
    pki_free(&k);
    leak_check();
}

TEST(wrong_ca_is_refused)
{
    struct pki k = {0}, other = {0};
    struct orc_tls_trust tr;

    pki_make(&k, default_sans, 4);
    pki_make(&other, default_sans, 4);
    expect_refused(&k, trust_ca(&other, &tr), "127.0.0.1", "certificate verify failed");
    /* The system store does not know orc's CA either. */
    expect_refused(&k, NULL, "127.0.0.1", "certificate verify failed");
    pki_free(&k);
    pki_free(&other);
    leak_check();
}

TEST(fingerprint_pinning)
{
    struct pki k = {0}, other = {0};
    struct orc_tls_trust tr = {0};
    char fp[ORC_TLS_FP_HEX + 1], fp_other[ORC_TLS_FP_HEX + 1], colons[200], err[ORC_TLS_ERRLEN];
    struct pair p;
    struct orc_tls_ctx *bad;

    pki_make(&k, default_sans, 4);
    pki_make(&other, default_sans, 4);
    CHECK_INT(orc_tls_fingerprint(k.ca, fp, err), ==, 0);
    CHECK_INT(orc_tls_fingerprint(other.ca, fp_other, err), ==, 0);
    CHECK_INT(strlen(fp), ==, 64);
    CHECK(strcmp(fp, fp_other) != 0);
    /* The right CA: accepted, in the "AB:CD:..." upper-case form too. */
    size_t n = 0;
    for (int i = 0; i < 64; i += 2) {
        colons[n++] = (char)(fp[i] >= 'a' ? fp[i] - 32 : fp[i]);
        colons[n++] = (char)(fp[i + 1] >= 'a' ? fp[i + 1] - 32 : fp[i + 1]);
        colons[n++] = ':';
    }
    colons[n - 1] = '\0';
    for (int form = 0; form < 2; form++) {
        tr.ca_fingerprint = form ? colons : fp;
        pair_open(&p, &k, &tr, "127.0.0.1");
        CHECK_INT(orc_tls_send(p.c, "join", 4), ==, 0);
        pump(&p);
        CHECKF(p.c_err == 0, "%s", orc_tls_errmsg(p.c));
        CHECK_STR(p.s_plain.data, "join");
        pair_close(&p);
    }
    /* Another CA's fingerprint: refused, saying why. */
    tr.ca_fingerprint = fp_other;
    expect_refused(&k, &tr, "127.0.0.1", "fingerprint");
    /* The pinned CA still has to name the host. */
    tr.ca_fingerprint = fp;
    expect_refused(&k, &tr, "10.1.2.3", "IP address mismatch");
    /* A server that sends no CA along cannot match a pin. */
    {
        struct pki leaf_only = k;
        leaf_only.chain = k.cert;
        expect_refused(&leaf_only, &tr, "127.0.0.1", "fingerprint");
    }
    tr.ca_fingerprint = "abc";
    CHECK_INT(orc_tls_client_ctx(&tr, &bad, err), ==, ORC_EINVAL);
    tr.ca_pem = k.ca;
    tr.ca_fingerprint = fp;
    CHECK_INT(orc_tls_client_ctx(&tr, &bad, err), ==, ORC_EINVAL);
    pki_free(&k);
    pki_free(&other);
    leak_check();
}

TEST(insecure_skips_verification)
{
    struct pki k = {0};
    struct orc_tls_trust tr = {.insecure = true};
    struct pair p;

    pki_make(&k, default_sans, 4);
    pair_open(&p, &k, &tr, "10.9.9.9");
    CHECK_INT(orc_tls_send(p.c, "x", 1), ==, 0);
    pump(&p);
    CHECKF(p.c_err == 0, "%s", orc_tls_errmsg(p.c));
    CHECK_STR(p.s_plain.data, "x");
    pair_close(&p);
    pki_free(&k);
    leak_check();
}

static void fill(char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) b[i] = (char)rand_r(&seed);
}

TEST(large_data_in_odd_fragments)
{
    struct pki k = {0};
    struct orc_tls_trust tr;
    size_t n = 5u << 20;
    char *up = malloc(n), *down = malloc(n);
    const size_t frags[] = {0, 1, 7, 4093, 16389};

    CHECK(up && down);
    fill(up, n, 1);
    fill(down, n, 2);
    pki_make(&k, default_sans, 4);
    for (size_t f = 0; f < 5; f++) {
        struct pair p;
        size_t len = frags[f] == 1 || frags[f] == 7 ? 300000 : n; /* byte-by-byte is slow */
        pair_open(&p, &k, trust_ca(&k, &tr), "localhost");
        p.frag = frags[f];
        CHECK_INT(orc_tls_send(p.c, up, len), ==, 0);
        pump(&p);
        CHECK_INT(orc_tls_send(p.s, down, len), ==, 0);
        pump(&p);
        CHECKF(p.c_err == 0 && p.s_err == 0, "frag %zu: %s / %s", frags[f], orc_tls_errmsg(p.c),
               orc_tls_errmsg(p.s));
        CHECK_INT(p.s_plain.len, ==, len);
        CHECK_INT(p.c_plain.len, ==, len);
        CHECK(memcmp(p.s_plain.data, up, len) == 0);
        CHECK(memcmp(p.c_plain.data, down, len) == 0);
        pair_close(&p);
    }
    free(up);
    free(down);
    pki_free(&k);
    leak_check();
}

TEST(garbage_and_plaintext_are_errors_not_crashes)
{
    struct pki k = {0};
    struct orc_tls_ctx *sctx;
    char err[ORC_TLS_ERRLEN] = "", junk[4096];
    const char *http = "GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n";
    struct orc_buf plain = ORC_BUF_INIT;
    struct orc_tls *s;

    pki_make(&k, default_sans, 4);
    CHECKF(orc_tls_server_ctx(k.chain, k.key, &sctx, err) == 0, "%s", err);
    /* Plain HTTP on a TLS port. */
    CHECK_INT(orc_tls_new(sctx, NULL, &s), ==, 0);
    CHECK_INT(orc_tls_recv(s, http, strlen(http), &plain), ==, ORC_EPROTO);
    CHECKF(strstr(orc_tls_errmsg(s), "http request") != NULL, "%s", orc_tls_errmsg(s));
    CHECK_INT(orc_tls_recv(s, http, strlen(http), &plain), ==, ORC_EPROTO); /* stays dead */
    orc_tls_free(s);
    /* Random bytes, many seeds, whole or in pieces. */
    for (unsigned seed = 1; seed <= 200; seed++) {
        int rv = 0;
        CHECK_INT(orc_tls_new(sctx, NULL, &s), ==, 0);
        fill(junk, sizeof junk, seed);
        if (seed % 4 == 0) junk[0] = 0x16; /* looks like a handshake record */
        for (size_t off = 0; off < sizeof junk && rv == 0; off += 512)
            rv = orc_tls_recv(s, junk + off, seed % 2 ? 512 : sizeof junk - off, &plain);
        CHECK(plain.len == 0);
        orc_tls_free(s);
    }
    CHECK(plain.len == 0);
    orc_buf_free(&plain);
    orc_tls_ctx_unref(sctx);
    pki_free(&k);
    leak_check();
}

TEST(tampered_and_truncated_records)
{
    struct pki k = {0};
    struct orc_tls_trust tr;
    struct pair p;
    char *rec;
    size_t len;

    pki_make(&k, default_sans, 4);
    pair_open(&p, &k, trust_ca(&k, &tr), "127.0.0.1");
    CHECK_INT(orc_tls_send(p.c, "hello", 5), ==, 0);
    pump(&p);
    CHECK_STR(p.s_plain.data, "hello");
    /* Half a record: nothing yet, no error; the rest completes it. */
    CHECK_INT(orc_tls_send(p.c, "second message", 14), ==, 0);
    rec = orc_tls_take(p.c, &len);
    orc_buf_reset(&p.s_plain);
    CHECK_INT(orc_tls_recv(p.s, rec, len / 2, &p.s_plain), ==, 0);
    CHECK_INT(p.s_plain.len, ==, 0);
    CHECK_INT(orc_tls_recv(p.s, rec + len / 2, len - len / 2, &p.s_plain), ==, 0);
    CHECK_STR(p.s_plain.data, "second message");
    free(rec);
    /* One flipped bit in a record: the session fails, no plaintext. */
    CHECK_INT(orc_tls_send(p.c, "third message", 13), ==, 0);
    rec = orc_tls_take(p.c, &len);
    rec[len - 3] ^= 0x10;
    orc_buf_reset(&p.s_plain);
    CHECK_INT(orc_tls_recv(p.s, rec, len, &p.s_plain), ==, ORC_EPROTO);
    CHECK_INT(p.s_plain.len, ==, 0);
    CHECKF(strstr(orc_tls_errmsg(p.s), "bad record mac") || strstr(orc_tls_errmsg(p.s), "decrypt"),
           "%s", orc_tls_errmsg(p.s));
    free(rec);
    pair_close(&p);
    pki_free(&k);
    leak_check();
}

TEST(certificates_fit_checks)
{
    struct pki k = {0}, other = {0};
    char err[ORC_TLS_ERRLEN] = "", *cert = NULL, *key = NULL;
    const char *names[] = {"127.0.0.1", "localhost"};
    const char *missing[] = {"127.0.0.1", "10.0.0.9"};
    const char *bad_sans[] = {"ok.example", "bad name!"};

    pki_make(&k, default_sans, 4);
    pki_make(&other, default_sans, 4);
    CHECK_INT(orc_tls_cert_check(k.cert, err), ==, 0);
    CHECK_INT(orc_tls_key_check(k.cert, k.key, err), ==, 0);
    CHECK_INT(orc_tls_key_check(k.ca, k.ca_key, err), ==, 0);
    CHECK_INT(orc_tls_key_check(k.cert, other.key, err), ==, ORC_ECORRUPT);
    CHECK(strstr(err, "does not belong") != NULL);
    CHECK_INT(orc_tls_cert_check("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", err), ==, ORC_ECORRUPT);
    CHECK_INT(orc_tls_key_check(k.cert, "not a key", err), ==, ORC_ECORRUPT);
    CHECK_INT(orc_tls_cert_fits(k.cert, k.ca, names, 2, 30, err), ==, 0);
    CHECK_INT(orc_tls_cert_fits(k.cert, k.ca, missing, 2, 30, err), ==, ORC_EINVAL);
    CHECK(strstr(err, "10.0.0.9") != NULL);
    CHECK_INT(orc_tls_cert_fits(k.cert, other.ca, names, 2, 30, err), ==, ORC_EINVAL);
    CHECK(strstr(err, "not signed") != NULL);
    CHECK_INT(orc_tls_cert_fits(k.cert, k.ca, names, 2, 20000, err), ==, ORC_EINVAL);
    CHECK_INT(orc_tls_make_cert(k.ca, k.ca_key, "x", bad_sans, 2, 10, &cert, &key, err), ==, ORC_EINVAL);
    CHECK(strstr(err, "bad name!") != NULL);
    CHECK(cert == NULL && key == NULL);
    CHECK_INT(orc_tls_make_cert(k.ca, "garbage", "x", names, 2, 10, &cert, &key, err), ==, ORC_EINVAL);
    CHECK_INT(orc_tls_server_ctx(k.cert, other.key, &(struct orc_tls_ctx *){NULL}, err), ==, ORC_EINVAL);
    pki_free(&k);
    pki_free(&other);
    leak_check();
}

TEST(fingerprint_matches_openssl_cli)
{
    struct pki k = {0};
    char fp[ORC_TLS_FP_HEX + 1], err[ORC_TLS_ERRLEN], path[600], cmd[800], line[256], want[80];
    size_t n = 0;
    FILE *f;

    if (access("/usr/bin/openssl", X_OK) != 0) return; /* the CLI is optional */
    pki_make(&k, default_sans, 4);
    CHECK_INT(orc_tls_fingerprint(k.ca, fp, err), ==, 0);
    snprintf(path, sizeof path, "%s/ca.crt", test_tmpdir());
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(k.ca, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/openssl x509 -in %s -noout -fingerprint -sha256", path);
    f = popen(cmd, "r");
    CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
    pclose(f);
    for (const char *p = strchr(line, '='); p && *++p && *p != '\n';)
        if (*p != ':' && n < sizeof want - 1) want[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
    want[n] = '\0';
    CHECK_STR(fp, want);
    pki_free(&k);
}

/* ---- cipher suites (only AEAD under TLS 1.2) ---- */

/* An OpenSSL client of our own, limited to TLS 1.2 and `ciphers`, talking
 * to an orc server session in memory: true when the handshake completes. */
static bool raw_client_handshake(const struct pki *k, const char *ciphers)
{
    char err[ORC_TLS_ERRLEN] = "";
    struct orc_tls_ctx *sctx;
    struct orc_tls *s;
    struct orc_buf plain = ORC_BUF_INIT;
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *c;
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    bool done = false;
    int serr = 0;

    CHECKF(orc_tls_server_ctx(k->chain, k->key, &sctx, err) == 0, "%s", err);
    CHECK_INT(orc_tls_new(sctx, NULL, &s), ==, 0);
    SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
    CHECK(SSL_CTX_set_cipher_list(cctx, ciphers) == 1);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    c = SSL_new(cctx);
    SSL_set_bio(c, rb, wb);
    SSL_set_connect_state(c);
    for (int i = 0; i < 20 && !done && serr == 0; i++) {
        char buf[16384], *out;
        size_t len;
        int n;
        done = SSL_do_handshake(c) == 1;
        while ((n = BIO_read(wb, buf, sizeof buf)) > 0 && serr == 0) serr = orc_tls_recv(s, buf, (size_t)n, &plain);
        if ((out = orc_tls_take(s, &len)) != NULL) BIO_write(rb, out, (int)len);
        free(out);
    }
    done = done && serr == 0;
    SSL_free(c);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    orc_tls_free(s);
    orc_tls_ctx_unref(sctx);
    orc_buf_free(&plain);
    return done;
}

TEST(tls12_accepts_only_aead_suites)
{
    struct pki k = {0};

    pki_make(&k, default_sans, 4);
    CHECK(!raw_client_handshake(&k, "ECDHE-ECDSA-AES128-SHA"));
    CHECK(!raw_client_handshake(&k, "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256"));
    CHECK(raw_client_handshake(&k, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    CHECK(raw_client_handshake(&k, "ECDHE-ECDSA-CHACHA20-POLY1305"));
    CHECK(raw_client_handshake(&k, "ECDHE-ECDSA-AES256-GCM-SHA384"));
    pki_free(&k);
    leak_check();
}

/* ---- mutual TLS ---- */

struct member_pki {
    char *cert, *key;
};

static void member_cert(const struct pki *k, const char *org, const char *cn, struct member_pki *m)
{
    char err[ORC_TLS_ERRLEN] = "";

    CHECKF(orc_tls_make_cert_o(k->ca, k->ca_key, org, cn, NULL, 0, 10, &m->cert, &m->key, err) == 0,
           "%s", err);
}

/* A mutual pair: server presents `srv`, client `cli` (cli NULL: a client
 * that trusts the CA but presents nothing). Pumps to the end. */
static void mutual_open(struct pair *p, const struct pki *k, const struct pki *client_ca,
                        const struct member_pki *srv, const struct member_pki *cli)
{
    char err[ORC_TLS_ERRLEN] = "";
    struct orc_tls_mutual ms = {srv->cert, srv->key, k->ca};

    memset(p, 0, sizeof *p);
    CHECKF(orc_tls_mutual_ctx(&ms, true, &p->sctx, err) == 0, "%s", err);
    if (cli) {
        struct orc_tls_mutual mc = {cli->cert, cli->key, client_ca->ca};
        CHECKF(orc_tls_mutual_ctx(&mc, false, &p->cctx, err) == 0, "%s", err);
    } else {
        struct orc_tls_trust tr = {.ca_pem = client_ca->ca, .insecure = false};
        CHECKF(orc_tls_client_ctx(&tr, &p->cctx, err) == 0, "%s", err);
    }
    CHECK_INT(orc_tls_new(p->sctx, NULL, &p->s), ==, 0);
    CHECK_INT(orc_tls_new(p->cctx, NULL, &p->c), ==, 0);
    CHECK_INT(orc_tls_handshake(p->c), ==, 0);
    pump(p);
    /* TLS 1.3: the server judges the client's certificate after the
     * client's side is done; data afterwards shows the verdict. */
    if (p->c_err == 0 && p->s_err == 0) {
        CHECK_INT(orc_tls_send(p->c, "ping", 4), ==, 0);
        pump(p);
    }
}

TEST(mutual_tls_names_both_peers)
{
    struct pki k = {0};
    struct member_pki a = {0}, b = {0};
    struct orc_tls_subject sub;
    struct pair p;

    pki_make(&k, default_sans, 4);
    member_cert(&k, "system:orc-members", "orc-member:1", &a);
    member_cert(&k, "system:orc-members", "orc-member:2", &b);
    mutual_open(&p, &k, &k, &a, &b);
    CHECK_INT(p.s_err, ==, 0);
    CHECK_INT(p.c_err, ==, 0);
    CHECK(orc_tls_handshake_done(p.s) && orc_tls_handshake_done(p.c));
    CHECK_INT(orc_tls_peer_subject(p.s, &sub), ==, 0);
    CHECK_STR(sub.cn, "orc-member:2");
    CHECK_STR(sub.org, "system:orc-members");
    CHECK_INT(sub.n_org, ==, 1);
    CHECK_INT(orc_tls_peer_subject(p.c, &sub), ==, 0);
    CHECK_STR(sub.cn, "orc-member:1");
    CHECK_INT(p.s_plain.len, ==, 4);
    pair_close(&p);
    free(a.cert), free(a.key), free(b.cert), free(b.key);
    pki_free(&k);
    leak_check();
}

TEST(mutual_tls_refuses_strangers)
{
    struct pki k = {0}, other = {0};
    struct member_pki a = {0}, b = {0}, stranger = {0};
    struct orc_tls_subject sub;
    struct pair p;

    pki_make(&k, default_sans, 4);
    pki_make(&other, default_sans, 4);
    member_cert(&k, "system:orc-members", "orc-member:1", &a);
    member_cert(&k, "system:orc-members", "orc-member:2", &b);
    member_cert(&other, "system:orc-members", "orc-member:2", &stranger);
    /* a client without a certificate */
    mutual_open(&p, &k, &k, &a, NULL);
    CHECK(p.s_err != 0 || p.c_err != 0);
    CHECK_INT(p.s_plain.len, ==, 0);
    CHECK(orc_tls_peer_subject(p.s, &sub) != 0);
    pair_close(&p);
    /* a client certificate from another CA */
    mutual_open(&p, &k, &k, &a, &stranger);
    CHECK(p.s_err != 0);
    CHECK_INT(p.s_plain.len, ==, 0);
    pair_close(&p);
    /* a server certificate from another CA: the client refuses it */
    mutual_open(&p, &k, &other, &a, &stranger);
    CHECK(p.c_err != 0);
    pair_close(&p);
    free(a.cert), free(a.key), free(b.cert), free(b.key), free(stranger.cert), free(stranger.key);
    pki_free(&k);
    pki_free(&other);
    leak_check();
}

TEST(certificate_subjects)
{
    struct pki k = {0};
    struct member_pki m = {0};
    struct orc_tls_subject sub;
    char err[ORC_TLS_ERRLEN];

    pki_make(&k, default_sans, 4);
    CHECK_INT(orc_tls_cert_subject(k.cert, &sub, err), ==, 0);
    CHECK_STR(sub.cn, "orc-server");
    CHECK_STR(sub.org, "");
    CHECK_INT(sub.n_org, ==, 0);
    member_cert(&k, "system:orc-members", "orc-member:7", &m);
    CHECK_INT(orc_tls_cert_subject(m.cert, &sub, err), ==, 0);
    CHECK_STR(sub.cn, "orc-member:7");
    CHECK_STR(sub.org, "system:orc-members");
    CHECK_INT(orc_tls_cert_subject("garbage", &sub, err), ==, ORC_ECORRUPT);
    free(m.cert), free(m.key);
    pki_free(&k);
    leak_check();
}

TEST(outbox_peek_and_drop)
{
    struct pki k = {0};
    struct orc_tls_trust tr;
    struct pair p;
    struct orc_buf wire = ORC_BUF_INIT;
    const char *data;
    size_t len;

    pki_make(&k, default_sans, 4);
    pair_open(&p, &k, trust_ca(&k, &tr), "127.0.0.1");
    CHECK_INT(orc_tls_send(p.c, "hello", 5), ==, 0);
    pump(&p);
    CHECK_INT(p.s_plain.len, ==, 5);
    CHECK(orc_tls_peek(p.s, &len) == NULL && len == 0);
    CHECK_INT(orc_tls_send(p.s, "a reply in two pieces", 21), ==, 0);
    data = orc_tls_peek(p.s, &len);
    CHECK(data != NULL && len == orc_tls_pending(p.s) && len > 21);
    /* the peer gets the records whatever the pieces the wire carried */
    orc_buf_append(&wire, data, 7);
    orc_tls_drop(p.s, 7);
    data = orc_tls_peek(p.s, &len);
    orc_buf_append(&wire, data, len);
    orc_tls_drop(p.s, len);
    CHECK_INT(orc_tls_pending(p.s), ==, 0);
    CHECK_INT(orc_tls_recv(p.c, wire.data, wire.len, &p.c_plain), ==, 0);
    CHECK_INT(p.c_plain.len, ==, 21);
    CHECK(memcmp(p.c_plain.data, "a reply in two pieces", 21) == 0);
    orc_buf_free(&wire);
    pair_close(&p);
    pki_free(&k);
    leak_check();
}

/* A server asking for client certificates: a good one names its user and
 * groups; one from another CA still completes the handshake but names
 * nobody, with the reason; none is ORC_ENOENT. */
static int client_verdict(const struct pki *k, const char *cert, const char *key,
                          struct orc_tls_identity *id, char *why, size_t n)
{
    char err[ORC_TLS_ERRLEN] = "";
    struct orc_tls_trust t;
    const struct orc_tls_identity *got;
    const char *w;
    struct pair p;
    int rv;

    /* Contexts first: a session takes its settings when it is made. */
    memset(&p, 0, sizeof p);
    CHECKF(orc_tls_server_ctx(k->chain, k->key, &p.sctx, err) == 0, "%s", err);
    CHECKF(orc_tls_client_ctx(trust_ca(k, &t), &p.cctx, err) == 0, "%s", err);
    CHECKF(orc_tls_ctx_ask_client_cert(p.sctx, k->ca, err) == 0, "%s", err);
    if (cert) CHECKF(orc_tls_ctx_use_cert(p.cctx, cert, key, err) == 0, "%s", err);
    CHECK_INT(orc_tls_new(p.sctx, NULL, &p.s), ==, 0);
    CHECK_INT(orc_tls_new(p.cctx, "127.0.0.1", &p.c), ==, 0);
    CHECK_INT(orc_tls_send(p.c, "ping", 4), ==, 0);
    pump(&p);
    CHECK_INT(p.s_err, ==, 0);
    CHECK_INT(p.c_err, ==, 0);
    rv = orc_tls_peer_client(p.s, &got, &w);
    if (rv == 0) *id = *got;
    snprintf(why, n, "%s", w);
    pair_close(&p);
    return rv;
}

TEST(client_certificates_are_asked_for_and_checked)
{
    struct pki k = {0}, other = {0};
    struct orc_tls_identity id;
    char *cert, *key, err[ORC_TLS_ERRLEN], why[ORC_TLS_ERRLEN];
    const char *groups[] = {"dev", "ops", "system:masters"};

    pki_make(&k, default_sans, 4);
    pki_make(&other, default_sans, 4);
    CHECKF(orc_tls_make_client_cert(k.ca, k.ca_key, "alice", groups, 3, 3600, &cert, &key, err) == 0, "%s",
           err);
    CHECK_INT(client_verdict(&k, cert, key, &id, why, sizeof why), ==, 0);
    CHECK_STR(id.cn, "alice");
    CHECK_INT(id.n_org, ==, 3);
    CHECK_STR(id.orgs[0], "dev");
    CHECK_STR(id.orgs[2], "system:masters");
    free(cert);
    free(key);

    CHECK(orc_tls_make_client_cert(other.ca, other.ca_key, "alice", groups, 1, 3600, &cert, &key, err) == 0);
    CHECK_INT(client_verdict(&k, cert, key, &id, why, sizeof why), ==, ORC_EPERM);
    CHECK(strncmp(why, "x509: ", 6) == 0);
    free(cert);
    free(key);

    CHECK_INT(client_verdict(&k, NULL, NULL, &id, why, sizeof why), ==, ORC_ENOENT);
    /* Names that do not fit are refused, not cut. */
    CHECK(orc_tls_make_client_cert(k.ca, k.ca_key, "", NULL, 0, 3600, &cert, &key, err) == ORC_EINVAL);
    CHECK(orc_tls_make_client_cert(k.ca, k.ca_key, "bob", NULL, 0, 0, &cert, &key, err) == ORC_EINVAL);
    pki_free(&k);
    pki_free(&other);
    leak_check();
}

TEST(certificate_requests_are_signed_for_their_subject)
{
    struct pki k = {0};
    struct orc_tls_identity who;
    struct orc_tls_subject sub;
    char *csr, *key, *cert, err[ORC_TLS_ERRLEN], d1[ORC_TLS_FP_HEX + 1], d2[ORC_TLS_FP_HEX + 1];
    const char *groups[] = {"dev"};
    char *p;

    pki_make(&k, default_sans, 4);
    CHECKF(orc_tls_make_csr("carol", groups, 1, &csr, &key, err) == 0, "%s", err);
    CHECK(strstr(csr, "BEGIN CERTIFICATE REQUEST") != NULL);
    CHECKF(orc_tls_sign_csr(k.ca, k.ca_key, csr, 600, &cert, &who, err) == 0, "%s", err);
    CHECK_STR(who.cn, "carol");
    CHECK_INT(who.n_org, ==, 1);
    CHECK_INT(orc_tls_cert_subject(cert, &sub, err), ==, 0);
    CHECK_STR(sub.cn, "carol");
    CHECK_STR(sub.org, "dev");
    CHECK_INT(orc_tls_key_check(cert, key, err), ==, 0);
    CHECK_INT(orc_tls_cert_fits(cert, k.ca, NULL, 0, 0, err), ==, 0);
    free(cert);
    /* A request altered after signing, or not a request at all. */
    p = strstr(csr, "-----\n") + 6 + 40;
    *p = *p == 'A' ? 'B' : 'A';
    CHECK_INT(orc_tls_sign_csr(k.ca, k.ca_key, csr, 600, &cert, &who, err), ==, ORC_EINVAL);
    CHECK_INT(orc_tls_sign_csr(k.ca, k.ca_key, "junk", 600, &cert, &who, err), ==, ORC_EINVAL);
    free(csr);
    free(key);
    /* Derived tokens: the same for the same secret, another for another. */
    CHECK_INT(orc_tls_derive_token("s1", "label", d1), ==, 0);
    CHECK_INT(orc_tls_derive_token("s1", "label", d2), ==, 0);
    CHECK_STR(d1, d2);
    CHECK_INT((int)strlen(d1), ==, 64);
    CHECK_INT(orc_tls_derive_token("s2", "label", d2), ==, 0);
    CHECK(strcmp(d1, d2) != 0);
    pki_free(&k);
    leak_check();
}
