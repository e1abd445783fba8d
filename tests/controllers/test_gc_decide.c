/* test_gc_decide.c — the garbage collector's decisions on plain objects:
 * owner states, what happens to a dependent, what an owner being deleted
 * asks for, and the patches (controllers/gc_decide.c). */
#include <string.h>

#include "controllers/gc.h"
#include "lib/json.h"
#include "tests/harness/test.h"

static json_t *J(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    CHECKF(j != NULL, "bad JSON in test: %s", err.text);
    test_defer((void (*)(void *))json_decref, j);
    return j;
}

static const json_t *ref(const json_t *obj, size_t i)
{
    return json_array_get(orc_json_get(obj, "metadata.ownerReferences"), i);
}

#define DEP2 J("{\"metadata\":{\"name\":\"d\",\"resourceVersion\":\"7\",\"ownerReferences\":[" \
               "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"a\",\"uid\":\"ua\"}," \
               "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"b\",\"uid\":\"ub\"," \
               "\"blockOwnerDeletion\":true}]}}")

TEST(owner_state_by_uid)
{
    json_t *d = DEP2;

    CHECK_INT(gc_owner_state(ref(d, 0), NULL), ==, GC_OWNER_DANGLING);
    CHECK_INT(gc_owner_state(ref(d, 0), J("{\"metadata\":{\"name\":\"a\",\"uid\":\"ua\"}}")), ==,
              GC_OWNER_SOLID);
    /* the same name under another uid is another object: the owner is gone */
    CHECK_INT(gc_owner_state(ref(d, 0), J("{\"metadata\":{\"name\":\"a\",\"uid\":\"other\"}}")), ==,
              GC_OWNER_DANGLING);
    CHECK_INT(gc_owner_state(ref(d, 0), J("{\"metadata\":{\"name\":\"a\",\"uid\":\"ua\","
                                          "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
                                          "\"finalizers\":[\"foregroundDeletion\"]}}")),
              ==, GC_OWNER_WAITING);
    /* being deleted otherwise (orphan, or another finalizer) still owns */
    CHECK_INT(gc_owner_state(ref(d, 0), J("{\"metadata\":{\"name\":\"a\",\"uid\":\"ua\","
                                          "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
                                          "\"finalizers\":[\"orphan\"]}}")),
              ==, GC_OWNER_SOLID);
}

TEST(dependent_verdicts)
{
    json_t *d = DEP2;
    enum gc_owner s[2];
    struct gc_verdict v;

    s[0] = GC_OWNER_SOLID, s[1] = GC_OWNER_SOLID;
    CHECK_INT(gc_decide_dependent(d, s, 2).action, ==, GC_KEEP);
    s[0] = GC_OWNER_DANGLING, s[1] = GC_OWNER_DANGLING;
    v = gc_decide_dependent(d, s, 2);
    CHECK_INT(v.action, ==, GC_DELETE);
    CHECK_STR(v.propagation, "Background");
    s[0] = GC_OWNER_SOLID, s[1] = GC_OWNER_DANGLING;
    CHECK_INT(gc_decide_dependent(d, s, 2).action, ==, GC_DROP_REFS);
    s[0] = GC_OWNER_SOLID, s[1] = GC_OWNER_WAITING;
    CHECK_INT(gc_decide_dependent(d, s, 2).action, ==, GC_DROP_REFS);
    /* an owner deleting in the foreground and none alive: delete in the
     * foreground, so this object's dependents go first */
    s[0] = GC_OWNER_DANGLING, s[1] = GC_OWNER_WAITING;
    v = gc_decide_dependent(d, s, 2);
    CHECK_INT(v.action, ==, GC_DELETE);
    CHECK_STR(v.propagation, "Foreground");
    /* never on a guess */
    s[0] = GC_OWNER_DANGLING, s[1] = GC_OWNER_UNKNOWN;
    CHECK_INT(gc_decide_dependent(d, s, 2).action, ==, GC_KEEP);
    s[0] = GC_OWNER_DANGLING, s[1] = GC_OWNER_UNRESOLVABLE;
    CHECK_INT(gc_decide_dependent(d, s, 2).action, ==, GC_KEEP);
    CHECK_INT(gc_decide_dependent(J("{\"metadata\":{\"name\":\"x\"}}"), NULL, 0).action, ==, GC_KEEP);
}

