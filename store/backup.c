/* backup.c — the backup file format (see backup.h): writing a header,
 * checking a file as it streams in, and verifying a whole file down to its
 * SQLite content before anything is restored from it. */
#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "store/backup_int.h"
#include "store/le.h"

static const unsigned char magic[8] = {'O', 'R', 'C', 'B', 'A', 'C', 'K', '\n'};

#define HASHED 64 /* header bytes the checksum covers, with the payload */
#define SUM_AT 64

static int hash_init(EVP_MD_CTX **md, const unsigned char *hdr)
{
    *md = EVP_MD_CTX_new();
    if (*md == NULL || EVP_DigestInit_ex(*md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(*md, hdr, HASHED) != 1) {
        EVP_MD_CTX_free(*md);
        *md = NULL;
        return ORC_ENOMEM;
    }
    return 0;
}

static int hash_end(EVP_MD_CTX *md, unsigned char sum[32])
{
    unsigned n = 0;
    return EVP_DigestFinal_ex(md, sum, &n) == 1 && n == 32 ? 0 : ORC_ENOMEM;
}

int store__backup_header(unsigned char hdr[STORE_BACKUP_HEADER],
                         const struct store_backup_info *info, const void *payload, size_t len)
{
    unsigned char *p = hdr;
    EVP_MD_CTX *md;
    int rv;

    memset(hdr, 0, STORE_BACKUP_HEADER);
    memcpy(p, magic, sizeof magic);
    p = store__put_u32(p + 8, STORE_BACKUP_VERSION);
    p = store__put_u32(p, STORE_BACKUP_HEADER);
    p = store__put_u64(p, len);
    p = store__put_u64(p, (uint64_t)info->revision);
    p = store__put_u64(p, info->raft_index);
    p = store__put_u64(p, info->member_id);
    store__put_u64(p, (uint64_t)info->created_ms);
    if ((rv = hash_init(&md, hdr)) != 0) return rv;
    if (EVP_DigestUpdate(md, payload, len) != 1) rv = ORC_ENOMEM;
    if (rv == 0) rv = hash_end(md, hdr + SUM_AT);
    EVP_MD_CTX_free(md);
    return rv;
}

int store_backup_header_parse(const void *data, size_t len, struct store_backup_info *info,
                              char *errmsg)
{
    const unsigned char *h = data;
    uint32_t version, size;

    if (len < STORE_BACKUP_HEADER)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "truncated: %zu bytes, shorter than the %d-byte header", len,
                        STORE_BACKUP_HEADER);
    if (memcmp(h, magic, sizeof magic) != 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "not an orc backup (bad magic at the start)");
    version = store__get_u32(h + 8);
    size = store__get_u32(h + 12);
    if (version != STORE_BACKUP_VERSION)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_EINVAL,
                        "backup format version %" PRIu32 " is not supported (this build reads %d)",
                        version, STORE_BACKUP_VERSION);
    if (size != STORE_BACKUP_HEADER)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "damaged header: header size %" PRIu32 ", want %d", size,
                        STORE_BACKUP_HEADER);
    for (int i = 56; i < 64; i++)
        if (h[i] != 0)
            return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                            "damaged header: reserved byte %d is not zero", i);
    info->payload_size = store__get_u64(h + 16);
    info->revision = (int64_t)store__get_u64(h + 24);
    info->raft_index = store__get_u64(h + 32);
    info->member_id = store__get_u64(h + 40);
    info->created_ms = (int64_t)store__get_u64(h + 48);
    if (info->revision < 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "damaged header: negative revision");
    return 0;
}

/* ---- checking while streaming ---- */

struct store_backup_check {
    unsigned char hdr[STORE_BACKUP_HEADER];
    size_t hdr_len;
    struct store_backup_info info;
    EVP_MD_CTX *md; /* set once the header is read and sound */
    uint64_t seen;  /* payload bytes hashed */
    uint64_t extra; /* bytes after the payload */
    int failed;
    char err[STORE_BACKUP_ERRLEN];
};

int store_backup_check_new(struct store_backup_check **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ORC_ENOMEM;
}

