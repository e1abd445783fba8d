/* schema_rules_certificates.c — CertificateSigningRequest, worded as
 * Kubernetes' pkg/apis/certificates/validation: a signed PEM request, known
 * and distinct usages, a qualified signerName, at least 600 s, conditions
 * that may be added but never removed, a certificate issued once. */
#include <string.h>

#include "apiserver/schema.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define MSG_MAX 300
#define SIGNER_DOMAIN_MAX 253
#define SIGNER_MAX (253 + 253 + 63 + 2)

static const char *const usages[] = {
    "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign",
    "data encipherment", "decipher only", "digital signature", "email protection",
    "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement",
    "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime",
    "server auth", "signing", "timestamping", NULL};

static bool known_usage(const char *u)
{
    for (size_t i = 0; usages[i]; i++)
        if (strcmp(usages[i], u) == 0) return true;
    return false;
}

static void check_request(struct api_diag *d, const json_t *spec)
{
    const json_t *v = json_object_get(spec, "request");
    const char *b64 = json_string_value(v);
    struct orc_buf pem = ORC_BUF_INIT;
    struct orc_tls_csr_info info;
    char err[ORC_TLS_ERRLEN] = "";

    if (b64 == NULL) return; /* the schema pass requires it */
    if (orc_base64_decode(b64, strlen(b64), false, &pem) != 0)
        api_invalid(d, "spec.request", v, "illegal base64 data");
    else if (orc_tls_csr_read(pem.data, pem.len, &info, err) != 0)
        api_invalid(d, "spec.request", v, "%s", err);
    orc_buf_free(&pem);
}

static void check_usages(struct api_diag *d, const json_t *spec)
{
    const json_t *list = json_object_get(spec, "usages"), *u;
    char f[API_PATH_MAX];
    size_t i, j;

    if (json_array_size(list) == 0) {
        api_required(d, "spec.usages", "usages must be provided");
        return;
    }
    json_array_foreach(list, i, u) {
        const char *s = json_string_value(u);
        api_path_index(f, "spec.usages", i);
        if (s == NULL) continue;
        if (!known_usage(s)) api_unsupported(d, f, u, usages);
        for (j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), u)) {
                api_duplicate(d, f, u);
                break;
            }
    }
}

/* Each '.'-separated part of s[0..len) passes rule; false after recording
 * the first failure, as Kubernetes stops at it. */
static bool labels_pass(struct api_diag *d, const char *signer, const char *s, size_t len,
                        int (*rule)(const char *, size_t, char *, size_t))
{
    char msg[MSG_MAX], part[MSG_MAX];
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        if (rule(s + start, i - start, msg, sizeof msg) != 0) {
            snprintf(part, sizeof part, "%.*s", (int)(i - start), s + start);
            api_invalid_str(d, "spec.signerName", signer, "validating label \"%s\": %s", part, msg);
            return false;
        }
        start = i + 1;
    }
    return true;
}

static void check_signer(struct api_diag *d, const char *s)
{
    const char *slash;
    size_t dom;

    if (s == NULL || *s == '\0') {
        api_required(d, "spec.signerName", "signerName must be provided");
        return;
    }
    slash = strchr(s, '/');
    if (slash == NULL || strchr(slash + 1, '/')) {
        api_invalid_str(d, "spec.signerName", s,
                        "must be a fully qualified domain and path of the form 'example.com/signer-name'");
        return;
    }
    dom = (size_t)(slash - s);
    if (dom > SIGNER_DOMAIN_MAX) api_toolong(d, "spec.signerName", SIGNER_DOMAIN_MAX);
    labels_pass(d, s, s, dom, orc_dns1123_label);
    if (memchr(s, '.', dom) == NULL)
        api_invalid_str(d, "spec.signerName", s, "should be a domain with at least two segments separated by dots");
    labels_pass(d, s, slash + 1, strlen(slash + 1), orc_dns1123_subdomain);
    if (strlen(s) > SIGNER_MAX) api_toolong(d, "spec.signerName", SIGNER_MAX);
}

