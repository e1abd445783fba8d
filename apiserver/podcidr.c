/* podcidr.c — each Node's block of pod addresses, as Kubernetes' node IPAM
 * hands them out: the lowest /node_cidr_mask block of the cluster CIDR that
 * no Node holds. The block is chosen inside the replicated txn that creates
 * the Node (a STORE_PUT_ALLOC op, evaluated by the FSM), so concurrent
 * registrations never collide; it is held by the key /orc/podcidrs/<block>,
 * removed with the Node. A Node registered when no block is left keeps no
 * podCIDR and gets a Warning Event CIDRNotAvailable. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

static bool held(const struct store_list *l, const char *block)
{
    size_t plen = strlen(API_RESERVED_PREFIX);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->kvs[i].key + plen, block) == 0) return true;
    return false;
}

int api_podcidr_pick(struct api_server *s, char *out, size_t n)
{
    struct store_list l = {0};
    struct orc_cidr4 range;
    uint64_t count;
    int rv;

    if (orc_cidr4_parse(s->cluster_cidr, &range) != 0
        || (count = orc_cidr4_blocks(&range, s->node_cidr_mask)) == 0)
        return ORC_EINVAL;
    if ((rv = store_range(s->st, API_RESERVED_PREFIX, NULL, 0, 0, &l)) != 0) return rv;
    rv = ORC_ETOOBIG;
    for (uint64_t i = 0; i < count; i++) {
        orc_cidr4_block(&range, s->node_cidr_mask, i, out, n);
        if (!held(&l, out)) {
            rv = 0;
            break;
        }
    }
    store_list_clear(&l);
    return rv;
}

int api_podcidr_alloc(struct api_server *s, const struct orc_buf *value,
                      const struct orc_buf *value_none, const char *marker, struct orc_buf *out)
{
    struct store_alloc a = {value->data, value->len, value_none->data, value_none->len,
                            s->cluster_cidr, s->node_cidr_mask, API_RESERVED_PREFIX, marker, {{0}}, 0};
    return store_alloc_value(&a, out);
}

/* ---- the Warning Event when no block is left ---- */

struct warn {
    struct api_server *s;
    struct orc_buf key, val;
};

static void warned(void *arg, int status, const struct store_txn_result *res)
{
    struct warn *w = arg;
    (void)res;
    if (status != 0) log_warn("apiserver", "recording CIDRNotAvailable: %s", orc_strerror(status));
    api_release(w->s);
    orc_buf_free(&w->key);
    orc_buf_free(&w->val);
    free(w);
}

static json_t *cidr_event(struct api_server *s, const char *node, const char *uid,
                          const char *name)
{
    char now[ORC_TIME_LEN], msg[256], evuid[37];
    orc_time_now(now);
    orc_uuid(evuid);
    snprintf(msg, sizeof msg,
             "Node %s status is now: CIDRNotAvailable (no free /%u block is left in the cluster "
             "CIDR %s)", node, s->node_cidr_mask, s->cluster_cidr);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, "
                     "s:{s:s}, s:s, s:s, s:i, s:s, s:s}",
                     "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
                     "default", "uid", evuid, "creationTimestamp", now, "involvedObject", "kind",
                     "Node", "apiVersion", "v1", "name", node, "uid", uid ? uid : "", "reason",
                     "CIDRNotAvailable", "message", msg, "source", "component", "cidrAllocator",
                     "firstTimestamp", now, "lastTimestamp", now, "count", 1, "type", "Warning",
                     "reportingComponent", "cidrAllocator");
}

void api_podcidr_warn_exhausted(struct api_server *s, const char *node, const char *uid)
{
    struct warn *w = calloc(1, sizeof *w);
    char name[320];
    json_t *ev;

    if (w == NULL) return;
    snprintf(name, sizeof name, "%.250s.%016" PRIx64, node, orc_rand_u64());
    ev = cidr_event(s, node, uid, name);
    w->s = s;
    api_hold(s);
    struct store_guard absent = {STORE_GUARD_ABSENT, NULL, 0};
    struct store_op put = {STORE_PUT, NULL, NULL, 0};
    struct store_txn txn = {&absent, 1, &put, 1};
    int rv = ev ? api_key(orc_kind_by_resource("", "events"), "default", name, &w->key) : ORC_ENOMEM;
    if (rv == 0) rv = api_obj_encode(ev, &w->val);
    json_decref(ev);
    if (rv == 0) {
        absent.key = put.key = w->key.data;
        put.value = w->val.data;
        put.value_len = w->val.len;
        log_warn("apiserver", "node %s registered without a pod CIDR: %s has no free /%u block",
                 node, s->cluster_cidr, s->node_cidr_mask);
        rv = api_txn(s, &txn, warned, w);
    }
    if (rv != 0) warned(w, rv, NULL);
}
