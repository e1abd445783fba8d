/* cx.h — an orctl context whose stdout and stderr are memory buffers, for
 * tests that call cli_ functions in-process and check what a user would see. */
#ifndef ORC_TEST_CLI_CX_H
#define ORC_TEST_CLI_CX_H

#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "tests/harness/test.h"

struct cx {
    cli_ctx x;
    char *out, *err;
    size_t out_len, err_len;
};

static inline void cx_init(struct cx *c)
{
    memset(c, 0, sizeof *c);
    c->x.out = open_memstream(&c->out, &c->out_len);
    c->x.err = open_memstream(&c->err, &c->err_len);
    CHECK(c->x.out != NULL && c->x.err != NULL);
}

/* What was written so far (flushed first); owned by c. */
static inline const char *cx_out(struct cx *c)
{
    fflush(c->x.out);
    return c->out ? c->out : "";
}

static inline const char *cx_err(struct cx *c)
{
    fflush(c->x.err);
    return c->err ? c->err : "";
}

static inline void cx_free(struct cx *c)
{
    fclose(c->x.out);
    fclose(c->x.err);
    free(c->out);
    free(c->err);
    cli_ctx_clear(&c->x);
}

#define CHECK_CONTAINS(hay, needle)                                                         \
    do { const char *h_ = (hay), *n_ = (needle);                                            \
         CHECKF(h_ && strstr(h_, n_), "expected \"%s\" in:\n%s", n_, h_ ? h_ : "(null)"); } \
    while (0)

#endif
