/* test_smp.c — strategic merge patch against cases from Kubernetes'
 * strategicpatch test tables (apimachinery patch_test.go: the MergeItem
 * type, its merging and non-merging lists, retainKeys, directives), then
 * the shapes kubectl sends for Deployments, and malformed patches. */
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/smp.h"
#include "tests/harness/test.h"

/* ---- a schema like Kubernetes' test type MergeItem ---- */

struct tfield {
    const char *name;
    unsigned strategy;
    const char *key;
    const struct ttype *type;
};
struct ttype {
    const struct tfield *fields;
};

static const struct ttype merge_item, retain_item, pod_spec, container;

static const struct tfield merge_item_fields[] = {
    {"mergingList", ORC_SMP_MERGE, "name", &merge_item},
    {"nonMergingList", 0, NULL, &merge_item},
    {"mergingIntList", ORC_SMP_MERGE, NULL, NULL},
    {"nonMergingIntList", 0, NULL, NULL},
    {"mergeItemPtr", ORC_SMP_MERGE, "name", &merge_item},
    {"simpleMap", 0, NULL, NULL},
    {"replacingItem", ORC_SMP_REPLACE, NULL, NULL},
    {"retainKeysMap", ORC_SMP_RETAIN_KEYS, NULL, &retain_item},
    {"retainKeysMergingList", ORC_SMP_MERGE | ORC_SMP_RETAIN_KEYS, "name", &merge_item},
    {NULL, 0, NULL, NULL}};
static const struct tfield retain_item_fields[] = {
    {"mergingIntList", ORC_SMP_MERGE, NULL, NULL},
    {"mergingList", ORC_SMP_MERGE, "name", &merge_item},
    {"nonMergingList", 0, NULL, &merge_item},
    {NULL, 0, NULL, NULL}};
static const struct ttype merge_item = {merge_item_fields};
static const struct ttype retain_item = {retain_item_fields};

/* A slice of the PodSpec tags from k8s.io/api. */
static const struct tfield container_fields[] = {
    {"ports", ORC_SMP_MERGE, "containerPort", NULL},
    {"env", ORC_SMP_MERGE, "name", NULL},
    {"volumeMounts", ORC_SMP_MERGE, "mountPath", NULL},
    {NULL, 0, NULL, NULL}};
static const struct tfield pod_spec_fields[] = {
    {"containers", ORC_SMP_MERGE, "name", &container},
    {"volumes", ORC_SMP_MERGE | ORC_SMP_RETAIN_KEYS, "name", NULL},
    {"tolerations", 0, NULL, NULL},
    {"finalizers", ORC_SMP_MERGE, NULL, NULL},
    {NULL, 0, NULL, NULL}};
static const struct ttype container = {container_fields};
static const struct ttype pod_spec = {pod_spec_fields};

static void lookup(const void *type, const char *key, struct orc_smp_field *out)
{
    const struct ttype *t = type;
    for (const struct tfield *f = t->fields; f->name; f++) {
        if (strcmp(f->name, key) != 0) continue;
        out->strategy = f->strategy;
        out->merge_key = f->key;
        out->type = f->type;
        return;
    }
}

static const struct orc_smp_schema merge_schema = {lookup, &merge_item};
static const struct orc_smp_schema pod_schema = {lookup, &pod_spec};

/* ---- helpers ---- */

/* JSON with ' for " so the cases read like Kubernetes' YAML tables. */
static json_t *J(const char *s)
{
    char err[128], *t = strdup(s);
    for (char *p = t; *p; p++)
        if (*p == '\'') *p = '"';
    json_t *v = orc_json_parse(t, strlen(t), err, sizeof err);
    CHECKF(v != NULL, "bad test JSON %s: %s", s, err);
    free(t);
    return v;
}

