/* POST /api/v1/library/scan and GET /api/v1/jobs/{id}: scans run as jobs on a
 * thread of their own (sm_scan_run brings its analysis pool), and the request
 * returns at once with the job. The records of the last MAX_JOBS jobs are kept
 * in DATA_DIR/jobs.json (written when a job starts and when it ends), so a
 * restarted server still answers for them; a job the server stopped during (a
 * crash) reads as failed, "interrupted". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "server_int.h"

enum job_state { JOB_QUEUED = 0, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED };
static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

#define MAX_JOBS 64

struct sm_scan_job {
    struct sm_scan_job *next;
    sm_srv *srv;
    int64_t id;
    int state;
    char **roots;
    size_t n_roots;
    bool prune;
    bool force;
    volatile int stop;
    sm_scan_progress progress;
    char current[512];
    char error_code[32];
    char error[SM_ERROR_MSG_SIZE];
    int64_t created;
    int64_t started;
    int64_t finished;
    pthread_t thread;
    bool joinable;
    json_t *saved;      /* a job of an earlier run of the server: its record */
};

static void job_free(struct sm_scan_job *j)
{
    json_decref(j->saved);
    for (size_t i = 0; i < j->n_roots; i++)
        sm_free(j->roots[i]);
    sm_free(j->roots);
    sm_free(j);
}

static void on_progress(const sm_scan_progress *p, void *ud)
{
    struct sm_scan_job *j = ud;
    pthread_mutex_lock(&j->srv->job_lock);
    j->progress = *p;
    j->progress.current = NULL;
    snprintf(j->current, sizeof(j->current), "%s", p->current ? p->current : "");
    pthread_mutex_unlock(&j->srv->job_lock);
}

static json_t *job_json(const struct sm_scan_job *j);

/* Write every job's record to DATA_DIR/jobs.json (a new file renamed over the old
 * one); call with job_lock held. A failure is logged: the jobs still answer from
 * memory. */
static void jobs_save(sm_srv *srv)
{
    json_t *list = json_array();
    for (const struct sm_scan_job *j = srv->jobs_list; list && j; j = j->next)
        json_array_append_new(list, job_json(j));
    json_t *doc = json_pack("{s:I,s:o}", "next_id", (json_int_t)srv->next_job, "jobs", list);
    char path[4200];
    char tmp[4300];
    snprintf(path, sizeof(path), "%s/jobs.json", srv->cfg.data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = doc ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = f && json_dumpf(doc, f, JSON_COMPACT) == 0 && fputc('\n', f) != EOF &&
              fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        sm__srv_log("warning", "could not write %s: %s", path,
                    doc ? strerror(errno) : "out of memory");
        unlink(tmp);
    }
    json_decref(doc);
}

static int state_of(const char *name)
{
    for (int i = 0; name && i < (int)(sizeof(state_names) / sizeof(state_names[0])); i++)
        if (!strcmp(name, state_names[i]))
            return i;
    return -1;
}

/* The jobs of earlier runs, from DATA_DIR/jobs.json (before the server serves). */
static void jobs_restore(sm_srv *srv)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/jobs.json", srv->cfg.data_dir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        if (access(path, F_OK) == 0)
            sm__srv_log("warning", "%s is not readable JSON (%s): earlier jobs are forgotten",
                        path, jerr.text);
        return;
    }
    json_t *list = json_object_get(doc, "jobs");
    json_t *next = json_object_get(doc, "next_id");
    if (json_is_integer(next) && json_integer_value(next) > srv->next_job)
        srv->next_job = json_integer_value(next);
    struct sm_scan_job **tail = &srv->jobs_list;
    while (*tail)
        tail = &(*tail)->next;
    size_t i;
    json_t *rec;
    size_t kept = 0;
    json_array_foreach(list, i, rec)
    {
        json_t *id = json_object_get(rec, "id");
        int state = state_of(json_string_value(json_object_get(rec, "state")));
        if (kept >= MAX_JOBS || !json_is_integer(id) || json_integer_value(id) <= 0 || state < 0)
            continue;
        struct sm_scan_job *j = sm_calloc(1, sizeof(*j));
        json_t *copy = j ? json_deep_copy(rec) : NULL;
        if (!copy) {
            sm_free(j);
            break;
        }
        if (state == JOB_QUEUED || state == JOB_RUNNING) {
            /* This server stopped before the job ended (a crash): it never will. */
            state = JOB_FAILED;
            json_object_set_new(copy, "state", json_string("failed"));
            json_object_set_new(copy, "phase", json_null());
            json_object_del(copy, "current");
            json_object_set_new(copy, "error",
                                json_pack("{s:s,s:s}", "code", "interrupted", "message",
                                          "the server stopped before the job finished"));
        }
        j->srv = srv;
        j->id = json_integer_value(id);
        j->state = state;
        j->saved = copy;
        if (j->id > srv->next_job)
            srv->next_job = j->id;
        *tail = j;
        tail = &j->next;
        kept++;
    }
    json_decref(doc);
}

