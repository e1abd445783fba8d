/* test_client_config.c — the client config orcd server writes: admin.conf
 * in the data dir and ~/.orc/config when the user has none (0600); a
 * ~/.orc/config left from another cluster is kept as it is, and the log
 * says so and names this cluster's config, instead of leaving a config
 * that fails TLS with no hint why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static bool log_has(const char *log, const char *text)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool yes = orc_file_read(log, 1 << 22, &b) == 0 && b.data && strstr(b.data, text);
    orc_buf_free(&b);
    return yes;
}

static char *read_text(const char *path)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECKF(orc_file_read(path, 1 << 20, &b) == 0, "cannot read %s", path);
    return b.data;
}

TEST_T(a_config_of_another_cluster_is_kept_and_named_in_the_log, 60)
{
    static struct cluster c;
    char user[700], admin[700], want[1500];
    struct stat st;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    snprintf(user, sizeof user, "%s/.orc/config", c.home);
    snprintf(admin, sizeof admin, "%s/admin.conf", c.m[0].dir);
    CHECK_INT(stat(user, &st), ==, 0);
    CHECKF((st.st_mode & 0777) == 0600, "%s is %o", user, st.st_mode & 0777);
    CHECK(log_has(c.m[0].log, "wrote client config"));
    char *first = read_text(user);
    member_stop(&c, 0);

    /* A new cluster in a fresh data dir at the same address: new CA. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", c.m[0].dir, c.m[0].log);
    CHECK_INT(system(cmd), ==, 0);
    static struct cluster c2; /* the same paths, address and $HOME; trusts the new CA */
    cluster_init(&c2, 1);
    cluster_start(&c2, NULL);
    snprintf(want, sizeof want, "client config %s is not this cluster's (it names another "
                                "cluster CA", user);
    CHECKF(log_has(c2.m[0].log, want), "no warning in %s", c2.m[0].log);
    snprintf(want, sizeof want, "This cluster's client config is %s", admin);
    CHECK(log_has(c2.m[0].log, want));
    char *now = read_text(user);
    CHECK_STR(now, first); /* the user's file is not overwritten */
    free(first);
    free(now);
    member_stop(&c2, 0);
}
