/* certs.c — the member's TLS files: the cluster CA made on a first start or
 * received on join, this member's serving and Raft certificates issued
 * with it, all checked at every start so a damaged file is reported by
 * name, and the cluster token that carries the CA's fingerprint. */
#include "orcd/certs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/store.h"

#define MAX_PEM (64 * 1024)
#define RENEW_DAYS 30 /* a serving certificate closer than this to expiry is reissued */

static void wipe_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

void orcd_certs_clear(struct orcd_certs *c)
{
    free(c->ca);
    wipe_free(c->ca_key);
    free(c->cert);
    wipe_free(c->key);
    free(c->chain);
    free(c->raft_cert);
    wipe_free(c->raft_key);
    memset(c, 0, sizeof *c);
}

static void path_of(const char *dir, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* Reads a PEM file whole. ORC_ENOENT quietly when missing; other failures
 * are logged naming the file. */
static int read_pem(const char *dir, const char *name, char **out)
{
    char path[4200];
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    path_of(dir, name, path, sizeof path);
    rv = orc_file_read(path, MAX_PEM, &b);
    if (rv == 0 && b.len == 0) rv = ORC_ECORRUPT;
    if (rv == 0) {
        *out = orc_buf_steal(&b, NULL);
        return 0;
    }
    if (b.data) explicit_bzero(b.data, b.cap);
    orc_buf_free(&b);
    if (rv != ORC_ENOENT)
        log_error("orcd", "%s: cannot read it: %s", path,
                  rv == ORC_ECORRUPT ? "the file is empty" : orc_strerror(rv));
    return rv == ORC_ENOENT ? rv : ORC_ECORRUPT;
}

static int write_pem(const char *dir, const char *name, const char *pem, mode_t mode)
{
    char path[4200];
    int rv;

    path_of(dir, name, path, sizeof path);
    rv = orc_file_write(path, pem, strlen(pem), mode);
    if (rv != 0) log_error("orcd", "%s: cannot write it: %s", path, orc_strerror(rv));
    return rv;
}

static int corrupt(const char *dir, const char *name, const char *why)
{
    char path[4200];

    path_of(dir, name, path, sizeof path);
    if (strncmp(name, "ca.", 3) == 0)
        log_error("orcd", "%s: %s; restore it from a backup, or copy ca.crt and ca.key from "
                          "another member", path, why);
    else if (strncmp(name, "raft.", 5) == 0)
        log_error("orcd", "%s: %s; remove raft.crt and raft.key to have them issued again", path, why);
    else
        log_error("orcd", "%s: %s; remove server.crt and server.key to have them issued again",
                  path, why);
    return ORC_ECORRUPT;
}

/* Checks a CA pair and fills the fingerprint. */
static int check_ca(const char *dir, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN];

    if (orc_tls_cert_check(c->ca, err) != 0) return corrupt(dir, "ca.crt", err);
    if (orc_tls_key_check(c->ca, c->ca_key, err) != 0) return corrupt(dir, "ca.key", err);
    if (orc_tls_fingerprint(c->ca, c->fingerprint, err) != 0) return corrupt(dir, "ca.crt", err);
    return 0;
}

int orcd_certs_load_ca(const char *dir, struct orcd_certs *c)
{
    int rv = read_pem(dir, "ca.crt", &c->ca);

    if (rv != 0) return rv;
    rv = read_pem(dir, "ca.key", &c->ca_key);
    if (rv == ORC_ENOENT) rv = corrupt(dir, "ca.key", "missing while ca.crt is there");
    return rv ? rv : check_ca(dir, c);
}

int orcd_certs_new_ca(const char *dir, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN];
    int rv = orc_tls_make_ca("orc-ca", ORC_TLS_CA_DAYS, &c->ca, &c->ca_key, err);

    if (rv != 0) {
        log_error("orcd", "cannot make the cluster CA: %s", err);
        return rv;
    }
    /* The key first: a ca.crt without its key would read as damaged. */
    if ((rv = write_pem(dir, "ca.key", c->ca_key, 0600)) != 0) return rv;
    if ((rv = write_pem(dir, "ca.crt", c->ca, 0644)) != 0) return rv;
    return check_ca(dir, c);
}

