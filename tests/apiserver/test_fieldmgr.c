/* test_fieldmgr.c — server-side apply's pure parts in memory: field sets
 * of objects (FieldsV1 as Kubernetes writes them), Update ownership,
 * Apply's merge, conflicts, forced takeover and removal of fields a
 * manager stops applying, the cap on Update entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/fieldmgr.h"
#include "apiserver/schema.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

/* JSON written with ' for " (readable literals). */
static json_t *J(const char *text)
{
    char *t = strdup(text);
    json_error_t err;
    json_t *v;

    for (char *p = t; *p; p++)
        if (*p == '\'') *p = '"';
    v = json_loads(t, 0, &err);
    CHECKF(v != NULL, "bad test JSON %s: %s", t, err.text);
    free(t);
    return v;
}

static void check_json(const json_t *got, const char *want_text)
{
    json_t *want = J(want_text);
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
    CHECKF(json_equal(got, want), "got  %s\nwant %s", g, w);
    free(g);
    free(w);
    json_decref(want);
}

static const char *deploy_cfg =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'default',"
    "'labels':{'app':'web'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},"
    "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c',"
    "'image':'nginx','ports':[{'containerPort':80}]}]}}}}";

static struct fm_op op_for(const char *manager)
{
    return (struct fm_op){api_schema_root(orc_kind_lookup("Deployment")), "apps/v1", "", true,
                          "2026-12-06T10:00:00Z", manager};
}

TEST(fields_of_an_applied_deployment_are_kubernetes_fieldsv1)
{
    json_t *cfg = J(deploy_cfg), *s = fm_fields_of(op_for("x").root, cfg), *f;

    json_object_del(s, "f:apiVersion");
    json_object_del(s, "f:kind");
    json_object_del(json_object_get(s, "f:metadata"), "f:name");
    json_object_del(json_object_get(s, "f:metadata"), "f:namespace");
    f = fm_set_to_fields1(s);
    check_json(f, "{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:replicas':{},"
                  "'f:selector':{},'f:template':{'f:metadata':{'f:labels':{'f:app':{}}},"
                  "'f:spec':{'f:containers':{'k:{\\'name\\':\\'c\\'}':{'.':{},'f:image':{},"
                  "'f:name':{},'f:ports':{'k:{\\'containerPort\\':80,\\'protocol\\':\\'TCP\\'}':"
                  "{'.':{},'f:containerPort':{}}}}}}}}}");
    json_decref(f);
    json_decref(s);
    json_decref(cfg);
}

static int collect(const char *path, void *arg)
{
    return json_array_append_new(arg, json_string(path));
}

TEST(paths_print_as_structured_merge_diff_prints_them)
{
    json_t *cfg = J(deploy_cfg), *s = fm_fields_of(op_for("x").root, cfg), *paths = json_array();

    fm_set_each_path(s, collect, paths);
    char *text = json_dumps(paths, 0);
    CHECKF(strstr(text, "\".spec.template.spec.containers[name=\\\"c\\\"].image\""), "%s", text);
    CHECKF(strstr(text, "\".spec.template.spec.containers[name=\\\"c\\\"].ports"
                        "[containerPort=80,protocol=\\\"TCP\\\"]\""), "%s", text);
    CHECKF(strstr(text, "\".spec.replicas\""), "%s", text);
    free(text);
    json_decref(paths);
    json_decref(s);
    json_decref(cfg);
}

static struct fm_entry *entry(struct fm_managed *m, const char *manager, bool apply)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].manager, manager) == 0 && m->v[i].apply == apply) return &m->v[i];
    return NULL;
}

static bool owns(struct fm_managed *m, const char *manager, bool apply, const char *path)
{
    struct fm_entry *e = entry(m, manager, apply);
    json_t *paths = json_array();
    bool found = false;
    size_t i;
    json_t *p;

    if (e) fm_set_each_path(e->set, collect, paths);
    json_array_foreach(paths, i, p) found = found || strcmp(json_string_value(p), path) == 0;
    json_decref(paths);
    return found;
}