static void expect_with(const struct orc_smp_schema *sch, const char *what, const char *orig,
                        const char *patch, const char *want)
{
    json_t *doc = J(orig), *p = J(patch), *w = J(want), *p_copy = json_deep_copy(p);
    char err[512];
    int rv = orc_smp_apply(&doc, p, sch, err, sizeof err);
    char *got = orc_json_dumps(doc);

    CHECKF(rv == 0, "%s: error %d: %s", what, rv, err);
    CHECKF(json_equal(doc, w), "%s:\n got  %s\n want %s", what, got, want);
    CHECKF(json_equal(p, p_copy), "%s: the patch was changed", what);
    free(got);
    json_decref(doc);
    json_decref(p);
    json_decref(p_copy);
    json_decref(w);
}

static void expect(const char *what, const char *orig, const char *patch, const char *want)
{
    expect_with(&merge_schema, what, orig, patch, want);
}

static void expect_error(const char *what, const char *orig, const char *patch, int code,
                         const char *msg_has)
{
    json_t *doc = J(orig), *before = json_deep_copy(doc), *p = J(patch);
    char err[512] = "";
    int rv = orc_smp_apply(&doc, p, &merge_schema, err, sizeof err);

    CHECKF(rv == code, "%s: got %d, want %d (%s)", what, rv, code, err);
    CHECKF(strstr(err, msg_has) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err, msg_has);
    CHECKF(json_equal(doc, before), "%s: the document changed on error", what);
    json_decref(doc);
    json_decref(before);
    json_decref(p);
}

/* ---- maps ---- */

TEST(maps_merge_and_null_deletes)
{
    expect("add field to map", "{'name':1}", "{'value':1}", "{'name':1,'value':1}");
    expect("add field and delete field from map", "{'name':1,'other':'a'}",
           "{'name':null,'value':1}", "{'value':1,'other':'a'}");
    expect("delete field from nested map", "{'simpleMap':{'key1':1,'key2':1,'other':'a'}}",
           "{'simpleMap':{'key2':null}}", "{'simpleMap':{'key1':1,'other':'a'}}");
    expect("nil patch", "{'name':1}", "{}", "{'name':1}");
    expect("null for an absent key is dropped", "{'name':1}", "{'other':null}", "{'name':1}");
    expect("nulls inside a new value are dropped", "{}", "{'simpleMap':{'a':'x','b':null}}",
           "{'simpleMap':{'a':'x'}}");
    expect("scalars replace", "{'name':'a'}", "{'name':'b'}", "{'name':'b'}");
    expect("a type change replaces", "{'simpleMap':{'a':'x'}}", "{'simpleMap':'flat'}",
           "{'simpleMap':'flat'}");
    expect("replace strategy", "{'replacingItem':{'a':1,'b':2}}", "{'replacingItem':{'c':3}}",
           "{'replacingItem':{'c':3}}");
}

TEST(patch_directive_in_maps)
{
    expect("delete map from nested map", "{'simpleMap':{'key1':1,'key2':1}}",
           "{'simpleMap':{'$patch':'delete'}}", "{'simpleMap':{}}");
    expect("delete all keys from map", "{'name':1,'value':1}", "{'$patch':'replace'}", "{}");
    expect("add key and delete all keys from map", "{'name':1,'value':1}",
           "{'other':'a','$patch':'replace'}", "{'other':'a'}");
    expect("replace a nested map", "{'simpleMap':{'a':1},'name':'n'}",
           "{'simpleMap':{'$patch':'replace','b':2}}", "{'simpleMap':{'b':2},'name':'n'}");
    expect("a directive as a new value is not stored", "{'name':'n'}",
           "{'simpleMap':{'$patch':'delete'}}", "{'name':'n'}");
}

/* ---- lists ---- */