int orcd_certs_save_ca(const char *dir, const char *ca_pem, const char *ca_key_pem,
                       const char *want_fp, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN], fp[ORC_TLS_FP_HEX + 1];
    int rv;

    if (orc_tls_fingerprint(ca_pem, fp, err) != 0 || strcmp(fp, want_fp) != 0
        || orc_tls_key_check(ca_pem, ca_key_pem, err) != 0) {
        log_error("orcd", "the cluster answered the join with a CA that is not the one the token "
                          "names (or its key does not match)");
        return ORC_EPERM;
    }
    if ((c->ca = strdup(ca_pem)) == NULL || (c->ca_key = strdup(ca_key_pem)) == NULL)
        return ORC_ENOMEM;
    if ((rv = write_pem(dir, "ca.key", c->ca_key, 0600)) != 0) return rv;
    if ((rv = write_pem(dir, "ca.crt", c->ca, 0644)) != 0) return rv;
    return check_ca(dir, c);
}

static int issue(const char *dir, const char *const *names, size_t n, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN];
    int rv;

    free(c->cert);
    wipe_free(c->key);
    c->cert = c->key = NULL;
    rv = orc_tls_make_cert(c->ca, c->ca_key, "orcd", names, n, ORC_TLS_CERT_DAYS, &c->cert, &c->key,
                           err);
    if (rv != 0) {
        log_error("orcd", "cannot issue this member's certificate: %s", err);
        return rv;
    }
    if ((rv = write_pem(dir, "server.key", c->key, 0600)) != 0) return rv;
    return write_pem(dir, "server.crt", c->cert, 0644);
}

/* 0 to reuse server.crt/server.key, ORC_ENOENT to issue new ones. */
static int load_serving(const char *dir, const char *const *names, size_t n, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN];
    int rc = read_pem(dir, "server.crt", &c->cert);
    int rk = read_pem(dir, "server.key", &c->key);

    if (rc == ORC_ENOENT && rk == ORC_ENOENT) return ORC_ENOENT;
    if (rc != 0 || rk != 0) {
        if (rc == ORC_ENOENT) return corrupt(dir, "server.crt", "missing while server.key is there");
        if (rk == ORC_ENOENT) return corrupt(dir, "server.key", "missing while server.crt is there");
        return ORC_ECORRUPT; /* already logged */
    }
    if (orc_tls_cert_check(c->cert, err) != 0) return corrupt(dir, "server.crt", err);
    if (orc_tls_key_check(c->cert, c->key, err) != 0) return corrupt(dir, "server.key", err);
    if (orc_tls_cert_fits(c->cert, c->ca, names, n, RENEW_DAYS, err) != 0) {
        log_info("orcd", "issuing a new server certificate: the one in %s/server.crt does not "
                         "fit (%s)", dir, err);
        return ORC_ENOENT;
    }
    return 0;
}

int orcd_certs_serving(const char *dir, const char *const *names, size_t n, struct orcd_certs *c)
{
    struct orc_buf chain = ORC_BUF_INIT;
    int rv = load_serving(dir, names, n, c);

    if (rv == ORC_ENOENT) rv = issue(dir, names, n, c);
    if (rv != 0) return rv;
    if (orc_buf_puts(&chain, c->cert) != 0 || orc_buf_puts(&chain, c->ca) != 0) {
        orc_buf_free(&chain);
        return ORC_ENOMEM;
    }
    free(c->chain);
    c->chain = orc_buf_steal(&chain, NULL);
    return 0;
}

int orcd_certs_incluster_names(const char *service_cidr, const char *cluster_domain,
                               struct orcd_incluster_names *out)
{
    struct orc_pool pool;
    char spec[80];

    snprintf(spec, sizeof spec, "ip:%s", service_cidr ? service_cidr : "10.43.0.0/16");
    if (orc_pool_parse(spec, 32, &pool) != 0 || pool.size == 0) return ORC_EINVAL;
    /* the address bootstrap.c gives default/kubernetes */
    orc_pool_item(&pool, 0, out->ip, sizeof out->ip);
    snprintf(out->fqdn, sizeof out->fqdn, "kubernetes.default.svc.%s",
             cluster_domain && *cluster_domain ? cluster_domain : "cluster.local");
    out->names[0] = out->ip;
    out->names[1] = "kubernetes";
    out->names[2] = "kubernetes.default";
    out->names[3] = "kubernetes.default.svc";
    out->names[4] = out->fqdn;
    return 0;
}

