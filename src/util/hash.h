/* Content hashing (internal): BLAKE2b-256 through libsodium. */
#ifndef SM_UTIL_HASH_H
#define SM_UTIL_HASH_H

#include <stddef.h>

#include <samplemind/error.h>

#define SM__HASH_HEX 64
/* "blake2b:" + 64 hex digits + NUL */
#define SM__HASH_TEXT 73

/* Initialise libsodium once (thread-safe). Returns 0 or -1. */
int sm__crypto_init(void);

/* Hash the bytes of the file at path into out ("blake2b:<hex>").
 * Returns SM_OK or an error naming the failure. */
sm_status sm__hash_file(const char *path, char out[SM__HASH_TEXT], sm_error *err);

/* Hash n bytes into out as text. */
void sm__hash_bytes(const void *data, size_t n, char out[SM__HASH_TEXT]);

#endif
