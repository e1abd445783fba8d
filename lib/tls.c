/* tls.c — TLS sessions over memory on OpenSSL 3: a BIO of our own reads the
 * ciphertext the caller hands in (no copy unless a record is split) and
 * appends output to an outbox the caller takes whole; contexts for servers,
 * CA-trusting, pinned and insecure clients, and mutual TLS. The cluster PKI
 * is in tls_cert.c. */
#include "lib/tls.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/orc.h"
#include "lib/tls_int.h"

#define RECORD_OVERHEAD 64 /* generous per-record framing + AEAD tag, for reserving */
#define READ_CHUNK 16384
/* TLS 1.2 offers only ECDHE with an AEAD cipher, as the Kubernetes API
 * server's defaults do (TLS 1.3's suites are all AEAD already): no CBC, no
 * SHA-1 MACs, no static RSA key exchange. */
#define AEAD_SUITES_TLS12                                                               \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                      \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                      \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3: AES-128-GCM first, as Go's (and so the Kubernetes API server's)
 * order on hardware with AES instructions; OpenSSL's default puts
 * AES-256-GCM first, ~30 % more CPU per byte on every watch stream and
 * relay. A server picks by its own order. */
#define SUITES_TLS13 "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"

struct orc_tls_ctx {
    SSL_CTX *ssl;
    atomic_int refs;
    bool server;
    bool check_name;
    char pin[ORC_TLS_FP_HEX + 1]; /* "" unless pinned to a CA fingerprint */
    orc_tls_sni_fn sni;
    void *sni_arg;
    X509_STORE *client_cas; /* a server asking for client certificates: their CAs */
};

struct orc_tls {
    struct orc_tls_ctx *ctx;
    SSL *ssl;
    const char *in; /* ciphertext being consumed, during orc_tls_recv only */
    size_t in_len;
    struct orc_buf keep;  /* unconsumed ciphertext carried to the next recv */
    struct orc_buf out;   /* the outbox */
    struct orc_buf early; /* plaintext sent before the handshake completed */
    bool handshake_done, peer_closed, shutdown_sent, failed;
    char errmsg[ORC_TLS_ERRLEN];
    /* The client certificate's verdict, found once per connection and
     * valid until `client_until` (its notAfter). */
    int client_rv; /* 1: not checked yet */
    time_t client_until;
    struct orc_tls_identity *client;
    char client_err[ORC_TLS_ERRLEN];
};


/* ---- the memory BIO: reads t->in, appends to t->out ---- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *data, int len)
{
    struct orc_tls *t = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    return orc_buf_append(&t->out, data, (size_t)len) == 0 ? len : -1;
}

static int bio_read(BIO *b, char *buf, int cap)
{
    struct orc_tls *t = BIO_get_data(b);
    size_t n = cap > 0 ? (size_t)cap : 0;

    if (n > t->in_len) n = t->in_len;
    BIO_clear_retry_flags(b);
    if (n == 0) {
        BIO_set_retry_read(b); /* no more for now: OpenSSL reports WANT_READ */
        return -1;
    }
    memcpy(buf, t->in, n);
    t->in += n;
    t->in_len -= n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct orc_tls *t = BIO_get_data(b);

    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return t ? (long)t->in_len : 0;
    case BIO_CTRL_WPENDING: return t ? (long)t->out.len : 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "orc-tls");

    if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read)
        && BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create)) {
        bio_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- contexts ---- */

static int ctx_new(const SSL_METHOD *method, bool server, struct orc_tls_ctx **out, char *errmsg)
{
    struct orc_tls_ctx *c = calloc(1, sizeof *c);

    if (c == NULL) return orc_tls__failf(errmsg, ORC_ENOMEM, "out of memory");
    c->ssl = SSL_CTX_new(method);
    if (c->ssl == NULL || SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION) != 1) {
        SSL_CTX_free(c->ssl);
        free(c);
        return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "TLS context");
    }
    atomic_init(&c->refs, 1);
    c->server = server;
    /* Renegotiation only adds attack surface to a connection we fully drive. */
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_cipher_list(c->ssl, AEAD_SUITES_TLS12) != 1
        || SSL_CTX_set_ciphersuites(c->ssl, SUITES_TLS13) != 1) {
        orc_tls_ctx_unref(c);
        return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "TLS cipher suites");
    }
    if (server) SSL_CTX_set_options(c->ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
    *out = c;
    return 0;
}