/* ---- the Raft peer certificate ---- */

/* 0 when raft.crt is member id's, from this CA, and not about to expire. */
static int raft_cert_fits(const struct orcd_certs *c, uint64_t id, char *err)
{
    struct orc_tls_subject sub;
    char cn[64];

    if (orc_tls_cert_fits(c->raft_cert, c->ca, NULL, 0, RENEW_DAYS, err) != 0) return ORC_EINVAL;
    snprintf(cn, sizeof cn, STORE_MEMBER_CN "%" PRIu64, id);
    if (orc_tls_cert_subject(c->raft_cert, &sub, err) != 0 || sub.n_org != 1
        || strcmp(sub.org, STORE_MEMBER_ORG) != 0 || strcmp(sub.cn, cn) != 0) {
        snprintf(err, ORC_TLS_ERRLEN, "it is not the member certificate of member %" PRIu64, id);
        return ORC_EINVAL;
    }
    return 0;
}

/* 0 to reuse raft.crt/raft.key, ORC_ENOENT to issue new ones. */
static int load_raft(const char *dir, uint64_t id, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN];
    int rc = read_pem(dir, "raft.crt", &c->raft_cert);
    int rk = read_pem(dir, "raft.key", &c->raft_key);

    if (rc == ORC_ENOENT && rk == ORC_ENOENT) return ORC_ENOENT;
    if (rc == ORC_ENOENT) return corrupt(dir, "raft.crt", "missing while raft.key is there");
    if (rk == ORC_ENOENT) return corrupt(dir, "raft.key", "missing while raft.crt is there");
    if (rc != 0 || rk != 0) return ORC_ECORRUPT; /* already logged */
    if (orc_tls_cert_check(c->raft_cert, err) != 0) return corrupt(dir, "raft.crt", err);
    if (orc_tls_key_check(c->raft_cert, c->raft_key, err) != 0) return corrupt(dir, "raft.key", err);
    if (raft_cert_fits(c, id, err) != 0) {
        log_info("orcd", "issuing a new Raft certificate: the one in %s/raft.crt does not fit (%s)",
                 dir, err);
        return ORC_ENOENT;
    }
    return 0;
}

int orcd_certs_raft(const char *dir, uint64_t id, struct orcd_certs *c)
{
    char err[ORC_TLS_ERRLEN], cn[64];
    int rv = load_raft(dir, id, c);

    if (rv != ORC_ENOENT) return rv;
    free(c->raft_cert);
    wipe_free(c->raft_key);
    c->raft_cert = c->raft_key = NULL;
    snprintf(cn, sizeof cn, STORE_MEMBER_CN "%" PRIu64, id);
    rv = orc_tls_make_cert_o(c->ca, c->ca_key, STORE_MEMBER_ORG, cn, NULL, 0, ORC_TLS_CERT_DAYS,
                             &c->raft_cert, &c->raft_key, err);
    if (rv != 0) {
        log_error("orcd", "cannot issue this member's Raft certificate: %s", err);
        return rv;
    }
    /* Only this member reads its Raft identity: the certificate too. */
    if ((rv = write_pem(dir, "raft.key", c->raft_key, 0600)) != 0) return rv;
    return write_pem(dir, "raft.crt", c->raft_cert, 0600);
}

int orcd_token_make(const char *ca_fingerprint, const char *secret, char *out, size_t n)
{
    int len = snprintf(out, n, ORCD_TOKEN_PREFIX "%s.%s", ca_fingerprint, secret);
    return len > 0 && (size_t)len < n ? 0 : ORC_ETOOBIG;
}

int orcd_token_fingerprint(const char *token, char out[ORC_TLS_FP_HEX + 1])
{
    size_t pl = strlen(ORCD_TOKEN_PREFIX);
    const char *fp = token + pl;

    if (strncmp(token, ORCD_TOKEN_PREFIX, pl) != 0 || strlen(fp) < ORC_TLS_FP_HEX + 2
        || fp[ORC_TLS_FP_HEX] != '.')
        return ORC_EINVAL;
    for (int i = 0; i < ORC_TLS_FP_HEX; i++) {
        char ch = fp[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return ORC_EINVAL;
        out[i] = ch;
    }
    out[ORC_TLS_FP_HEX] = '\0';
    return 0;
}
