#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include <samplemind/net.h>
#include "testutil.h"
#include "mockproc.h"

static struct mockproc mock;
static sm_http *ctl; /* for control calls */

static int setup(void **state)
{
    (void)state;
    if (mp_start_mock(&mock) != 0)
        return -1;
    ctl = sm_http_new(NULL, NULL);
    return ctl ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sm_http_free(ctl);
    mp_stop(&mock);
    return 0;
}

static void faults(const char *json)
{
    assert_int_equal(mp_control(ctl, &mock, "/_mock/reset", "{}"), 0);
    assert_int_equal(mp_control(ctl, &mock, "/_mock/faults", json), 0);
}

static sm_http *client(long base_ms, int attempts)
{
    sm_http_opts o = {0};
    o.backoff_base_ms = base_ms;
    o.backoff_max_ms = 1000;
    o.max_attempts = attempts;
    o.timeout_ms = 5000;
    sm_http *h = sm_http_new(&o, NULL);
    assert_non_null(h);
    return h;
}

static sm_status post(sm_http *h, const char *path, sm_http_response *rs, long timeout_ms)
{
    char url[160];
    snprintf(url, sizeof(url), "%s%s", mock.url, path);
    const char *hdrs[] = {"Content-Type: application/json", "Authorization: Bearer sk-secret",
                          NULL};
    const char *body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Task: tags.\"}]}";
    sm_http_request rq = {0};
    rq.url = url;
    rq.headers = hdrs;
    rq.body = body;
    rq.body_len = strlen(body);
    rq.timeout_ms = timeout_ms;
    return sm_http_perform(h, &rq, rs, NULL);
}

static void test_http__backoff_full_jitter_bounds(void **state)
{
    (void)state;
    /* Ceiling doubles per attempt up to the max; the draw scales it. */
    assert_int_equal(sm_http_backoff_ms(1, 100, 1000, 0, 60000, 0.999), 99);
    assert_int_equal(sm_http_backoff_ms(2, 100, 1000, 0, 60000, 0.5), 100);
    assert_int_equal(sm_http_backoff_ms(3, 100, 1000, 0, 60000, 0.5), 200);
    assert_int_equal(sm_http_backoff_ms(10, 100, 1000, 0, 60000, 0.5), 500);
    assert_int_equal(sm_http_backoff_ms(1, 100, 1000, 0, 60000, 0.0), 0);
    /* Retry-After is a floor, capped. */
    assert_int_equal(sm_http_backoff_ms(1, 100, 1000, 2000, 60000, 0.5), 2000);
    assert_int_equal(sm_http_backoff_ms(1, 100, 1000, 90000, 60000, 0.5), 60000);
    /* Bad draws fall back to 0, never to a huge delay. */
    assert_int_equal(sm_http_backoff_ms(1, 100, 1000, 0, 60000, 7.0), 0);
}

static void test_http__get_decodes_gzip_and_reports_version(void **state)
{
    (void)state;
    faults("{\"faults\":[]}");
    sm_http *h = client(50, 3);
    char url[160];
    snprintf(url, sizeof(url), "%s/api/tags", mock.url);
    sm_http_request rq = {0};
    rq.url = url;
    sm_http_response rs;
    assert_int_equal(sm_http_perform(h, &rq, &rs, NULL), SM_OK);
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.attempts, 1);
    assert_non_null(strstr(rs.body, "llama3.2:3b"));
    assert_int_equal(rs.http_version, 1);
    sm_http_response_release(&rs);
    /* The mock saw an Accept-Encoding that includes gzip. */
    char *st = mp_stats(ctl, &mock);
    assert_non_null(strstr(st, "\"accept-encoding\": \""));
    assert_non_null(strstr(st, "gzip"));
    sm_free(st);
    sm_http_free(h);
}

