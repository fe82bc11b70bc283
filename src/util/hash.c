#include "util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_setup(void)
{
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

int sm__crypto_init(void)
{
    pthread_once(&sodium_once, sodium_setup);
    return sodium_status;
}

static void to_text(const unsigned char digest[32], char out[SM__HASH_TEXT])
{
    memcpy(out, "blake2b:", 8);
    sodium_bin2hex(out + 8, SM__HASH_HEX + 1, digest, 32);
}

sm_status sm__hash_file(const char *path, char out[SM__HASH_TEXT], sm_error *err)
{
    out[0] = '\0';
    if (sm__crypto_init() != 0)
        return sm_error_set(err, SM_EINTERNAL, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sm_error_set(err, errno == ENOENT ? SM_ENOENT : SM_EIO, "cannot open: %s",
                            strerror(errno));
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    unsigned char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return sm_error_set(err, SM_EIO, "read failed while hashing: %s", strerror(e));
        }
        if (n == 0)
            break;
        crypto_generichash_update(&st, buf, (unsigned long long)n);
    }
    close(fd);
    unsigned char digest[32];
    crypto_generichash_final(&st, digest, sizeof(digest));
    to_text(digest, out);
    return SM_OK;
}

void sm__hash_bytes(const void *data, size_t n, char out[SM__HASH_TEXT])
{
    unsigned char digest[32];
    sm__crypto_init();
    crypto_generichash(digest, sizeof(digest), data, n, NULL, 0);
    to_text(digest, out);
}
