/* The HTTP client: one curl multi handle on one thread, retries with full jitter. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/log.h>
#include <samplemind/net.h>

#include "util/hash.h"

struct xfer {
    struct xfer *next;
    struct xfer *a_prev; /* the list of transfers inside the multi handle */
    struct xfer *a_next;
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    char *method;
    char *body;
    size_t body_len;
    char *resp;
    size_t resp_len;
    size_t resp_cap;
    bool too_big;
    size_t max_body;
    int attempt;
    int max_attempts;
    long timeout_ms;
    double t_submit;
    double deadline;
    double due;
    sm_http_done_fn fn;
    void *userdata;
};

struct sm_http {
    sm_http_opts o;
    CURLM *multi;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    bool stop;
    struct xfer *queue;   /* submitted, not yet started (under lock) */
    struct xfer *waiting; /* backing off before a retry (net thread only) */
    struct xfer *active;  /* inside the multi handle (net thread only) */
    sm_http_stats stats;  /* under lock */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status = CURLE_FAILED_INIT;

static void curl_setup(void)
{
    curl_init_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

long sm_http_backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_ms,
                        long retry_after_max_ms, double u01)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 0)
        base_ms = 0;
    double ceiling = (double)base_ms;
    for (int i = 1; i < attempt && ceiling < (double)max_ms; i++)
        ceiling *= 2.0;
    if (ceiling > (double)max_ms)
        ceiling = (double)max_ms;
    if (u01 < 0.0 || !(u01 < 1.0))
        u01 = 0.0;
    long d = (long)(ceiling * u01);
    if (retry_after_ms > 0) {
        long ra = retry_after_ms < retry_after_max_ms ? retry_after_ms : retry_after_max_ms;
        if (ra > d)
            d = ra;
    }
    return d;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    if (x->resp_len + n > x->max_body) {
        x->too_big = true;
        return 0;
    }
    if (x->resp_len + n + 1 > x->resp_cap) {
        size_t cap = x->resp_cap ? x->resp_cap : 4096;
        while (cap < x->resp_len + n + 1)
            cap *= 2;
        char *p = sm_realloc(x->resp, cap);
        if (!p)
            return 0;
        x->resp = p;
        x->resp_cap = cap;
    }
    memcpy(x->resp + x->resp_len, ptr, n);
    x->resp_len += n;
    x->resp[x->resp_len] = '\0';
    return n;
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    sm_free(x->url);
    sm_free(x->method);
    sm_free(x->body);
    sm_free(x->resp);
    sm_free(x);
}

/* The URL without its query string (which may hold a key), for messages. */
static void url_for_log(const char *url, char *out, size_t size)
{
    size_t n = strcspn(url, "?");
    if (n >= size)
        n = size - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

static int easy_setup(sm_http *h, struct xfer *x)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "samplemind/0.1");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (x->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    }
    if (x->method && strcmp(x->method, "GET") && strcmp(x->method, "POST"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
    else if (x->method && !strcmp(x->method, "GET"))
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return 0;
}

static void complete(sm_http *h, struct xfer *x, sm_status code, long status, const char *why)
{
    sm_http_response r;
    memset(&r, 0, sizeof(r));
    r.code = code;
    r.status = status;
    r.body = x->resp;
    r.body_len = x->resp_len;
    x->resp = NULL;
    x->resp_len = 0;
    x->resp_cap = 0;
    r.attempts = x->attempt;
    r.elapsed_ms = now_ms() - x->t_submit;
    long v = 0;
    if (x->easy)
        curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &v);
    r.http_version = v == CURL_HTTP_VERSION_2_0 ? 2 : 1;
    if (why)
        snprintf(r.error, sizeof(r.error), "%s", why);
    pthread_mutex_lock(&h->lock);
    h->stats.in_flight--;
    if (code != SM_OK)
        h->stats.failures++;
    pthread_mutex_unlock(&h->lock);
    if (x->fn)
        x->fn(&r, x->userdata);
    sm_free(r.body);
    xfer_free(x);
}

static void start_attempt(sm_http *h, struct xfer *x)
{
    x->attempt++;
    x->resp_len = 0;
    x->too_big = false;
    if (x->resp)
        x->resp[0] = '\0';
    long t = x->timeout_ms;
    if (x->deadline > 0.0) {
        double left = x->deadline - now_ms();
        if (left < 1.0)
            left = 1.0;
        if ((double)t > left)
            t = (long)left;
    }
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, t);
    pthread_mutex_lock(&h->lock);
    h->stats.attempts++;
    if (x->attempt > 1)
        h->stats.retries++;
    pthread_mutex_unlock(&h->lock);
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK) {
        complete(h, x, SM_EIO, 0, curl_multi_strerror(mc));
        return;
    }
    x->a_prev = NULL;
    x->a_next = h->active;
    if (h->active)
        h->active->a_prev = x;
    h->active = x;
}

