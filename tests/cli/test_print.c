/* test_print.c — `orctl get` tables and `-o name` against kubectl's text
 * for realistic objects. */
#include "cli/print.h"
#include "lib/table.h"

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

TEST(table_pods_statuses)
{
    check_table("pods", pods_yaml, 0,
                "NAME               READY   STATUS             RESTARTS      AGE\n"
                "web-7d4b9c-x2x9k   1/1     Running            0             5m\n"
                "crashy             0/1     CrashLoopBackOff   4 (30s ago)   120m\n"
                "initing            0/1     Init:1/2           0             10s\n"
                "leaving            2/2     Terminating        3             2d5h\n"
                "batch-done         0/1     Completed          0             12d\n"
                "unscheduled        0/2     Pending            0             2s\n");
}

TEST(table_pods_wide_all_namespaces)
{
    check_table("po", pods_yaml, CLI_WIDE | CLI_ALL_NAMESPACES,
                "NAMESPACE   NAME               READY   STATUS             RESTARTS      AGE    IP          NODE     NOMINATED NODE   READINESS GATES\n"
                "default     web-7d4b9c-x2x9k   1/1     Running            0             5m     10.42.0.7   node-1   <none>           <none>\n"
                "default     crashy             0/1     CrashLoopBackOff   4 (30s ago)   120m   10.42.1.3   node-2   <none>           <none>\n"
                "default     initing            0/1     Init:1/2           0             10s    <none>      <none>   <none>           <none>\n"
                "default     leaving            2/2     Terminating        3             2d5h   <none>      <none>   <none>           <none>\n"
                "jobs        batch-done         0/1     Completed          0             12d    <none>      <none>   <none>           <none>\n"
                "default     unscheduled        0/2     Pending            0             2s     <none>      <none>   <none>           0/1\n");
}

TEST(table_pod_status_edge_cases)
{
    check_table("pods",
                "metadata: {name: a}\nspec: {containers: [{name: c}]}\n"
                "status: {phase: Running, containerStatuses: [{name: c, state: {terminated: {exitCode: 137, signal: 9}}}]}\n"
                "---\nmetadata: {name: b}\nspec: {initContainers: [{name: i}], containers: [{name: c}]}\n"
                "status: {phase: Pending, initContainerStatuses: [{name: i, restartCount: 2, "
                "state: {terminated: {exitCode: 3}}}]}\n"
                "---\nmetadata: {name: c}\nspec: {initContainers: [{name: i}], containers: [{name: c}]}\n"
                "status: {phase: Pending, initContainerStatuses: [{name: i, state: {waiting: {reason: ErrImagePull}}}]}\n"
                "---\nmetadata: {name: d}\nspec: {containers: [{name: c}, {name: s}]}\n"
                "status: {phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: ["
                "{name: c, ready: true, state: {running: {}}}, "
                "{name: s, state: {terminated: {exitCode: 0, reason: Completed}}}]}\n"
                "---\nmetadata: {name: e}\nspec: {containers: [{name: c}]}\n"
                "status: {phase: Failed, reason: Evicted}\n",
                CLI_NO_HEADERS,
                /* Go's tabwriter (minimum width 6) pads short columns. */
                "a     0/1   Signal:9            0     <unknown>\n"
                "b     0/1   Init:ExitCode:3     2     <unknown>\n"
                "c     0/1   Init:ErrImagePull   0     <unknown>\n"
                "d     1/2   NotReady            0     <unknown>\n"
                "e     0/1   Evicted             0     <unknown>\n");
}

