/* test_metrics.c — the metrics registry: updates, bounded label sets,
 * threads, and the text exposition read back by a strict checker. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"
#include "tests/harness/test.h"
#include "tests/harness/promtext.h"

static char *expose(struct orc_metrics *m)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(orc_metrics_write(m, &b), ==, 0);
    return orc_buf_steal(&b, NULL);
}

TEST(metrics_counter_gauge_exposition)
{
    struct orc_metrics *m = orc_metrics_new();
    const char *const labels[] = {"verb", "code", NULL};
    struct orc_metric *c = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "req_total", .help = "Requests\\counted\nhere.",
                                      .type = ORC_METRIC_COUNTER, .labels = labels});
    struct orc_metric *g = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "inflight", .help = "In flight.", .type = ORC_METRIC_GAUGE});
    char err[256] = "";

    CHECK(c && g);
    orc_series_inc(orc_metric_withv(c, "GET", "200"));
    orc_series_add(orc_metric_withv(c, "GET", "200"), 2);
    orc_series_add(orc_metric_withv(c, "GET", "200"), -5); /* ignored: counters only grow */
    orc_series_inc(orc_metric_withv(c, "we\"ird\\\nverb", "500"));
    orc_series_set(orc_metric_with(g, NULL), 0.1);
    orc_series_add(orc_metric_with(g, NULL), -1);
    CHECK(orc_metric_withv(c, "GET", "200") == orc_metric_withv(c, "GET", "200"));
    CHECK(fabs(orc_series_value(orc_metric_withv(c, "GET", "200")) - 3) < 1e-9);
    /* registering again returns the same family; a clash does not register */
    CHECK(orc_metric_register(m, &(struct orc_metric_opts){.name = "req_total", .type = ORC_METRIC_COUNTER,
                                                             .labels = labels}) == c);
    CHECK(orc_metric_register(m, &(struct orc_metric_opts){.name = "req_total", .type = ORC_METRIC_GAUGE}) == NULL);
    CHECK(orc_metric_register(m, &(struct orc_metric_opts){.name = "9bad", .type = ORC_METRIC_GAUGE}) == NULL);

    char *text = expose(m);
    CHECKF(promtext_check(text, err, sizeof err) == 0, "%s\n%s", err, text);
    CHECK(strstr(text, "# HELP req_total Requests\\\\counted\\nhere.\n# TYPE req_total counter\n"));
    CHECK(strstr(text, "req_total{verb=\"GET\",code=\"200\"} 3\n"));
    CHECK(strstr(text, "req_total{verb=\"we\\\"ird\\\\\\nverb\",code=\"500\"} 1\n"));
    CHECK(strstr(text, "# TYPE inflight gauge\ninflight -0.9\n"));
    free(text);
    orc_metrics_free(m);
}

TEST(metrics_values_as_go_writes_them)
{
    struct orc_metrics *m = orc_metrics_new();
    const char *const labels[] = {"v", NULL};
    struct orc_metric *g = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "g", .type = ORC_METRIC_GAUGE, .labels = labels});
    static const struct {
        double v;
        const char *text;
    } cases[] = {{1e6, "1e+06"}, {123456, "123456"}, {1234567, "1.234567e+06"}, {0.0001, "0.0001"},
                 {0.00001, "1e-05"}, {-2.5, "-2.5"}, {0, "0"}, {INFINITY, "+Inf"}, {NAN, "NaN"}};
    char want[64];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        orc_series_set(orc_metric_withv(g, cases[i].text), cases[i].v);
    char *text = expose(m);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(want, sizeof want, "g{v=\"%s\"} %s\n", cases[i].text, cases[i].text);
        CHECKF(strstr(text, want), "want %s in\n%s", want, text);
    }
    free(text);
    orc_metrics_free(m);
}

TEST(metrics_histogram_buckets)
{
    struct orc_metrics *m = orc_metrics_new();
    const double b[] = {0.005, 0.1, 1, 60};
    const char *const labels[] = {"op", NULL};
    struct orc_metric *h = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "op_seconds", .help = "Latency.", .type = ORC_METRIC_HISTOGRAM,
                                      .labels = labels, .buckets = b, .n_buckets = 4});
    const double bad[] = {1, 0.5};
    char err[256] = "";

    CHECK(orc_metric_register(m, &(struct orc_metric_opts){.name = "x", .type = ORC_METRIC_HISTOGRAM,
                                                             .buckets = bad, .n_buckets = 2}) == NULL);
    struct orc_series *s = orc_metric_withv(h, "pull");
    orc_series_observe(s, 0.005); /* on the bound: in that bucket */
    orc_series_observe(s, 0.05);
    orc_series_observe(s, 2);
    orc_series_observe(s, 100);
    char *text = expose(m);
    CHECKF(promtext_check(text, err, sizeof err) == 0, "%s\n%s", err, text);
    CHECK(strstr(text, "op_seconds_bucket{op=\"pull\",le=\"0.005\"} 1\n"
                       "op_seconds_bucket{op=\"pull\",le=\"0.1\"} 2\n"
                       "op_seconds_bucket{op=\"pull\",le=\"1\"} 2\n"
                       "op_seconds_bucket{op=\"pull\",le=\"60\"} 3\n"
                       "op_seconds_bucket{op=\"pull\",le=\"+Inf\"} 4\n"
                       "op_seconds_sum{op=\"pull\"} 102.05"));
    CHECK(strstr(text, "op_seconds_count{op=\"pull\"} 4\n"));
    free(text);
    orc_metrics_free(m);
}

