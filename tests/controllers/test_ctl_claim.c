/* test_ctl_claim.c — the shared adoption, release and revision-collision
 * decisions (controllers/ctl_util.h) the ReplicaSet, Job and DaemonSet
 * controllers use: who adopts or releases what, the ownerReference patch
 * (with the Job's tracking finalizer) and when a ControllerRevision name
 * collides. No server. */
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

static void decref(void *arg)
{
    json_decref(arg);
}

static json_t *held(const char *text)
{
    json_t *v = js(text);
    test_defer(decref, v);
    return v;
}

#define GOING ",'deletionTimestamp':'2026-01-01T00:00:00Z'"

TEST(claim_decides_like_controller_ref_manager)
{
    json_t *owner = held("{'metadata':{'name':'j','namespace':'default','uid':'u1'}}");
    json_t *going = held("{'metadata':{'name':'j','namespace':'default','uid':'u1'" GOING "}}");
    json_t *orphan = held("{'metadata':{'name':'p','uid':'p1'}}");
    json_t *orphan_going = held("{'metadata':{'name':'p','uid':'p1'" GOING "}}");
    json_t *ours = held("{'metadata':{'name':'p','uid':'p1','ownerReferences':[{'uid':'u1',"
                        "'controller':true}]}}");
    json_t *theirs = held("{'metadata':{'name':'p','uid':'p1','ownerReferences':[{'uid':'u2',"
                          "'controller':true}]}}");
    json_t *mere_ref = held("{'metadata':{'name':'p','uid':'p1','ownerReferences':[{'uid':'u2'}]}}");

    CHECK_INT(ctl_claim_decide(owner, orphan, true), ==, CTL_CLAIM_ADOPT);
    CHECK_INT(ctl_claim_decide(owner, orphan, false), ==, CTL_CLAIM_IGNORE);
    CHECK_INT(ctl_claim_decide(owner, mere_ref, true), ==, CTL_CLAIM_ADOPT); /* no controller */
    CHECK_INT(ctl_claim_decide(owner, orphan_going, true), ==, CTL_CLAIM_IGNORE);
    CHECK_INT(ctl_claim_decide(going, orphan, true), ==, CTL_CLAIM_IGNORE);
    CHECK_INT(ctl_claim_decide(owner, ours, true), ==, CTL_CLAIM_KEEP);
    CHECK_INT(ctl_claim_decide(owner, ours, false), ==, CTL_CLAIM_RELEASE);
    CHECK_INT(ctl_claim_decide(going, ours, false), ==, CTL_CLAIM_IGNORE);
    CHECK_INT(ctl_claim_decide(going, ours, true), ==, CTL_CLAIM_KEEP);
    CHECK_INT(ctl_claim_decide(owner, theirs, true), ==, CTL_CLAIM_IGNORE);
    CHECK_INT(ctl_claim_decide(owner, theirs, false), ==, CTL_CLAIM_IGNORE);
}

TEST(adoption_patch_adds_a_controller_ref_and_the_finalizer)
{
    json_t *owner = held("{'metadata':{'name':'j','namespace':'default','uid':'u1'}}");
    json_t *pod = held("{'metadata':{'name':'p','uid':'p1','resourceVersion':'7','finalizers':"
                       "['x'],'ownerReferences':[{'uid':'u9','kind':'Other','name':'o'}]}}");
    json_t *patch = ctl_owner_patch(pod, owner, "batch/v1", "Job", true, "f/track");
    test_defer(decref, patch);
    const json_t *refs = orc_json_get(patch, "metadata.ownerReferences");
    const json_t *ref = json_array_get(refs, 1);

    CHECK(patch != NULL);
    CHECK_INT(json_array_size(refs), ==, 2); /* the other owner kept */
    CHECK_STR(orc_json_str(ref, "uid"), "u1");
    CHECK_STR(orc_json_str(ref, "kind"), "Job");
    CHECK_STR(orc_json_str(ref, "apiVersion"), "batch/v1");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    CHECK_STR(orc_json_str(patch, "metadata.uid"), "p1");
    CHECK_STR(orc_json_str(patch, "metadata.resourceVersion"), "7");
    const json_t *fins = orc_json_get(patch, "metadata.finalizers");
    CHECK_INT(json_array_size(fins), ==, 2);
    CHECK_STR(json_string_value(json_array_get(fins, 1)), "f/track");
}

TEST(release_patch_drops_our_ref_and_finalizer_only)
{
    json_t *owner = held("{'metadata':{'name':'j','namespace':'default','uid':'u1'}}");
    json_t *pod = held("{'metadata':{'name':'p','uid':'p1','resourceVersion':'7','finalizers':"
                       "['f/track','x'],'ownerReferences':[{'uid':'u1','controller':true},"
                       "{'uid':'u9'}]}}");
    json_t *patch = ctl_owner_patch(pod, owner, "batch/v1", "Job", false, "f/track");
    json_t *plain = ctl_owner_patch(pod, owner, "apps/v1", "ReplicaSet", false, NULL);
    test_defer(decref, patch);
    test_defer(decref, plain);

    CHECK_INT(json_array_size(orc_json_get(patch, "metadata.ownerReferences")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(patch, "metadata.ownerReferences"), 0), "uid"),
              "u9");
    CHECK_INT(json_array_size(orc_json_get(patch, "metadata.finalizers")), ==, 1);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(patch, "metadata.finalizers"), 0)), "x");
    CHECK(orc_json_get(plain, "metadata.finalizers") == NULL); /* untouched without one */
}

TEST(revision_collision_when_name_taken_by_another_template_or_owner)
{
    json_t *tmpl = held("{'metadata':{'labels':{'a':'b'}},'spec':{'containers':[{'name':'c',"
                        "'image':'i:1'}]}}");
    json_t *same = held("{'metadata':{'name':'s-h','ownerReferences':[{'uid':'u1','controller':"
                        "true}]},'data':{'spec':{'template':{'$patch':'replace','metadata':{"
                        "'labels':{'a':'b'}},'spec':{'containers':[{'name':'c','image':'i:1'}]}}}}}");
    json_t *other = held("{'metadata':{'name':'s-h','ownerReferences':[{'uid':'u1','controller':"
                         "true}]},'data':{'spec':{'template':{'metadata':{'labels':{'a':'b'}},"
                         "'spec':{'containers':[{'name':'c','image':'i:2'}]}}}}}");
    json_t *foreign = held("{'metadata':{'name':'s-h','ownerReferences':[{'uid':'u2','controller':"
                           "true}]},'data':{'spec':{'template':{'metadata':{'labels':{'a':'b'}},"
                           "'spec':{'containers':[{'name':'c','image':'i:1'}]}}}}}");

    CHECK(!ctl_revision_collides(NULL, "u1", tmpl));
    CHECK(!ctl_revision_collides(same, "u1", tmpl)); /* "$patch" ignored */
    CHECK(ctl_revision_collides(other, "u1", tmpl));
    CHECK(ctl_revision_collides(foreign, "u1", tmpl));
}
