/** \file
 * The HTTP client every AI provider speaks through: one curl multi handle driven by
 * one background thread, so many requests are in flight at once without a thread
 * each. Connections are reused per host (HTTP/2 multiplexing where the server
 * offers it), replies may be gzip/br/zstd encoded, and failed attempts are retried.
 *
 *     sm_error err = SM_ERROR_INIT;
 *     sm_http *h = sm_http_new(NULL, &err);
 *     sm_http_request rq = {.url = "http://127.0.0.1:11434/api/tags"};
 *     sm_http_response rs;
 *     if (sm_http_perform(h, &rq, &rs, &err) == SM_OK && rs.status == 200)
 *         use(rs.body);
 *     sm_http_response_release(&rs);
 *     sm_http_free(h);
 *
 * Retries: a reply of 408, 429 or 5xx, a timeout, a reset or truncated transfer is
 * retried up to max_attempts in all, after a delay drawn uniformly from
 * [0, min(backoff_max, backoff_base * 2^(attempt-1))] ("full jitter"); a Retry-After
 * header raises the delay to at least the time it names (capped by
 * retry_after_max_ms). A refused connection is not retried: the caller falls back.
 *
 * Invariants: request headers (which carry API keys) never appear in an error
 * message or a log line; a URL is logged without its query string. Completion
 * callbacks run on the client's thread, one at a time; they may submit new
 * requests but must not block. Every submitted request gets exactly one callback,
 * also when the client is freed first (with SM_EIO "cancelled").
 */
#ifndef SAMPLEMIND_NET_H
#define SAMPLEMIND_NET_H

#include <stddef.h>

#include <samplemind/common.h>
#include <samplemind/error.h>

typedef struct sm_http sm_http;

/** Client settings; zero fields take the defaults in brackets. */
typedef struct sm_http_opts {
    long connect_timeout_ms;    /**< [5000] TCP + TLS set-up, per attempt */
    long timeout_ms;            /**< [60000] whole transfer, per attempt */
    int max_attempts;           /**< [4] attempts in all, including the first */
    long backoff_base_ms;       /**< [200] first backoff ceiling */
    long backoff_max_ms;        /**< [8000] backoff ceiling */
    long retry_after_max_ms;    /**< [60000] longest Retry-After honoured */
    size_t max_body;            /**< [8 MiB] longest reply accepted */
    long max_host_connections;  /**< [0 = no limit] open connections per host */
} sm_http_opts;

/** One request. Everything is copied at submission; the caller may free it after. */
typedef struct sm_http_request {
    const char *method;          /**< NULL: GET, or POST when body is set */
    const char *url;
    const char *const *headers;  /**< "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;            /**< may be NULL */
    size_t body_len;
    long timeout_ms;             /**< per attempt; 0 = the client's */
    long deadline_ms;            /**< whole call including retries; 0 = none */
    int max_attempts;            /**< 0 = the client's */
} sm_http_request;

/** The outcome of a request. */
typedef struct sm_http_response {
    sm_status code;      /**< SM_OK when an HTTP reply arrived (any status); else
                              SM_ETIMEOUT (no reply in time), SM_EUNAVAILABLE (refused,
                              unresolvable, reset or closed without a reply), SM_ETOOBIG
                              (reply over max_body) or SM_EIO (cancelled, other) */
    long status;         /**< HTTP status of the last attempt, 0 if none */
    char *body;          /**< new, NUL-terminated (sm_free via release); may be NULL */
    size_t body_len;
    int attempts;        /**< attempts made */
    long http_version;   /**< 1 or 2 (the protocol of the last attempt) */
    double elapsed_ms;   /**< from submission to completion */
    char error[SM_ERROR_MSG_SIZE]; /**< why it failed when code != SM_OK */
} sm_http_response;

/** Called once per request on the client's thread; \p resp is borrowed for the call
 * (the callee may steal resp->body by setting it to NULL). */
typedef void (*sm_http_done_fn)(sm_http_response *resp, void *userdata);

/** Counters since the client was made. */
typedef struct sm_http_stats {
    unsigned long long requests;  /**< submitted */
    unsigned long long attempts;  /**< transfers started, including retries */
    unsigned long long retries;
    unsigned long long failures;  /**< requests that ended with code != SM_OK */
    unsigned long long in_flight; /**< submitted and not yet completed */
} sm_http_stats;

/**
 * Make a client and start its thread. \p opts may be NULL.
 * \return new client (sm_http_free), or NULL with \p err filled.
 */
SM_API sm_http *sm_http_new(const sm_http_opts *opts, sm_error *err);

/** Stop the thread; pending requests complete with SM_EIO "cancelled". NULL is fine. */
SM_API void sm_http_free(sm_http *h);

/**
 * Start \p rq; \p fn is called with the outcome. Thread-safe.
 * \return SM_OK, or SM_EINVAL / SM_ENOMEM (then \p fn is never called).
 */
SM_API sm_status sm_http_submit(sm_http *h, const sm_http_request *rq, sm_http_done_fn fn,
                                void *userdata, sm_error *err);

/**
 * Run \p rq and wait for it. \p out is always initialised (release it).
 * \return SM_OK when a reply arrived (check out->status), else the failure with \p err.
 * Must not be called from a completion callback.
 */
SM_API sm_status sm_http_perform(sm_http *h, const sm_http_request *rq, sm_http_response *out,
                                 sm_error *err);

/** Free the body; \p resp is empty afterwards. NULL is fine. */
SM_API void sm_http_response_release(sm_http_response *resp);

/** Fill \p out with the client's counters. Thread-safe. */
SM_API void sm_http_stats_get(sm_http *h, sm_http_stats *out);

/**
 * The backoff before attempt \p attempt + 1 after attempt \p attempt failed:
 * full jitter over [0, min(max_ms, base_ms * 2^(attempt-1))], at least
 * \p retry_after_ms (when > 0, capped by \p retry_after_max_ms). \p u01 in [0, 1)
 * is the random draw. Exposed for tests of the timing bounds.
 */
SM_API long sm_http_backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_ms,
                               long retry_after_max_ms, double u01);

#endif