TEST(dependent_propagation_follows_its_own_finalizers)
{
    enum gc_owner s[1] = {GC_OWNER_DANGLING};
    json_t *o = J("{\"metadata\":{\"name\":\"d\",\"finalizers\":[\"orphan\"],\"ownerReferences\":["
                  "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"a\",\"uid\":\"ua\"}]}}");
    json_t *f = J("{\"metadata\":{\"name\":\"d\",\"finalizers\":[\"x/y\",\"foregroundDeletion\"],"
                  "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"a\","
                  "\"uid\":\"ua\"}]}}");
    json_t *gone = J("{\"metadata\":{\"name\":\"d\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
                     "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"a\","
                     "\"uid\":\"ua\"}]}}");

    CHECK_STR(gc_decide_dependent(o, s, 1).propagation, "Orphan");
    CHECK_STR(gc_decide_dependent(f, s, 1).propagation, "Foreground");
    /* already being deleted: nothing more to do for it as a dependent */
    CHECK_INT(gc_decide_dependent(gone, s, 1).action, ==, GC_KEEP);
}

TEST(live_refs_and_patches)
{
    json_t *d = DEP2, *refs, *p;
    enum gc_owner s[2] = {GC_OWNER_DANGLING, GC_OWNER_SOLID};

    refs = gc_live_refs(d, s, 2);
    CHECK_INT(json_array_size(refs), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(refs, 0), "uid"), "ub");
    p = gc_patch_refs(d, refs);
    CHECK_STR(orc_json_str(p, "metadata.resourceVersion"), "7");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "metadata.ownerReferences"), 0), "name"), "b");
    json_decref(p);
    json_decref(refs);

    p = gc_patch_without_owner(d, "ub");
    CHECK_INT(json_array_size(orc_json_get(p, "metadata.ownerReferences")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "metadata.ownerReferences"), 0), "uid"), "ua");
    json_decref(p);
    /* the last reference gone: null removes the field in a merge patch */
    p = gc_patch_without_owner(J("{\"metadata\":{\"resourceVersion\":\"3\",\"ownerReferences\":["
                                 "{\"name\":\"a\",\"uid\":\"ua\"}]}}"),
                               "ua");
    CHECK(json_is_null(orc_json_get(p, "metadata.ownerReferences")));
    CHECK(json_object_get(json_object_get(p, "metadata"), "ownerReferences") != NULL);
    json_decref(p);

    p = gc_patch_without_finalizer(J("{\"metadata\":{\"resourceVersion\":\"9\","
                                     "\"finalizers\":[\"a/b\",\"orphan\"]}}"),
                                   "orphan");
    CHECK_INT(json_array_size(orc_json_get(p, "metadata.finalizers")), ==, 1);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(p, "metadata.finalizers"), 0)), "a/b");
    CHECK_STR(orc_json_str(p, "metadata.resourceVersion"), "9");
    json_decref(p);
}

TEST(owner_steps_and_blocking)
{
    json_t *d = DEP2;

    CHECK_INT(gc_step(J("{\"metadata\":{\"finalizers\":[\"orphan\"]}}")), ==, GC_STEP_NONE);
    CHECK_INT(gc_step(J("{\"metadata\":{\"deletionTimestamp\":\"t\",\"finalizers\":[\"orphan\"]}}")), ==,
              GC_STEP_ORPHAN);
    CHECK_INT(gc_step(J("{\"metadata\":{\"deletionTimestamp\":\"t\",\"finalizers\":[\"foregroundDeletion\"]}}")),
              ==, GC_STEP_FOREGROUND);
    CHECK_INT(gc_step(J("{\"metadata\":{\"deletionTimestamp\":\"t\",\"finalizers\":[\"x/y\"]}}")), ==,
              GC_STEP_NONE);
    CHECK(!gc_blocks(d, "ua"));
    CHECK(gc_blocks(d, "ub"));
    CHECK(!gc_blocks(d, "uc"));
    CHECK(gc_refers_to(d, "ua"));
    CHECK(!gc_refers_to(d, "uc"));
}