static void detach(sm_http *h, struct xfer *x)
{
    curl_multi_remove_handle(h->multi, x->easy);
    if (x->a_prev)
        x->a_prev->a_next = x->a_next;
    else
        h->active = x->a_next;
    if (x->a_next)
        x->a_next->a_prev = x->a_prev;
    x->a_prev = NULL;
    x->a_next = NULL;
}

static bool retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return true;
    default:
        return false;
    }
}

/* The status of a transfer that failed without a reply: a timeout, a server that
 * cannot be reached or dropped the connection, else an I/O error. */
static sm_status transport_status(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return SM_ETIMEOUT;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return SM_EUNAVAILABLE;
    default:
        return SM_EIO;
    }
}

static bool retryable_status(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* One attempt finished: complete the request or schedule the next attempt. */
static void finished(sm_http *h, struct xfer *x, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    detach(h, x);
    char why[SM_ERROR_MSG_SIZE];
    char where[160];
    url_for_log(x->url, where, sizeof(where));
    bool retry = false;
    if (rc == CURLE_OK) {
        retry = retryable_status(status);
        snprintf(why, sizeof(why), "%s: HTTP %ld", where, status);
    } else if (x->too_big) {
        snprintf(why, sizeof(why), "%s: reply larger than the limit", where);
    } else {
        retry = retryable_curl(rc);
        snprintf(why, sizeof(why), "%s: %s", where, curl_easy_strerror(rc));
    }
    if (retry && x->attempt < x->max_attempts) {
        curl_off_t ra = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra);
        double u = (double)randombytes_uniform(1000000) / 1e6;
        long d = sm_http_backoff_ms(x->attempt, h->o.backoff_base_ms, h->o.backoff_max_ms,
                                    (long)ra * 1000L, h->o.retry_after_max_ms, u);
        double due = now_ms() + (double)d;
        if (x->deadline <= 0.0 || due < x->deadline) {
            SM_LOG(SM_LOG_DEBUG, "http: %s; retry %d in %ld ms", why, x->attempt + 1, d);
            x->due = due;
            x->next = h->waiting;
            h->waiting = x;
            return;
        }
    }
    if (rc == CURLE_OK)
        complete(h, x, SM_OK, status, retryable_status(status) ? why : NULL);
    else
        complete(h, x, x->too_big ? SM_ETOOBIG : transport_status(rc), status, why);
}

static void *run(void *arg)
{
    sm_http *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->lock);
        bool stop = h->stop;
        struct xfer *fresh = h->queue;
        h->queue = NULL;
        pthread_mutex_unlock(&h->lock);
        if (stop) {
            /* Put the fresh ones back so free() cancels them. */
            pthread_mutex_lock(&h->lock);
            h->queue = fresh;
            pthread_mutex_unlock(&h->lock);
            break;
        }
        /* The queue is LIFO; start in submission order. */
        struct xfer *rev = NULL;
        while (fresh) {
            struct xfer *n = fresh->next;
            fresh->next = rev;
            rev = fresh;
            fresh = n;
        }
        while (rev) {
            struct xfer *n = rev->next;
            rev->next = NULL;
            start_attempt(h, rev);
            rev = n;
        }
        double t = now_ms();
        double next_due = t + 1000.0;
        struct xfer **pp = &h->waiting;
        while (*pp) {
            struct xfer *x = *pp;
            if (x->due <= t) {
                *pp = x->next;
                x->next = NULL;
                start_attempt(h, x);
            } else {
                if (x->due < next_due)
                    next_due = x->due;
                pp = &x->next;
            }
        }
        int running = 0;
        curl_multi_perform(h->multi, &running);
        int left = 0;
        CURLMsg *m;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct xfer *x = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            finished(h, x, m->data.result);
        }
        pthread_mutex_lock(&h->lock);
        bool more = h->queue || h->stop;
        pthread_mutex_unlock(&h->lock);
        if (more)
            continue;
        /* Retries scheduled by this round count too. */
        for (struct xfer *x = h->waiting; x; x = x->next)
            if (x->due < next_due)
                next_due = x->due;
        long wait = (long)(next_due - now_ms());
        if (wait < 0)
            wait = 0;
        if (wait > 1000)
            wait = 1000;
        curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

sm_http *sm_http_new(const sm_http_opts *opts, sm_error *err)
{
    pthread_once(&curl_once, curl_setup);
    if (curl_init_status != CURLE_OK) {
        sm_error_set(err, SM_EINTERNAL, "libcurl failed to initialise");
        return NULL;
    }
    if (sm__crypto_init() != 0) {
        sm_error_set(err, SM_EINTERNAL, "libsodium failed to initialise");
        return NULL;
    }
    sm_http *h = sm_calloc(1, sizeof(*h));
    if (!h) {
        sm_error_set(err, SM_ENOMEM, "out of memory making the HTTP client");
        return NULL;
    }
    if (opts)
        h->o = *opts;
    if (h->o.connect_timeout_ms <= 0)
        h->o.connect_timeout_ms = 5000;
    if (h->o.timeout_ms <= 0)
        h->o.timeout_ms = 60000;
    if (h->o.max_attempts <= 0)
        h->o.max_attempts = 4;
    if (h->o.backoff_base_ms <= 0)
        h->o.backoff_base_ms = 200;
    if (h->o.backoff_max_ms <= 0)
        h->o.backoff_max_ms = 8000;
    if (h->o.retry_after_max_ms <= 0)
        h->o.retry_after_max_ms = 60000;
    if (!h->o.max_body)
        h->o.max_body = 8u << 20;
    pthread_mutex_init(&h->lock, NULL);
    h->multi = curl_multi_init();
    if (!h->multi) {
        sm_error_set(err, SM_EINTERNAL, "curl_multi_init failed");
        goto fail;
    }
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (h->o.max_host_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->o.max_host_connections);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 4096L);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        sm_error_set(err, SM_EINTERNAL, "cannot start the HTTP client thread: %s",
                     strerror(errno));
        goto fail;
    }
    h->thread_started = true;
    return h;