TEST(merging_lists_of_maps_by_key)
{
    expect("add field to map in merging list",
           "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
           "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],"
           "'mergingList':[{'name':1,'value':1}]}",
           "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}");
    expect("merge lists of maps",
           "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
           "{'$setElementOrder/mergingList':[{'name':4},{'name':1},{'name':2},{'name':3}],"
           "'mergingList':[{'name':4,'value':4},{'name':3,'value':3}]}",
           "{'mergingList':[{'name':4,'value':4},{'name':1,'other':'a'},"
           "{'name':2,'value':2,'other':'b'},{'name':3,'value':3}]}");
    expect("add field to map in merging list with conflict",
           "{'mergingList':[{'name':1,'other':'a'},{'name':3,'value':2,'other':'b'}]}",
           "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],"
           "'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
           "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2},"
           "{'name':3,'value':2,'other':'b'}]}");
    expect("null deletes a field of a merged element",
           "{'mergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
           "{'mergingList':[{'name':'foo','value':null}]}",
           "{'mergingList':[{'name':'bar'},{'name':'foo'}]}");
    /* Without $setElementOrder (older clients), a new item from the patch
     * goes before the live items it cannot be placed among. */
    expect("append without order", "{'mergingList':[{'name':1},{'name':2}]}",
           "{'mergingList':[{'name':3}]}", "{'mergingList':[{'name':3},{'name':1},{'name':2}]}");
    expect("merge empty merging lists", "{'mergingList':[]}", "{'mergingList':[]}",
           "{'mergingList':[]}");
    expect("merging list pointer", "{'mergeItemPtr':{'name':'a','value':'x'}}",
           "{'mergeItemPtr':{'other':'y'}}", "{'mergeItemPtr':{'name':'a','value':'x','other':'y'}}");
}

TEST(delete_and_replace_directives_in_lists)
{
    expect("delete all maps from merging list", "{'mergingList':[{'name':1},{'name':2}]}",
           "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
           "{'mergingList':[]}");
    expect("delete all maps from empty merging list", "{'mergingList':[]}",
           "{'mergingList':[{'name':1,'$patch':'delete'}]}", "{'mergingList':[]}");
    expect("delete all duplicate entries in a merging list",
           "{'mergingList':[{'name':1},{'name':1},{'name':2,'value':'a'},{'name':3},{'name':3}]}",
           "{'mergingList':[{'name':1,'$patch':'delete'},{'name':3,'$patch':'delete'}]}",
           "{'mergingList':[{'name':2,'value':'a'}]}");
    expect("delete all items from merging list", "{'mergingList':[{'name':1},{'name':2}]}",
           "{'mergingList':[{'$patch':'replace'}]}", "{'mergingList':[]}");
    expect("replace a merging list", "{'mergingList':[{'name':1,'value':'a'},{'name':2}]}",
           "{'mergingList':[{'name':3},{'$patch':'replace'},{'name':1}]}",
           "{'mergingList':[{'name':3},{'name':1}]}");
}

TEST(set_element_order)
{
    expect("$setElementOrder names an item the list lacks", "{'mergingList':[{'name':1},{'name':3}]}",
           "{'$setElementOrder/mergingList':[{'name':3},{'name':2},{'name':1}],"
           "'mergingList':[{'name':3,'value':3},{'name':1,'value':1}]}",
           "{'mergingList':[{'name':3,'value':3},{'name':1,'value':1}]}");
    expect("order alone reorders", "{'mergingIntList':[1,3,4,2]}",
           "{'$setElementOrder/mergingIntList':[4,2,3,1]}", "{'mergingIntList':[4,2,3,1]}");
    expect("server-only items keep their place", "{'mergingIntList':[1,2,9,3,4]}",
           "{'$setElementOrder/mergingIntList':[2,1,4,3]}", "{'mergingIntList':[2,1,9,4,3]}");
    expect("server-only items keep their place 2", "{'mergingIntList':[1,2,7,9,8,3,4]}",
           "{'$setElementOrder/mergingIntList':[2,1,4,3]}", "{'mergingIntList':[2,1,7,9,8,4,3]}");
    expect("duplicates in a merging list",
           "{'mergingList':[{'name':1},{'name':2,'value':'dup1'},{'name':3},"
           "{'name':2,'value':'dup2'},{'name':4}]}",
           "{'$setElementOrder/mergingList':[{'name':2},{'name':1},{'name':4},{'name':3},{'name':2}]}",
           "{'mergingList':[{'name':2,'value':'dup1'},{'name':2,'value':'dup2'},{'name':1},"
           "{'name':4},{'name':3}]}");
    expect("the patch's order without $setElementOrder", "{'mergingIntList':[1,2,3]}",
           "{'mergingIntList':[3,1]}", "{'mergingIntList':[2,3,1]}");
    expect("the patch's order for maps", "{'mergingList':[{'name':1},{'name':2,'value':'b'},{'name':3}]}",
           "{'mergingList':[{'name':3,'value':'c'},{'name':1,'value':'a'},{'name':2,'other':'x'}]}",
           "{'mergingList':[{'name':3,'value':'c'},{'name':1,'value':'a'},"
           "{'name':2,'value':'b','other':'x'}]}");
    expect("a list the live object lacks", "{}",
           "{'$setElementOrder/mergingList':[{'name':2},{'name':1}],"
           "'mergingList':[{'name':2},{'name':1},{'name':5,'$patch':'delete'}]}",
           "{'mergingList':[{'name':2},{'name':1}]}");
    expect_error("order and patch disagree", "{'mergingList':[{'name':1},{'name':3},{'name':2}]}",
                 "{'$setElementOrder/mergingList':[{'name':1},{'name':2},{'name':3}],"
                 "'mergingList':[{'name':3,'value':3},{'name':1,'value':1}]}",
                 ORC_EINVAL, "doesn't match");
}

