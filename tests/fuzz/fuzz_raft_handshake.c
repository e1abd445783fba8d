/* fuzz_raft_handshake.c — the bytes a peer sends on the Raft port after TLS
 * and before raft sees anything: orc's hello (store/transport.h), parsed
 * whole and in every split a connection could deliver, and the member
 * identity read from a certificate's subject. Links liborc only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/transport.h"

/* Parsing a prefix, then the whole, must agree with parsing the whole. */
static void parse_split(const uint8_t *data, size_t size, size_t cut)
{
    struct store_hello h1, h2;
    size_t u1 = 0, u2 = 0;
    int r1 = store__hello_parse(data, cut, &h1, &u1);
    int r2 = store__hello_parse(data, size, &h2, &u2);

    if (r2 == 0 && u2 > 0) {
        if (u2 > size || h2.id == 0 || strlen(h2.address) == 0) abort();
        if (r1 != 0) abort(); /* a prefix of a good hello is never refused */
        if (u1 > 0 && (u1 != u2 || h1.id != h2.id || strcmp(h1.address, h2.address) != 0)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_hello h;
    unsigned char again[STORE_HELLO_MAX];
    size_t used = 0;
    char *text;

    if (store__hello_parse(data, size, &h, &used) == 0 && used > 0) {
        /* what parses re-encodes to the same bytes */
        size_t n = store__hello_encode(h.id, h.address, again);
        if (n != used || memcmp(again, data, n) != 0) abort();
    }
    parse_split(data, size, size / 2);
    parse_split(data, size, size > 20 ? 20 : size);
    /* The subject's O and CN as a certificate would hold them: "O\0CN". */
    if ((text = malloc(size + 2)) == NULL) return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *cn = text + strlen(text) + 1;
    if (cn > text + size) cn = text + size;
    uint64_t id = store__member_id(text, 1, cn);
    if (id != 0 && (strcmp(text, STORE_MEMBER_ORG) != 0 || strncmp(cn, STORE_MEMBER_CN, 11) != 0)) abort();
    free(text);
    return 0;
}
