#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "util/dbwatch.h"
#include "testutil.h"

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Quiet until the careful second after the last change has passed. */
static void settle(struct sm_dbwatch *w)
{
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    (void)sm__dbwatch_due(w); /* the periodic check, due by now */
    assert_false(sm__dbwatch_due(w));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* In the careful second after a change the exact check is due again after 10 ms,
 * but not on every call: a burst of calls gets about one a 10 ms. */
static void careful(struct sm_dbwatch *w)
{
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    assert_true(sm__dbwatch_due(w));
    double t0 = now_ms();
    int due = 0;
    for (int i = 0; i < 20000; i++)
        due += sm__dbwatch_due(w);
    double spent = now_ms() - t0;
    assert_true(due <= (int)(spent / 10.0) + 2);
}

static void test_dbwatch__a_commit_elsewhere_makes_the_check_due(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s", tu_path("watch.db"));
    unlink(path);
    sqlite3 *mine = open_db(path);
    exec(mine, "CREATE TABLE t(x)");
    struct sm_dbwatch w;
    sm__dbwatch_init(&w, path);
    assert_true(sm__dbwatch_due(&w)); /* first sight: check */
    settle(&w);

    sqlite3 *other = open_db(path);
    exec(other, "INSERT INTO t VALUES(1)");
    assert_true(sm__dbwatch_due(&w));
    careful(&w); /* and for the careful second after, every 10 ms */
    settle(&w);

    /* Reads change nothing. */
    exec(other, "SELECT count(*) FROM t");
    assert_false(sm__dbwatch_due(&w));

    /* A checkpoint that restarts the WAL, then a commit: still seen. */
    exec(other, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_true(sm__dbwatch_due(&w)); /* the careful second starts when a change is seen */
    settle(&w);
    exec(other, "INSERT INTO t VALUES(2)");
    assert_true(sm__dbwatch_due(&w));

    sqlite3_close(other);
    sqlite3_close(mine);
    sm__dbwatch_close(&w);
}

static void test_dbwatch__unwatchable_paths_are_always_due(void **state)
{
    (void)state;
    struct sm_dbwatch w;
    sm__dbwatch_init(&w, ":memory:");
    assert_true(sm__dbwatch_due(&w));
    assert_true(sm__dbwatch_due(&w));
    sm__dbwatch_init(&w, NULL);
    assert_true(sm__dbwatch_due(&w));
    sm__dbwatch_init(&w, tu_path("no-such-dir/x.db"));
    assert_true(sm__dbwatch_due(&w)); /* no -shm file: nothing to compare */
    assert_true(sm__dbwatch_due(&w));
    sm__dbwatch_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dbwatch__a_commit_elsewhere_makes_the_check_due),
        cmocka_unit_test(test_dbwatch__unwatchable_paths_are_always_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
