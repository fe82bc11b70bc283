/* Token-bucket rate limits keyed by text (a client address, a token hash). */
#ifndef SM_SERVER_RATELIMIT_H
#define SM_SERVER_RATELIMIT_H

#include <stddef.h>

struct sm_rl;

/* \p rate tokens per second, up to \p burst; at most \p max_keys buckets are kept
 * (idle full buckets are dropped first). \return new limiter or NULL. */
struct sm_rl *sm__rl_new(double rate, double burst, size_t max_keys);
void sm__rl_free(struct sm_rl *rl);

/* Take one token for \p key at time \p now (seconds, monotonic).
 * \return 0 when allowed, else the seconds until a token is available (> 0).
 * Thread-safe. */
double sm__rl_take(struct sm_rl *rl, const char *key, double now);

/* \return the number of buckets held. */
size_t sm__rl_size(struct sm_rl *rl);

#endif