static void *job_run(void *arg)
{
    struct sm_scan_job *j = arg;
    sm_srv *srv = j->srv;
    pthread_mutex_lock(&srv->job_lock);
    j->state = JOB_RUNNING;
    j->started = (int64_t)time(NULL);
    pthread_mutex_unlock(&srv->job_lock);

    sm_error err = SM_ERROR_INIT;
    sm_scan_progress result;
    memset(&result, 0, sizeof(result));
    sm_status rc = SM_OK;
    /* A handle of its own: a scan holds it for long. */
    sm_catalog *cat = sm_catalog_open(srv->cfg.db, NULL, &err);
    if (!cat) {
        rc = err.code;
    } else {
        sm_scan_opts o;
        memset(&o, 0, sizeof(o));
        o.threads = srv->workers;
        o.prune = j->prune;
        o.force = j->force;
        o.stop = &j->stop;
        o.progress = on_progress;
        o.userdata = j;
        o.progress_interval = 0.2;
        rc = sm_scan_run(cat, (const char *const *)j->roots, j->n_roots, &o, &result, &err);
        sm_catalog_close(cat);
    }
    sm__srv_indexes_stale(srv);
    pthread_mutex_lock(&srv->misc_lock);
    srv->stats_t = 0;
    pthread_mutex_unlock(&srv->misc_lock);

    pthread_mutex_lock(&srv->job_lock);
    j->finished = (int64_t)time(NULL);
    if (rc != SM_OK) {
        j->state = JOB_FAILED;
        snprintf(j->error_code, sizeof(j->error_code), "%s", sm_status_name(rc));
        snprintf(j->error, sizeof(j->error), "%s", err.msg);
    } else {
        j->progress = result;
        j->progress.current = NULL;
        j->state = result.interrupted ? JOB_CANCELLED : JOB_DONE;
    }
    jobs_save(srv);
    pthread_mutex_unlock(&srv->job_lock);
    sm__srv_log("info", "scan job %lld %s: %zu found, %zu analyzed, %zu failed", (long long)j->id,
                state_names[j->state], result.found, result.analyzed, result.failed);
    return NULL;
}

/* The job as JSON; call with job_lock held. */
static json_t *job_json(const struct sm_scan_job *j)
{
    if (j->saved)
        return json_deep_copy(j->saved);
    const sm_scan_progress *p = &j->progress;
    static const char *const phases[] = {"walking", "analyzing", "finishing", "done"};
    json_t *roots = json_array();
    for (size_t i = 0; i < j->n_roots; i++)
        json_array_append_new(roots, json_string(j->roots[i]));
    json_t *counts = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "found", (json_int_t)p->found,
        "to_analyze", (json_int_t)p->to_analyze, "analyzed", (json_int_t)p->analyzed,
        "unchanged", (json_int_t)p->unchanged, "added", (json_int_t)p->added, "updated",
        (json_int_t)p->updated, "moved", (json_int_t)p->moved, "failed", (json_int_t)p->failed,
        "not_audio", (json_int_t)p->not_audio, "vanished", (json_int_t)p->vanished, "missing",
        (json_int_t)p->missing, "pruned", (json_int_t)p->pruned);
    double frac = p->to_analyze ? (double)p->analyzed / (double)p->to_analyze : 0;
    if (j->state == JOB_DONE)
        frac = 1;
    json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:b,s:b,s:o,s:f,s:f,s:I}", "id", (json_int_t)j->id,
                          "type", "scan", "state", state_names[j->state], "roots", roots,
                          "prune", j->prune, "force", j->force, "counts", counts, "progress",
                          frac, "elapsed", p->elapsed, "created_at", (json_int_t)j->created);
    json_object_set_new(o, "phase", j->state == JOB_RUNNING && p->phase >= 0 && p->phase < 4
                                        ? json_string(phases[p->phase])
                                        : json_null());
    json_object_set_new(o, "started_at", j->started ? json_integer(j->started) : json_null());
    json_object_set_new(o, "finished_at", j->finished ? json_integer(j->finished) : json_null());
    if (j->state == JOB_RUNNING && j->current[0]) {
        char *c = sm__sbuf_utf8_clean(j->current);
        json_object_set_new(o, "current", c ? json_string(c) : json_null());
        sm_free(c);
    }
    json_object_set_new(o, "error",
                        j->state == JOB_FAILED
                            ? json_pack("{s:s,s:s}", "code", j->error_code, "message", j->error)
                            : json_null());
    return o;
}