/* The session moves to the context chosen for its server name: OpenSSL
 * takes its own reference to that SSL_CTX, so the choice may be dropped
 * by its owner at any time after. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    struct orc_tls_ctx *c = arg, *other;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    (void)alert;
    if ((other = c->sni(c->sni_arg, name)) != NULL && other->ssl != c->ssl)
        SSL_set_SSL_CTX(ssl, other->ssl);
    return SSL_TLSEXT_ERR_OK;
}

void orc_tls_ctx_set_sni(struct orc_tls_ctx *ctx, orc_tls_sni_fn fn, void *arg)
{
    ctx->sni = fn;
    ctx->sni_arg = arg;
    SSL_CTX_set_tlsext_servername_arg(ctx->ssl, ctx);
    /* The macro's cast is missing in OpenSSL 3's headers: the generic form. */
    SSL_CTX_callback_ctrl(ctx->ssl, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          fn ? (void (*)(void))on_servername : NULL);
}

struct orc_tls_ctx *orc_tls_ctx_ref(struct orc_tls_ctx *ctx)
{
    if (ctx) atomic_fetch_add(&ctx->refs, 1);
    return ctx;
}

void orc_tls_ctx_unref(struct orc_tls_ctx *ctx)
{
    if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1) return;
    X509_STORE_free(ctx->client_cas);
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

/* The leaf, then every further certificate as chain to send along. */
static int use_chain(SSL_CTX *ssl, const char *cert_pem, char *errmsg)
{
    BIO *b = BIO_new_mem_buf(cert_pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, orc_tls__no_passphrase, NULL) : NULL;
    int rv = 0;

    if (x == NULL || SSL_CTX_use_certificate(ssl, x) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "certificate");
        goto out;
    }
    X509_free(x);
    while ((x = PEM_read_bio_X509(b, NULL, orc_tls__no_passphrase, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ssl, x) != 1) {
            rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate chain");
            goto out;
        }
    }
    x = NULL;
    ERR_clear_error(); /* the end of the PEM text reads as "no start line" */
out:
    X509_free(x);
    BIO_free(b);
    return rv;
}

/* What this side presents: its certificate chain and the key of the leaf. */
static int present(SSL_CTX *ssl, const char *cert_pem, const char *key_pem, char *errmsg)
{
    EVP_PKEY *key;
    int rv;

    if ((rv = use_chain(ssl, cert_pem, errmsg)) != 0) return rv;
    key = orc_tls__read_key(key_pem);
    if (key == NULL || SSL_CTX_use_PrivateKey(ssl, key) != 1)
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "private key");
    else if (SSL_CTX_check_private_key(ssl) != 1)
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "the key does not match its certificate");
    EVP_PKEY_free(key);
    return rv;
}

/* Every orc connection is kept alive: resuming a session would only cost
 * work (and a server's memory for its cache). */
static int no_resumption(SSL_CTX *ssl, bool server, char *errmsg)
{
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ssl, SSL_OP_NO_TICKET);
    if (server && SSL_CTX_set_num_tickets(ssl, 0) != 1)
        return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "TLS context");
    return 0;
}

int orc_tls_server_ctx(const char *cert_pem, const char *key_pem, struct orc_tls_ctx **out,
                       char *errmsg)
{
    struct orc_tls_ctx *c = NULL;
    int rv;

    if (cert_pem == NULL || key_pem == NULL || out == NULL)
        return orc_tls__failf(errmsg, ORC_EINVAL, "a TLS server needs a certificate and a key");
    ERR_clear_error();
    if ((rv = ctx_new(TLS_server_method(), true, &c, errmsg)) != 0) return rv;
    if ((rv = present(c->ssl, cert_pem, key_pem, errmsg)) != 0) goto err;
    /* An idle connection holds no record buffers (about 34 KiB each): a
     * server may hold thousands of idle ones. */
    SSL_CTX_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    if ((rv = no_resumption(c->ssl, true, errmsg)) != 0) goto err;
    *out = c;
    return 0;
err:
    orc_tls_ctx_unref(c);
    return rv;
}

