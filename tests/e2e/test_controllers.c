/* test_controllers.c — the scheduler and controllers run on the Raft leader
 * only, and another member takes them over when the leader dies. */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define STARTED "starting the scheduler and controllers"

/* How many times member i logged `what`. */
static int count_in_log(struct cluster *c, int i, const char *what)
{
    struct orc_buf b = ORC_BUF_INIT;
    int n = 0;

    if (orc_file_read(c->m[i].log, 16u << 20, &b) != 0 || b.data == NULL) return 0;
    for (const char *p = b.data; (p = strstr(p, what)) != NULL; p++) n++;
    orc_buf_free(&b);
    return n;
}

static bool wait_logged(struct cluster *c, int i, const char *what, int times, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;

    while (count_in_log(c, i, what) < times) {
        if (test_now_ms() > end) return false;
        test_sleep_ms(50);
    }
    return true;
}

TEST_T(controllers_run_on_the_leader_only_and_move_when_it_dies, 120)
{
    static struct cluster c;
    static const char *const no_agent[] = {"--no-agent", NULL};

    cluster_init(&c, 3);
    cluster_start(&c, no_agent);
    int lead = cluster_leader(&c, 10000);
    CHECKF(lead >= 0, "no leader");
    CHECKF(wait_logged(&c, lead, STARTED, 1, 5000), "the leader did not start the controllers (log %s)",
           c.m[lead].log);
    test_sleep_ms(500);
    for (int i = 0; i < 3; i++)
        if (i != lead) CHECKF(count_in_log(&c, i, STARTED) == 0, "follower %d runs controllers", i);
    uint64_t killed = test_now_ms();
    member_kill(&c, lead);
    int next = cluster_leader_except(&c, lead, 10000);
    CHECKF(next >= 0, "no new leader");
    CHECKF(wait_logged(&c, next, STARTED, 1, 5000), "the new leader did not take over (log %s)",
           c.m[next].log);
    fprintf(stderr, "# controllers running on the new leader %llu ms after the kill\n",
            (unsigned long long)(test_now_ms() - killed));
    for (int i = 0; i < 3; i++)
        if (i != lead && i != next) CHECKF(count_in_log(&c, i, STARTED) == 0, "member %d runs controllers", i);
}

TEST(unknown_controller_is_refused_by_name)
{
    char *out = NULL, *err = NULL;
    const char *argv[] = {t_bin("orcd"), "server", "--controllers", "-nosuch", NULL};
    int rv = run_prog(test_tmpdir(), NULL, &out, &err, argv);
    CHECKF(rv != 0, "orcd accepted --controllers -nosuch");
    CHECKF(strstr(err, "unknown controller \"nosuch\""), "message: %s", err);
    free(out);
    free(err);
}