static void test_http__retry_after_is_honoured(void **state)
{
    (void)state;
    faults("{\"faults\":[\"429:1\"]}");
    sm_http *h = client(10, 3);
    sm_http_response rs;
    double t = mp_now_ms();
    assert_int_equal(post(h, "/v1/chat/completions", &rs, 0), SM_OK);
    double dt = mp_now_ms() - t;
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.attempts, 2);
    assert_true(dt >= 1000.0);
    assert_true(dt < 3000.0);
    sm_http_response_release(&rs);
    sm_http_free(h);
}

static void test_http__5xx_retried_with_bounded_backoff(void **state)
{
    (void)state;
    faults("{\"faults\":[\"500\",\"503\"]}");
    sm_http *h = client(100, 4);
    sm_http_response rs;
    double t = mp_now_ms();
    assert_int_equal(post(h, "/v1/chat/completions", &rs, 0), SM_OK);
    double dt = mp_now_ms() - t;
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.attempts, 3);
    /* Backoffs are at most 100 + 200 ms; allow for the mock's own time. */
    print_message("5xx retries took %.0f ms\n", dt);
    assert_true(dt < 300.0 + 700.0);
    sm_http_response_release(&rs);
    sm_http_free(h);
}

static void test_http__attempts_are_capped(void **state)
{
    (void)state;
    faults("{\"faults\":[\"500\",\"500\",\"500\",\"500\",\"500\"]}");
    sm_http *h = client(5, 3);
    sm_http_response rs;
    assert_int_equal(post(h, "/v1/chat/completions", &rs, 0), SM_OK);
    assert_int_equal(rs.status, 500);
    assert_int_equal(rs.attempts, 3);
    assert_non_null(strstr(rs.error, "HTTP 500"));
    sm_http_response_release(&rs);
    char *st = mp_stats(ctl, &mock);
    assert_non_null(strstr(st, "\"/v1/chat/completions\": 3"));
    sm_free(st);
    sm_http_stats s;
    sm_http_stats_get(h, &s);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.in_flight, 0);
    sm_http_free(h);
}

static void test_http__reset_and_truncated_are_retried(void **state)
{
    (void)state;
    faults("{\"faults\":[\"reset\",\"truncated\"]}");
    sm_http *h = client(5, 4);
    sm_http_response rs;
    assert_int_equal(post(h, "/v1/chat/completions", &rs, 0), SM_OK);
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.attempts, 3);
    assert_non_null(strstr(rs.body, "chat.completion"));
    sm_http_response_release(&rs);
    sm_http_free(h);
}

static void test_http__malformed_body_is_returned_not_retried(void **state)
{
    (void)state;
    faults("{\"faults\":[\"malformed\"]}");
    sm_http *h = client(5, 4);
    sm_http_response rs;
    assert_int_equal(post(h, "/v1/chat/completions", &rs, 0), SM_OK);
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.attempts, 1);
    assert_non_null(strstr(rs.body, "not json"));
    sm_http_response_release(&rs);
    sm_http_free(h);
}

static void test_http__hang_times_out(void **state)
{
    (void)state;
    faults("{\"faults\":[\"hang\"]}");
    sm_http *h = client(5, 1);
    sm_http_response rs;
    sm_error err = SM_ERROR_INIT;
    char url[160];
    snprintf(url, sizeof(url), "%s/api/chat", mock.url);
    sm_http_request rq = {0};
    rq.url = url;
    rq.body = "{}";
    rq.body_len = 2;
    rq.timeout_ms = 300;
    double t = mp_now_ms();
    assert_int_equal(sm_http_perform(h, &rq, &rs, &err), SM_ETIMEOUT);
    double dt = mp_now_ms() - t;
    assert_true(dt >= 290.0);
    assert_true(dt < 2000.0);
    assert_non_null(strstr(err.msg, "imeout"));
    sm_http_response_release(&rs);
    sm_http_free(h);
}

