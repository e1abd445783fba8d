/* test_buf.c — orc_buf growth and formatting. */
#include "lib/buf.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

TEST(buf_append_and_printf)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(orc_buf_puts(&b, "hello"), ==, 0);
    for (int i = 0; i < 1000; i++) CHECK_INT(orc_buf_printf(&b, "%d,", i), ==, 0);
    CHECK(strncmp(b.data, "hello0,1,2,", 11) == 0);
    CHECK_INT(b.data[b.len], ==, 0);
    orc_buf_free(&b);
}

TEST(strerror_names_codes)
{
    CHECK_STR(orc_strerror(ORC_ENOTLEADER), "not the leader");
    CHECK_STR(orc_strerror(0), "success");
}