static int add_cas(SSL_CTX *ssl, const char *ca_pem, char *errmsg)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ssl);
    BIO *b = BIO_new_mem_buf(ca_pem, -1);
    X509 *x;
    int n = 0, rv = 0;

    if (b == NULL) return orc_tls__failf(errmsg, ORC_ENOMEM, "out of memory");
    while ((x = PEM_read_bio_X509(b, NULL, orc_tls__no_passphrase, NULL)) != NULL) {
        int ok = X509_STORE_add_cert(store, x); /* takes its own reference */
        X509_free(x);
        if (ok != 1) {
            rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "CA certificate");
            break;
        }
        n++;
    }
    BIO_free(b);
    if (rv == 0 && n == 0) rv = orc_tls__failf(errmsg, ORC_EINVAL, "no certificate in the CA PEM text");
    ERR_clear_error();
    return rv;
}

/* Verification for a pinned context: the certificate with the pinned
 * fingerprint among those the server sent becomes the only trust anchor,
 * then the usual full check runs (signatures, validity, host name). */
static int pin_verify(X509_STORE_CTX *x, void *arg)
{
    struct orc_tls_ctx *c = arg;
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(x);
    STACK_OF(X509) *anchors;
    X509 *anchor = NULL;
    char fp[ORC_TLS_FP_HEX + 1];
    int ok;

    for (int i = 0; sent && i < sk_X509_num(sent) && anchor == NULL; i++) {
        X509 *cert = sk_X509_value(sent, i);
        if (orc_tls__fingerprint(cert, fp) == 0 && strcmp(fp, c->pin) == 0) anchor = cert;
    }
    if (anchor == NULL) {
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    anchors = sk_X509_new_null();
    if (anchors == NULL || sk_X509_push(anchors, anchor) <= 0) {
        sk_X509_free(anchors);
        X509_STORE_CTX_set_error(x, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    X509_STORE_CTX_set0_trusted_stack(x, anchors);
    ok = X509_verify_cert(x);
    X509_STORE_CTX_set0_trusted_stack(x, NULL);
    sk_X509_free(anchors); /* the certificate itself belongs to the peer's chain */
    return ok == 1;
}

/* 64 hex digits, any case, optionally separated by ':'. */
static int parse_pin(const char *in, char out[ORC_TLS_FP_HEX + 1])
{
    size_t n = 0;

    for (; *in; in++) {
        char ch = *in;
        if (ch == ':') continue;
        if (ch >= 'A' && ch <= 'F') ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) || n == ORC_TLS_FP_HEX) return -1;
        out[n++] = ch;
    }
    out[n] = '\0';
    return n == ORC_TLS_FP_HEX ? 0 : -1;
}

int orc_tls_client_ctx(const struct orc_tls_trust *trust, struct orc_tls_ctx **out, char *errmsg)
{
    static const struct orc_tls_trust system = {0};
    struct orc_tls_ctx *c = NULL;
    int rv;

    if (trust == NULL) trust = &system;
    if ((trust->ca_pem != NULL) + (trust->ca_fingerprint != NULL) + trust->insecure > 1 || out == NULL)
        return orc_tls__failf(errmsg, ORC_EINVAL, "give one of a CA, a CA fingerprint, or insecure");
    ERR_clear_error();
    if ((rv = ctx_new(TLS_client_method(), false, &c, errmsg)) != 0) return rv;
    if (trust->insecure) {
        SSL_CTX_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
        *out = c;
        return 0;
    }
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    c->check_name = true;
    if (trust->ca_fingerprint) {
        if (parse_pin(trust->ca_fingerprint, c->pin) != 0) {
            rv = orc_tls__failf(errmsg, ORC_EINVAL, "a CA fingerprint is %d hex digits (SHA-256)",
                       ORC_TLS_FP_HEX);
            goto err;
        }
        SSL_CTX_set_cert_verify_callback(c->ssl, pin_verify, c);
    } else if (trust->ca_pem) {
        if ((rv = add_cas(c->ssl, trust->ca_pem, errmsg)) != 0) goto err;
    } else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EIO, "system CA store");
        goto err;
    }
    *out = c;
    return 0;
err:
    orc_tls_ctx_unref(c);
    return rv;
}

/* ---- mutual TLS ---- */

