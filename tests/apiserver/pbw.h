/* pbw.h — a tiny protobuf writer for tests: builds the bodies client-go's
 * typed clients send ("k8s\0" + runtime.Unknown + the object). */
#ifndef ORC_TEST_PBW_H
#define ORC_TEST_PBW_H

#include <stdint.h>
#include <string.h>

struct pbw {
    unsigned char b[8192];
    size_t n;
};

static inline void pbw_byte(struct pbw *w, unsigned char c)
{
    if (w->n < sizeof w->b) w->b[w->n++] = c;
}

static inline void pbw_varint(struct pbw *w, uint64_t v)
{
    while (v >= 0x80) {
        pbw_byte(w, (unsigned char)(v | 0x80));
        v >>= 7;
    }
    pbw_byte(w, (unsigned char)v);
}

static inline void pbw_tag(struct pbw *w, uint32_t num, int wire)
{
    pbw_varint(w, ((uint64_t)num << 3) | (uint64_t)wire);
}

static inline void pbw_bytes(struct pbw *w, uint32_t num, const void *data, size_t len)
{
    pbw_tag(w, num, 2);
    pbw_varint(w, len);
    for (size_t i = 0; i < len; i++) pbw_byte(w, ((const unsigned char *)data)[i]);
}

static inline void pbw_str(struct pbw *w, uint32_t num, const char *s)
{
    pbw_bytes(w, num, s, strlen(s));
}

static inline void pbw_int(struct pbw *w, uint32_t num, int64_t v)
{
    pbw_tag(w, num, 0);
    pbw_varint(w, (uint64_t)v);
}

static inline void pbw_msg(struct pbw *w, uint32_t num, const struct pbw *inner)
{
    pbw_bytes(w, num, inner->b, inner->n);
}

/* A map entry {key(1), value(2)} as a string. */
static inline void pbw_entry(struct pbw *w, uint32_t num, const char *k, const char *v)
{
    struct pbw e = {.n = 0};
    pbw_str(&e, 1, k);
    pbw_str(&e, 2, v);
    pbw_msg(w, num, &e);
}

/* The whole body: magic, TypeMeta, raw. */
static inline void pbw_envelope(struct pbw *out, const char *api_version, const char *kind,
                                const struct pbw *raw)
{
    struct pbw tm = {.n = 0};
    out->n = 0;
    memcpy(out->b, "k8s", 4);
    out->n = 4;
    pbw_str(&tm, 1, api_version);
    pbw_str(&tm, 2, kind);
    pbw_msg(out, 1, &tm);
    pbw_msg(out, 2, raw);
    pbw_str(out, 3, "");
    pbw_str(out, 4, "");
}

#endif