static bool true_only(const char *t)
{
    return strcmp(t, "Approved") == 0 || strcmp(t, "Denied") == 0 || strcmp(t, "Failed") == 0;
}

static void check_conditions(struct api_diag *d, const json_t *obj)
{
    static const char *const all[] = {"False", "True", "Unknown", NULL};
    static const char *const only_true[] = {"True", NULL};
    const json_t *list = json_object_get(json_object_get(obj, "status"), "conditions"), *c;
    bool approved = false, denied = false;
    char f[API_PATH_MAX], base[API_PATH_MAX];
    size_t i, j;

    json_array_foreach(list, i, c) {
        const char *t = api_str(c, "type"), *st = api_str(c, "status");
        api_path_index(base, "status.conditions", i);
        api_path_join(f, base, "type");
        if (t == NULL || *t == '\0') {
            api_required(d, f, NULL);
            continue;
        }
        approved |= strcmp(t, "Approved") == 0;
        denied |= strcmp(t, "Denied") == 0;
        if ((strcmp(t, "Approved") == 0 && denied) || (strcmp(t, "Denied") == 0 && approved))
            api_invalid_str(d, f, t, "Approved and Denied conditions are mutually exclusive");
        for (j = 0; j < i; j++)
            if (json_equal(json_object_get(json_array_get(list, j), "type"), json_object_get(c, "type"))) {
                api_duplicate(d, f, json_object_get(c, "type"));
                break;
            }
        api_path_join(f, base, "status");
        if (st == NULL || *st == '\0') api_required(d, f, NULL);
        else api_check_enum(d, c, "status", base, true_only(t) ? only_true : all);
    }
}

static void check_certificate(struct api_diag *d, const json_t *obj)
{
    const char *b64 = orc_json_str(obj, "status.certificate");
    struct orc_buf pem = ORC_BUF_INIT;
    char err[ORC_TLS_ERRLEN];

    if (b64 == NULL || *b64 == '\0') return;
    if (orc_base64_decode(b64, strlen(b64), false, &pem) != 0 || pem.data == NULL
        || orc_tls_cert_check(pem.data, err) != 0)
        api_invalid_str(d, "status.certificate", "<certificate data>",
                        "must contain at least one CERTIFICATE PEM block");
    orc_buf_free(&pem);
}

static size_t count_type(const json_t *obj, const char *type)
{
    const json_t *c;
    size_t i, n = 0;

    json_array_foreach(orc_json_get(obj, "status.conditions"), i, c) {
        const char *t = api_str(c, "type");
        n += t && strcmp(t, type) == 0;
    }
    return n;
}

static void check_update(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const kept[] = {"Approved", "Denied", "Failed"};
    const char *was = orc_json_str(old, "status.certificate"), *now = orc_json_str(obj, "status.certificate");
    char msg[MSG_MAX];

    for (size_t i = 0; i < ORC_ARRAY_LEN(kept); i++)
        if (count_type(obj, kept[i]) < count_type(old, kept[i])) {
            snprintf(msg, sizeof msg, "updates may not remove a condition of type \"%s\"", kept[i]);
            api_forbidden(d, "status.conditions", msg);
        }
    if (was && *was && (now == NULL || strcmp(was, now) != 0))
        api_forbidden(d, "status.certificate", "updates may not modify existing certificate content");
}

void api_rules_csr(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    long long secs;

    check_request(d, spec);
    check_usages(d, spec);
    check_signer(d, api_str(spec, "signerName"));
    if (api_int(spec, "expirationSeconds", &secs) && secs < 600)
        api_invalid_int(d, "spec.expirationSeconds", secs,
                        "may not specify a duration less than 600 seconds (10 minutes)");
    check_conditions(d, obj);
    check_certificate(d, obj);
    if (old) check_update(d, obj, old);
}
