/* test_agent_metrics.c — the agent's own /metrics numbers on the fake
 * runtime and clock (tests/agent/workerfx.h): the metered runtime counts
 * and times each operation under the kubelet's names, image pulls by
 * result, and a pod's start duration once it runs; the exposition passes
 * the strict checker. */
#include <stdio.h>
#include <string.h>

#include "agent/rt_metered.h"
#include "lib/metrics.h"
#include "tests/agent/workerfx.h"
#include "tests/harness/promtext.h"

#define IMG "registry.test/app:1"

static struct rt_handle metered;

/* Before the fixture's teardown (defers run last first): the workers go
 * back to the bare fake, and the wrapper is closed (nothing in flight). */
static void unwrap(void *arg)
{
    (void)arg;
    X.a->rt = fakert_handle(X.rt);
    rth_close(&metered, NULL, NULL);
    orc_metrics_free(X.a->metrics);
    X.a->metrics = NULL;
    X.a->m_pod_start = NULL;
}

static void metered_init(void)
{
    wfx_init();
    CHECK_INT(agent_metrics_init(X.a), ==, 0);
    CHECK_INT(rt_metered_wrap(&X.a->rt, X.a->metrics, &metered), ==, 0);
    X.a->rt = metered;
    test_defer(unwrap, NULL);
}

static char *expose(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    char err[256] = "";

    CHECK_INT(orc_metrics_write(X.a->metrics, &b), ==, 0);
    CHECKF(promtext_check(b.data, err, sizeof err) == 0, "%s\n%s", err, b.data);
    return orc_buf_steal(&b, NULL);
}

TEST(runtime_operations_and_pod_start_are_counted)
{
    metered_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    wfx_advance(2000);
    CHECK_STR(wfx_phase(), "Running");
    char *text = expose();
    CHECK(promtext_value(text, "kubelet_runtime_operations_total{operation_type=\"start_container\"}") == 1);
    CHECK(promtext_value(text, "kubelet_runtime_operations_total{operation_type=\"pull_image\"}") == 1);
    CHECK(promtext_value(text, "kubelet_runtime_operations_errors_total{operation_type=\"pull_image\"}") == 0);
    CHECK(promtext_value(text, "kubelet_runtime_operations_duration_seconds_count{operation_type=\"start_container\"}") == 1);
    CHECK(promtext_value(text, "orc_image_pulls_total{result=\"success\"}") == 1);
    CHECK(promtext_value(text, "orc_image_pull_duration_seconds_count") == 1);
    CHECK(promtext_value(text, "kubelet_pod_start_duration_seconds_count") == 1);
    free(text);
    /* more status builds do not count the start again */
    wfx_advance(60000);
    text = expose();
    CHECK(promtext_value(text, "kubelet_pod_start_duration_seconds_count") == 1);
    free(text);
    json_decref(pod);
}

TEST(failed_pulls_are_errors)
{
    metered_init();
    json_t *pod = wfx_pod("registry.test/missing:1", "Always", NULL);
    wfx_start(pod);
    wfx_advance(1000);
    char *text = expose();
    CHECK(promtext_value(text, "kubelet_runtime_operations_errors_total{operation_type=\"pull_image\"}") >= 1);
    CHECK(promtext_value(text, "orc_image_pulls_total{result=\"error\"}") >= 1);
    CHECK(promtext_value(text, "kubelet_pod_start_duration_seconds_count") == 0);
    free(text);
    json_decref(pod);
}
