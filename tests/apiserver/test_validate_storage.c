/* test_validate_storage.c — PersistentVolume, PersistentVolumeClaim and
 * StorageClass: the docs' manifests pass clean with Kubernetes' defaults;
 * each rule, worded as Kubernetes words it; what updates may change. */
#include "tests/apiserver/vt.h"

static const char *const pv_json = /* kubernetes.io docs: task-pv-volume */
    "{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'task-pv-volume',"
    "'labels':{'type':'local'}},'spec':{'storageClassName':'manual','capacity':{'storage':'10Gi'},"
    "'accessModes':['ReadWriteOnce'],'hostPath':{'path':'/mnt/data'}}}";

static const char *const pvc_json = /* kubernetes.io docs: task-pv-claim */
    "{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':'task-pv-claim'},"
    "'spec':{'storageClassName':'manual','accessModes':['ReadWriteOnce'],"
    "'resources':{'requests':{'storage':'3Gi'}}}}";

static const char *const sc_json = /* kubernetes.io docs: local-storage */
    "{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{'name':'local-storage'},"
    "'provisioner':'kubernetes.io/no-provisioner','volumeBindingMode':'WaitForFirstConsumer'}";

TEST(pv_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "PersistentVolume", vt_json(pv_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.persistentVolumeReclaimPolicy", "Retain");
    VT_STR(v.obj, "spec.volumeMode", "Filesystem");
    vt_free(&v);
}

TEST(pv_rules)
{
    json_t *b = vt_json(pv_json);
    VT_EXPECT("pv", b, "spec.capacity", NULL, "spec.capacity", "Required value");
    VT_EXPECT("pv", b, "spec.capacity.cpu", "'1'", "spec.capacity",
              "Unsupported value: {\"cpu\":\"1\",\"storage\":\"10Gi\"}: supported values: "
              "\"storage\"");
    VT_EXPECT("pv", b, "spec.capacity.storage", "'0'", "spec.capacity[storage]",
              "Invalid value: \"0\": must be greater than zero");
    VT_EXPECT("pv", b, "spec.accessModes", NULL, "spec.accessModes", "Required value");
    VT_EXPECT("pv", b, "spec.accessModes", "['ReadWriteOncePod','ReadOnlyMany']",
              "spec.accessModes", "Forbidden: may not use ReadWriteOncePod with other access modes");
    VT_EXPECT("pv", b, "spec.accessModes[0]", "'WriteSometimes'", "spec.accessModes[0]",
              "Unsupported value: \"WriteSometimes\"");
    VT_EXPECT("pv", b, "spec.hostPath", NULL, "spec", "Required value: must specify a volume type");
    VT_EXPECT("pv", b, "spec.nfs", "{'server':'nfs.local','path':'/x'}", "spec.nfs",
              "Forbidden: may not specify more than 1 volume type");
    VT_EXPECT("pv", b, "spec.persistentVolumeReclaimPolicy", "'Keep'",
              "spec.persistentVolumeReclaimPolicy", "Unsupported value: \"Keep\"");
    VT_EXPECT("pv", b, "spec.volumeMode", "'Raw'", "spec.volumeMode", "Unsupported value");
    VT_EXPECT("pv", b, "spec.storageClassName", "'Bad_Class'", "spec.storageClassName",
              "Invalid value: \"Bad_Class\"");
    json_t *local = json_deep_copy(b);
    vt_setj(local, "spec.hostPath", NULL);
    VT_EXPECT("pv", local, "spec.local", "{'path':'/mnt/disks/ssd1'}", "spec.nodeAffinity",
              "Required value: Local volume requires node affinity");
    json_decref(local);
    json_decref(b);
}

TEST(pv_updates)
{
    json_t *b = vt_json(pv_json);
    VT_UPDATE("pv", b, "spec.capacity.storage", "'20Gi'", NULL, NULL);
    VT_UPDATE("pv", b, "spec.claimRef", "{'namespace':'d','name':'task-pv-claim'}", NULL, NULL);
    VT_UPDATE("pv", b, "spec.hostPath.path", "'/mnt/other'", "spec.persistentvolumesource",
              "Forbidden: spec.persistentvolumesource is immutable after creation");
    VT_UPDATE("pv", b, "spec.volumeMode", "'Block'", "spec.volumeMode",
              "Invalid value: \"Block\": field is immutable");
    json_decref(b);
}

TEST(pvc_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "pvc", vt_json(pvc_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.volumeMode", "Filesystem");
    vt_free(&v);
}

TEST(pvc_rules)
{
    json_t *b = vt_json(pvc_json);
    VT_EXPECT("pvc", b, "spec.accessModes", NULL, "spec.accessModes",
              "Required value: at least 1 access mode is required");
    VT_EXPECT("pvc", b, "spec.resources", NULL, "spec.resources[storage]", "Required value");
    VT_EXPECT("pvc", b, "spec.resources.requests.storage", "'-1Gi'", "spec.resources[storage]",
              "Invalid value: \"-1Gi\": must be greater than or equal to 0");
    VT_EXPECT("pvc", b, "spec.resources.requests.storage", "'0'", "spec.resources[storage]",
              "Invalid value: \"0\": must be greater than zero");
    VT_EXPECT("pvc", b, "spec.selector", "{'matchLabels':{'bad key':'x'}}",
              "spec.selector.matchLabels", "Invalid value: \"bad key\"");
    VT_EXPECT("pvc", b, "spec", NULL, "spec.accessModes", "Required value");
    json_decref(b);
}

TEST(pvc_updates)
{
    json_t *b = vt_json(pvc_json);
    VT_UPDATE("pvc", b, "spec.resources.requests.storage", "'5Gi'", NULL, NULL);
    VT_UPDATE("pvc", b, "spec.volumeName", "'task-pv-volume'", NULL, NULL);
    VT_UPDATE("pvc", b, "spec.accessModes", "['ReadWriteMany']", "spec",
              "Forbidden: spec is immutable after creation except resources.requests and "
              "volumeAttributesClassName for bound claims");
    vt_setj(b, "spec.volumeName", "'pv1'");
    VT_UPDATE("pvc", b, "spec.volumeName", "'pv2'", "spec", "Forbidden: spec is immutable");
    json_decref(b);
}

TEST(sc_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "sc", vt_json(sc_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "reclaimPolicy", "Delete");
    VT_STR(v.obj, "volumeBindingMode", "WaitForFirstConsumer");
    vt_free(&v);
    json_t *o = vt_json(sc_json);
    vt_setj(o, "volumeBindingMode", NULL);
    vt_run(&v, "sc", o, NULL);
    VT_STR(v.obj, "volumeBindingMode", "Immediate");
    vt_free(&v);
}

TEST(sc_rules_and_updates)
{
    json_t *b = vt_json(sc_json);
    VT_EXPECT("sc", b, "provisioner", NULL, "provisioner", "Required value");
    VT_EXPECT("sc", b, "provisioner", "'not a/valid/name'", "provisioner",
              "Invalid value: \"not a/valid/name\"");
    VT_EXPECT("sc", b, "reclaimPolicy", "'Recycle'", "reclaimPolicy",
              "Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"");
    VT_EXPECT("sc", b, "volumeBindingMode", "'Later'", "volumeBindingMode",
              "Unsupported value: \"Later\"");
    VT_UPDATE("sc", b, "provisioner", "'example.com/other'", "provisioner",
              "Forbidden: updates to provisioner are forbidden.");
    VT_UPDATE("sc", b, "parameters", "{'type':'ssd'}", "parameters",
              "Forbidden: updates to parameters are forbidden.");
    VT_UPDATE("sc", b, "reclaimPolicy", "'Retain'", "reclaimPolicy",
              "Forbidden: updates to reclaimPolicy are forbidden.");
    VT_UPDATE("sc", b, "volumeBindingMode", "'Immediate'", "volumeBindingMode",
              "Invalid value: \"Immediate\": field is immutable");
    VT_UPDATE("sc", b, "allowVolumeExpansion", "true", NULL, NULL);
    json_decref(b);
}