TEST(table_workloads)
{
    check_table("deploy", deployment_yaml, CLI_WIDE,
                "NAME   READY   UP-TO-DATE   AVAILABLE   AGE    CONTAINERS    IMAGES                    SELECTOR\n"
                "web    2/3     3            2           2d5h   web,sidecar   nginx:1.25,busybox:1.36   "
                "app=web,!legacy,tier in (edge,frontend)\n");
    check_table("rs",
                "metadata: {name: web-7d4b9c, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
                "spec: {replicas: 3, selector: {matchLabels: {app: web, pod-template-hash: 7d4b9c}}}\n"
                "status: {replicas: 3, readyReplicas: 1}\n",
                0,
                "NAME         DESIRED   CURRENT   READY   AGE\n"
                "web-7d4b9c   3         3         1       60m\n");
    check_table("sts",
                "metadata: {name: db, creationTimestamp: '2024-06-01T11:58:00Z'}\n"
                "spec: {replicas: 3, template: {spec: {containers: [{name: pg, image: 'postgres:16'}]}}}\n"
                "status: {readyReplicas: 2}\n",
                CLI_WIDE,
                "NAME   READY   AGE   CONTAINERS   IMAGES\n"
                "db     2/3     2m    pg           postgres:16\n");
    check_table("ds",
                "metadata: {name: agent, creationTimestamp: '2024-06-01T11:58:00Z'}\n"
                "spec: {template: {spec: {nodeSelector: {kubernetes.io/os: linux}}}}\n"
                "status: {desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2,"
                " updatedNumberScheduled: 3, numberAvailable: 2}\n"
                "---\nmetadata: {name: logs, creationTimestamp: '2024-06-01T11:58:00Z'}\n",
                0,
                "NAME    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE\n"
                "agent   3         3         2       3            2           kubernetes.io/os=linux   2m\n"
                "logs    0         0         0       0            0           <none>                   2m\n");
}

TEST(table_jobs_and_cronjobs)
{
    check_table("jobs", jobs_yaml, 0,
                "NAME      STATUS     COMPLETIONS   DURATION   AGE\n"
                "pi        Complete   1/1           70s        60m\n"
                "workers   Running    1/1 of 3      10m        10m\n"
                "broken    Failed     0/1                      10m\n");
    check_table("cronjobs", cronjobs_yaml, 0,
                "NAME     SCHEDULE      TIMEZONE       SUSPEND   ACTIVE   LAST SCHEDULE   AGE\n"
                "backup   */5 * * * *   Europe/Paris   False     1        5m              31d\n"
                "idle     @daily        <none>         True      0        <none>          60m\n");
}

TEST(table_services)
{
    check_table("svc", services_yaml, CLI_WIDE,
                "NAME       TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)                     AGE   SELECTOR\n"
                "web        ClusterIP      10.43.0.10   <none>        80/TCP,443/TCP              31d   app=web,tier=frontend\n"
                "nodeport   NodePort       10.43.0.11   192.0.2.1     80:30080/TCP,53:30053/UDP   60m   <none>\n"
                "lb         LoadBalancer   10.43.0.12   <pending>     443:31443/TCP               60m   <none>\n"
                "headless   ClusterIP      None         <none>        <none>                      60m   <none>\n");
}

TEST(table_nodes)
{
    check_table("nodes", nodes_yaml, 0,
                "NAME     STATUS                        ROLES                  AGE   VERSION\n"
                "node-1   Ready                         control-plane,master   31d   v1.30.0-orc\n"
                "node-2   NotReady,SchedulingDisabled   <none>                 3h    \n"
                "node-3   Unknown                       worker                 3h    \n");
    check_table("no", nodes_yaml, CLI_WIDE | CLI_NO_HEADERS | CLI_ALL_NAMESPACES,
                "node-1   Ready                         control-plane,master   31d   v1.30.0-orc   192.168.1.10   <none>   "
                "Debian GNU/Linux 12 (bookworm)   6.1.0-18-amd64   runc://1.1.5\n"
                "node-2   NotReady,SchedulingDisabled   <none>                 3h                  <none>         <none>   "
                "<unknown>                        <unknown>        <unknown>\n"
                "node-3   Unknown                       worker                 3h                  <none>         <none>   "
                "<unknown>                        <unknown>        <unknown>\n");
}

