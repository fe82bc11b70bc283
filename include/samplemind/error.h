/** \file
 * Status codes and the caller-provided error record.
 *
 * Every fallible function returns an sm_status (SM_OK is 0) and, when the caller
 * passes a non-NULL sm_error, fills it with the code and a message that names the
 * input that was wrong. There is no global "last error".
 *
 *     sm_error err = SM_ERROR_INIT;
 *     if (sm_something(arg, &err) != SM_OK)
 *         fprintf(stderr, "%s: %s\n", sm_status_name(err.code), err.msg);
 *
 * Codes and their numbers never change; new codes are appended.
 */
#ifndef SAMPLEMIND_ERROR_H
#define SAMPLEMIND_ERROR_H

#include <samplemind/common.h>

/* XX(enum suffix, number, stable name, description) */
#define SM_STATUS_MAP(XX)                                                           \
    XX(OK, 0, "ok", "success")                                                      \
    XX(EINVAL, 1, "invalid_argument", "invalid argument")                           \
    XX(ENOMEM, 2, "out_of_memory", "out of memory")                                 \
    XX(EIO, 3, "io_error", "input/output error")                                    \
    XX(ENOENT, 4, "not_found", "no such file or directory")                         \
    XX(EISDIR, 5, "is_directory", "is a directory")                                 \
    XX(EACCES, 6, "permission_denied", "permission denied")                         \
    XX(EFORMAT, 7, "unsupported_format", "not a supported audio file")              \
    XX(ECORRUPT, 8, "corrupt_audio", "audio data is corrupt or truncated")          \
    XX(EEMPTY, 9, "empty_audio", "file holds no audio frames")                      \
    XX(ETOOBIG, 10, "too_big", "input exceeds a size limit")                        \
    XX(EINTERNAL, 11, "internal_error", "internal error")                           \
    XX(EUSAGE, 12, "usage", "usage error")                                          \
    XX(EBUSY, 13, "busy", "resource is locked by another process")                  \
    XX(ENOSPC, 14, "no_space", "no space left on the device")                       \
    XX(EBADDB, 15, "corrupt_database", "database file is corrupt or not ours")       \
    XX(ETIMEOUT, 16, "timeout", "timed out")                                        \
    XX(EUNAVAILABLE, 17, "unavailable", "service unavailable or unreachable")

typedef enum sm_status {
#define SM__STATUS_ENUM(suffix, num, name, text) SM_##suffix = num,
    SM_STATUS_MAP(SM__STATUS_ENUM)
#undef SM__STATUS_ENUM
} sm_status;

#define SM_ERROR_MSG_SIZE 256

/** Detail for a failed call, filled by the callee. */
typedef struct sm_error {
    sm_status code;
    char msg[SM_ERROR_MSG_SIZE];
} sm_error;

#define SM_ERROR_INIT {SM_OK, {0}}

/** \return the stable snake_case name of \p code ("not_found"); never NULL. */
SM_API const char *sm_status_name(sm_status code);

/** \return a short English description of \p code; never NULL. */
SM_API const char *sm_status_str(sm_status code);

/**
 * Fill \p err (may be NULL) with \p code and a printf-formatted message.
 * \return \p code, so callers can write `return sm_error_set(err, SM_EINVAL, ...)`.
 */
SM_API sm_status sm_error_set(sm_error *err, sm_status code, const char *fmt, ...)
    SM_PRINTF(3, 4);

#endif
