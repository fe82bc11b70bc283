/* The worker pool: work that must not hold a request thread (password hashing,
 * uploads to analyze, scans) runs here, and its request is answered later. */
#ifndef SM_SERVER_JOBS_H
#define SM_SERVER_JOBS_H

#include "server.h"

struct sm_jobs_stats {
    int queued;
    int running;
};

/* Start the pool's threads (srv->workers of them). \return 0 or -1. */
int sm__jobs_init(sm_srv *srv);
/* Refuse new work, let queued tasks run, join the threads. Idempotent. */
void sm__jobs_stop(sm_srv *srv);
/* Run \p fn(\p ud) on a worker. \return 0, or -1 when stopping or out of memory
 * (fn is then not called). */
int sm__jobs_submit(sm_srv *srv, void (*fn)(void *ud), void *ud);
void sm__jobs_stats(sm_srv *srv, struct sm_jobs_stats *out);
/* True once stop has begun (long tasks check it to end early). */
bool sm__jobs_stopping(sm_srv *srv);

#endif