static void test_http__refused_is_not_retried_and_hides_headers(void **state)
{
    (void)state;
    sm_http *h = client(200, 4);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat?key=sk-secret", mp_free_port());
    const char *hdrs[] = {"Authorization: Bearer sk-secret", NULL};
    sm_http_request rq = {0};
    rq.url = url;
    rq.headers = hdrs;
    sm_http_response rs;
    sm_error err = SM_ERROR_INIT;
    double t = mp_now_ms();
    assert_int_equal(sm_http_perform(h, &rq, &rs, &err), SM_EUNAVAILABLE);
    assert_true(mp_now_ms() - t < 150.0);
    assert_int_equal(rs.attempts, 1);
    assert_null(strstr(err.msg, "sk-secret"));
    assert_null(strstr(rs.error, "sk-secret"));
    sm_http_response_release(&rs);
    sm_http_free(h);
}

struct counter {
    int done;
    int ok;
};

static void count(sm_http_response *r, void *ud)
{
    struct counter *c = ud;
    if (r->code == SM_OK && r->status == 200)
        __atomic_add_fetch(&c->ok, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&c->done, 1, __ATOMIC_SEQ_CST);
}

static void test_http__many_in_flight_on_one_thread(void **state)
{
    (void)state;
    faults("{\"faults\":[], \"latency_ms\": 400}");
    sm_http *h = client(5, 1);
    struct counter c = {0, 0};
    enum { N = 100 };
    char url[160];
    snprintf(url, sizeof(url), "%s/api/chat", mock.url);
    double t = mp_now_ms();
    for (int i = 0; i < N; i++) {
        sm_http_request rq = {0};
        rq.url = url;
        rq.body = "{\"messages\":[]}";
        rq.body_len = strlen(rq.body);
        assert_int_equal(sm_http_submit(h, &rq, count, &c, NULL), SM_OK);
    }
    while (__atomic_load_n(&c.done, __ATOMIC_SEQ_CST) < N && mp_now_ms() - t < 20000.0)
        mp_sleep_ms(5);
    double dt = mp_now_ms() - t;
    assert_int_equal(c.ok, N);
    /* Sequential would take 40 s; concurrent takes a little over one latency. */
    assert_true(dt < 4000.0);
    sm_http_free(h);
    faults("{\"faults\":[], \"latency_ms\": 0}");
}

static void test_http__rejects_bad_requests(void **state)
{
    (void)state;
    sm_http *h = client(5, 1);
    sm_http_request rq = {0};
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_http_submit(h, &rq, count, NULL, &err), SM_EINVAL);
    rq.url = "ftp://example.com/";
    assert_int_equal(sm_http_submit(h, &rq, count, NULL, &err), SM_EINVAL);
    assert_int_equal(sm_http_submit(NULL, &rq, count, NULL, &err), SM_EINVAL);
    sm_http_free(h);
    sm_http_free(NULL);
}

static void test_http__free_cancels_pending(void **state)
{
    (void)state;
    faults("{\"faults\":[\"hang\"]}");
    sm_http *h = client(5, 1);
    struct counter c = {0, 0};
    char url[160];
    snprintf(url, sizeof(url), "%s/api/chat", mock.url);
    sm_http_request rq = {0};
    rq.url = url;
    rq.body = "{}";
    rq.body_len = 2;
    assert_int_equal(sm_http_submit(h, &rq, count, &c, NULL), SM_OK);
    mp_sleep_ms(100);
    sm_http_free(h);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.ok, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http__backoff_full_jitter_bounds),
        cmocka_unit_test(test_http__get_decodes_gzip_and_reports_version),
        cmocka_unit_test(test_http__retry_after_is_honoured),
        cmocka_unit_test(test_http__5xx_retried_with_bounded_backoff),
        cmocka_unit_test(test_http__attempts_are_capped),
        cmocka_unit_test(test_http__reset_and_truncated_are_retried),
        cmocka_unit_test(test_http__malformed_body_is_returned_not_retried),
        cmocka_unit_test(test_http__hang_times_out),
        cmocka_unit_test(test_http__refused_is_not_retried_and_hides_headers),
        cmocka_unit_test(test_http__many_in_flight_on_one_thread),
        cmocka_unit_test(test_http__rejects_bad_requests),
        cmocka_unit_test(test_http__free_cancels_pending),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
