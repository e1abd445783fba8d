/* csrsigning_logic.c — the signer's and cleaner's decisions (csrsigning.h),
 * with Kubernetes' wording for the requests they refuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/csrsigning.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tls.h"

#define FINISHED_TTL 3600
#define PENDING_TTL 86400

bool csr_has_condition(const json_t *csr, const char *type)
{
    const json_t *c;
    size_t i;

    json_array_foreach(orc_json_get(csr, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) return true;
    }
    return false;
}

static bool has_usage(const json_t *csr, const char *u)
{
    const json_t *v;
    size_t i;

    json_array_foreach(orc_json_get(csr, "spec.usages"), i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), u) == 0) return true;
    return false;
}

/* kube-apiserver-client: client auth, with digital signature and key
 * encipherment allowed beside it. */
static int client_usages(const json_t *csr, char *why, size_t n)
{
    const json_t *v;
    size_t i;

    json_array_foreach(orc_json_get(csr, "spec.usages"), i, v) {
        const char *u = json_string_value(v);
        if (u && strcmp(u, "digital signature") != 0 && strcmp(u, "key encipherment") != 0
            && strcmp(u, "client auth") != 0) {
            snprintf(why, n, "invalid usage for client certificate: %s", u);
            return ORC_EINVAL;
        }
    }
    if (!has_usage(csr, "client auth")) {
        snprintf(why, n, "missing required usage for client certificate: client auth");
        return ORC_EINVAL;
    }
    return 0;
}

static int check_client(const json_t *csr, const struct orc_tls_csr_info *info, char *why, size_t n)
{
    for (int i = 0; i < info->who.n_org; i++)
        if (strcmp(info->who.orgs[i], "system:masters") == 0) {
            snprintf(why, n, "use of %s signer with system:masters group is not allowed", CSR_CLIENT_SIGNER);
            return ORC_EINVAL;
        }
    return client_usages(csr, why, n);
}

static bool in_groups(const json_t *csr, const char *g)
{
    const json_t *v;
    size_t i;

    json_array_foreach(orc_json_get(csr, "spec.groups"), i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), g) == 0) return true;
    return false;
}

/* Kubernetes' ValidateKubeletClientCSR, and one check more: a node may only
 * have its own name certified (administrators may ask for any node's). */
static int check_kubelet(const json_t *csr, const struct orc_tls_csr_info *info, char *why, size_t n)
{
    const char *user = orc_json_str(csr, "spec.username");
    const json_t *v;
    size_t i;

    if (info->who.n_org != 1 || strcmp(info->who.orgs[0], "system:nodes") != 0)
        snprintf(why, n, "subject organization is not system:nodes");
    else if (info->has_sans)
        snprintf(why, n, "subjectAltNames are not allowed");
    else if (strncmp(info->who.cn, "system:node:", 12) != 0 || info->who.cn[12] == '\0')
        snprintf(why, n, "subject common name does not begin with system:node:");
    else if (in_groups(csr, "system:nodes") && (user == NULL || strcmp(user, info->who.cn) != 0))
        snprintf(why, n, "node %s may not request a certificate for %s", user ? user : "", info->who.cn);
    else why[0] = '\0';
    if (why[0]) return ORC_EINVAL;
    json_array_foreach(orc_json_get(csr, "spec.usages"), i, v) {
        const char *u = json_string_value(v);
        if (u && strcmp(u, "digital signature") != 0 && strcmp(u, "key encipherment") != 0
            && strcmp(u, "client auth") != 0)
            break;
    }
    if (i < json_array_size(orc_json_get(csr, "spec.usages")) || !has_usage(csr, "digital signature")
        || !has_usage(csr, "client auth")) {
        snprintf(why, n, "usages did not match [digital signature client auth]");
        return ORC_EINVAL;
    }
    return 0;
}

static long lifetime(const json_t *csr, long max)
{
    int64_t want = 0;

    if (orc_json_int(csr, "spec.expirationSeconds", &want) == 0 && want > 0 && want < max) return (long)want;
    return max;
}

enum csr_action csr_sign_decide(const json_t *csr, long node_ttl_s, char **pem, long *seconds,
                                char *why, size_t n)
{
    const char *signer = orc_json_str(csr, "spec.signerName"), *req = orc_json_str(csr, "spec.request");
    const char *cert = orc_json_str(csr, "status.certificate");
    struct orc_buf buf = ORC_BUF_INIT;
    struct orc_tls_csr_info info;
    char err[ORC_TLS_ERRLEN];
    bool kubelet;
    int rv;

    *pem = NULL;
    if (signer == NULL || req == NULL || (cert && *cert)) return CSR_WAIT;
    kubelet = strcmp(signer, CSR_KUBELET_SIGNER) == 0;
    if (!kubelet && strcmp(signer, CSR_CLIENT_SIGNER) != 0) return CSR_WAIT;
    if (!csr_has_condition(csr, "Approved") || csr_has_condition(csr, "Denied")
        || csr_has_condition(csr, "Failed"))
        return CSR_WAIT;
    if (orc_base64_decode(req, strlen(req), false, &buf) != 0
        || orc_tls_csr_read(buf.data, buf.len, &info, err) != 0) {
        snprintf(why, n, "unable to parse csr: %s", buf.data ? err : "illegal base64 data");
        orc_buf_free(&buf);
        return CSR_FAIL;
    }
    rv = kubelet ? check_kubelet(csr, &info, why, n) : check_client(csr, &info, why, n);
    if (rv != 0) {
        orc_buf_free(&buf);
        return CSR_FAIL;
    }
    *seconds = lifetime(csr, kubelet && node_ttl_s > 0 ? node_ttl_s : CSR_DEFAULT_SECONDS);
    *pem = orc_buf_steal(&buf, NULL);
    return *pem ? CSR_SIGN : CSR_WAIT;
}

static int64_t cond_time(const json_t *csr, const char *type)
{
    const json_t *c;
    int64_t t;
    size_t i;

    json_array_foreach(orc_json_get(csr, "status.conditions"), i, c) {
        const char *ct = orc_json_str(c, "type"), *ts = orc_json_str(c, "lastUpdateTime");
        if (ct && strcmp(ct, type) == 0 && ts && orc_time_parse(ts, &t) == 0) return t;
    }
    return -1;
}

int64_t csr_gc_time(const json_t *csr)
{
    static const char *const finished[] = {"Approved", "Denied", "Failed"};
    const char *created = orc_json_str(csr, "metadata.creationTimestamp");
    int64_t t;

    for (size_t i = 0; i < ORC_ARRAY_LEN(finished); i++)
        if ((t = cond_time(csr, finished[i])) >= 0) return t + FINISHED_TTL;
    if (created && orc_time_parse(created, &t) == 0) return t + PENDING_TTL;
    return -1;
}
