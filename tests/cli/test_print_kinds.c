/* test_print_kinds.c — `orctl get` tables for PersistentVolumes, claims,
 * StorageClasses, PriorityClasses, PodDisruptionBudgets and
 * ControllerRevisions, Endpoints and EndpointSlices, in kubectl's columns. */
#include "cli/print.h"

#include <stdio.h>

#include "tests/cli/fixtures.h"
#include "tests/harness/test.h"

static void check_table(const char *kind, const char *yaml, unsigned flags, const char *want)
{
    const struct orc_kind *k = orc_kind_lookup(kind);
    json_t *items = fixture_items(yaml);
    struct orc_buf out = ORC_BUF_INIT;

    CHECK(k != NULL);
    CHECK_INT(cli_print_table(k, items, flags, fixture_now(), &out), ==, 0);
    CHECKF(strcmp(out.data ? out.data : "", want) == 0, "%s table:\n%s---- want:\n%s", kind,
           out.data ? out.data : "", want);
    orc_buf_free(&out);
    json_decref(items);
}

#define T0 "creationTimestamp: '2024-06-01T11:55:00Z'"

TEST(table_persistent_volumes_and_claims)
{
    check_table("pv",
                "metadata: {name: pv1, " T0 "}\n"
                "spec: {capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce, ReadOnlyMany],\n"
                "  persistentVolumeReclaimPolicy: Retain, storageClassName: manual, volumeMode: Filesystem,\n"
                "  claimRef: {namespace: default, name: data}}\n"
                "status: {phase: Bound}\n",
                CLI_WIDE,
                "NAME   CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE   VOLUMEMODE\n"
                "pv1    10Gi       RWO,ROX        Retain           Bound    default/data   manual         <unset>                          5m    Filesystem\n");
    check_table("pvc",
                "metadata: {name: data, " T0 "}\n"
                "spec: {volumeName: pv1, storageClassName: manual, accessModes: [ReadWriteOnce]}\n"
                "status: {phase: Bound, capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce]}\n"
                "---\nmetadata: {name: waiting, " T0 "}\nspec: {accessModes: [ReadWriteOncePod]}\n"
                "status: {phase: Pending}\n",
                0,
                "NAME      STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE\n"
                "data      Bound     pv1      10Gi       RWO            manual         <unset>                 5m\n"
                "waiting   Pending                                                     <unset>                 5m\n");
}

TEST(table_classes_budgets_revisions)
{
    check_table("sc",
                "metadata: {name: local-path, " T0 "}\nprovisioner: rancher.io/local-path\n"
                "reclaimPolicy: Delete\nvolumeBindingMode: WaitForFirstConsumer\n",
                0,
                "NAME         PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE\n"
                "local-path   rancher.io/local-path   Delete          WaitForFirstConsumer   false                  5m\n");
    check_table("pc",
                "metadata: {name: system-node-critical, " T0 "}\nvalue: 2000001000\n"
                "preemptionPolicy: PreemptLowerPriority\n",
                0,
                "NAME                   VALUE        GLOBAL-DEFAULT   AGE   PREEMPTIONPOLICY\n"
                "system-node-critical   2000001000   false            5m    PreemptLowerPriority\n");
    check_table("pdb",
                "metadata: {name: zk, " T0 "}\nspec: {minAvailable: 2}\nstatus: {disruptionsAllowed: 1}\n"
                "---\nmetadata: {name: web, " T0 "}\nspec: {maxUnavailable: '25%'}\n",
                0,
                "NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE\n"
                "zk     2               N/A               1                     5m\n"
                "web    N/A             25%               0                     5m\n");
    check_table("controllerrevisions",
                "metadata: {name: web-5d4f8, " T0 ", ownerReferences: [{apiVersion: apps/v1,\n"
                "  kind: StatefulSet, name: web, uid: u, controller: true}]}\nrevision: 2\n",
                0,
                "NAME        CONTROLLER             REVISION   AGE\n"
                "web-5d4f8   statefulset.apps/web   2          5m\n");
}

TEST(table_endpoints_and_slices)
{
    check_table("ep",
                "metadata: {name: web, " T0 "}\n"
                "subsets: [{addresses: [{ip: 10.42.0.5}, {ip: 10.42.0.6}, {ip: 10.42.0.7},\n"
                "  {ip: 10.42.0.8}], ports: [{port: 8080}]}]\n"
                "---\nmetadata: {name: empty, " T0 "}\n",
                0,
                "NAME    ENDPOINTS                                                  AGE\n"
                "web     10.42.0.5:8080,10.42.0.6:8080,10.42.0.7:8080 + 1 more...   5m\n"
                "empty   <none>                                                     5m\n");
    check_table("endpointslices",
                "metadata: {name: web-abcde, " T0 "}\naddressType: IPv4\n"
                "ports: [{name: http, port: 8080, protocol: TCP}]\n"
                "endpoints: [{addresses: [10.42.0.5]}, {addresses: [10.42.0.6]}]\n"
                "---\nmetadata: {name: none-xyz, " T0 "}\naddressType: IPv4\n",
                0,
                "NAME        ADDRESSTYPE   PORTS     ENDPOINTS             AGE\n"
                "web-abcde   IPv4          8080      10.42.0.5,10.42.0.6   5m\n"
                "none-xyz    IPv4          <unset>   <none>                5m\n");
}

TEST(table_ingresses_and_classes)
{
    check_table("ing",
                "metadata: {name: web, " T0 "}\n"
                "spec: {ingressClassName: orc, tls: [{hosts: [a.example.com]}],\n"
                "  rules: [{host: a.example.com}, {host: b.example.com}]}\n"
                "status: {loadBalancer: {ingress: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]}}\n"
                "---\nmetadata: {name: any, " T0 "}\n"
                "spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}\n",
                0,
                "NAME   CLASS    HOSTS                         ADDRESS             PORTS     AGE\n"
                "web    orc      a.example.com,b.example.com   10.0.0.1,10.0.0.2   80, 443   5m\n"
                "any    <none>   *                                                 80        5m\n");
    check_table("ingressclasses",
                "metadata: {name: orc, " T0 "}\nspec: {controller: orc.dev/ingress}\n",
                0,
                "NAME   CONTROLLER        PARAMETERS   AGE\n"
                "orc    orc.dev/ingress   <none>       5m\n");
}