TEST(an_update_takes_the_fields_it_changes_from_others)
{
    struct fm_managed m = {0};
    struct fm_op create = op_for("kubectl-create"), edit = op_for("kubectl-edit");
    json_t *v1 = J(deploy_cfg), *v2 = json_deep_copy(v1);

    CHECK(fm_update(&create, &m, NULL, v1) == 0);
    CHECK(owns(&m, "kubectl-create", false, ".spec.replicas"));
    CHECK(owns(&m, "kubectl-create", false, ".metadata.labels.app"));
    CHECK(!owns(&m, "kubectl-create", false, ".metadata.name"));
    orc_json_set(v2, "spec.replicas", json_integer(5));
    CHECK(fm_update(&edit, &m, v1, v2) == 0);
    CHECK(owns(&m, "kubectl-edit", false, ".spec.replicas"));
    CHECK(!owns(&m, "kubectl-create", false, ".spec.replicas"));
    CHECK(owns(&m, "kubectl-create", false, ".spec.template.spec.containers[name=\"c\"].image"));
    CHECK_INT(m.n, ==, 2);
    /* An update changing nothing takes nothing and keeps the time. */
    edit.now = "2026-12-06T11:00:00Z";
    CHECK(fm_update(&edit, &m, v2, v2) == 0);
    CHECK_STR(entry(&m, "kubectl-edit", false)->time, "2026-12-06T10:00:00Z");
    fm_managed_free(&m);
    json_decref(v1);
    json_decref(v2);
}

/* Applies cfg as `manager` onto *live; returns the rv. */
static int apply(json_t **live, struct fm_managed *m, const char *manager, json_t *cfg,
                 bool force, struct fm_conflicts *c)
{
    struct fm_op op = op_for(manager);
    json_t *out = NULL;
    int rv = fm_apply(&op, m, *live, cfg, force, &out, c);

    if (rv == 0 && out) {
        json_decref(*live);
        *live = out;
    }
    json_decref(cfg);
    return rv;
}

TEST(a_second_applier_conflicts_and_force_takes_the_field)
{
    struct fm_managed m = {0};
    struct fm_conflicts c = {0};
    json_t *live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
                     "'namespace':'default'}}");
    json_t *other = J(deploy_cfg);

    CHECK(apply(&live, &m, "kubectl", J(deploy_cfg), false, &c) == 0);
    CHECK(owns(&m, "kubectl", true, ".spec.replicas"));
    orc_json_set(other, "spec.replicas", json_integer(3));
    CHECK(apply(&live, &m, "other", json_incref(other), false, &c) == ORC_ECONFLICT);
    char *msg = fm_conflict_message(&c);
    CHECK_STR(msg, "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
    free(msg);
    json_decref(c.list);
    fm_managed_free(&m);
    /* m is unspecified after a conflict: start from the live object again */
    m = (struct fm_managed){0};
    json_decref(live);
    live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
             "'namespace':'default'}}");
    CHECK(apply(&live, &m, "kubectl", J(deploy_cfg), false, &c) == 0);
    CHECK(apply(&live, &m, "other", json_incref(other), true, &c) == 0);
    CHECK(owns(&m, "other", true, ".spec.replicas"));
    CHECK(!owns(&m, "kubectl", true, ".spec.replicas"));
    /* The same value is shared, not a conflict. */
    CHECK(owns(&m, "kubectl", true, ".spec.template.spec.containers[name=\"c\"].image"));
    CHECK(owns(&m, "other", true, ".spec.template.spec.containers[name=\"c\"].image"));
    CHECK_INT(json_integer_value(orc_json_get(live, "spec.replicas")), ==, 3);
    fm_managed_free(&m);
    json_decref(other);
    json_decref(live);
}

TEST(a_field_no_longer_applied_goes_unless_someone_else_owns_it)
{
    struct fm_managed m = {0};
    struct fm_conflicts c = {0};
    json_t *live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
                     "'namespace':'default'}}");
    json_t *two = J(deploy_cfg);

    orc_json_set(two, "metadata.labels.tier", json_string("front"));
    CHECK(apply(&live, &m, "kubectl", json_incref(two), false, &c) == 0);
    CHECK_STR(orc_json_str(live, "metadata.labels.tier"), "front");
    CHECK(apply(&live, &m, "kubectl", J(deploy_cfg), false, &c) == 0);
    CHECK(orc_json_get(live, "metadata.labels.tier") == NULL);
    CHECK_STR(orc_json_str(live, "metadata.labels.app"), "web");
    /* Shared with another applier: it stays. */
    CHECK(apply(&live, &m, "kubectl", json_incref(two), false, &c) == 0);
    CHECK(apply(&live, &m, "other", json_incref(two), false, &c) == 0);
    CHECK(apply(&live, &m, "kubectl", J(deploy_cfg), false, &c) == 0);
    CHECK_STR(orc_json_str(live, "metadata.labels.tier"), "front");
    fm_managed_free(&m);
    json_decref(two);
    json_decref(live);
}

