/* GET /api/v1/health, /api/v1/health/detailed and /metrics. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <samplemind/catalog.h>
#include <samplemind/version.h>

#include "jobs.h"
#include "server_int.h"

/* Liveness, the hottest route: no printf. */
static int health(sm_req *req, void *ud)
{
    (void)ud;
    static const char head[] = "{\"status\":\"ok\",\"version\":\"" SM_VERSION_STRING "\",\"uptime\":";
    sm_srv *srv = sm__req_srv(req);
    char body[sizeof(head) + 32];
    size_t n = sizeof(head) - 1;
    memcpy(body, head, n);
    n += sm__fmt_milli(body + n, sm__srv_now() - srv->t_start);
    memcpy(body + n, "}\n", 2);
    n += 2;
    return sm__req_reply_data(req, 200, "application/json", body, n);
}

/* Process facts from /proc/self. */
struct proc_facts {
    double cpu_s;     /* user + system seconds */
    long long rss;    /* bytes */
    int threads;
    int open_files;
};

static void read_proc(struct proc_facts *p)
{
    memset(p, 0, sizeof(*p));
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        /* Fields after the command name, which ends at the last ')'. */
        char *s = strrchr(buf, ')');
        unsigned long long ut = 0;
        unsigned long long st = 0;
        if (s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                        &st) == 2) {
            long hz = sysconf(_SC_CLK_TCK);
            p->cpu_s = (double)(ut + st) / (double)(hz > 0 ? hz : 100);
        }
    }
    f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof(line), f)) {
            long long v;
            if (sscanf(line, "VmRSS: %lld kB", &v) == 1)
                p->rss = v * 1024;
            else if (sscanf(line, "Threads: %lld", &v) == 1)
                p->threads = (int)v;
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                p->open_files++;
        closedir(d);
        p->open_files--; /* the directory handle itself */
    }
}

/* CPU use since the previous call (or since start), in percent of one core. */
static double cpu_percent(sm_srv *srv, double cpu_s)
{
    double now = sm__srv_now();
    pthread_mutex_lock(&srv->misc_lock);
    double t0 = srv->cpu_last_t > 0 ? srv->cpu_last_t : srv->t_start;
    double c0 = srv->cpu_last_t > 0 ? srv->cpu_last_s : 0;
    srv->cpu_last_t = now;
    srv->cpu_last_s = cpu_s;
    pthread_mutex_unlock(&srv->misc_lock);
    double dt = now - t0;
    return dt > 0 ? 100.0 * (cpu_s - c0) / dt : 0;
}

/* Number of catalog rows, cached for 5 s. \return -1 when unknown. */
static int64_t catalog_samples(sm_srv *srv, sm_error *err)
{
    double now = sm__srv_now();
    pthread_mutex_lock(&srv->misc_lock);
    bool fresh = srv->stats_t > 0 && now - srv->stats_t < 5;
    int64_t n = srv->stats_samples;
    pthread_mutex_unlock(&srv->misc_lock);
    if (fresh)
        return n;
    sm_catalog *cat = sm__srv_catalog_acquire(srv, err);
    if (!cat)
        return -1;
    sm_catalog_stats st;
    sm_status rc = sm_catalog_stats_get(cat, &st, err);
    sm__srv_catalog_release(srv, cat);
    if (rc != SM_OK)
        return -1;
    pthread_mutex_lock(&srv->misc_lock);
    srv->stats_t = now;
    srv->stats_samples = st.samples;
    pthread_mutex_unlock(&srv->misc_lock);
    return st.samples;
}

