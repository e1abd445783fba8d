/* certrotate.c — the node's client certificate renewed while the agent
 * runs, as the kubelet's certificate manager: once a random 70-90 % of its
 * life has passed, a new P-256 key and a CertificateSigningRequest for
 * system:node:NAME (signer kube-apiserver-client-kubelet, which the
 * csrapproving controller approves and csrsigning signs), polled until
 * issued; then agent-client.crt / agent-client.key (0600) replace the old
 * ones atomically and the API client presents the new pair on its new
 * connections. A failure is logged and tried again shortly; the old
 * certificate stays in use meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "client/rest.h"
#include "lib/base64.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/tls.h"

#define CHECK_MAX_MS (5 * 60 * 1000) /* look at least this often */
#define POLL_MS 2000                 /* while the request waits */
#define RETRY_MS 10000               /* after a failure */
#define WAIT_MAX_S 300               /* a request not issued by then is given up */
#define CSR_PATH "/apis/certificates.k8s.io/v1/certificatesigningrequests"

static void on_timer(uv_timer_t *t);

static void arm(struct agent *a, uint64_t ms)
{
    if (!a->stopping && a->cert_timer_open) uv_timer_start(&a->cert_timer, on_timer, ms, 0);
}

static int64_t wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* The kubelet's jitteryDuration: 70-90 % of the certificate's life. */
static int plan(struct agent *a)
{
    int64_t nb, na;
    char err[ORC_TLS_ERRLEN];
    uint32_t r;

    if (orc_tls_cert_times(a->client_cert_pem, &nb, &na, err) != 0) {
        log_error("agent", "the node's client certificate: %s", err);
        return ORC_ECORRUPT;
    }
    orc_rand_bytes(&r, sizeof r);
    a->cert_deadline = nb + (int64_t)((double)(na - nb) * (0.7 + 0.2 * (r / 4294967296.0)));
    log_info("agent", "the node's client certificate expires in %llds; renewing in %llds",
             (long long)(na - wall_s()), (long long)(a->cert_deadline - wall_s()));
    return 0;
}

static void failed(struct agent *a, const char *what, const char *why)
{
    log_warn("agent", "renewing the node's client certificate: %s: %s (trying again in %ds)", what, why,
             RETRY_MS / 1000);
    a->cert_busy = false;
    a->cert_csr[0] = '\0';
    arm(a, RETRY_MS);
}

/* ---- the issued certificate ---- */

static int write_pair(struct agent *a, const char *cert, const char *key)
{
    char path[1200];
    int rv;

    snprintf(path, sizeof path, "%s/agent-client.key", a->data_dir);
    if ((rv = orc_file_write(path, key, strlen(key), 0600)) != 0) return rv;
    snprintf(path, sizeof path, "%s/agent-client.crt", a->data_dir);
    return orc_file_write(path, cert, strlen(cert), 0644);
}

static void wipe_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

static void take(struct agent *a, const char *b64, char *key)
{
    struct orc_buf cert = ORC_BUF_INIT;
    char err[ORC_TLS_ERRLEN] = "";
    char *c = NULL;
    int rv;

    rv = orc_base64_decode(b64, strlen(b64), false, &cert);
    if (rv == 0) rv = orc_tls_key_check(cert.data, key, err);
    if (rv == 0) rv = write_pair(a, cert.data, key);
    if (rv == 0) rv = http_client_renew_cert(a->api, cert.data, key, err);
    /* the per-object watches' clients (objwatch.c) hold the identity too */
    for (size_t i = 0; rv == 0 && i < a->n_watch_clients; i++)
        if (a->watch_clients[i].c) rv = http_client_renew_cert(a->watch_clients[i].c, cert.data, key, err);
    if (rv == 0 && (c = orc_buf_steal(&cert, NULL)) == NULL) rv = ORC_ENOMEM;
    if (rv != 0) {
        orc_buf_free(&cert);
        wipe_free(key);
        failed(a, "the issued certificate", err[0] ? err : orc_strerror(rv));
        return;
    }
    free(a->client_cert_pem);
    wipe_free(a->client_key_pem);
    a->client_cert_pem = c;
    a->client_key_pem = key;
    a->cert_busy = false;
    log_info("agent", "renewed the node's client certificate through CertificateSigningRequest %s", a->cert_csr);
    a->cert_csr[0] = '\0';
    if (plan(a) == 0) arm(a, 0);
}

/* ---- waiting for the request ---- */

struct wait {
    struct agent *a;
    char *key; /* the new private key (PEM), wiped when freed */
};

static void wait_free(struct wait *w)
{
    wipe_free(w->key);
    free(w);
}

static void poll_request(struct wait *w);

