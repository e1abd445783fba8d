/* rand.h — randomness from getrandom(2): UUIDs, tokens, name suffixes. */
#ifndef ORC_RAND_H
#define ORC_RAND_H

#include <stddef.h>
#include <stdint.h>

int orc_rand_bytes(void *out, size_t n);
uint64_t orc_rand_u64(void);
/* Version-4 UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void orc_uuid(char out[37]);
/* n random lowercase hex characters plus NUL (out holds n + 1 bytes). */
void orc_rand_hex(char *out, size_t n);
/* n characters from Kubernetes' generateName alphabet
 * ("bcdfghjklmnpqrstvwxz2456789") plus NUL. */
void orc_rand_name_suffix(char *out, size_t n);

#endif
