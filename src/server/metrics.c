/* Request metrics with relaxed atomics: a few adds per request, no lock. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "metrics.h"

static const int statuses[] = {200, 201, 202, 204, 206, 304, 400, 401, 403, 404, 405, 408,
                               409, 413, 415, 416, 422, 429, 431, 500, 502, 503, 504};
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + "other" */

static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct route_stats {
    atomic_uint_fast64_t by_status[N_STATUS];
    atomic_uint_fast64_t bucket[N_BOUNDS + 1];
    atomic_uint_fast64_t sum_ns;
};

#define N_HOOKS 16

struct sm_metrics {
    struct {
        void (*fn)(struct sm_sbuf *out, void *ud);
        void *ud;
    } hook[N_HOOKS];
    int n_hooks;
    size_t n_routes;
    struct route_stats *routes; /* n_routes + 1 (last: unmatched) */
    atomic_uint_fast64_t analysis_ok;
    atomic_uint_fast64_t analysis_failed;
    atomic_uint_fast64_t analysis_bucket[N_BOUNDS + 1];
    atomic_uint_fast64_t analysis_sum_ns;
};

struct sm_metrics *sm__metrics_new(size_t n_routes)
{
    struct sm_metrics *m = sm_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_routes = n_routes;
    m->routes = sm_calloc(n_routes + 1, sizeof(*m->routes));
    if (!m->routes) {
        sm_free(m);
        return NULL;
    }
    return m;
}

void sm__metrics_free(struct sm_metrics *m)
{
    if (!m)
        return;
    sm_free(m->routes);
    sm_free(m);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

static size_t bucket_of(double s)
{
    size_t b = 0;
    while (b < N_BOUNDS && s > bounds[b])
        b++;
    return b;
}

void sm__metrics_add_hook(struct sm_metrics *m, void (*fn)(struct sm_sbuf *out, void *ud),
                          void *ud)
{
    if (!m || !fn || m->n_hooks >= N_HOOKS)
        return;
    m->hook[m->n_hooks].fn = fn;
    m->hook[m->n_hooks].ud = ud;
    m->n_hooks++;
}

void sm__metrics_request(struct sm_metrics *m, int route, int status, double seconds)
{
    size_t r = route < 0 || (size_t)route >= m->n_routes ? m->n_routes : (size_t)route;
    struct route_stats *st = &m->routes[r];
    atomic_fetch_add_explicit(&st->by_status[status_slot(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->bucket[bucket_of(seconds)], 1, memory_order_relaxed);
    uint64_t ns = seconds > 0 ? (uint64_t)(seconds * 1e9) : 0;
    atomic_fetch_add_explicit(&st->sum_ns, ns, memory_order_relaxed);
}

void sm__metrics_analysis(struct sm_metrics *m, int ok, double seconds)
{
    atomic_fetch_add_explicit(ok ? &m->analysis_ok : &m->analysis_failed, 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->analysis_bucket[bucket_of(seconds)], 1, memory_order_relaxed);
    uint64_t ns = seconds > 0 ? (uint64_t)(seconds * 1e9) : 0;
    atomic_fetch_add_explicit(&m->analysis_sum_ns, ns, memory_order_relaxed);
}

static uint64_t ld(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void histogram(struct sm_sbuf *out, const char *name, const char *labels,
                      atomic_uint_fast64_t *bucket, atomic_uint_fast64_t *sum_ns)
{
    uint64_t cum = 0;
    for (size_t b = 0; b <= N_BOUNDS; b++) {
        cum += ld(&bucket[b]);
        if (b < N_BOUNDS)
            sm__sbuf_addf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
                          labels[0] ? "," : "", bounds[b], (unsigned long long)cum);
        else
            sm__sbuf_addf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
                          labels[0] ? "," : "", (unsigned long long)cum);
    }
    const char *open = labels[0] ? "{" : "";
    const char *close = labels[0] ? "}" : "";
    sm__sbuf_addf(out, "%s_sum%s%s%s %.9f\n", name, open, labels, close,
                  (double)ld(sum_ns) / 1e9);
    sm__sbuf_addf(out, "%s_count%s%s%s %llu\n", name, open, labels, close,
                  (unsigned long long)cum);
}

void sm__metrics_render(struct sm_metrics *m, struct sm_sbuf *out,
                        const char *(*route_method)(int i, void *ud),
                        const char *(*route_pattern)(int i, void *ud), void *ud)
{
    sm__sbuf_addf(out, "# HELP samplemind_http_requests_total HTTP requests by route and status.\n"
                       "# TYPE samplemind_http_requests_total counter\n");
    for (size_t r = 0; r <= m->n_routes; r++) {
        const char *meth = r < m->n_routes ? route_method((int)r, ud) : "";
        const char *pat = r < m->n_routes ? route_pattern((int)r, ud) : "unmatched";
        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t v = ld(&m->routes[r].by_status[s]);
            if (!v)
                continue;
            char code[8];
            if (s + 1 < N_STATUS)
                snprintf(code, sizeof(code), "%d", statuses[s]);
            else
                snprintf(code, sizeof(code), "other");
            sm__sbuf_addf(out,
                          "samplemind_http_requests_total{method=\"%s\",route=\"%s\","
                          "status=\"%s\"} %llu\n",
                          meth, pat, code, (unsigned long long)v);
        }
    }
    sm__sbuf_addf(out, "# HELP samplemind_http_request_duration_seconds Request latency.\n"
                       "# TYPE samplemind_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= m->n_routes; r++) {
        uint64_t total = 0;
        for (size_t b = 0; b <= N_BOUNDS; b++)
            total += ld(&m->routes[r].bucket[b]);
        if (!total)
            continue;
        char labels[256];
        snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"",
                 r < m->n_routes ? route_method((int)r, ud) : "",
                 r < m->n_routes ? route_pattern((int)r, ud) : "unmatched");
        histogram(out, "samplemind_http_request_duration_seconds", labels,
                  m->routes[r].bucket, &m->routes[r].sum_ns);
    }
    sm__sbuf_addf(out,
                  "# HELP samplemind_analyses_total Files analyzed (uploads and scans).\n"
                  "# TYPE samplemind_analyses_total counter\n"
                  "samplemind_analyses_total{result=\"ok\"} %llu\n"
                  "samplemind_analyses_total{result=\"failed\"} %llu\n"
                  "# HELP samplemind_analysis_duration_seconds Time per analyzed file.\n"
                  "# TYPE samplemind_analysis_duration_seconds histogram\n",
                  (unsigned long long)ld(&m->analysis_ok),
                  (unsigned long long)ld(&m->analysis_failed));
    histogram(out, "samplemind_analysis_duration_seconds", "", m->analysis_bucket,
              &m->analysis_sum_ns);
    for (int i = 0; i < m->n_hooks; i++)
        m->hook[i].fn(out, m->hook[i].ud);
}