int orc_tls_mutual_ctx(const struct orc_tls_mutual *m, bool server, struct orc_tls_ctx **out,
                       char *errmsg)
{
    struct orc_tls_ctx *c = NULL;
    int rv;

    if (m == NULL || m->cert_pem == NULL || m->key_pem == NULL || m->ca_pem == NULL || out == NULL)
        return orc_tls__failf(errmsg, ORC_EINVAL, "mutual TLS needs a certificate, its key and a CA");
    ERR_clear_error();
    rv = ctx_new(server ? TLS_server_method() : TLS_client_method(), server, &c, errmsg);
    if (rv != 0) return rv;
    if ((rv = present(c->ssl, m->cert_pem, m->key_pem, errmsg)) != 0 ||
        (rv = add_cas(c->ssl, m->ca_pem, errmsg)) != 0)
        goto err;
    /* OpenSSL checks the peer's extended key usage for its role: a client
     * certificate must allow clientAuth, a server's serverAuth. */
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
    if ((rv = no_resumption(c->ssl, server, errmsg)) != 0) goto err;
    *out = c;
    return 0;
err:
    orc_tls_ctx_unref(c);
    return rv;
}

int orc_tls_peer_subject(const struct orc_tls *t, struct orc_tls_subject *out)
{
    X509 *peer = t->handshake_done && !t->failed ? SSL_get0_peer_certificate(t->ssl) : NULL;

    memset(out, 0, sizeof *out);
    if (peer == NULL || SSL_get_verify_result(t->ssl) != X509_V_OK) return ORC_ENOENT;
    return orc_tls__subject(peer, out);
}

int orc_tls_ctx_use_cert(struct orc_tls_ctx *ctx, const char *cert_pem, const char *key_pem, char *errmsg)
{
    if (ctx == NULL || ctx->server || cert_pem == NULL || key_pem == NULL)
        return orc_tls__failf(errmsg, ORC_EINVAL, "a client certificate needs a client context and a key");
    ERR_clear_error();
    return present(ctx->ssl, cert_pem, key_pem, errmsg);
}

/* ---- client certificates (a server that asks for them) ---- */

/* The handshake takes any certificate: whom it names is decided per
 * request (orc_tls_peer_client), so that a bad one gets an HTTP 401 with a
 * reason, as the Kubernetes API server answers, not a failed handshake. */
static int accept_any(int preverify_ok, X509_STORE_CTX *x)
{
    (void)preverify_ok;
    (void)x;
    return 1;
}

int orc_tls_ctx_ask_client_cert(struct orc_tls_ctx *ctx, const char *ca_pem, char *errmsg)
{
    X509_STORE *store;
    SSL_CTX *tmp;
    int rv;

    if (ctx == NULL || !ctx->server || ca_pem == NULL || ctx->client_cas)
        return orc_tls__failf(errmsg, ORC_EINVAL, "client certificates need a server context and a CA");
    ERR_clear_error();
    /* add_cas fills an SSL_CTX's store: borrow one to parse the PEM. */
    if ((tmp = SSL_CTX_new(TLS_server_method())) == NULL)
        return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "TLS context");
    if ((rv = add_cas(tmp, ca_pem, errmsg)) != 0) {
        SSL_CTX_free(tmp);
        return rv;
    }
    store = SSL_CTX_get_cert_store(tmp);
    if (X509_STORE_up_ref(store) != 1) {
        SSL_CTX_free(tmp);
        return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "CA store");
    }
    SSL_CTX_free(tmp);
    ctx->client_cas = store;
    SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, accept_any);
    return 0;
}

/* Verifies the peer's certificate (with the chain it sent) against the
 * client CAs for clientAuth, now. */
static int verify_client(struct orc_tls *t, X509 *leaf)
{
    X509_STORE_CTX *x = X509_STORE_CTX_new();
    int ok, err;

    if (x == NULL || X509_STORE_CTX_init(x, t->ctx->client_cas, leaf, SSL_get_peer_cert_chain(t->ssl)) != 1) {
        X509_STORE_CTX_free(x);
        ERR_clear_error();
        snprintf(t->client_err, sizeof t->client_err, "out of memory");
        return ORC_ENOMEM;
    }
    X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT);
    ok = X509_verify_cert(x);
    err = X509_STORE_CTX_get_error(x);
    X509_STORE_CTX_free(x);
    ERR_clear_error();
    if (ok == 1) return 0;
    snprintf(t->client_err, sizeof t->client_err, "x509: %s", X509_verify_cert_error_string(err));
    return ORC_EPERM;
}

static int check_client(struct orc_tls *t)
{
    X509 *leaf = SSL_get0_peer_certificate(t->ssl);
    struct tm tm;
    int rv;

    if (leaf == NULL) return ORC_ENOENT;
    if ((rv = verify_client(t, leaf)) != 0) return rv;
    if ((t->client = calloc(1, sizeof *t->client)) == NULL) return ORC_ENOMEM;
    if ((rv = orc_tls__identity(leaf, t->client)) != 0) {
        snprintf(t->client_err, sizeof t->client_err,
                 "the certificate's subject has several or unreadable names");
        return rv;
    }
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1) return ORC_EINVAL;
    t->client_until = timegm(&tm);
    return 0;
}