TEST(table_events_config_secrets_misc)
{
    check_table("events", events_yaml, 0,
                "LAST SEEN   TYPE      REASON    OBJECT                 MESSAGE\n"
                "4m58s       Normal    Pulled    pod/web-7d4b9c-x2x9k   Container image \"nginx:1.25\" already present on machine\n"
                "30s         Warning   BackOff   pod/crashy             Back-off restarting failed container app\n");
    check_table("ev", events_yaml, CLI_WIDE | CLI_ALL_NAMESPACES,
                "NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT                 SUBOBJECT              SOURCE    MESSAGE                                                   FIRST SEEN   COUNT   NAME\n"
                "default     4m58s       Normal    Pulled    pod/web-7d4b9c-x2x9k   spec.containers{web}   kubelet   Container image \"nginx:1.25\" already present on machine   4m58s        1       web-7d4b9c-x2x9k.17d\n"
                "default     30s         Warning   BackOff   pod/crashy                                    kubelet   Back-off restarting failed container app                  10m          7       crashy.17e\n");
    check_table("cm", misc_yaml, 0, "NAME         DATA   AGE\napp-config   3      60m\n");
    check_table("secret", secret_yaml, 0, "NAME   TYPE     DATA   AGE\ndb     Opaque   3      60m\n");
    check_table("ns",
                "metadata: {name: default, creationTimestamp: '2024-05-01T12:00:00Z'}\nstatus: {phase: Active}\n"
                "---\nmetadata: {name: old, creationTimestamp: '2024-05-01T12:00:00Z', deletionTimestamp: x}\n"
                "status: {phase: Terminating}\n",
                0, "NAME      STATUS        AGE\ndefault   Active        31d\nold       Terminating   31d\n");
    check_table("leases",
                "metadata: {name: orc-scheduler, namespace: kube-system, creationTimestamp: '2024-06-01T11:59:15Z'}\n"
                "spec: {holderIdentity: node-1_6f2a}\n",
                CLI_ALL_NAMESPACES,
                "NAMESPACE     NAME            HOLDER        AGE\nkube-system   orc-scheduler   node-1_6f2a   45s\n");
}

/* kubectl's rows come in the server's (name) order; orc's by last sighting,
 * oldest first, as `kubectl events` prints them. */
TEST(table_events_sorted_by_last_seen)
{
    check_table("events",
                "metadata: {name: a.1, namespace: default}\n"
                "involvedObject: {kind: ConfigMap, name: a}\n"
                "type: Normal\nreason: Late\nmessage: last\n"
                "firstTimestamp: '2024-06-01T11:50:00Z'\nlastTimestamp: '2024-06-01T11:59:50Z'\n"
                "---\n"
                "metadata: {name: b.1, namespace: default}\n"
                "involvedObject: {kind: Deployment, name: b}\n"
                "type: Warning\nreason: Early\nmessage: first\n"
                "firstTimestamp: '2024-06-01T11:40:00Z'\nlastTimestamp: '2024-06-01T11:40:00Z'\n"
                "---\n"
                "metadata: {name: c.1, namespace: default}\n"
                "involvedObject: {kind: Pod, name: c}\n"
                "type: Normal\nreason: Middle\nmessage: second\n"
                "eventTime: '2024-06-01T11:58:00.000000Z'\n",
                0,
                "LAST SEEN   TYPE      REASON   OBJECT         MESSAGE\n"
                "20m         Warning   Early    deployment/b   first\n"
                "2m          Normal    Middle   pod/c          second\n"
                "10s         Normal    Late     configmap/a    last\n");
}

TEST(table_empty_and_odd_values)
{
    json_t *empty = json_array();
    struct orc_buf out = ORC_BUF_INIT;

    CHECK_INT(cli_print_table(orc_kind_lookup("pods"), empty, 0, 0, &out), ==, 0);
    CHECK(out.len == 0);
    json_decref(empty);
    orc_buf_free(&out);
    /* Tabs and newlines in values must not break the columns; UTF-8 counts
     * as one column per character. */
    check_table("cm",
                "metadata: {name: \"tab\\there\", creationTimestamp: '2024-06-01T11:59:00Z'}\n"
                "---\nmetadata: {name: \"café\\nx\", creationTimestamp: bogus}\n",
                0, "NAME       DATA   AGE\ntab here   0      60s\ncafé x     0      <unknown>\n");
}

TEST(table_show_kind_names_rows_kubectl_style)
{
    /* Several kinds in one `get` print NAME as kind/name. */
    check_table("deploy", deployment_yaml, CLI_SHOW_KIND | CLI_ALL_NAMESPACES,
                "NAMESPACE   NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\n"
                "default     deployment.apps/web   2/3     3            2           2d5h\n");
    check_table("svc", services_yaml, CLI_SHOW_KIND | CLI_NO_HEADERS,
                "service/web        ClusterIP      10.43.0.10   <none>      80/TCP,443/TCP              31d\n"
                "service/nodeport   NodePort       10.43.0.11   192.0.2.1   80:30080/TCP,53:30053/UDP   60m\n"
                "service/lb         LoadBalancer   10.43.0.12   <pending>   443:31443/TCP               60m\n"
                "service/headless   ClusterIP      None         <none>      <none>                      60m\n");
}

