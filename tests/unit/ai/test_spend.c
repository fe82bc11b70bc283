/* The day's spending file (src/ai/spend.c): additions from several processes at
 * once all count, a file of another day starts again at 0, a damaged or missing
 * file reads as 0, and an unusable place reports failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <samplemind/ai.h>
#include <sys/stat.h>
#include <time.h>

#include "ai/ai_int.h"
#include "testutil.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

enum { PROCS = 8, ADDS = 150 };

static void test_spend__concurrent_processes_lose_nothing(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("ai-spend.json"));
    unlink(path);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            /* A child: many small spends, as a server and `ai warm` make. */
            int bad = 0;
            for (int k = 0; k < ADDS; k++) {
                double total = 0.0;
                if (sm__ai_spend_add(path, "2030-01-02", 0.0, 0.25, &total) != 0)
                    bad = 1;
            }
            _exit(bad);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    /* Quarters add exactly: every addition counted once. */
    assert_near(sm__ai_spend_read(path, "2030-01-02"), PROCS * ADDS * 0.25, 1e-9);
    unlink(path);
}

static void test_spend__other_day_and_bad_files(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("ai-spend2.json"));
    double total = 0.0;
    assert_near(sm__ai_spend_read(path, "2030-01-02"), 0.0, 0.0);
    assert_int_equal(sm__ai_spend_add(path, "2030-01-02", 0.0, 1.5, &total), 0);
    assert_near(total, 1.5, 1e-12);
    assert_near(sm__ai_spend_read(path, "2030-01-02"), 1.5, 1e-12);
    /* Yesterday's file: today starts at 0. */
    assert_near(sm__ai_spend_read(path, "2030-01-03"), 0.0, 0.0);
    assert_int_equal(sm__ai_spend_add(path, "2030-01-03", 0.0, 0.5, &total), 0);
    assert_near(total, 0.5, 1e-12);
    /* The caller's own figure wins when larger (the file was removed). */
    unlink(path);
    assert_int_equal(sm__ai_spend_add(path, "2030-01-03", 2.0, 0.5, &total), 0);
    assert_near(total, 2.5, 1e-12);
    /* A damaged file reads as 0 and is replaced by a good one. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"day\":\"2030-01-03\",\"spent\":", f);
    fclose(f);
    assert_near(sm__ai_spend_read(path, "2030-01-03"), 0.0, 0.0);
    assert_int_equal(sm__ai_spend_add(path, "2030-01-03", 0.0, 0.25, &total), 0);
    assert_near(sm__ai_spend_read(path, "2030-01-03"), 0.25, 1e-12);
    unlink(path);
    /* A folder that does not exist: failure, and the total is still the sum. */
    assert_int_equal(sm__ai_spend_add("/nonexistent-dir/x/ai-spend.json", "2030-01-03", 1.0,
                                      0.25, &total),
                     -1);
    assert_near(total, 1.25, 1e-12);
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    unlink(lock);
}

/* A running process sees what another one spends (ai warm beside a server) within
 * a second, so the daily budget holds across processes. */
static void test_spend__another_process_counts_within_a_second(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", tu_path("spend-dir"));
    mkdir(dir, 0700);
    char path[4200];
    snprintf(path, sizeof(path), "%s/ai-spend.json", dir);
    unlink(path);
    sm_ai_opts o = {0};
    o.ignore_env = true;
    o.data_dir = dir;
    sm_ai *ai = sm_ai_new(&o, NULL);
    assert_non_null(ai);
    assert_near(sm_ai_spent_today(ai), 0.0, 0.0);
    char day[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    double total = 0.0;
    assert_int_equal(sm__ai_spend_add(path, day, 0.0, 3.0, &total), 0); /* the other one */
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    assert_near(sm_ai_spent_today(ai), 3.0, 1e-9);
    sm_ai_free(ai);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spend__concurrent_processes_lose_nothing),
        cmocka_unit_test(test_spend__other_day_and_bad_files),
        cmocka_unit_test(test_spend__another_process_counts_within_a_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
