/* test_table.c — lib/table's printers: the pod STATUS, READY and RESTARTS
 * kubectl computes, and every printer's cells matching its columns. */
#include <string.h>

#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "tests/harness/test.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    CHECKF(j != NULL, "bad JSON in the test: %s", text);
    return j;
}

static void status_is(const char *pod_json, const char *want_reason, int ready, int total)
{
    json_t *pod = parse(pod_json);
    struct orc_pod_summary ps;

    orc_pod_summarize(pod, &ps);
    CHECKF(strcmp(ps.reason, want_reason) == 0, "status %s, want %s, for %s", ps.reason,
           want_reason, pod_json);
    CHECK_INT(ps.ready, ==, ready);
    CHECK_INT(ps.total, ==, total);
    json_decref(pod);
}

#define ONE "\"spec\":{\"containers\":[{\"name\":\"a\"}]}"

TEST(pod_status_as_kubectl_computes_it)
{
    status_is("{" ONE "}", "Pending", 0, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,"
              "\"state\":{\"running\":{}}}]}}", "Running", 1, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"ready\":false,"
              "\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
              "ContainerCreating", 0, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":3,"
              "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
              "CrashLoopBackOff", 0, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":"
              "{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}", "Completed", 0, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":"
              "{\"terminated\":{\"exitCode\":2}}}]}}", "ExitCode:2", 0, 1);
    status_is("{" ONE ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":"
              "{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}", "Signal:9", 0, 1);
    /* Being deleted: Terminating, unless it already finished. */
    status_is("{\"metadata\":{\"deletionTimestamp\":\"2023-11-14T22:13:00Z\"}," ONE
              ",\"status\":{\"phase\":\"Running\"}}", "Terminating", 0, 1);
    status_is("{\"metadata\":{\"deletionTimestamp\":\"2023-11-14T22:13:00Z\"}," ONE
              ",\"status\":{\"phase\":\"Succeeded\"}}", "Succeeded", 0, 1);
    status_is("{\"metadata\":{\"deletionTimestamp\":\"2023-11-14T22:13:00Z\"}," ONE
              ",\"status\":{\"phase\":\"Unknown\",\"reason\":\"NodeLost\"}}", "Unknown", 0, 1);
    /* Evicted pods show their reason. */
    status_is("{" ONE ",\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}", "Evicted", 0, 1);
}

TEST(pod_status_of_init_containers)
{
    const char *spec = "\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
                       "\"containers\":[{\"name\":\"a\"}]}";
    char text[1024];

    snprintf(text, sizeof text, "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}},{\"state\":{\"waiting\":"
             "{\"reason\":\"PodInitializing\"}}}]}}", spec);
    status_is(text, "Init:0/2", 0, 1);
    snprintf(text, sizeof text, "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"state\":{\"terminated\":{\"exitCode\":0}}},{\"state\":{\"running\":{}}}]}}", spec);
    status_is(text, "Init:1/2", 0, 1);
    snprintf(text, sizeof text, "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"restartCount\":2,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}", spec);
    status_is(text, "Init:CrashLoopBackOff", 0, 1);
    snprintf(text, sizeof text, "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"state\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}}", spec);
    status_is(text, "Init:Error", 0, 1);
    snprintf(text, sizeof text, "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"state\":{\"terminated\":{\"exitCode\":3}}}]}}", spec);
    status_is(text, "Init:ExitCode:3", 0, 1);
}

TEST(pod_status_with_sidecars_and_gates)
{
    /* A sidecar counts in READY once started, and its restarts count. */
    status_is("{\"spec\":{\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\"}],"
              "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
              "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}],"
              "\"initContainerStatuses\":[{\"name\":\"side\",\"started\":true,\"ready\":true,"
              "\"restartCount\":2,\"state\":{\"running\":{}}}],"
              "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":1,"
              "\"state\":{\"running\":{}}}]}}", "Running", 2, 2);
    json_t *pod = parse("{\"spec\":{\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":"
                        "\"Always\"}],\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":"
                        "\"Running\",\"initContainerStatuses\":[{\"name\":\"side\",\"started\":true,"
                        "\"restartCount\":2,\"state\":{\"running\":{}}}],\"containerStatuses\":"
                        "[{\"name\":\"a\",\"restartCount\":1,\"state\":{\"running\":{}}}]}}");
    struct orc_pod_summary ps;
    orc_pod_summarize(pod, &ps);
    CHECK_INT(ps.restarts, ==, 3);
    json_decref(pod);
    /* A sidecar not started yet holds the pod in Init. */
    status_is("{\"spec\":{\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\"}],"
              "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
              "\"initContainerStatuses\":[{\"name\":\"side\",\"started\":false,"
              "\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}", "Init:0/1", 0, 2);
    status_is("{" ONE ",\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":"
              "\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}",
              "SchedulingGated", 0, 1);
}

static json_t *pod_cells(const char *pod_json)
{
    json_t *pod = parse(pod_json);
    json_t *cells = orc_table_cells(orc_table_printer_for("", "pods"), pod, NOW);
    CHECK(cells != NULL);
    json_decref(pod);
    return cells;
}

