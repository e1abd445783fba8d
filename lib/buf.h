/* buf.h — growable byte buffer. The buffer owns `data`; it is always
 * NUL-terminated after a successful append, so text can be used as a C string. */
#ifndef ORC_BUF_H
#define ORC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct orc_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

#define ORC_BUF_INIT {NULL, 0, 0}

int orc_buf_reserve(struct orc_buf *b, size_t extra);
int orc_buf_append(struct orc_buf *b, const void *data, size_t len);
int orc_buf_puts(struct orc_buf *b, const char *s);
int orc_buf_printf(struct orc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int orc_buf_vprintf(struct orc_buf *b, const char *fmt, va_list ap);
void orc_buf_reset(struct orc_buf *b); /* len = 0, keeps memory */
void orc_buf_free(struct orc_buf *b);
/* Hands `data` to the caller (free() it) and leaves the buffer empty. */
char *orc_buf_steal(struct orc_buf *b, size_t *len);

#endif