int orc_tls_peer_client(struct orc_tls *t, const struct orc_tls_identity **out, const char **why)
{
    *out = NULL;
    *why = "";
    if (t->ctx->client_cas == NULL || !t->handshake_done || t->failed) return ORC_ENOENT;
    if (t->client_rv == 1) t->client_rv = check_client(t);
    if (t->client_rv == 0 && time(NULL) >= t->client_until) {
        t->client_rv = ORC_EPERM;
        snprintf(t->client_err, sizeof t->client_err, "x509: certificate has expired");
    }
    *why = t->client_err;
    if (t->client_rv == 0) *out = t->client;
    return t->client_rv;
}

/* ---- sessions ---- */

static int set_peer(struct orc_tls *t, const char *name)
{
    if (orc_tls__is_ip(name)) {
        if (t->ctx->check_name && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) != 1)
            return ORC_EINVAL;
        return 0;
    }
    if (SSL_set_tlsext_host_name(t->ssl, name) != 1) return ORC_EINVAL;
    if (t->ctx->check_name) {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, name) != 1) return ORC_EINVAL;
    }
    return 0;
}

int orc_tls_new(struct orc_tls_ctx *ctx, const char *peer_name, struct orc_tls **out)
{
    struct orc_tls *t;
    BIO *bio;

    if (ctx == NULL || out == NULL) return ORC_EINVAL;
    if (pthread_once(&bio_once, bio_method_init) != 0 || bio_method == NULL) return ORC_ENOMEM;
    if ((t = calloc(1, sizeof *t)) == NULL) return ORC_ENOMEM;
    t->ctx = orc_tls_ctx_ref(ctx);
    t->client_rv = 1;
    t->ssl = SSL_new(ctx->ssl);
    bio = t->ssl ? BIO_new(bio_method) : NULL;
    if (bio == NULL) {
        orc_tls_free(t);
        ERR_clear_error();
        return ORC_ENOMEM;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio); /* one reference, now the session's */
    if (ctx->server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (peer_name && set_peer(t, peer_name) != 0) {
            orc_tls_free(t);
            ERR_clear_error();
            return ORC_EINVAL;
        }
    }
    *out = t;
    return 0;
}

void orc_tls_free(struct orc_tls *t)
{
    if (t == NULL) return;
    SSL_free(t->ssl);
    free(t->client);
    orc_buf_free(&t->keep);
    orc_buf_free(&t->out);
    if (t->early.data) explicit_bzero(t->early.data, t->early.cap); /* may hold a token */
    orc_buf_free(&t->early);
    orc_tls_ctx_unref(t->ctx);
    free(t);
}

/* The session is dead: says why, from the verification result when a
 * certificate was refused, else from OpenSSL's error queue. */
static int session_fail(struct orc_tls *t, const char *what)
{
    long vr = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    t->failed = true;
    if (vr != X509_V_OK)
        snprintf(t->errmsg, sizeof t->errmsg, "%s: certificate verify failed: %s%s", what,
                 X509_verify_cert_error_string(vr),
                 vr == X509_V_ERR_CERT_UNTRUSTED && t->ctx->pin[0]
                     ? " (no certificate matches the CA fingerprint in the token)"
                     : "");
    else
        snprintf(t->errmsg, sizeof t->errmsg, "%s: %s", what, reason ? reason : "connection failed");
    ERR_clear_error();
    return ORC_EPROTO;
}

/* After a non-positive SSL_* result: 0 when it only wants more input. */
static int check_io(struct orc_tls *t, int r, const char *what)
{
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    case SSL_ERROR_ZERO_RETURN: t->peer_closed = true; return 0;
    default: return session_fail(t, what);
    }
}