void store_backup_check_free(struct store_backup_check *c)
{
    if (c == NULL) return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

/* The header is complete: parse it and start the checksum. */
static int check_header(struct store_backup_check *c)
{
    int rv = store_backup_header_parse(c->hdr, sizeof c->hdr, &c->info, c->err);

    if (rv == 0 && (rv = hash_init(&c->md, c->hdr)) != 0)
        orc_errf(c->err, sizeof c->err, rv, "out of memory");
    return c->failed = rv;
}

int store_backup_check_feed(struct store_backup_check *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t n;

    if (c->failed) return c->failed;
    if (c->hdr_len < sizeof c->hdr) {
        n = sizeof c->hdr - c->hdr_len < len ? sizeof c->hdr - c->hdr_len : len;
        memcpy(c->hdr + c->hdr_len, p, n);
        c->hdr_len += n;
        p += n;
        len -= n;
        if (c->hdr_len < sizeof c->hdr) return 0;
        if (check_header(c) != 0) return c->failed;
    }
    n = c->info.payload_size - c->seen < len ? (size_t)(c->info.payload_size - c->seen) : len;
    if (n > 0 && EVP_DigestUpdate(c->md, p, n) != 1)
        return c->failed = orc_errf(c->err, sizeof c->err, ORC_ENOMEM, "out of memory");
    c->seen += n;
    c->extra += len - n;
    return 0;
}

int store_backup_check_finish(struct store_backup_check *c, struct store_backup_info *info,
                              char *errmsg)
{
    unsigned char sum[32];

    if (c->failed) return orc_errf(errmsg, STORE_BACKUP_ERRLEN, c->failed, "%s", c->err);
    if (c->hdr_len < sizeof c->hdr)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "truncated: %zu bytes, shorter than the %d-byte header", c->hdr_len,
                        STORE_BACKUP_HEADER);
    if (c->seen < c->info.payload_size)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "truncated: the payload has %" PRIu64 " of its %" PRIu64 " bytes",
                        c->seen, c->info.payload_size);
    if (c->extra > 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "damaged: %" PRIu64 " unexpected bytes after the payload", c->extra);
    if (hash_end(c->md, sum) != 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ENOMEM, "out of memory");
    if (memcmp(sum, c->hdr + SUM_AT, sizeof sum) != 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "checksum mismatch: the file is damaged (SHA-256 of its content differs "
                        "from the one it was written with)");
    if (info) *info = c->info;
    return 0;
}

/* ---- the database inside ---- */

static int db_fail(sqlite3 *db, const char *what, char *errmsg)
{
    return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT, "the database inside is damaged: %s: %s",
                    what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* One integer from a query, or a failure naming `what`. */
static int query_int(sqlite3 *db, const char *sql, int64_t bind, int64_t *out, const char *what,
                     char *errmsg)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_int64(st, 1, bind);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                                           "the database inside has no %s", what);
    return db_fail(db, what, errmsg);
}

static int integrity(sqlite3 *db, char *errmsg)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &st, NULL);
    const char *res;
    int rv = 0;

    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (res == NULL) rv = db_fail(db, "integrity check", errmsg);
    else if (strcmp(res, "ok") != 0)
        rv = orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                      "the database inside failed SQLite's integrity check: %.160s", res);
    sqlite3_finalize(st);
    return rv;
}

/* orc's schema, and rows a store could have written: every revision at
 * most the backup's, created before modified, versions from 1. */
static int check_content(sqlite3 *db, const struct store_backup_info *info, size_t *objects,
                         char *errmsg)
{
    int64_t rev = 0, n = 0, bad = 0;
    int rv;

    if ((rv = query_int(db, "SELECT value FROM meta WHERE name='revision'", 0, &rev,
                        "revision record", errmsg)) != 0)
        return rv;
    if (rev != info->revision)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "the database inside is at revision %" PRId64 ", the header says %" PRId64,
                        rev, info->revision);
    if ((rv = query_int(db, "SELECT count(*) FROM kv", 0, &n, "key table", errmsg)) != 0) return rv;
    if ((rv = query_int(db,
                        "SELECT count(*) FROM kv WHERE typeof(key) != 'text' OR key = ''"
                        " OR create_rev < 1 OR mod_rev < create_rev OR mod_rev > ?1 OR version < 1",
                        rev, &bad, "key table", errmsg)) != 0)
        return rv;
    if (bad > 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, ORC_ECORRUPT,
                        "the database inside has %" PRId64 " keys with impossible revisions", bad);
    *objects = (size_t)n;
    return 0;
}

static int verify_db(const void *payload, size_t len, const struct store_backup_info *info,
                     size_t *objects, char *errmsg)
{
    sqlite3 *db = NULL;
    int rc, rv;

    rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_deserialize(db, "main", (unsigned char *)payload, (sqlite3_int64)len,
                                 (sqlite3_int64)len, SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) rv = db_fail(db, "open", errmsg);
    else if ((rv = integrity(db, errmsg)) == 0) rv = check_content(db, info, objects, errmsg);
    sqlite3_close(db);
    return rv;
}

int store_backup_verify(const void *data, size_t len, struct store_backup_info *info,
                        const void **payload, size_t *objects, char *errmsg)
{
    struct store_backup_check *c;
    int rv;

    if ((rv = store_backup_check_new(&c)) != 0)
        return orc_errf(errmsg, STORE_BACKUP_ERRLEN, rv, "out of memory");
    store_backup_check_feed(c, data, len);
    rv = store_backup_check_finish(c, info, errmsg);
    store_backup_check_free(c);
    if (rv != 0) return rv;
    *payload = (const unsigned char *)data + STORE_BACKUP_HEADER;
    return verify_db(*payload, info->payload_size, info, objects, errmsg);
}

void store_backup_free(struct store_backup *b)
{
    if (b == NULL) return;
    sqlite3_free(b->payload);
    free(b);
}