TEST(primitive_lists_merged_or_replaced)
{
    expect("unique scalars when merging lists", "{'mergingIntList':[1,2]}",
           "{'mergingIntList':[2,3]}", "{'mergingIntList':[1,2,3]}");
    expect("replace list of scalars", "{'nonMergingIntList':[1,2]}",
           "{'nonMergingIntList':[2,3]}", "{'nonMergingIntList':[2,3]}");
    expect("replace list of maps", "{'nonMergingList':[{'name':1},{'name':2}]}",
           "{'nonMergingList':[{'name':3}]}", "{'nonMergingList':[{'name':3}]}");
    expect("delete items in lists of scalars", "{'mergingIntList':[1,2,3,4]}",
           "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':[3]}",
           "{'mergingIntList':[1,2,4]}");
    expect("delete all duplicate items in lists of scalars", "{'mergingIntList':[1,2,3,3,4]}",
           "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':[3]}",
           "{'mergingIntList':[1,2,4]}");
    expect("add and delete an item in a int list and preserve order", "{'mergingIntList':[1,2,3]}",
           "{'$setElementOrder/mergingIntList':[4,2,1],'mergingIntList':[4],"
           "'$deleteFromPrimitiveList/mergingIntList':[3]}",
           "{'mergingIntList':[4,2,1]}");
    expect("deleting from an absent list", "{}", "{'$deleteFromPrimitiveList/mergingIntList':[3]}",
           "{}");
    /* Kubernetes' finalizers: a merging list of strings. */
    expect_with(&pod_schema, "finalizers merge", "{'finalizers':['a','b']}",
                "{'finalizers':['c']}", "{'finalizers':['c','a','b']}");
    expect_with(&pod_schema, "finalizers removed", "{'finalizers':['a','b','c']}",
                "{'$deleteFromPrimitiveList/finalizers':['b'],'$setElementOrder/finalizers':['a','c']}",
                "{'finalizers':['a','c']}");
    expect_with(&pod_schema, "tolerations are replaced whole",
                "{'tolerations':[{'key':'a','effect':'NoSchedule'}]}",
                "{'tolerations':[{'key':'b'}]}", "{'tolerations':[{'key':'b'}]}");
}

