/** \file
 * Logging hook. The library never writes to stdout or stderr itself: the host
 * installs a handler (the CLI prints text on stderr, the server one line per event).
 *
 *     static void to_stderr(sm_log_level l, const char *msg, void *ud) { ... }
 *     sm_log_set_handler(to_stderr, NULL);
 *     sm_log_set_level(SM_LOG_INFO);
 */
#ifndef SAMPLEMIND_LOG_H
#define SAMPLEMIND_LOG_H

#include <samplemind/common.h>

typedef enum sm_log_level {
    SM_LOG_ERROR = 0,
    SM_LOG_WARN = 1,
    SM_LOG_INFO = 2,
    SM_LOG_DEBUG = 3,
} sm_log_level;

/** Receives one formatted message (borrowed, valid during the call). */
typedef void (*sm_log_fn)(sm_log_level level, const char *msg, void *userdata);

/** Install \p fn (NULL silences the library). Not thread-safe: call at start-up. */
SM_API void sm_log_set_handler(sm_log_fn fn, void *userdata);

/** Messages above \p level are dropped before formatting. Default SM_LOG_WARN. */
SM_API void sm_log_set_level(sm_log_level level);

SM_API sm_log_level sm_log_get_level(void);

/** Format and deliver a message; prefer SM_LOG, which checks the level first. */
SM_API void sm_log_write(sm_log_level level, const char *fmt, ...) SM_PRINTF(2, 3);

/** Log at \p level; the arguments are not evaluated when the level is off. */
#define SM_LOG(level, ...)                                                          \
    do {                                                                            \
        if ((level) <= sm_log_get_level())                                          \
            sm_log_write((level), __VA_ARGS__);                                     \
    } while (0)

#endif
