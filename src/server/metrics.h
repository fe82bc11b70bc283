/* Request metrics: counts per route and status, latency histograms (lock-free). */
#ifndef SM_SERVER_METRICS_H
#define SM_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

struct sm_metrics;

/* \p n_routes routes plus one slot for unmatched requests. */
struct sm_metrics *sm__metrics_new(size_t n_routes);
void sm__metrics_free(struct sm_metrics *m);
/* Count one request of route \p route (-1: unmatched) with \p status taking \p seconds. */
void sm__metrics_request(struct sm_metrics *m, int route, int status, double seconds);
/* Count one analysis (upload or scan) of \p seconds; \p ok false for a failed file. */
void sm__metrics_analysis(struct sm_metrics *m, int ok, double seconds);
/* Lines a module appends at each render (up to 16 hooks; more are ignored). */
void sm__metrics_add_hook(struct sm_metrics *m, void (*fn)(struct sm_sbuf *out, void *ud),
                          void *ud);
/* Append the Prometheus text of the counters; \p route_label(i) names route i;
 * the hooks' lines follow. */
void sm__metrics_render(struct sm_metrics *m, struct sm_sbuf *out,
                        const char *(*route_method)(int i, void *ud),
                        const char *(*route_pattern)(int i, void *ud), void *ud);

#endif
