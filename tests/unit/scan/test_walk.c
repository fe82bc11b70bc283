/* The folder walker and the audio checks of the scan: extensions, magic bytes,
 * hidden entries, symlink loops, folders reached twice, non-UTF-8 names,
 * dangling links, unreadable folders and bad roots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <samplemind/alloc.h>

#include "scan/scan_int.h"
#include "testutil.h"

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n > 0)
        assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static char *in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void touch(const char *dir, const char *name)
{
    char *p = in(dir, name);
    static const unsigned char wav[12] = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E'};
    write_bytes(p, wav, sizeof(wav));
    free(p);
}

static void mkdir_in(const char *dir, const char *name)
{
    char *p = in(dir, name);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

static void link_in(const char *dir, const char *name, const char *target)
{
    char *p = in(dir, name);
    assert_int_equal(symlink(target, p), 0);
    free(p);
}

/* The index of the walked file whose path ends in suffix, or -1. */
static int found(const struct sm__walk_result *r, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < r->n; i++) {
        size_t pl = strlen(r->files[i].path);
        if (pl >= sl && !memcmp(r->files[i].path + pl - sl, suffix, sl))
            return (int)i;
    }
    return -1;
}

static void test_walk__audio_extensions(void **state)
{
    (void)state;
    static const char *const yes[] = {"a.wav", "B.WAV", "c.Wave", "d.aif", "e.AIFF", "f.aifc",
                                      "g.flac", "h.ogg", "i.oga", "j.opus", "k.mp3", "x.y.wav"};
    static const char *const no[] = {"a.txt", "wav", "a.wavx", "a.", "a.mp4", "a.wav.bak",
                                     ".wav", "a.flacc", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!sm__scan_audio_ext(yes[i]))
            fail_msg("'%s' should count as audio", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (sm__scan_audio_ext(no[i]))
            fail_msg("'%s' should not count as audio", no[i]);
}

static void test_walk__audio_magic_bytes(void **state)
{
    (void)state;
    struct {
        const char *bytes;
        size_t n;
        int want;
    } cases[] = {
        {"RIFF\x24\0\0\0WAVEfmt ", 16, 1},
        {"RF64\xff\xff\xff\xffWAVE", 12, 1},
        {"FORM\0\0\0\x20" "AIFF", 12, 1},
        {"FORM\0\0\0\x20" "AIFC", 12, 1},
        {"fLaC\0\0\0\x22", 8, 1},
        {"OggS\0\x02", 6, 1},
        {"ID3\x04\0\0", 6, 1},
        {"\xff\xfb\x90\x64", 4, 1},           /* MPEG-1 layer III frame */
        {"RIFF\x24\0\0\0AVI ", 12, 0},        /* RIFF, but not WAVE */
        {"FORM\0\0\0\x20" "ILBM", 12, 0},
        {"hello, world", 12, 0},              /* text named .wav */
        {"\xff\xf0\x00", 3, 0},               /* sync bits but no layer */
        {"RIF", 3, 0},                        /* too short */
        {"", 0, 0},                           /* empty file */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "magic_%zu.wav", i);
        const char *p = tu_path(name);
        write_bytes(p, cases[i].bytes, cases[i].n);
        int got = sm__scan_audio_magic(p);
        if (got != cases[i].want)
            fail_msg("case %zu: magic %d, want %d", i, got, cases[i].want);
        unlink(p);
    }
    errno = 0;
    assert_int_equal(sm__scan_audio_magic(tu_path("does_not_exist.wav")), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_walk__tree_hidden_loops_links_and_names(void **state)
{
    (void)state;
    char root[4096];
    snprintf(root, sizeof(root), "%s", tu_path("walk_tree"));
    assert_int_equal(mkdir(root, 0755), 0);
    touch(root, "a.wav");
    touch(root, "notes.txt");              /* not audio by extension */
    touch(root, ".hidden.wav");            /* hidden file */
    mkdir_in(root, ".cache");
    char *cache = in(root, ".cache");
    touch(cache, "x.wav");                 /* inside a hidden folder */
    mkdir_in(root, "sub");
    char *sub = in(root, "sub");
    touch(sub, "c.flac");
    mkdir_in(sub, "deeper");
    char *deeper = in(sub, "deeper");
    touch(deeper, "d.mp3");
    link_in(deeper, "up", "../..");        /* a loop back to the root */
    link_in(root, "alias", "sub");         /* the same folder reached twice */
    link_in(root, "dangling.wav", "nowhere.wav");
    touch(root, "caf\xe9.wav");            /* Latin-1 name: not UTF-8 */
    char *rootlink = in(root, "self");
    assert_int_equal(symlink(".", rootlink), 0);

    struct sm__walk_result r;
    memset(&r, 0, sizeof(r));
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm__scan_walk(root, &r, NULL, &err), SM_OK);
    assert_int_equal(r.n, 4);
    assert_true(found(&r, "/a.wav") >= 0);
    assert_true(found(&r, "/caf\xe9.wav") >= 0);
    /* The real path wins over the symlinked one. */
    char *want = in(sub, "c.flac");
    int i = found(&r, "/c.flac");
    assert_true(i >= 0);
    assert_string_equal(r.files[i].path, want);
    free(want);
    want = in(deeper, "d.mp3");
    i = found(&r, "/d.mp3");
    assert_true(i >= 0);
    assert_string_equal(r.files[i].path, want);
    free(want);
    assert_int_equal(found(&r, "hidden.wav"), -1);
    assert_int_equal(found(&r, "/x.wav"), -1);
    assert_int_equal(found(&r, "notes.txt"), -1);
    assert_int_equal(found(&r, "dangling.wav"), -1);
    /* up, alias and self lead to folders already visited. */
    assert_int_equal(r.loops, 3);
    assert_int_equal(r.n_bad, 0);
    /* Sizes and times come from stat. */
    i = found(&r, "/a.wav");
    assert_int_equal(r.files[i].size, 12);
    assert_true(r.files[i].mtime_ns > 0);
    sm__walk_result_release(&r);
    assert_int_equal(r.n, 0);

    /* A stop flag already set ends the walk before it reads anything. */
    volatile int stop = 1;
    assert_int_equal(sm__scan_walk(root, &r, &stop, &err), SM_OK);
    assert_int_equal(r.n, 0);
    sm__walk_result_release(&r);

    /* An unreadable folder is reported, the rest is walked (root reads anything). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(sub, 0), 0);
        assert_int_equal(sm__scan_walk(root, &r, NULL, &err), SM_OK);
        assert_int_equal(r.n_bad, 1);
        assert_string_equal(r.bad_dirs[0], sub);
        assert_int_equal(r.bad_errno[0], EACCES);
        assert_true(found(&r, "/a.wav") >= 0);
        assert_int_equal(found(&r, "/c.flac"), -1);
        sm__walk_result_release(&r);
        assert_int_equal(chmod(sub, 0755), 0);
    }

    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(rootlink);
    free(cache);
    free(deeper);
    free(sub);
}

static void test_walk__bad_roots(void **state)
{
    (void)state;
    struct sm__walk_result r;
    memset(&r, 0, sizeof(r));
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm__scan_walk(tu_path("no_such_folder"), &r, NULL, &err), SM_ENOENT);
    assert_non_null(strstr(err.msg, "no_such_folder"));
    const char *file = tu_path("plain_file.wav");
    write_bytes(file, "x", 1);
    assert_int_equal(sm__scan_walk(file, &r, NULL, &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "not a folder"));
    assert_int_equal(r.n, 0);
    unlink(file);
    sm__walk_result_release(&r);
    sm__walk_result_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk__audio_extensions),
        cmocka_unit_test(test_walk__audio_magic_bytes),
        cmocka_unit_test(test_walk__tree_hidden_loops_links_and_names),
        cmocka_unit_test(test_walk__bad_roots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