/* The configured root that holds real path \p p, or NULL. */
static const char *configured_root(sm_srv *srv, const char *p)
{
    for (size_t i = 0; i < srv->n_roots; i++) {
        size_t n = strlen(srv->roots[i]);
        if (!strncmp(p, srv->roots[i], n) && (p[n] == '/' || p[n] == '\0'))
            return srv->roots[i];
    }
    return NULL;
}

static int add_root(struct sm_scan_job *j, const char *r)
{
    char **v = sm_realloc(j->roots, (j->n_roots + 1) * sizeof(*v));
    if (!v)
        return -1;
    j->roots = v;
    j->roots[j->n_roots] = sm_strdup(r);
    if (!j->roots[j->n_roots])
        return -1;
    j->n_roots++;
    return 0;
}

/* Validate one requested root into \p j. \return 0, or -1 after replying. */
static int take_root(sm_req *req, struct sm_scan_job *j, json_t *v)
{
    sm_srv *srv = sm__req_srv(req);
    if (!json_is_string(v)) {
        sm__req_error(req, 400, "invalid_argument", "roots must be strings");
        return -1;
    }
    const char *want = json_string_value(v);
    if (want[0] != '/') {
        sm__req_error(req, 400, "invalid_argument", "root '%s' must be an absolute path", want);
        return -1;
    }
    char *real = realpath(want, NULL);
    const char *root = real ? configured_root(srv, real) : NULL;
    if (!root) {
        free(real);
        sm__req_error(req, 403, "forbidden",
                      "'%s' is not inside a configured library root (--roots)", want);
        return -1;
    }
    int rc = add_root(j, real);
    free(real);
    if (rc)
        sm__req_error(req, 500, "out_of_memory", "out of memory");
    return rc;
}