static int health_detailed(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    bool all_ok = true;
    json_t *comps = json_object();

    sm_error err = SM_ERROR_INIT;
    int64_t n = catalog_samples(srv, &err);
    json_t *cat = json_object();
    json_object_set_new(cat, "status", json_string(n >= 0 ? "ok" : "error"));
    if (n >= 0)
        json_object_set_new(cat, "samples", json_integer(n));
    else
        json_object_set_new(cat, "message", json_string(err.msg));
    all_ok = all_ok && n >= 0;
    json_object_set_new(comps, "catalog", cat);

    json_t *pool = json_object();
    struct sm_jobs_stats js;
    sm__jobs_stats(srv, &js);
    json_object_set_new(pool, "status", json_string("ok"));
    json_object_set_new(pool, "workers", json_integer(srv->workers));
    json_object_set_new(pool, "queued", json_integer(js.queued));
    json_object_set_new(pool, "running", json_integer(js.running));
    json_object_set_new(comps, "analysis_pool", pool);

    json_t *auth = json_object();
    int64_t users = 0;
    bool auth_ok = sm__auth_user_count(srv->auth, &users, &err) == SM_OK;
    json_object_set_new(auth, "status", json_string(auth_ok ? "ok" : "error"));
    json_object_set_new(auth, "users", json_integer(users));
    json_object_set_new(comps, "auth", auth);
    all_ok = all_ok && auth_ok;

    bool have_cache = false;
    for (int i = 0; i < srv->n_comp; i++) {
        json_t *o = json_object();
        bool ok = srv->comp[i].fn(o, srv->comp[i].ud);
        if (!json_object_get(o, "status"))
            json_object_set_new(o, "status", json_string(ok ? "ok" : "error"));
        json_object_set_new(comps, srv->comp[i].name, o);
        all_ok = all_ok && ok;
        have_cache = have_cache || !strcmp(srv->comp[i].name, "cache");
    }
    if (!have_cache)
        json_object_set_new(comps, "cache",
                            json_pack("{s:s,s:s}", "status", "absent", "message",
                                      "the AI answer cache is not part of this build yet"));

    struct proc_facts p;
    read_proc(&p);
    json_t *proc = json_pack("{s:i,s:f,s:I,s:i,s:i}", "pid", (int)getpid(), "cpu_percent",
                             cpu_percent(srv, p.cpu_s), "rss_bytes", (json_int_t)p.rss,
                             "threads", p.threads, "open_files", p.open_files);
    json_t *http = json_pack("{s:i,s:i,s:i}", "threads", srv->threads, "in_flight",
                             atomic_load(&srv->inflight), "pending",
                             atomic_load(&srv->pending));
    json_t *o = json_pack("{s:s,s:s,s:i,s:f,s:I,s:o,s:o,s:o}", "status",
                          all_ok ? "ok" : "degraded", "version", SM_VERSION_STRING,
                          "analyzer_version", SM_ANALYZER_VERSION, "uptime",
                          sm__srv_now() - srv->t_start, "started_at",
                          (json_int_t)srv->started_at, "components", comps, "process", proc,
                          "http", http);
    return sm__req_reply_json(req, all_ok ? 200 : 503, o);
}

static const char *route_method(int i, void *ud)
{
    sm_srv *srv = ud;
    return srv->router.v[i].method;
}

static const char *route_pattern(int i, void *ud)
{
    sm_srv *srv = ud;
    return srv->router.v[i].pattern;
}

static int metrics(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__metrics_render(srv->metrics, &b, route_method, route_pattern, srv);
    struct proc_facts p;
    read_proc(&p);
    sm_error err = SM_ERROR_INIT;
    int64_t n = catalog_samples(srv, &err);
    sm__sbuf_addf(&b,
                  "# HELP samplemind_catalog_samples Present samples in the catalog.\n"
                  "# TYPE samplemind_catalog_samples gauge\n"
                  "samplemind_catalog_samples %lld\n"
                  "# HELP samplemind_http_in_flight Requests being served.\n"
                  "# TYPE samplemind_http_in_flight gauge\n"
                  "samplemind_http_in_flight %d\n"
                  "# HELP process_resident_memory_bytes Resident memory.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %lld\n"
                  "# HELP process_cpu_seconds_total CPU time.\n"
                  "# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total %.2f\n"
                  "# HELP process_open_fds Open file descriptors.\n"
                  "# TYPE process_open_fds gauge\n"
                  "process_open_fds %d\n"
                  "# HELP process_threads Threads.\n"
                  "# TYPE process_threads gauge\n"
                  "process_threads %d\n"
                  "# HELP samplemind_uptime_seconds Seconds since start.\n"
                  "# TYPE samplemind_uptime_seconds gauge\n"
                  "samplemind_uptime_seconds %.3f\n",
                  (long long)n, atomic_load(&srv->inflight), p.rss, p.cpu_s, p.open_files,
                  p.threads, sm__srv_now() - srv->t_start);
    if (b.oom) {
        sm__sbuf_release(&b);
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    }
    sm__req_reply_data(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n);
    sm__sbuf_release(&b);
    return SM_SRV_DONE;
}

int sm__routes_health(sm_srv *srv)
{
    return sm__srv_route(srv, "GET", "/api/v1/health", SM_ROUTE_PUBLIC, health, NULL,
                         "Liveness, version and uptime") ||
           sm__srv_route(srv, "GET", "/api/v1/health/detailed", 0, health_detailed, NULL,
                         "Components and process facts") ||
           sm__srv_route(srv, "GET", "/metrics", SM_ROUTE_PUBLIC, metrics, NULL,
                         "Prometheus metrics");
}