static int write_plain(struct orc_tls *t, const char *data, size_t len)
{
    /* Room for every record up front: the outbox grows once per send. */
    if (orc_buf_reserve(&t->out, len + (len / READ_CHUNK + 1) * RECORD_OVERHEAD) != 0)
        return ORC_ENOMEM;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = SSL_write(t->ssl, data, chunk);
        if (n <= 0) return session_fail(t, "TLS write");
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int drive_handshake(struct orc_tls *t)
{
    int r = SSL_do_handshake(t->ssl);
    int rv;

    if (r != 1) return check_io(t, r, "TLS handshake");
    t->handshake_done = true;
    if (t->early.len == 0) return 0;
    rv = write_plain(t, t->early.data, t->early.len);
    explicit_bzero(t->early.data, t->early.cap);
    orc_buf_free(&t->early);
    return rv;
}

static int read_plain(struct orc_tls *t, struct orc_buf *plain)
{
    for (;;) {
        size_t room;
        int n;

        if (orc_buf_reserve(plain, READ_CHUNK) != 0) return ORC_ENOMEM;
        room = plain->cap - plain->len - 1;
        n = SSL_read(t->ssl, plain->data + plain->len, room > INT_MAX ? INT_MAX : (int)room);
        if (n <= 0) return check_io(t, n, "TLS");
        plain->len += (size_t)n;
        plain->data[plain->len] = '\0';
    }
}

/* Whatever OpenSSL left unread waits in `keep` for the next call. */
static int keep_rest(struct orc_tls *t, bool from_keep)
{
    int rv = 0;

    if (t->in_len == 0 || t->failed || t->peer_closed) {
        orc_buf_reset(&t->keep);
    } else if (from_keep) {
        memmove(t->keep.data, t->in, t->in_len);
        t->keep.len = t->in_len;
    } else {
        orc_buf_reset(&t->keep);
        rv = orc_buf_append(&t->keep, t->in, t->in_len);
    }
    t->in = NULL;
    t->in_len = 0;
    return rv;
}

int orc_tls_recv(struct orc_tls *t, const void *cipher, size_t len, struct orc_buf *plain)
{
    bool from_keep = t->keep.len > 0;
    int rv = 0, rv2;

    if (t->failed) return ORC_EPROTO;
    if (t->peer_closed || len == 0) return 0;
    ERR_clear_error();
    if (from_keep) {
        if (orc_buf_append(&t->keep, cipher, len) != 0) return ORC_ENOMEM;
        t->in = t->keep.data;
        t->in_len = t->keep.len;
    } else {
        t->in = cipher;
        t->in_len = len;
    }
    if (!t->handshake_done) rv = drive_handshake(t);
    if (rv == 0 && t->handshake_done && !t->peer_closed) rv = read_plain(t, plain);
    rv2 = keep_rest(t, from_keep);
    return rv ? rv : rv2;
}

int orc_tls_handshake(struct orc_tls *t)
{
    if (t->failed) return ORC_EPROTO;
    if (t->handshake_done) return 0;
    ERR_clear_error();
    return drive_handshake(t);
}

int orc_tls_send(struct orc_tls *t, const void *plain, size_t len)
{
    if (t->failed) return ORC_EPROTO;
    if (t->shutdown_sent) return ORC_ESHUTDOWN;
    if (len == 0) return 0;
    ERR_clear_error();
    if (t->handshake_done) return write_plain(t, plain, len);
    if (orc_buf_append(&t->early, plain, len) != 0) return ORC_ENOMEM;
    return drive_handshake(t); /* a client's first call puts its hello in the outbox */
}

int orc_tls_shutdown(struct orc_tls *t)
{
    if (t->shutdown_sent) return 0;
    t->shutdown_sent = true;
    if (!t->handshake_done || t->failed) return 0;
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl); /* 0 or 1: close_notify is in the outbox either way */
    ERR_clear_error();
    return 0;
}

size_t orc_tls_pending(const struct orc_tls *t) { return t->out.len; }

char *orc_tls_take(struct orc_tls *t, size_t *len)
{
    if (t->out.len == 0) {
        *len = 0;
        return NULL;
    }
    return orc_buf_steal(&t->out, len);
}

const char *orc_tls_peek(const struct orc_tls *t, size_t *len)
{
    *len = t->out.len;
    return t->out.len ? t->out.data : NULL;
}

void orc_tls_drop(struct orc_tls *t, size_t n)
{
    if (n >= t->out.len) {
        orc_buf_reset(&t->out);
        return;
    }
    memmove(t->out.data, t->out.data + n, t->out.len - n);
    t->out.len -= n;
}

bool orc_tls_handshake_done(const struct orc_tls *t) { return t->handshake_done; }
bool orc_tls_peer_closed(const struct orc_tls *t) { return t->peer_closed; }
const char *orc_tls_errmsg(const struct orc_tls *t) { return t->errmsg; }
