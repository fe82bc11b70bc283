/* Single-flight (internal): identical requests in flight share one upstream call.
 * The first caller of a key leads and must call sm__flight_done; later callers of
 * the same key wait, and their callbacks receive the leader's result. */
#ifndef SM_CACHE_FLIGHT_H
#define SM_CACHE_FLIGHT_H

#include <stddef.h>

struct sm__flight;

/* Called once per waiting caller with the leader's result (borrowed for the call). */
typedef void (*sm__flight_fn)(void *result, void *userdata);

struct sm__flight *sm__flight_new(void);
/* Frees the table; waiters still queued are called with a NULL result. */
void sm__flight_free(struct sm__flight *f);
/* 1: the caller leads (fn is not used); 0: joined, fn will be called; -1: out of memory. */
int sm__flight_join(struct sm__flight *f, const char *key, sm__flight_fn fn, void *userdata);
/* Ends key's flight: calls every waiter with result (outside the lock) and returns
 * how many there were. */
size_t sm__flight_done(struct sm__flight *f, const char *key, void *result);
/* Keys in flight now. */
size_t sm__flight_count(struct sm__flight *f);

#endif