static int scan_start(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    size_t blen = 0;
    sm__req_body(req, &blen);
    json_t *body = blen ? sm__req_json(req) : json_object();
    if (!body)
        return SM_SRV_DONE;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "root") && strcmp(key, "roots") && strcmp(key, "prune") &&
            strcmp(key, "force")) {
            sm__req_error(req, 400, "invalid_argument",
                          "unknown field '%s' (root, roots, prune, force)", key);
            json_decref(body);
            return SM_SRV_DONE;
        }
        if ((!strcmp(key, "prune") || !strcmp(key, "force")) && !json_is_boolean(v)) {
            sm__req_error(req, 400, "invalid_argument", "'%s' must be true or false", key);
            json_decref(body);
            return SM_SRV_DONE;
        }
    }
    if (!srv->n_roots) {
        json_decref(body);
        return sm__req_error(req, 409, "no_roots",
                             "no library roots are configured (serve --roots DIR[:DIR...])");
    }
    struct sm_scan_job *j = sm_calloc(1, sizeof(*j));
    if (!j) {
        json_decref(body);
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    }
    j->srv = srv;
    j->prune = json_is_true(json_object_get(body, "prune"));
    j->force = json_is_true(json_object_get(body, "force"));
    json_t *root = json_object_get(body, "root");
    json_t *roots = json_object_get(body, "roots");
    int bad = 0;
    if (root && roots) {
        sm__req_error(req, 400, "invalid_argument", "give 'root' or 'roots', not both");
        bad = 1;
    } else if (root) {
        bad = take_root(req, j, root);
    } else if (roots) {
        if (!json_is_array(roots) || !json_array_size(roots) || json_array_size(roots) > 64) {
            sm__req_error(req, 400, "invalid_argument", "roots must be an array of 1..64 paths");
            bad = 1;
        }
        size_t i;
        json_array_foreach(roots, i, v)
        {
            if (!bad)
                bad = take_root(req, j, v);
        }
    } else {
        for (size_t i = 0; i < srv->n_roots && !bad; i++) {
            if (add_root(j, srv->roots[i])) {
                sm__req_error(req, 500, "out_of_memory", "out of memory");
                bad = 1;
            }
        }
    }
    json_decref(body);
    if (bad) {
        job_free(j);
        return SM_SRV_DONE;
    }
    pthread_mutex_lock(&srv->job_lock);
    for (struct sm_scan_job *o = srv->jobs_list; o; o = o->next) {
        if (o->state == JOB_QUEUED || o->state == JOB_RUNNING) {
            json_t *cur = job_json(o);
            pthread_mutex_unlock(&srv->job_lock);
            job_free(j);
            json_t *e = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "conflict", "message",
                                  "a scan is already running", "job", cur);
            return sm__req_reply_json(req, 409, e);
        }
    }
    /* Forget the oldest finished jobs beyond MAX_JOBS. */
    size_t count = 0;
    for (struct sm_scan_job **pp = &srv->jobs_list; *pp;) {
        if (++count >= MAX_JOBS) {
            struct sm_scan_job *old = *pp;
            *pp = old->next;
            if (old->joinable)
                pthread_join(old->thread, NULL);
            job_free(old);
        } else {
            pp = &(*pp)->next;
        }
    }
    j->id = ++srv->next_job;
    j->created = (int64_t)time(NULL);
    j->next = srv->jobs_list;
    srv->jobs_list = j;
    if (pthread_create(&j->thread, NULL, job_run, j)) {
        j->state = JOB_FAILED;
        snprintf(j->error_code, sizeof(j->error_code), "internal_error");
        snprintf(j->error, sizeof(j->error), "cannot start a thread");
    } else {
        j->joinable = true;
    }
    json_t *o = job_json(j);
    jobs_save(srv);
    pthread_mutex_unlock(&srv->job_lock);
    char loc[64];
    snprintf(loc, sizeof(loc), "/api/v1/jobs/%lld", (long long)j->id);
    sm__req_header_add(req, "Location", loc);
    return sm__req_reply_json(req, 202, json_pack("{s:o}", "job", o));
}

static int job_get(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    int64_t id;
    if (sm__parse_id(sm__req_param(req, "id"), &id))
        return sm__req_error(req, 400, "invalid_argument", "the job id must be a positive integer");
    pthread_mutex_lock(&srv->job_lock);
    json_t *o = NULL;
    for (struct sm_scan_job *j = srv->jobs_list; j; j = j->next)
        if (j->id == id)
            o = job_json(j);
    pthread_mutex_unlock(&srv->job_lock);
    if (!o)
        return sm__req_error(req, 404, "not_found", "no job %lld", (long long)id);
    return sm__req_reply_json(req, 200, json_pack("{s:o}", "job", o));
}

void sm__scanjobs_stop(sm_srv *srv)
{
    pthread_mutex_lock(&srv->job_lock);
    for (struct sm_scan_job *j = srv->jobs_list; j; j = j->next)
        j->stop = 1;
    pthread_mutex_unlock(&srv->job_lock);
    for (;;) {
        pthread_mutex_lock(&srv->job_lock);
        struct sm_scan_job *j = srv->jobs_list;
        if (j)
            srv->jobs_list = j->next;
        pthread_mutex_unlock(&srv->job_lock);
        if (!j)
            break;
        if (j->joinable)
            pthread_join(j->thread, NULL);
        job_free(j);
    }
}

int sm__routes_jobs(sm_srv *srv)
{
    if (srv->jobs) /* a server about to serve (not --routes): its earlier jobs */
        jobs_restore(srv);
    return sm__srv_route(srv, "POST", "/api/v1/library/scan", SM_ROUTE_ADMIN, scan_start, NULL,
                         "Start a scan of configured library roots (admin) -> job") ||
           sm__srv_route(srv, "GET", "/api/v1/jobs/{id}", 0, job_get, NULL,
                         "Progress, counts and errors of a job");
}
