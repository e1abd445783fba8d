/* segment.c — raft_uv's on-disk formats (canonical/raft 0.15, disk format 1),
 * read independently of raft so that a damaged log is found, and named,
 * before raft loads it: segment batches with their checksums, snapshot
 * metadata, and encoded configurations. All integers are little-endian.
 *
 *   segment   u64 format (1; 0 in a prepared open segment never written),
 *             then batches until the end (closed) or a zero count (open)
 *   batch     u32 crc of the header, u32 crc of the data, then the header:
 *             u64 n, n x (u64 term, u8 type, 3 pad, u32 size);
 *             then the entries' data, each size bytes (a multiple of 8)
 *   meta      u64 format (1), u64 crc, u64 configuration index,
 *             u64 configuration length, the configuration; the crc covers
 *             the last two header words and the configuration
 *   conf      u8 format (1), u64 n, n x (u64 id, address NUL, u8 role)
 *
 * raft's checksum is CRC-32 with polynomial 0x04C11DB7 fed most significant
 * bit first, starting from 0, without final inversion (not zlib's). */
#include <string.h>

#include "lib/orc.h"
#include "store/store_int.h"

#define SECTOR 512 /* the smallest unit a disk writes whole (etcd's rule) */
#define ENTRY_HEADER 16
#define MAX_CONF (1u << 20)

/* t[k][x]: the byte x followed by k zero bytes; four bytes a step (the
 * whole log is checked at every start). */
static uint32_t crc_t[4][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int k = 0; k < 8; k++) c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
        crc_t[0][i] = c;
    }
    for (int k = 1; k < 4; k++)
        for (uint32_t i = 0; i < 256; i++)
            crc_t[k][i] = (crc_t[k - 1][i] << 8) ^ crc_t[0][crc_t[k - 1][i] >> 24];
}