TEST(pod_row_restarts_with_the_last_one_ago)
{
    json_t *cells = pod_cells(
        "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2023-11-14T21:13:20Z\"}," ONE
        ",\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.7\",\"containerStatuses\":[{"
        "\"restartCount\":3,\"lastState\":{\"terminated\":{\"exitCode\":1,"
        "\"finishedAt\":\"2023-11-14T22:08:20Z\"}},\"state\":{\"waiting\":{\"reason\":"
        "\"CrashLoopBackOff\"}}}]}}");
    static const char *const want[] = {"p", "0/1", "CrashLoopBackOff", "3 (5m ago)", "60m",
                                       "10.42.0.7", "<none>", "<none>", "<none>"};

    CHECK_INT(json_array_size(cells), ==, ORC_ARRAY_LEN(want));
    for (size_t i = 0; i < ORC_ARRAY_LEN(want); i++)
        CHECK_STR(json_string_value(json_array_get(cells, i)), want[i]);
    json_decref(cells);
    cells = pod_cells("{\"metadata\":{\"name\":\"q\"}," ONE "}");
    CHECK_STR(json_string_value(json_array_get(cells, 3)), "0");
    CHECK_STR(json_string_value(json_array_get(cells, 4)), "<unknown>");
    json_decref(cells);
}

TEST(finished_pods_rows_carry_the_completed_condition)
{
    const struct orc_table_printer *p = orc_table_printer_for("", "pods");
    json_t *ok = parse("{\"status\":{\"phase\":\"Succeeded\"}}");
    json_t *run = parse("{\"status\":{\"phase\":\"Running\"}}");
    json_t *c = orc_table_conditions(p, ok);

    CHECK_STR(orc_json_str(json_array_get(c, 0), "type"), "Completed");
    CHECK_STR(orc_json_str(json_array_get(c, 0), "reason"), "Succeeded");
    CHECK(orc_table_conditions(p, run) == NULL);
    json_decref(c);
    json_decref(ok);
    json_decref(run);
}

/* Every kind's printer: a cell per column, for an empty object and a
 * sparse one; the Name column has format "name". */
TEST(every_printer_has_a_cell_per_column)
{
    size_t n;
    const struct orc_kind *k = orc_kinds(&n);
    json_t *objs[] = {parse("{}"),
                      parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\",\"creationTimestamp\":"
                            "\"2023-11-14T22:13:00Z\"},\"spec\":{},\"status\":{}}")};

    for (size_t i = 0; i < n; i++) {
        const struct orc_table_printer *p = orc_table_printer_for(k[i].group, k[i].resource);
        bool name_col = false;
        for (size_t c = 0; c < p->n_columns; c++)
            name_col |= strcmp(p->columns[c].format, "name") == 0;
        CHECKF(name_col, "%s has no name column", k[i].resource);
        for (size_t j = 0; j < ORC_ARRAY_LEN(objs); j++) {
            json_t *cells = orc_table_cells(p, objs[j], NOW);
            CHECKF(cells && json_array_size(cells) == p->n_columns, "%s: %zu cells, %zu columns",
                   k[i].resource, json_array_size(cells), p->n_columns);
            json_decref(cells);
        }
    }
    /* The printers waiting for kinds orc does not serve yet. */
    static const char *const waiting[][2] = {
        {"", "serviceaccounts"}, {"rbac.authorization.k8s.io", "roles"},
        {"rbac.authorization.k8s.io", "clusterrolebindings"}, {"", "resourcequotas"},
        {"", "limitranges"}, {"", "replicationcontrollers"},
        {"autoscaling", "horizontalpodautoscalers"}};
    for (size_t i = 0; i < ORC_ARRAY_LEN(waiting); i++) {
        const struct orc_table_printer *p = orc_table_printer_for(waiting[i][0], waiting[i][1]);
        CHECK_STR(p->resource, waiting[i][1]);
        json_t *cells = orc_table_cells(p, objs[1], NOW);
        CHECK_INT(json_array_size(cells), ==, p->n_columns);
        json_decref(cells);
    }
    /* A resource without a printer gets Name and Age. */
    const struct orc_table_printer *d = orc_table_printer_for("example.com", "widgets");
    CHECK_INT(d->n_columns, ==, 2);
    CHECK_STR(d->columns[1].name, "Age");
    for (size_t j = 0; j < ORC_ARRAY_LEN(objs); j++) json_decref(objs[j]);
}

TEST(cell_text_as_kubectl_prints_cells)
{
    json_t *cells = parse("[\"a\\tb\", 42, true, false, null]");
    struct orc_buf b = ORC_BUF_INIT;

    for (size_t i = 0; i < json_array_size(cells); i++) {
        CHECK_INT(orc_table_cell_text(json_array_get(cells, i), &b), ==, 0);
        orc_buf_puts(&b, "|");
    }
    CHECK_STR(b.data, "a b|42|true|false||");
    orc_buf_free(&b);
    json_decref(cells);
}

TEST(hpa_targets_as_kubectl_prints_them)
{
    json_t *hpa = parse(
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\","
        "\"name\":\"web\"},\"minReplicas\":2,\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\","
        "\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":80}}},"
        "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{\"type\":\"AverageValue\","
        "\"averageValue\":\"100Mi\"}}},{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"qps\"},"
        "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1k\"}}}]},\"status\":{"
        "\"currentReplicas\":3,\"currentMetrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":"
        "\"cpu\",\"current\":{\"averageUtilization\":50}}}]}}");
    json_t *cells = orc_table_cells(orc_table_printer_for("autoscaling", "horizontalpodautoscalers"),
                                    hpa, NOW);
    CHECK_STR(json_string_value(json_array_get(cells, 1)), "Deployment/web");
    CHECK_STR(json_string_value(json_array_get(cells, 2)),
              "cpu: 50%/80%, memory: <unknown>/100Mi + 1 more...");
    CHECK_STR(json_string_value(json_array_get(cells, 3)), "2");
    CHECK_INT(json_integer_value(json_array_get(cells, 4)), ==, 5);
    CHECK_INT(json_integer_value(json_array_get(cells, 5)), ==, 3);
    json_decref(cells);
    json_decref(hpa);
}