TEST(metrics_label_sets_are_bounded)
{
    struct orc_metrics *m = orc_metrics_new();
    const char *const labels[] = {"path", NULL};
    struct orc_metric *c = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "hits_total", .help = "Hits.", .type = ORC_METRIC_COUNTER,
                                      .labels = labels, .max_series = 3});
    char v[32], err[256] = "";

    for (int i = 0; i < 100; i++) {
        snprintf(v, sizeof v, "/p%d", i);
        orc_series_inc(orc_metric_withv(c, v));
    }
    char *text = expose(m);
    CHECKF(promtext_check(text, err, sizeof err) == 0, "%s\n%s", err, text);
    CHECK(strstr(text, "hits_total{path=\"/p2\"} 1\n"));
    CHECK(strstr(text, "hits_total{path=\"/p3\"}") == NULL);
    CHECK(strstr(text, "hits_total{path=\"overflow\"} 97\n"));
    free(text);
    orc_metrics_free(m);
}

struct thr {
    struct orc_metric *c, *h;
};

static void *hammer(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 20000; i++) {
        orc_series_inc(orc_metric_withv(t->c, i % 2 ? "a" : "b"));
        orc_series_observe(orc_metric_with(t->h, NULL), 0.5);
    }
    return NULL;
}

TEST(metrics_updates_from_threads)
{
    struct orc_metrics *m = orc_metrics_new();
    const char *const labels[] = {"k", NULL};
    struct thr t = {
        orc_metric_register(m, &(struct orc_metric_opts){.name = "n_total", .type = ORC_METRIC_COUNTER,
                                                           .labels = labels}),
        orc_metric_register(m, &(struct orc_metric_opts){.name = "h", .type = ORC_METRIC_HISTOGRAM,
                                                           .buckets = orc_metrics_default_buckets,
                                                           .n_buckets = 11}),
    };
    pthread_t th[4];

    for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, hammer, &t) == 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK(orc_series_value(orc_metric_withv(t.c, "a")) == 40000);
    CHECK(orc_series_value(orc_metric_with(t.h, NULL)) == 40000);
    orc_metrics_free(m);
}

static void set_on_collect(void *arg) { orc_series_set(arg, 42); }

TEST(metrics_collect_hooks_and_process)
{
    struct orc_metrics *m = orc_metrics_new();
    struct orc_series *g = orc_metric_with(
        orc_metric_register(m, &(struct orc_metric_opts){.name = "size_bytes", .type = ORC_METRIC_GAUGE}), NULL);
    char err[256] = "";

    CHECK_INT(orc_metrics_on_collect(m, set_on_collect, g), ==, 0);
    orc_metrics_process(m);
    char *text = expose(m);
    CHECKF(promtext_check(text, err, sizeof err) == 0, "%s\n%s", err, text);
    CHECK(strstr(text, "size_bytes 42\n"));
    CHECK(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
    CHECK(strstr(text, "process_resident_memory_bytes ") && !strstr(text, "process_resident_memory_bytes 0\n"));
    CHECK(strstr(text, "process_start_time_seconds 1"));
    free(text);
    orc_metrics_on_collect_remove(m, set_on_collect, g);
    orc_series_set(g, 1);
    text = expose(m);
    CHECK(strstr(text, "size_bytes 1\n"));
    free(text);
    orc_metrics_free(m);
}

TEST(promtext_checker_refuses_bad_text)
{
    char err[256];
    CHECK(promtext_check("x 1\n", err, sizeof err) != 0); /* no TYPE */
    CHECK(promtext_check("# TYPE x counter\nx{a=\"b} 1\n", err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE x counter\nx{a=\"\\q\"} 1\n", err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE x counter\nx one\n", err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                         err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE x gauge\nx 1\n# TYPE x gauge\nx 2\n", err, sizeof err) != 0);
    CHECK(promtext_check("# TYPE x gauge\nx 1\nx 2\n", err, sizeof err) != 0); /* same series twice */
    CHECK(promtext_check("# TYPE x gauge\nx 1", err, sizeof err) != 0);       /* no last newline */
}