uint32_t store__crc32(const void *buf, size_t n, uint32_t crc)
{
    const unsigned char *p = buf;

    if (crc_t[3][1] == 0) crc_init(); /* idempotent: racing threads write the same values */
    for (; n >= 4; n -= 4, p += 4) {
        crc ^= (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        crc = crc_t[3][crc >> 24] ^ crc_t[2][(crc >> 16) & 0xff] ^ crc_t[1][(crc >> 8) & 0xff] ^
              crc_t[0][crc & 0xff];
    }
    while (n--) crc = (crc << 8) ^ crc_t[0][((crc >> 24) ^ *p++) & 0xff];
    return crc;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- segments ---- */

/* Offset just past the last non-zero byte. */
static size_t zero_tail(const unsigned char *p, size_t len)
{
    while (len > 0 && p[len - 1] == 0) len--;
    return len;
}

static bool sector_zero(const unsigned char *p, size_t len, size_t at)
{
    size_t end = at + SECTOR < len ? at + SECTOR : len;

    for (size_t i = at; i < end; i++)
        if (p[i] != 0) return false;
    return true;
}

/* A batch that failed at [start, end) is a torn write — data that never
 * reached the disk because the process or machine stopped mid-write —
 * when nothing was written after it and a whole sector of it reads as
 * zeros. end == 0: its extent is unknown (an unreadable header); then
 * everything from its first zeroed sector on must be zero. Anything else
 * (a flipped byte, a stale sector) is corruption. */
static bool torn_at(const struct store_seg_scan *sc, size_t start, size_t end)
{
    size_t z = zero_tail(sc->data, sc->len);

    if (end > sc->len) return z <= sc->len; /* the file ends inside the batch */
    for (size_t at = start - start % SECTOR; at < (end ? end : sc->len); at += SECTOR) {
        if (!sector_zero(sc->data, sc->len, at)) continue;
        return end ? z <= end : z <= at;
    }
    return false;
}

static void scan_fail(struct store_seg_scan *sc, size_t start, size_t end, unsigned n,
                      const char *why)
{
    sc->stop = STORE_SEG_BAD;
    sc->why = why;
    sc->bad_offset = start;
    sc->bad_n = n;
    sc->bad_end = n > 0 && end <= sc->len ? end : 0;
    sc->torn = torn_at(sc, start, end);
}

/* Checks the batch at *off; on success calls cb per entry and moves *off. */
static bool scan_batch(struct store_seg_scan *sc, size_t *off, store_seg_entry_cb cb, void *arg)
{
    const unsigned char *p = sc->data + *off;
    size_t left = sc->len - *off, hlen, dlen = 0;
    uint64_t n;

    if (left < 16) {
        if (zero_tail(p, left) == 0) { sc->stop = STORE_SEG_ZERO_END; return false; }
        scan_fail(sc, *off, *off + 16, 0, "the batch preamble is cut short");
        return false;
    }
    n = get64(p + 8);
    if (n == 0) {
        if (zero_tail(p, left) == 0) sc->stop = STORE_SEG_ZERO_END;
        else scan_fail(sc, *off, 0, 0, "the batch's entry count is zero");
        return false;
    }
    if (n > left / ENTRY_HEADER) {
        scan_fail(sc, *off, 0, 0, "the batch's entry count is impossible");
        return false;
    }
    hlen = 8 + ENTRY_HEADER * (size_t)n;
    if (8 + hlen > left) {
        scan_fail(sc, *off, *off + 8 + hlen, (unsigned)n, "the batch header is cut short");
        return false;
    }
    if (store__crc32(p + 8, hlen, 0) != get32(p)) {
        scan_fail(sc, *off, 0, 0, "header checksum mismatch");
        return false;
    }
    for (uint64_t i = 0; i < n; i++) dlen += get32(p + 16 + ENTRY_HEADER * i + 12);
    if (8 + hlen + dlen > left) {
        scan_fail(sc, *off, *off + 8 + hlen + dlen, (unsigned)n, "the batch data is cut short");
        return false;
    }
    if (store__crc32(p + 8 + hlen, dlen, 0) != get32(p + 4)) {
        scan_fail(sc, *off, *off + 8 + hlen + dlen, (unsigned)n, "data checksum mismatch");
        return false;
    }
    const unsigned char *data = p + 8 + hlen;
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *e = p + 16 + ENTRY_HEADER * i;
        size_t size = get32(e + 12);
        if (cb) cb(arg, get64(e), e[8], data, size);
        data += size;
    }
    sc->n_entries += n;
    *off += 8 + hlen + dlen;
    sc->good_end = *off;
    return true;
}

int store__seg_scan(struct store_seg_scan *sc, size_t from, store_seg_entry_cb cb, void *arg)
{
    size_t off = from ? from : 8;

    sc->n_entries = 0;
    sc->good_end = off;
    sc->stop = STORE_SEG_END;
    sc->why = NULL;
    sc->bad_offset = 0;
    sc->bad_n = 0;
    sc->bad_end = 0;
    sc->torn = false;
    if (sc->len < 8) {
        sc->format = 0;
        scan_fail(sc, 0, 8, 0, "the file is shorter than its header");
        return 0;
    }
    sc->format = get64(sc->data);
    if (sc->format == 0 && zero_tail(sc->data, sc->len) == 0) {
        sc->stop = STORE_SEG_ZERO_END; /* prepared, never written */
        return 0;
    }
    if (sc->format != 1) {
        scan_fail(sc, 0, 0, 0, "unknown segment format");
        return 0;
    }
    while (off < sc->len && scan_batch(sc, &off, cb, arg)) {}
    return 0;
}

/* ---- configurations ---- */

int store__conf_scan(const void *buf, size_t len, store_conf_server_cb cb, void *arg)
{
    const unsigned char *p = buf, *end = p + len;
    uint64_t n;

    if (len < 9 || p[0] != 1) return ORC_ECORRUPT;
    n = get64(p + 1);
    p += 9;
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *nul;
        if (end - p < 8) return ORC_ECORRUPT;
        uint64_t id = get64(p);
        p += 8;
        if ((nul = memchr(p, 0, (size_t)(end - p))) == NULL || end - nul < 2) return ORC_ECORRUPT;
        if (cb) cb(arg, id, (const char *)p, nul[1]);
        p = nul + 2;
    }
    return 0;
}

/* ---- snapshot metadata ---- */

int store__snapshot_meta_check(const void *buf, size_t len, const void **conf, size_t *conf_len,
                               const char **why)
{
    const unsigned char *p = buf;
    uint64_t n;

    *why = NULL;
    if (len < 32) {
        *why = "the file is shorter than its header";
        return ORC_ECORRUPT;
    }
    if (get64(p) != 1) {
        *why = "unknown metadata format";
        return ORC_ECORRUPT;
    }
    n = get64(p + 24);
    if (n == 0 || n > MAX_CONF || n > len - 32) {
        *why = "the configuration length is impossible";
        return ORC_ECORRUPT;
    }
    if ((uint32_t)get64(p + 8) != store__crc32(p + 32, (size_t)n, store__crc32(p + 16, 16, 0))) {
        *why = "checksum mismatch";
        return ORC_ECORRUPT;
    }
    *conf = p + 32;
    *conf_len = (size_t)n;
    if (store__conf_scan(*conf, *conf_len, NULL, NULL) != 0) {
        *why = "the configuration is unreadable";
        return ORC_ECORRUPT;
    }
    return 0;
}