TEST(apply_merges_containers_by_name_keeping_the_live_order)
{
    struct fm_op op = op_for("x");
    json_t *live = J("{'spec':{'template':{'spec':{'containers':[{'name':'a','image':'1'},"
                     "{'name':'b','image':'2'}]}}}}");
    json_t *cfg = J("{'spec':{'template':{'spec':{'containers':[{'name':'b','image':'3'},"
                    "{'name':'c','image':'4'}]}}}}");
    json_t *out = fm_merge(op.root, live, cfg);

    check_json(orc_json_get(out, "spec.template.spec.containers"),
               "[{'name':'a','image':'1'},{'name':'b','image':'3'},{'name':'c','image':'4'}]");
    json_decref(out);
    json_decref(live);
    json_decref(cfg);
}

TEST(update_entries_past_ten_merge_into_ancient_changes)
{
    struct fm_managed m = {0};
    json_t *prev = J(deploy_cfg);

    for (int i = 0; i < 12; i++) {
        char name[16], now[32];
        json_t *next = json_deep_copy(prev);
        snprintf(name, sizeof name, "m%02d", i);
        snprintf(now, sizeof now, "2026-12-06T10:%02d:00Z", i);
        struct fm_op op = op_for(name);
        op.now = now;
        char path[64];
        snprintf(path, sizeof path, "metadata.annotations.%s", name);
        orc_json_set(next, path, json_string("x"));
        CHECK(fm_update(&op, &m, i ? prev : NULL, next) == 0);
        json_decref(prev);
        prev = next;
    }
    CHECK_INT(m.n, ==, 10);
    CHECK(entry(&m, "ancient-changes", false) != NULL);
    CHECK(entry(&m, "m00", false) == NULL);
    CHECK(entry(&m, "m11", false) != NULL);
    fm_managed_free(&m);
    json_decref(prev);
}

TEST(managed_fields_round_trip_and_reset)
{
    json_t *obj = J("{'metadata':{'managedFields':[{'manager':'a','operation':'Update',"
                    "'apiVersion':'apps/v1','time':'2026-12-06T10:00:00Z','fieldsType':'FieldsV1',"
                    "'fieldsV1':{'f:spec':{'f:replicas':{}}}},{'manager':'k','operation':'Apply',"
                    "'apiVersion':'apps/v1','fieldsType':'FieldsV1','fieldsV1':{'f:metadata':"
                    "{'f:labels':{'.':{},'f:x':{}}}}}]}}");
    json_t *copy = json_deep_copy(obj);
    struct fm_managed m;
    char err[128];

    CHECK(fm_managed_decode(obj, &m, err, sizeof err) == 0);
    CHECK_INT(m.n, ==, 2);
    CHECK(fm_managed_encode(&m, obj) == 0);
    /* Apply sorts first. */
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(obj, "metadata.managedFields"), 0),
                           "manager"), "k");
    CHECK(json_equal(json_array_get(orc_json_get(obj, "metadata.managedFields"), 1),
                     json_array_get(orc_json_get(copy, "metadata.managedFields"), 0)));
    fm_managed_free(&m);
    json_t *reset = J("[{}]");
    CHECK(fm_managed_is_reset(reset));
    json_decref(reset);
    json_decref(obj);
    json_decref(copy);
    obj = J("{'metadata':{'managedFields':[{'manager':'a','operation':'Delete'}]}}");
    CHECK(fm_managed_decode(obj, &m, err, sizeof err) == ORC_EINVAL);
    json_decref(obj);
}

TEST(a_forced_apply_that_empties_another_entry_times_its_own)
{
    struct fm_managed m = {0};
    struct fm_conflicts c = {0};
    json_t *live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
                     "'namespace':'default'},'spec':{'replicas':1}}");
    struct fm_op op = op_for("kubectl");
    json_t *out = NULL, *cfg = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':"
                                 "{'name':'web'},'spec':{'replicas':4}}");

    /* Nobody applied it: before-first-apply owns replicas, then loses it. */
    op.now = "2026-12-06T12:00:00Z";
    CHECK(fm_apply(&op, &m, live, cfg, false, &out, &c) == ORC_ECONFLICT);
    char *msg = fm_conflict_message(&c);
    CHECK_STR(msg, "Apply failed with 1 conflict: conflict with \"before-first-apply\" using "
                   "apps/v1: .spec.replicas");
    free(msg);
    json_decref(c.list);
    fm_managed_free(&m);
    m = (struct fm_managed){0};
    CHECK(fm_apply(&op, &m, live, cfg, true, &out, &c) == 0);
    CHECK_INT(m.n, ==, 1);
    CHECK_STR(m.v[0].manager, "kubectl");
    CHECK_STR(m.v[0].time, "2026-12-06T12:00:00Z");
    CHECK_INT(json_integer_value(orc_json_get(out, "spec.replicas")), ==, 4);
    json_decref(out);
    json_decref(cfg);
    json_decref(live);
    fm_managed_free(&m);
}