static void polled(void *arg, int status, const json_t *body)
{
    struct wait *w = arg;
    struct agent *a = w->a;
    const char *cert = orc_json_str(body, "status.certificate");
    const json_t *c;
    size_t i;

    agent_release(a);
    if (a->stopping) {
        wait_free(w);
        return;
    }
    if (status != 200) {
        wait_free(w);
        failed(a, a->cert_csr, rest_message(status, body));
        return;
    }
    json_array_foreach(orc_json_get(body, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type");
        if (t && (strcmp(t, "Denied") == 0 || strcmp(t, "Failed") == 0)) {
            wait_free(w);
            failed(a, a->cert_csr, orc_json_str(c, "message") ? orc_json_str(c, "message") : t);
            return;
        }
    }
    if (cert && *cert) {
        char *key = w->key;
        w->key = NULL;
        wait_free(w);
        take(a, cert, key);
        return;
    }
    if (wall_s() > a->cert_wait_until) {
        wait_free(w);
        failed(a, a->cert_csr, "not issued in time (is it approved?)");
        return;
    }
    poll_request(w);
}

/* The poll waits POLL_MS on a one-shot timer of its own. */
struct poll_timer {
    uv_timer_t t;
    struct wait *w;
};

static void poll_closed(uv_handle_t *h)
{
    struct poll_timer *p = h->data;
    struct wait *w = p->w;
    struct agent *a = w->a;
    char path[400];

    free(p);
    agent_release(a); /* the timer's hold */
    if (a->stopping) {
        wait_free(w);
        return;
    }
    snprintf(path, sizeof path, CSR_PATH "/%s", a->cert_csr);
    agent_hold(a);
    if (rest_call(a->api, "GET", path, NULL, NULL, 0, polled, w) != 0) {
        agent_release(a);
        wait_free(w);
        failed(a, a->cert_csr, "cannot send the request");
    }
}

static void poll_due(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, poll_closed);
}

static void poll_request(struct wait *w)
{
    struct poll_timer *p = calloc(1, sizeof *p);
    struct agent *a = w->a;

    if (p == NULL || uv_timer_init(a->loop, &p->t) != 0) {
        free(p);
        wait_free(w);
        failed(a, "waiting", "out of memory");
        return;
    }
    p->t.data = p;
    p->w = w;
    agent_hold(a);
    uv_timer_start(&p->t, poll_due, POLL_MS, 0);
}

/* ---- asking ---- */

static void created(void *arg, int status, const json_t *body)
{
    struct wait *w = arg;
    struct agent *a = w->a;
    const char *name = orc_json_str(body, "metadata.name");

    agent_release(a);
    if (a->stopping) {
        wait_free(w);
        return;
    }
    if (status != 201 || name == NULL) {
        wait_free(w);
        failed(a, "creating the CertificateSigningRequest", rest_message(status, body));
        return;
    }
    snprintf(a->cert_csr, sizeof a->cert_csr, "%s", name);
    a->cert_wait_until = wall_s() + WAIT_MAX_S;
    poll_request(w);
}

static json_t *request_of(const char *csr_pem)
{
    struct orc_buf b64 = ORC_BUF_INIT;
    json_t *o = NULL;

    if (orc_base64_encode(csr_pem, strlen(csr_pem), false, &b64) == 0)
        o = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:[s, s]}}", "apiVersion", "certificates.k8s.io/v1",
                      "kind", "CertificateSigningRequest", "metadata", "generateName", "node-csr-", "spec",
                      "request", b64.data, "signerName", "kubernetes.io/kube-apiserver-client-kubelet",
                      "usages", "digital signature", "client auth");
    orc_buf_free(&b64);
    return o;
}

static void renew(struct agent *a)
{
    const char *orgs[] = {"system:nodes"};
    char cn[300], err[ORC_TLS_ERRLEN], *csr = NULL, *key = NULL;
    struct wait *w = NULL;
    json_t *obj = NULL;

    snprintf(cn, sizeof cn, "system:node:%s", a->node_name);
    if (orc_tls_make_csr(cn, orgs, 1, &csr, &key, err) != 0) {
        failed(a, "the request", err);
        return;
    }
    obj = request_of(csr);
    free(csr);
    if (obj == NULL || (w = calloc(1, sizeof *w)) == NULL) {
        json_decref(obj);
        wipe_free(key);
        failed(a, "the request", "out of memory");
        return;
    }
    w->a = a;
    w->key = key;
    a->cert_busy = true;
    agent_hold(a);
    if (rest_create(a->api, orc_kind_lookup("certificatesigningrequests"), NULL, obj, created, w) != 0) {
        agent_release(a);
        wait_free(w);
        failed(a, "creating the CertificateSigningRequest", "cannot send it");
    }
    json_decref(obj);
}

/* ---- the check ---- */

static void on_timer(uv_timer_t *t)
{
    struct agent *a = t->data;
    int64_t now = wall_s();

    if (a->stopping || a->cert_busy) return;
    if (a->cert_deadline == 0 && plan(a) != 0) return;
    if (now >= a->cert_deadline) {
        renew(a);
        return;
    }
    arm(a, (uint64_t)(a->cert_deadline - now) * 1000 < CHECK_MAX_MS ? (uint64_t)(a->cert_deadline - now) * 1000
                                                                    : CHECK_MAX_MS);
}

int agent_cert_start(struct agent *a)
{
    if (!a->cert_identity || a->client_cert_pem == NULL) return 0;
    if (uv_timer_init(a->loop, &a->cert_timer) != 0) return ORC_EIO;
    a->cert_timer.data = a;
    a->cert_timer_open = true;
    uv_timer_start(&a->cert_timer, on_timer, 0, 0);
    return 0;
}

static void cert_timer_closed(uv_handle_t *h) { agent_release(h->data); }

void agent_cert_stop(struct agent *a)
{
    if (!a->cert_timer_open) return;
    a->cert_timer_open = false;
    uv_timer_stop(&a->cert_timer);
    agent_hold(a);
    uv_close((uv_handle_t *)&a->cert_timer, cert_timer_closed);
}
