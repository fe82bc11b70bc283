/* The routing table: literal and parameter segments, 404 vs 405 with Allow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "server/router.c"

static int h1(sm_req *req, void *ud)
{
    (void)req;
    (void)ud;
    return 1;
}

static int h2(sm_req *req, void *ud)
{
    (void)req;
    (void)ud;
    return 2;
}

static void fill(struct sm_router *r)
{
    sm__router_init(r);
    assert_int_equal(sm__router_add(r, "GET", "/api/v1/health", 0, h1, NULL, "h", NULL), 0);
    assert_int_equal(sm__router_add(r, "GET", "/api/v1/audio/files/{id}", 0, h2, NULL, "", NULL),
                     0);
    assert_int_equal(
        sm__router_add(r, "DELETE", "/api/v1/audio/files/{id}", 0, h1, NULL, "", NULL), 0);
    assert_int_equal(
        sm__router_add(r, "GET", "/api/v1/audio/files/{id}/similar", 0, h1, NULL, "", NULL), 0);
    assert_int_equal(sm__router_add(r, "POST", "/api/v1/auth/login", 0, h1, NULL, "", NULL), 0);
}

static void test_router__matches_literals_and_params(void **state)
{
    (void)state;
    struct sm_router r;
    fill(&r);
    struct sm_route_match m;
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/health", &m), SM_ROUTER_FOUND);
    assert_int_equal(m.route, 0);
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/audio/files/42", &m), SM_ROUTER_FOUND);
    assert_int_equal(m.route, 1);
    assert_string_equal(sm__router_param(&m, "id"), "42");
    assert_null(sm__router_param(&m, "nope"));
    assert_int_equal(sm__router_match(&r, "DELETE", "/api/v1/audio/files/7", &m),
                     SM_ROUTER_FOUND);
    assert_int_equal(m.route, 2);
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/audio/files/7/similar", &m),
                     SM_ROUTER_FOUND);
    assert_string_equal(sm__router_param(&m, "id"), "7");
    /* HEAD is served by GET routes. */
    assert_int_equal(sm__router_match(&r, "HEAD", "/api/v1/health", &m), SM_ROUTER_FOUND);
    sm__router_release(&r);
}

static void test_router__404_and_405_with_allow(void **state)
{
    (void)state;
    struct sm_router r;
    fill(&r);
    struct sm_route_match m;
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/nothing", &m), SM_ROUTER_NOT_FOUND);
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/health/", &m), SM_ROUTER_NOT_FOUND);
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1//health", &m), SM_ROUTER_NOT_FOUND);
    assert_int_equal(sm__router_match(&r, "GET", "", &m), SM_ROUTER_NOT_FOUND);
    assert_int_equal(sm__router_match(&r, "GET", "api/v1/health", &m), SM_ROUTER_NOT_FOUND);
    assert_int_equal(sm__router_match(&r, "POST", "/api/v1/health", &m), SM_ROUTER_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(sm__router_match(&r, "PUT", "/api/v1/audio/files/1", &m),
                     SM_ROUTER_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, DELETE");
    assert_int_equal(sm__router_match(&r, "GET", "/api/v1/auth/login", &m), SM_ROUTER_BAD_METHOD);
    assert_string_equal(m.allow, "POST");
    /* A path too long for the match buffer is simply not found. */
    char big[2048];
    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sm__router_match(&r, "GET", big, &m), SM_ROUTER_NOT_FOUND);
    sm__router_release(&r);
}

static void test_router__rejects_bad_routes(void **state)
{
    (void)state;
    struct sm_router r;
    fill(&r);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm__router_add(&r, "GET", "/api/v1/health", 0, h2, NULL, "", &err), -1);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_int_equal(sm__router_add(&r, "GET", "/api/v1/audio/files/{x}", 0, h2, NULL, "", &err),
                     -1);
    assert_int_equal(sm__router_add(&r, "GET", "no-slash", 0, h1, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "GET", "/a//b", 0, h1, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "GET", "/a/{}", 0, h1, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "GET", "/a/{b", 0, h1, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "get", "/a", 0, h1, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "GET", "/a", 0, NULL, NULL, "", &err), -1);
    assert_int_equal(sm__router_add(&r, "GET", "/a/{p1}/{p2}/{p3}/{p4}/{p5}", 0, h1, NULL, "",
                                    &err),
                     -1);
    assert_int_equal((int)r.n, 5);
    sm__router_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router__matches_literals_and_params),
        cmocka_unit_test(test_router__404_and_405_with_allow),
        cmocka_unit_test(test_router__rejects_bad_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