fail:
    sm_http_free(h);
    return NULL;
}

void sm_http_free(sm_http *h)
{
    if (!h)
        return;
    if (h->thread_started) {
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_mutex_unlock(&h->lock);
        curl_multi_wakeup(h->multi);
        pthread_join(h->thread, NULL);
    }
    /* Cancel what is left: queued, backing off, and in the multi handle. */
    struct xfer *lists[2] = {h->queue, h->waiting};
    h->queue = NULL;
    h->waiting = NULL;
    for (int i = 0; i < 2; i++) {
        while (lists[i]) {
            struct xfer *x = lists[i];
            lists[i] = x->next;
            complete(h, x, SM_EIO, 0, "cancelled: the HTTP client was shut down");
        }
    }
    if (h->multi) {
        while (h->active) {
            struct xfer *x = h->active;
            detach(h, x);
            complete(h, x, SM_EIO, 0, "cancelled: the HTTP client was shut down");
        }
        curl_multi_cleanup(h->multi);
    }
    pthread_mutex_destroy(&h->lock);
    sm_free(h);
}

static char *dup_n(const char *s, size_t n)
{
    char *p = sm_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

sm_status sm_http_submit(sm_http *h, const sm_http_request *rq, sm_http_done_fn fn,
                         void *userdata, sm_error *err)
{
    if (!h || !rq || !rq->url || !rq->url[0])
        return sm_error_set(err, SM_EINVAL, "http: a request needs a URL");
    if (strncmp(rq->url, "http://", 7) && strncmp(rq->url, "https://", 8))
        return sm_error_set(err, SM_EINVAL, "http: only http:// and https:// URLs are allowed");
    struct xfer *x = sm_calloc(1, sizeof(*x));
    if (!x)
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    x->url = sm_strdup(rq->url);
    x->method = rq->method ? sm_strdup(rq->method) : NULL;
    if (rq->body) {
        x->body = dup_n(rq->body, rq->body_len);
        x->body_len = rq->body_len;
    }
    x->easy = curl_easy_init();
    bool bad = !x->url || (rq->method && !x->method) || (rq->body && !x->body) || !x->easy;
    for (size_t i = 0; !bad && rq->headers && rq->headers[i]; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, rq->headers[i]);
        if (!l)
            bad = true;
        else
            x->headers = l;
    }
    if (!bad && x->body) {
        /* No "Expect: 100-continue" round trip. */
        struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
        if (!l)
            bad = true;
        else
            x->headers = l;
    }
    if (bad) {
        xfer_free(x);
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    }
    x->max_attempts = rq->max_attempts > 0 ? rq->max_attempts : h->o.max_attempts;
    x->timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : h->o.timeout_ms;
    x->t_submit = now_ms();
    x->deadline = rq->deadline_ms > 0 ? x->t_submit + (double)rq->deadline_ms : 0.0;
    x->fn = fn;
    x->userdata = userdata;
    x->max_body = h->o.max_body;
    easy_setup(h, x);
    curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_body);
    pthread_mutex_lock(&h->lock);
    x->next = h->queue;
    h->queue = x;
    h->stats.requests++;
    h->stats.in_flight++;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
    return SM_OK;
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    sm_http_response *out;
};

static void wake(sm_http_response *resp, void *userdata)
{
    struct waiter *w = userdata;
    pthread_mutex_lock(&w->lock);
    *w->out = *resp;
    resp->body = NULL;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

sm_status sm_http_perform(sm_http *h, const sm_http_request *rq, sm_http_response *out,
                          sm_error *err)
{
    memset(out, 0, sizeof(*out));
    struct waiter w;
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    w.done = false;
    w.out = out;
    sm_status st = sm_http_submit(h, rq, wake, &w, err);
    if (st == SM_OK) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        if (out->code != SM_OK)
            st = sm_error_set(err, out->code, "%s", out->error);
    } else {
        out->code = st;
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return st;
}

void sm_http_response_release(sm_http_response *resp)
{
    if (!resp)
        return;
    sm_free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

void sm_http_stats_get(sm_http *h, sm_http_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    *out = h->stats;
    pthread_mutex_unlock(&h->lock);
}