TEST(retain_keys)
{
    expect("retainKeys map should clear defaulted field", "{'retainKeysMap':{'value':'foo'}}",
           "{'retainKeysMap':{'$retainKeys':['other'],'other':'bar'}}",
           "{'retainKeysMap':{'other':'bar'}}");
    expect("discriminated union", "{'retainKeysMap':{'name':'type1','value':'foo'}}",
           "{'retainKeysMap':{'$retainKeys':['name','other'],'name':'type2','other':'bar'}}",
           "{'retainKeysMap':{'name':'type2','other':'bar'}}");
    expect("retainKeys map deletes a field and clears a field",
           "{'retainKeysMap':{'name':'foo','value':'bar','other':'a'}}",
           "{'retainKeysMap':{'$retainKeys':['name'],'value':null}}",
           "{'retainKeysMap':{'name':'foo'}}");
    expect("retainKeys map adds a field in a nested map",
           "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key3':'c'}}}",
           "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key2':'b'}}}",
           "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b','key3':'c'}}}");
    expect("retainKeys list element", "{'retainKeysMergingList':[{'name':'foo','value':'a'}]}",
           "{'retainKeysMergingList':[{'$retainKeys':['name','other'],'name':'foo','other':'b'}]}",
           "{'retainKeysMergingList':[{'name':'foo','other':'b'}]}");
    expect_error("a patched key must be retained", "{'retainKeysMap':{'name':'foo'}}",
                 "{'retainKeysMap':{'$retainKeys':['name'],'value':'x'}}", ORC_EPROTO,
                 "retainKeys");
}

/* ---- what kubectl sends ---- */

static const char deploy_live[] =
    "{'containers':[{'name':'app','image':'nginx:1.25','ports':[{'containerPort':80,'protocol':'TCP'}],"
    "'env':[{'name':'MODE','value':'prod'}],'imagePullPolicy':'IfNotPresent'},"
    "{'name':'sidecar','image':'busybox'}],"
    "'volumes':[{'name':'cache','emptyDir':{}}]}";

TEST(kubectl_apply_set_image_and_removals)
{
    /* kubectl apply with a changed image: ports, env and the sidecar stay. */
    expect_with(&pod_schema, "apply changed image", deploy_live,
                "{'$setElementOrder/containers':[{'name':'app'},{'name':'sidecar'}],"
                "'containers':[{'image':'nginx:1.26','name':'app'}]}",
                "{'containers':[{'name':'app','image':'nginx:1.26','ports':[{'containerPort':80,"
                "'protocol':'TCP'}],'env':[{'name':'MODE','value':'prod'}],'imagePullPolicy':"
                "'IfNotPresent'},{'name':'sidecar','image':'busybox'}],"
                "'volumes':[{'name':'cache','emptyDir':{}}]}");
    /* kubectl apply without the sidecar deletes it by key. */
    expect_with(&pod_schema, "apply without sidecar", deploy_live,
                "{'$setElementOrder/containers':[{'name':'app'}],"
                "'containers':[{'$patch':'delete','name':'sidecar'}]}",
                "{'containers':[{'name':'app','image':'nginx:1.25','ports':[{'containerPort':80,"
                "'protocol':'TCP'}],'env':[{'name':'MODE','value':'prod'}],'imagePullPolicy':"
                "'IfNotPresent'}],'volumes':[{'name':'cache','emptyDir':{}}]}");
    /* Nested keyed lists: containers[].env[] by name, ports by containerPort. */
    expect_with(&pod_schema, "nested env and ports", deploy_live,
                "{'containers':[{'name':'app','env':[{'name':'LEVEL','value':'debug'},"
                "{'name':'MODE','$patch':'delete'}],'ports':[{'containerPort':80,'name':'http'}]}]}",
                "{'containers':[{'name':'app','image':'nginx:1.25','ports':[{'containerPort':80,"
                "'protocol':'TCP','name':'http'}],'env':[{'name':'LEVEL','value':'debug'}],"
                "'imagePullPolicy':'IfNotPresent'},{'name':'sidecar','image':'busybox'}],"
                "'volumes':[{'name':'cache','emptyDir':{}}]}");
    /* A volume changing its source: kubectl sends $retainKeys. */
    expect_with(&pod_schema, "volume source swap", deploy_live,
                "{'$setElementOrder/volumes':[{'name':'cache'}],'volumes':[{'$retainKeys':"
                "['hostPath','name'],'hostPath':{'path':'/tmp'},'name':'cache'}]}",
                "{'containers':[{'name':'app','image':'nginx:1.25','ports':[{'containerPort':80,"
                "'protocol':'TCP'}],'env':[{'name':'MODE','value':'prod'}],'imagePullPolicy':"
                "'IfNotPresent'},{'name':'sidecar','image':'busybox'}],"
                "'volumes':[{'name':'cache','hostPath':{'path':'/tmp'}}]}");
}

