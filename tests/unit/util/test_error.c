#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/error.h>
#include <samplemind/alloc.h>
#include "util/vec.h"
#include "testutil.h"

static void test_error__names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(sm_status_name(SM_OK), "ok");
    assert_string_equal(sm_status_name(SM_ENOENT), "not_found");
    assert_string_equal(sm_status_name(SM_EFORMAT), "unsupported_format");
    assert_int_equal(SM_ECORRUPT, 8);
    assert_int_equal(SM_EBADDB, 15);
    assert_int_equal(SM_EUNAVAILABLE, 17);
    assert_string_equal(sm_status_name(SM_ETIMEOUT), "timeout");
    assert_string_equal(sm_status_name(SM_EBUSY), "busy");
    assert_string_equal(sm_status_str(SM_ENOSPC), "no space left on the device");
    assert_string_equal(sm_status_name((sm_status)999), "unknown");
}

static void test_error__set_formats_message(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_error_set(&err, SM_EINVAL, "hop %d must be > 0", 0), SM_EINVAL);
    assert_int_equal(err.code, SM_EINVAL);
    assert_string_equal(err.msg, "hop 0 must be > 0");
    assert_int_equal(sm_error_set(NULL, SM_EIO, "x"), SM_EIO);
}

static int fail_after;
static void *failing_malloc(size_t n)
{
    return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *p, size_t n)
{
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void *failing_calloc(size_t c, size_t n)
{
    return fail_after-- > 0 ? calloc(c, n) : NULL;
}

static void test_vec__push_survives_oom(void **state)
{
    (void)state;
    struct sm__fvec v = SM__FVEC_INIT;
    fail_after = 1;
    sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
    int rc = 0;
    size_t pushed = 0;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        rc = sm__fvec_push(&v, (float)i);
        if (rc == 0)
            pushed++;
    }
    sm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(rc, -1);
    assert_int_equal(v.n, pushed);
    for (size_t i = 0; i < v.n; i++)
        assert_true(v.v[i] >= (float)i && v.v[i] <= (float)i);
    sm__fvec_release(&v);
    assert_null(v.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error__names_are_stable),
        cmocka_unit_test(test_error__set_formats_message),
        cmocka_unit_test(test_vec__push_survives_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
