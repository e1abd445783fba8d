/* eviction.c — the pods/{name}/eviction subresource (policy/v1 Eviction), as
 * kubectl drain uses it: the pod is deleted with the Eviction's
 * deleteOptions and the answer is a 201 Status. orc has no
 * PodDisruptionBudgets, so an eviction is never refused with 429. */
#include <string.h>

#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/orc.h"

int write_eviction_input(struct write_op *op)
{
    const json_t *ev = op->input;
    const char *kind = orc_json_str(ev, "kind"), *av = orc_json_str(ev, "apiVersion");
    const char *name = orc_json_str(ev, "metadata.name");
    json_t *opts;

    if (!json_is_object(ev) || (kind && strcmp(kind, "Eviction") != 0)
        || (av && strcmp(av, "policy/v1") != 0 && strcmp(av, "policy/v1beta1") != 0)) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "the body of an eviction must be a policy/v1 Eviction");
        return ORC_EINVAL;
    }
    if (name && strcmp(name, op->rt->name) != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "name in URL does not match name in Eviction object");
        return ORC_EINVAL;
    }
    /* From here on the request reads as a delete with these options. */
    opts = json_incref(json_object_get(ev, "deleteOptions"));
    json_decref(op->input);
    op->input = opts;
    return 0;
}

json_t *mut_eviction(struct write_op *op, const json_t *cur)
{
    json_t *next = mut_delete(op, cur);

    if (!next) return NULL;
    op->ok_code = 201;
    op->response = json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                             "metadata", "status", "Success", "code", 201);
    return next;
}