/* ---- malformed patches ---- */

TEST(malformed_patches_change_nothing)
{
    expect_error("missing merge key", "{'mergingList':[{'name':1,'value':'a'}]}",
                 "{'mergingList':[{'value':'b'}]}", ORC_EINVAL,
                 "does not contain declared merge key: name");
    expect_error("delete without merge key", "{'mergingList':[{'name':1}]}",
                 "{'mergingList':[{'$patch':'delete'}]}", ORC_EINVAL, "merge key");
    expect_error("unknown patch type in map", "{'simpleMap':{'a':'b'}}",
                 "{'simpleMap':{'$patch':'explode'}}", ORC_EPROTO, "unknown patch type");
    expect_error("merge directive in a list", "{'mergingList':[{'name':1}]}",
                 "{'mergingList':[{'$patch':'merge'}]}", ORC_EPROTO, "cannot yet");
    expect_error("mixed element types", "{'mergingIntList':[1,2]}", "{'mergingIntList':['x']}",
                 ORC_EINVAL, "one type");
    expect_error("lists of lists", "{'mergingIntList':[[1]]}", "{'mergingIntList':[[2]]}",
                 ORC_EINVAL, "lists of lists");
    expect_error("order that is not a list", "{'mergingList':[]}",
                 "{'$setElementOrder/mergingList':{'name':1}}", ORC_EPROTO, "setElementOrder");
    expect_error("directive without a list name", "{}", "{'$setElementOrder':[1]}", ORC_EPROTO,
                 "setElementOrder");
    expect_error("retainKeys not a list", "{'retainKeysMap':{}}",
                 "{'retainKeysMap':{'$retainKeys':'name'}}", ORC_EPROTO, "retainKeys");
    expect_error("patch not an object", "{}", "[1]", ORC_EPROTO, "JSON object");
    /* A failure deep inside leaves earlier changes undone. */
    expect_error("partial failure", "{'name':'a','mergingList':[{'name':1}]}",
                 "{'name':'b','mergingList':[{'value':'no key'}]}", ORC_EINVAL, "merge key");
}

TEST(long_lists_stay_fast)
{
    /* 20,000 finalizers-like strings and a keyed list of 20,000 items:
     * quadratic matching would take minutes on the API server's loop. */
    json_t *doc = json_object(), *patch = json_object(), *ints = json_array(), *more = json_array();
    json_t *maps = json_array(), *pmaps = json_array();
    char name[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        json_array_append_new(ints, json_string(name));
        json_array_append_new(maps, json_pack("{s:s, s:i}", "name", name, "v", i));
        snprintf(name, sizeof name, "n%d", i + 10000);
        json_array_append_new(more, json_string(name));
        json_array_append_new(pmaps, json_pack("{s:s, s:i}", "name", name, "w", i));
    }
    json_object_set_new(doc, "mergingIntList", ints);
    json_object_set_new(doc, "mergingList", maps);
    json_object_set_new(patch, "mergingIntList", more);
    json_object_set_new(patch, "mergingList", pmaps);
    uint64_t t0 = test_now_ms();
    CHECK(orc_smp_apply(&doc, patch, &merge_schema, NULL, 0) == 0);
    CHECK_INT(json_array_size(json_object_get(doc, "mergingIntList")), ==, 30000);
    CHECK_INT(json_array_size(json_object_get(doc, "mergingList")), ==, 30000);
    CHECKF(test_now_ms() - t0 < 10000, "took %llu ms", (unsigned long long)(test_now_ms() - t0));
    json_decref(doc);
    json_decref(patch);
}