TEST(print_names_and_tabwriter)
{
    json_t *items = fixture_items(deployment_yaml);
    struct orc_buf out = ORC_BUF_INIT;

    CHECK_INT(cli_print_names(orc_kind_lookup("deploy"), items, &out), ==, 0);
    CHECK_STR(out.data, "deployment.apps/web\n");
    json_decref(items);
    orc_buf_reset(&out);
    items = fixture_items(services_yaml);
    CHECK_INT(cli_print_names(orc_kind_lookup("svc"), items, &out), ==, 0);
    CHECK_STR(out.data, "service/web\nservice/nodeport\nservice/lb\nservice/headless\n");
    json_decref(items);
    /* Go tabwriter semantics: a column spans only consecutive lines that
     * have it; a line without tabs ends the block. */
    orc_buf_reset(&out);
    const char *text = "a:\tx\nlonger:\ty\nbreak\nb:\tz\n  deeper:\tq\tr\n  d:\ts\tt\n";
    CHECK_INT(cli_tabwrite(text, strlen(text), 0, 2, &out), ==, 0);
    CHECK_STR(out.data, "a:       x\nlonger:  y\nbreak\nb:         z\n  deeper:  q  r\n  d:       s  t\n");
    orc_buf_free(&out);
}

TEST(selectors_and_labels)
{
    struct orc_buf out = ORC_BUF_INIT;
    json_t *sel = fixture_items("matchLabels: {b: '2', a: '1'}\nmatchExpressions:\n"
                                "- {key: env, operator: NotIn, values: [prod, dev]}\n"
                                "- {key: canary, operator: Exists}\n");

    CHECK_INT(orc_table_selector(json_array_get(sel, 0), &out), ==, 0);
    CHECK_STR(out.data, "a=1,b=2,canary,env notin (dev,prod)");
    orc_buf_reset(&out);
    CHECK_INT(orc_table_selector(NULL, &out), ==, 0);
    CHECK_STR(out.data, "<none>");
    orc_buf_reset(&out);
    CHECK_INT(orc_table_labels(json_object_get(json_array_get(sel, 0), "matchLabels"), &out), ==, 0);
    CHECK_STR(out.data, "a=1,b=2");
    json_decref(sel);
    orc_buf_free(&out);
}

/* `kubectl events`' lines: Kind/name, repeats counted, series, newlines cut. */
TEST(events_lines_as_kubectl_events)
{
    json_t *items = fixture_items("metadata: {name: a.1, namespace: default}\n"
                                  "involvedObject: {kind: Pod, name: web-0}\n"
                                  "type: Warning\nreason: BackOff\nmessage: '  Back-off restarting  '\ncount: 4\n"
                                  "firstTimestamp: '2024-06-01T11:58:30Z'\nlastTimestamp: '2024-06-01T11:59:50Z'\n"
                                  "---\n"
                                  "metadata: {name: b.1, namespace: kube-system}\n"
                                  "involvedObject: {kind: Deployment, name: dns}\n"
                                  "type: Normal\nreason: Scaled\nmessage: \"two\\nlines\"\n"
                                  "eventTime: '2024-06-01T11:50:00.000000Z'\n"
                                  "series: {count: 2, lastObservedTime: '2024-06-01T11:55:00.000000Z'}\n");
    const json_t *evs[2] = {json_array_get(items, 0), json_array_get(items, 1)};
    struct orc_buf out = ORC_BUF_INIT;

    CHECK_INT(cli_events_lines(evs, 2, false, true, fixture_now(), &out), ==, 0);
    CHECK_STR(out.data, "LAST SEEN           TYPE      REASON    OBJECT           MESSAGE\n"
                        "10s (x4 over 90s)   Warning   BackOff   Pod/web-0        Back-off restarting\n"
                        "5m (x2 over 10m)    Normal    Scaled    Deployment/dns   two...\n");
    orc_buf_reset(&out);
    CHECK_INT(cli_events_lines(evs, 1, true, false, fixture_now(), &out), ==, 0);
    CHECK_STR(out.data, "default   10s (x4 over 90s)   Warning   BackOff   Pod/web-0   Back-off restarting\n");
    orc_buf_free(&out);
    json_decref(items);
}
