/* The catalog interface over the SQLite backend: schema, writes, incremental
 * facts, search, tags, stats, duplicates, and every failure the issue lists
 * (corrupt or foreign file, newer schema, lock, full disk, concurrent scans). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>
#include <samplemind/similarity.h>
#include <samplemind/version.h>

#include "catalog/catalog_int.h"
#include "testutil.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

/* A made-up analysis with the given descriptors and a 4-d embedding. */
static void fake(sm_analysis *a, const char *path, double bpm, int tonic, int mode, int cat,
                 bool loop, const char *hash, float e0)
{
    sm_analysis_init(a);
    a->path = sm_strdup(path);
    snprintf(a->hash, sizeof(a->hash), "%s", hash);
    a->size = 1000;
    a->duration = loop ? 4.0 : 0.5;
    a->sample_rate = 44100;
    a->channels = 2;
    snprintf(a->format, sizeof(a->format), "wav");
    a->analyzer_version = SM_ANALYZER_VERSION;
    a->integrated_lufs = -12.0;
    a->true_peak_dbtp = -1.0;
    a->has_tempo = isfinite(bpm);
    a->bpm = bpm;
    a->has_key = tonic >= 0;
    a->key_tonic = tonic;
    a->key_mode = mode;
    a->loop = loop;
    a->category = cat;
    a->brightness = 80.0;
    a->warmth = 20.0;
    a->embedding = sm_malloc(4 * sizeof(float));
    a->embedding[0] = e0;
    a->embedding[1] = 1.0f - e0;
    a->embedding[2] = 0.0f;
    a->embedding[3] = 0.0f;
    a->embedding_dim = 4;
    a->embedding_version = SM_EMBEDDING_VERSION;
}

static int64_t put(sm_catalog *cat, const char *path, double bpm, int tonic, int mode, int c,
                   bool loop, const char *hash)
{
    sm_analysis a;
    fake(&a, path, bpm, tonic, mode, c, loop, hash, 0.5f);
    sm_catalog_file f = {path, "/lib", 1000, 42};
    sm_error err = SM_ERROR_INIT;
    int64_t id = 0;
    assert_int_equal(sm_catalog_put(cat, &f, &a, 0, &id, &err), SM_OK);
    sm_analysis_release(&a);
    return id;
}

static sm_catalog *mem(void)
{
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(":memory:", NULL, &err);
    assert_non_null(cat);
    return cat;
}

static size_t search_n(sm_catalog *cat, const char *text, sm_sample_list *out)
{
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_query_parse(&q, text, &err), SM_OK);
    sm_sample_list_release(out);
    assert_int_equal(sm_catalog_search(cat, &q, out, &err), SM_OK);
    sm_query_release(&q);
    return out->n;
}

static void test_catalog__open_rejects_bad_args(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_catalog_open(NULL, NULL, &err));
    assert_int_equal(err.code, SM_EINVAL);
    assert_null(sm_catalog_open("redis://x", NULL, &err));
    assert_non_null(strstr(err.msg, "unknown scheme"));
    assert_null(sm_catalog_open("postgresql://h/db", NULL, &err));
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_null(sm_catalog_open("sqlite:///tmp/x.db?frob=1", NULL, &err));
    assert_non_null(strstr(err.msg, "frob"));
    assert_null(sm_catalog_open("sqlite://", NULL, &err));
    sm_catalog_opts o = {SM_CATALOG_NO_CREATE, 0};
    assert_null(sm_catalog_open(tu_path("nope.db"), &o, &err));
    assert_int_equal(err.code, SM_ENOENT);
    assert_null(sm_catalog_open(".", NULL, &err));
    assert_int_equal(err.code, SM_EISDIR);
    sm_catalog_close(NULL);
}

static void test_catalog__creates_schema_and_reopens(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("c.db"));
    char url[4200];
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=100", path);
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(url, NULL, &err);
    assert_non_null(cat);
    assert_int_equal(sm_catalog_schema_version(cat), SM_CATALOG_SCHEMA_VERSION);
    assert_string_equal(sm_catalog_location(cat), path);
    int64_t id = put(cat, "/lib/Kicks/Kick_01.wav", 128.0, 9, 1, SM_CAT_KICK, false, "h1");
    assert_true(id > 0);
    sm_catalog_close(cat);
    /* Plain path, reopened read-only: the row is still there. */
    sm_catalog_opts o = {SM_CATALOG_READONLY, 0};
    cat = sm_catalog_open(path, &o, &err);
    assert_non_null(cat);
    sm_sample s;
    sm_sample_init(&s);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_string_equal(s.path, "/lib/Kicks/Kick_01.wav");
    sm_sample_release(&s);
    sm_catalog_close(cat);
    unlink(path);
}

/* Another handle's commit moves the data version; reads and this handle's own
 * writes do not. */
static void test_catalog__data_version_sees_other_writers(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("dv.db"));
    unlink(path);
    sm_error err = SM_ERROR_INIT;
    sm_catalog *a = sm_catalog_open(path, NULL, &err);
    sm_catalog *b = sm_catalog_open(path, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t v0 = 0;
    uint64_t v = 0;
    assert_int_equal(sm_catalog_data_version(a, &v0, &err), SM_OK);
    assert_int_equal(sm_catalog_data_version(a, &v, &err), SM_OK);
    assert_true(v == v0);
    put(a, "/lib/own.wav", 120.0, 0, 0, SM_CAT_KICK, false, "o1"); /* its own write */
    assert_int_equal(sm_catalog_data_version(a, &v, &err), SM_OK);
    assert_true(v == v0);
    put(b, "/lib/other.wav", 120.0, 0, 0, SM_CAT_SNARE, false, "o2"); /* another's */
    assert_int_equal(sm_catalog_data_version(a, &v, &err), SM_OK);
    assert_true(v != v0);
    uint64_t v1 = v;
    sm_sample_list out = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(b, "", &out), 2); /* reads change nothing */
    sm_sample_list_release(&out);
    assert_int_equal(sm_catalog_data_version(a, &v, &err), SM_OK);
    assert_true(v == v1);
    assert_int_equal(sm_catalog_data_version(NULL, &v, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_data_version(a, NULL, &err), SM_EINVAL);
    sm_catalog_close(b);
    sm_catalog_close(a);
    unlink(path);
}

static void test_catalog__put_get_roundtrip(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put(cat, "/lib/a.wav", NAN, -1, 0, SM_CAT_SNARE, false, "ha");
    sm_sample s;
    sm_sample_init(&s);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_int_equal(s.id, id);
    assert_string_equal(s.root, "/lib");
    assert_string_equal(s.hash, "ha");
    assert_int_equal(s.size, 1000);
    assert_int_equal(s.mtime_ns, 42);
    assert_false(s.has_tempo);
    assert_true(isnan(s.bpm));
    assert_false(s.has_key);
    assert_int_equal(s.category, SM_CAT_SNARE);
    assert_near(s.lufs, -12.0, 1e-9);
    assert_near(s.timbre[SM_TIMBRE_BRIGHTNESS], 80.0, 1e-9);
    assert_true(isnan(s.timbre[SM_TIMBRE_DEPTH]));
    assert_string_equal(s.tags, "");
    assert_int_equal(sm_catalog_get_by_path(cat, "/lib/a.wav", &s, &err), SM_OK);
    assert_int_equal(s.id, id);
    assert_int_equal(sm_catalog_get(cat, 999, &s, &err), SM_ENOENT);
    assert_int_equal(sm_catalog_get_by_path(cat, "/nope", &s, &err), SM_ENOENT);
    float v[8];
    size_t dim = 0;
    assert_int_equal(sm_catalog_get_embedding(cat, id, v, 8, &dim, &err), SM_OK);
    assert_int_equal(dim, 4);
    assert_near(v[0], 0.5, 1e-7);
    char *json = sm_catalog_sample_json(cat, id, SM_JSON_EMBEDDING, &err);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"id\":"));
    assert_non_null(strstr(json, "\"tags\":[]"));
    assert_non_null(strstr(json, "\"embedding\":[0.5"));
    assert_null(strstr(json, "NaN"));
    sm_free(json);
    sm_sample_release(&s);
    sm_catalog_close(cat);
}

static int count_vec(int64_t id, const float *v, size_t dim, void *ud)
{
    (void)v;
    (void)dim;
    int64_t *seen = ud;
    seen[0]++;
    seen[1] = id;
    return 0;
}

/* Embeddings of another version are not comparable: similarity reads only
 * the current version's (a rescan recomputes the others). */
static void test_catalog__embeddings_of_another_version_are_skipped(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    int64_t cur = put(cat, "/lib/new.wav", 120.0, 0, 0, SM_CAT_KICK, false, "h1");
    sm_analysis a;
    fake(&a, "/lib/old.wav", 120.0, 0, 0, SM_CAT_KICK, false, "h2", 0.25f);
    a.embedding_version = SM_EMBEDDING_VERSION - 1;
    sm_catalog_file f = {"/lib/old.wav", "/lib", 1000, 42};
    int64_t old = 0;
    assert_int_equal(sm_catalog_put(cat, &f, &a, 0, &old, &err), SM_OK);
    sm_analysis_release(&a);
    int64_t seen[2] = {0, 0};
    assert_int_equal(sm_catalog_each_embedding(cat, count_vec, seen, &err), SM_OK);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], cur);
    float v[8];
    size_t dim = 0;
    assert_int_equal(sm_catalog_get_embedding(cat, old, v, 8, &dim, &err), SM_ENOENT);
    assert_non_null(strstr(err.msg, "rescan"));
    assert_int_equal(sm_catalog_get_embedding(cat, cur, v, 8, &dim, &err), SM_OK);
    sm_catalog_close(cat);
}

static void test_catalog__same_path_updates_and_keeps_tags(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    int64_t id = put(cat, "/lib/a.wav", 100.0, 0, 0, SM_CAT_KICK, false, "h1");
    assert_int_equal(sm_catalog_tag(cat, id, "Dark", true, &err), SM_OK);
    assert_int_equal(sm_catalog_tag(cat, id, "punchy", true, &err), SM_OK);
    assert_int_equal(sm_catalog_tag(cat, id, "dark", true, &err), SM_OK);
    int64_t id2 = put(cat, "/lib/a.wav", 120.0, 0, 0, SM_CAT_KICK, false, "h2");
    assert_int_equal(id2, id);
    sm_sample s;
    sm_sample_init(&s);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_near(s.bpm, 120.0, 1e-9);
    assert_string_equal(s.tags, "dark punchy");
    assert_int_equal(sm_catalog_tag(cat, id, "punchy", false, &err), SM_OK);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_string_equal(s.tags, "dark");
    assert_int_equal(sm_catalog_tag(cat, id, "two words", true, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_tag(cat, id, "  ", true, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_tag(cat, 777, "x", true, &err), SM_ENOENT);
    /* Tags are searchable as words and as tag: filters. */
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(cat, "dark", &l), 1);
    assert_int_equal(search_n(cat, "tag:dark", &l), 1);
    assert_int_equal(search_n(cat, "tag:punchy", &l), 0);
    sm_sample_list_release(&l);
    sm_sample_release(&s);
    sm_catalog_close(cat);
}

static void test_catalog__replace_id_moves_row_keeping_tags(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    int64_t id = put(cat, "/lib/old/Snare.wav", NAN, -1, 0, SM_CAT_SNARE, false, "hx");
    assert_int_equal(sm_catalog_tag(cat, id, "fav", true, &err), SM_OK);
    assert_int_equal(sm_catalog_set_missing(cat, id, true, &err), SM_OK);
    sm_sample_list hits = SM_SAMPLE_LIST_INIT;
    assert_int_equal(sm_catalog_find_hash(cat, "hx", &hits, &err), SM_OK);
    assert_int_equal(hits.n, 1);
    assert_true(hits.v[0].missing);
    sm_analysis a;
    fake(&a, "/lib/new/Snare2.wav", NAN, -1, 0, SM_CAT_SNARE, false, "hx", 0.5f);
    sm_catalog_file f = {"/lib/new/Snare2.wav", "/lib", 1000, 43};
    int64_t nid = 0;
    assert_int_equal(sm_catalog_put(cat, &f, &a, id, &nid, &err), SM_OK);
    assert_int_equal(nid, id);
    sm_sample s;
    sm_sample_init(&s);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_string_equal(s.path, "/lib/new/Snare2.wav");
    assert_string_equal(s.tags, "fav");
    assert_false(s.missing);
    /* The search index follows the new name. */
    assert_int_equal(search_n(cat, "snare2", &hits), 1);
    assert_int_equal(search_n(cat, "old", &hits), 0);
    /* Replacing a row that no longer exists stores by path instead. */
    assert_int_equal(sm_catalog_put(cat, &f, &a, 12345, &nid, &err), SM_OK);
    assert_int_equal(nid, id);
    sm_analysis_release(&a);
    sm_sample_release(&s);
    sm_sample_list_release(&hits);
    sm_catalog_close(cat);
}

struct known_acc {
    int n;
    int errors;
    int missing;
};

static int count_known(const sm_catalog_known *k, void *ud)
{
    struct known_acc *acc = ud;
    acc->n++;
    acc->errors += k->is_error;
    acc->missing += k->missing;
    assert_int_equal(strlen(k->path), k->path_len);
    return 0;
}

static int count_errors(const sm_catalog_error_rec *e, void *ud)
{
    int *n = ud;
    assert_string_equal(e->code, "corrupt_audio");
    assert_string_equal(e->message, "truncated");
    (*n)++;
    return 0;
}

static void test_catalog__errors_missing_prune_known(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    int64_t a = put(cat, "/lib/a.wav", 100.0, 0, 0, 1, false, "ha");
    put(cat, "/lib/b.wav", 100.0, 0, 0, 1, false, "hb");
    put(cat, "/lib2/c.wav", 100.0, 0, 0, 1, false, "hc");
    sm_catalog_file bad = {"/lib/bad.wav", "/lib", 10, 5};
    sm_error fe = SM_ERROR_INIT;
    sm_error_set(&fe, SM_ECORRUPT, "truncated");
    assert_int_equal(sm_catalog_put_error(cat, &bad, &fe, &err), SM_OK);
    int n = 0;
    assert_int_equal(sm_catalog_each_error(cat, count_errors, &n, &err), SM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sm_catalog_set_missing(cat, a, true, &err), SM_OK);
    struct known_acc acc = {0, 0, 0};
    assert_int_equal(sm_catalog_each_known(cat, "/lib", count_known, &acc, &err), SM_OK);
    assert_int_equal(acc.n, 3); /* a, b, bad: not /lib2 */
    assert_int_equal(acc.errors, 1);
    assert_int_equal(acc.missing, 1);
    memset(&acc, 0, sizeof(acc));
    assert_int_equal(sm_catalog_each_known(cat, NULL, count_known, &acc, &err), SM_OK);
    assert_int_equal(acc.n, 4);
    /* Missing rows are hidden from search unless asked for. */
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(cat, "", &l), 2);
    assert_int_equal(search_n(cat, "missing:yes", &l), 1);
    assert_int_equal(search_n(cat, "missing:any", &l), 3);
    int64_t removed = 0;
    assert_int_equal(sm_catalog_prune(cat, "/lib2", &removed, &err), SM_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(sm_catalog_prune(cat, "/lib", &removed, &err), SM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(search_n(cat, "missing:any", &l), 2);
    assert_int_equal(sm_catalog_forget_error(cat, "/lib/bad.wav", &err), SM_OK);
    n = 0;
    assert_int_equal(sm_catalog_each_error(cat, count_errors, &n, &err), SM_OK);
    assert_int_equal(n, 0);
    sm_sample_list_release(&l);
    sm_catalog_close(cat);
}

static void test_catalog__search_filters_sort_limit(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    put(cat, "/lib/Kicks/DeepKick_01.wav", NAN, -1, 0, SM_CAT_KICK, false, "k1");
    put(cat, "/lib/Loops/HouseLoop_124.wav", 124.0, 9, 1, SM_CAT_PERCUSSION, true, "l1");
    put(cat, "/lib/Loops/TechnoLoop_130.wav", 130.0, 4, 1, SM_CAT_PERCUSSION, true, "l2");
    put(cat, "/lib/Bass/Sub_A.wav", 90.0, 0, 0, SM_CAT_BASS, true, "b1");
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(cat, "kick", &l), 1);
    assert_int_equal(search_n(cat, "deep", &l), 1); /* camelCase part */
    assert_int_equal(search_n(cat, "loop", &l), 2);
    assert_int_equal(search_n(cat, "loops techno", &l), 1);
    assert_string_equal(l.v[0].path, "/lib/Loops/TechnoLoop_130.wav");
    assert_int_equal(search_n(cat, "bpm:120..130", &l), 2);
    assert_int_equal(search_n(cat, "bpm:>124", &l), 1);
    assert_int_equal(search_n(cat, "bpm:>=124", &l), 2);
    assert_int_equal(search_n(cat, "bpm:124", &l), 1);
    assert_int_equal(search_n(cat, "key:Am", &l), 1);
    assert_int_equal(search_n(cat, "key:8A", &l), 1);
    /* Am's compatible keys: Am, C, Em (9A), Dm. */
    assert_int_equal(search_n(cat, "key:compatible:Am", &l), 3);
    assert_int_equal(search_n(cat, "category:kick", &l), 1);
    assert_int_equal(search_n(cat, "category:kick,bass", &l), 2);
    assert_int_equal(search_n(cat, "loop:yes", &l), 3);
    assert_int_equal(search_n(cat, "loop:no", &l), 1);
    assert_int_equal(search_n(cat, "duration:..2", &l), 1);
    assert_int_equal(search_n(cat, "bright:>70 warm:<30", &l), 4);
    assert_int_equal(search_n(cat, "bright:<70", &l), 0);
    assert_int_equal(search_n(cat, "deep:>1", &l), 0); /* NULL never matches */
    assert_int_equal(search_n(cat, "lufs:-14..-8 peak:-1", &l), 4);
    assert_int_equal(search_n(cat, "sort:-bpm", &l), 4);
    assert_near(l.v[0].bpm, 130.0, 1e-9);
    assert_near(l.v[2].bpm, 90.0, 1e-9);
    assert_true(isnan(l.v[3].bpm)); /* NULLs last */
    assert_int_equal(search_n(cat, "sort:bpm limit:2", &l), 2);
    assert_near(l.v[0].bpm, 90.0, 1e-9);
    assert_int_equal(search_n(cat, "sort:name", &l), 4);
    assert_string_equal(l.v[0].path, "/lib/Kicks/DeepKick_01.wav");
    assert_int_equal(search_n(cat, "sort:bpm limit:2 offset:2", &l), 2);
    assert_near(l.v[0].bpm, 130.0, 1e-9);
    sm_query q;
    sm_query_init(&q);
    assert_int_equal(sm_query_parse(&q, "loop:yes sort:-bpm limit:1", &err), SM_OK);
    int64_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(sm_catalog_search_ids(cat, &q, &ids, &n, &err), SM_OK);
    assert_int_equal(n, 3); /* sort and limit ignored */
    assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
    sm_free(ids);
    sm_query_release(&q);
    sm_sample_list_release(&l);
    sm_catalog_close(cat);
}

static int count_dups(const char *hash, const int64_t *ids, size_t n, void *ud)
{
    int *groups = ud;
    assert_string_equal(hash, "same");
    assert_int_equal(n, 2);
    assert_true(ids[0] < ids[1]);
    (*groups)++;
    return 0;
}

static void test_catalog__stats_and_duplicates(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    put(cat, "/lib/a.wav", 125.0, 9, 1, SM_CAT_KICK, false, "same");
    put(cat, "/lib/b.wav", 95.0, 9, 1, SM_CAT_KICK, true, "same");
    put(cat, "/lib/c.wav", NAN, -1, 0, SM_CAT_PAD, true, "other");
    int64_t d = put(cat, "/lib/d.wav", 300.0, 0, 0, SM_CAT_PAD, false, "d");
    assert_int_equal(sm_catalog_tag(cat, d, "x", true, &err), SM_OK);
    assert_int_equal(sm_catalog_add_root(cat, "/lib", &err), SM_OK);
    assert_int_equal(sm_catalog_add_root(cat, "/lib", &err), SM_OK);
    sm_catalog_stats st;
    assert_int_equal(sm_catalog_stats_get(cat, &st, &err), SM_OK);
    assert_int_equal(st.samples, 4);
    assert_int_equal(st.loops, 2);
    assert_int_equal(st.tagged, 1);
    assert_int_equal(st.roots, 1);
    assert_near(st.total_duration, 0.5 + 4.0 + 4.0 + 0.5, 1e-9);
    assert_int_equal(st.by_category[SM_CAT_KICK], 2);
    assert_int_equal(st.by_category[SM_CAT_PAD], 2);
    assert_int_equal(st.by_key[9 + 12], 2);
    assert_int_equal(st.by_key[0], 1);
    assert_int_equal(st.no_key, 1);
    assert_int_equal(st.tempo[(120 - 50) / 10], 1);
    assert_int_equal(st.tempo[(90 - 50) / 10], 1);
    assert_int_equal(st.tempo_above, 1);
    assert_int_equal(st.no_tempo, 1);
    int groups = 0;
    assert_int_equal(sm_catalog_each_duplicate(cat, count_dups, &groups, &err), SM_OK);
    assert_int_equal(groups, 1);
    sm_catalog_close(cat);
}

static void test_catalog__path_words(void **state)
{
    (void)state;
    char *w = sm__catalog_path_words("/lib/Drums/DeepKick_01.wav", "/lib");
    assert_string_equal(w, "drums deepkick 01 deep kick");
    sm_free(w);
    w = sm__catalog_path_words("/x/808Bass-Long.aif", "/lib");
    assert_string_equal(w, "x 808bass long 808 bass");
    sm_free(w);
    w = sm__catalog_path_words("/lib/caf\xff.wav", "/lib");
    assert_non_null(w);
    assert_non_null(strstr(w, "caf"));
    sm_free(w);
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static void test_catalog__corrupt_or_foreign_file_left_untouched(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("junk.db"));
    char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 3);
    assert_int_equal(write_file(path, junk, sizeof(junk)), 0);
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_catalog_open(path, NULL, &err));
    assert_int_equal(err.code, SM_EBADDB);
    assert_non_null(strstr(err.msg, "not a SampleMind catalog"));
    FILE *f = fopen(path, "rb");
    char back[8192];
    assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(back));
    fclose(f);
    assert_memory_equal(back, junk, sizeof(junk));
    unlink(path);

    /* A real SQLite database of someone else. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_null(sm_catalog_open(path, NULL, &err));
    assert_int_equal(err.code, SM_EBADDB);
    assert_non_null(strstr(err.msg, "not a SampleMind catalog"));
    unlink(path);

    /* A catalog from a newer samplemind. */
    sm_catalog *cat = sm_catalog_open(path, NULL, &err);
    assert_non_null(cat);
    sm_catalog_close(cat);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_null(sm_catalog_open(path, NULL, &err));
    assert_int_equal(err.code, SM_EBADDB);
    assert_non_null(strstr(err.msg, "newer"));
    unlink(path);
}

static void test_catalog__locked_catalog_waits_then_fails(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("lock.db"));
    char url[4200];
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=100", path);
    sm_error err = SM_ERROR_INIT;
    sm_catalog *a = sm_catalog_open(url, NULL, &err);
    sm_catalog *b = sm_catalog_open(url, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(sm_catalog_begin(a, &err), SM_OK);
    put(a, "/lib/x.wav", 1.0, 0, 0, 0, false, "x");
    sm_analysis an;
    fake(&an, "/lib/y.wav", 1.0, 0, 0, 0, false, "y", 0.1f);
    sm_catalog_file f = {"/lib/y.wav", "/lib", 1, 1};
    assert_int_equal(sm_catalog_put(b, &f, &an, 0, NULL, &err), SM_EBUSY);
    assert_non_null(strstr(err.msg, "locked by another process"));
    /* Readers are not blocked by a writer (WAL). */
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(b, "", &l), 0);
    assert_int_equal(sm_catalog_commit(a, &err), SM_OK);
    assert_int_equal(sm_catalog_put(b, &f, &an, 0, NULL, &err), SM_OK);
    assert_int_equal(search_n(b, "", &l), 2);
    /* The scan lock: one scan per catalog. */
    assert_int_equal(sm_catalog_lock_scan(a, false, &err), SM_OK);
    assert_int_equal(sm_catalog_lock_scan(b, false, &err), SM_EBUSY);
    assert_non_null(strstr(err.msg, "another scan"));
    sm_catalog_close(a);
    assert_int_equal(sm_catalog_lock_scan(b, false, &err), SM_OK);
    sm_analysis_release(&an);
    sm_sample_list_release(&l);
    sm_catalog_close(b);
    unlink(path);
}

static void test_catalog__full_disk_rolls_back_batch(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("full.db"));
    char url[4200];
    snprintf(url, sizeof(url), "sqlite://%s?max_pages=40", path);
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(url, NULL, &err);
    assert_non_null(cat);
    put(cat, "/lib/first.wav", 1.0, 0, 0, 0, false, "first");
    assert_int_equal(sm_catalog_begin(cat, &err), SM_OK);
    sm_status rc = SM_OK;
    char p[64];
    for (int i = 0; i < 2000 && rc == SM_OK; i++) {
        sm_analysis a;
        snprintf(p, sizeof(p), "/lib/many/file_%04d.wav", i);
        fake(&a, p, 1.0, 0, 0, 0, false, "h", 0.3f);
        a.peaks = sm_calloc(1024, sizeof(float));
        a.n_peaks = 512;
        sm_catalog_file f = {p, "/lib", 1, 1};
        rc = sm_catalog_put(cat, &f, &a, 0, NULL, &err);
        sm_analysis_release(&a);
    }
    assert_int_equal(rc, SM_ENOSPC);
    assert_non_null(strstr(err.msg, "disk full"));
    sm_catalog_rollback(cat);
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    assert_int_equal(search_n(cat, "", &l), 1);
    assert_string_equal(l.v[0].path, "/lib/first.wav");
    sm_sample_list_release(&l);
    sm_catalog_close(cat);
    unlink(path);
}

/* A damaged catalog (pages overwritten) gives corrupt_database, never a crash. */
static void test_catalog__damaged_catalog_is_corrupt_database(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("damaged.db"));
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(path, NULL, &err);
    assert_non_null(cat);
    char p[64];
    assert_int_equal(sm_catalog_begin(cat, &err), SM_OK);
    for (int i = 0; i < 300; i++) {
        snprintf(p, sizeof(p), "/lib/d/file_%04d.wav", i);
        put(cat, p, 100.0 + i, i % 12, i % 2, i % SM_CAT_COUNT, false, p);
    }
    assert_int_equal(sm_catalog_commit(cat, &err), SM_OK);
    sm_catalog_close(cat);
    /* Fold the WAL into the file, then overwrite every page after the first. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    assert_true(size > 8192);
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 13 + 5);
    for (long off = 4096; off < size; off += 4096) {
        fseek(f, off, SEEK_SET);
        fwrite(junk, 1, sizeof(junk), f);
    }
    fclose(f);
    cat = sm_catalog_open(path, NULL, &err);
    sm_status rc = SM_OK;
    if (cat) {
        sm_sample_list l = SM_SAMPLE_LIST_INIT;
        sm_query q;
        sm_query_init(&q);
        rc = sm_catalog_search(cat, &q, &l, &err);
        sm_sample_list_release(&l);
        sm_catalog_close(cat);
    } else {
        rc = err.code;
    }
    assert_int_equal(rc, SM_EBADDB);
    assert_true(strstr(err.msg, "corrupt") || strstr(err.msg, "not a SampleMind"));
    unlink(path);
}

/* A deterministic generator for the comparison catalog. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void same_results(sm_catalog *cat, const sm_findex *fx, const char *text)
{
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_query_parse(&q, text, &err), SM_OK);
    sm_sample_list a = SM_SAMPLE_LIST_INIT;
    sm_sample_list b = SM_SAMPLE_LIST_INIT;
    assert_int_equal(sm_catalog_search(cat, &q, &a, &err), SM_OK);
    assert_int_equal(sm_findex_search(fx, cat, &q, &b, &err), SM_OK);
    if (a.n != b.n)
        fail_msg("'%s': %zu rows by SQL, %zu by the index", text, a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        if (a.v[i].id != b.v[i].id)
            fail_msg("'%s': row %zu is id %lld by SQL, %lld by the index", text, i,
                     (long long)a.v[i].id, (long long)b.v[i].id);
        assert_string_equal(a.v[i].path, b.v[i].path);
        assert_string_equal(a.v[i].tags, b.v[i].tags);
        assert_int_equal(isnan(a.v[i].score), isnan(b.v[i].score));
        if (!isnan(a.v[i].score))
            assert_memory_equal(&a.v[i].score, &b.v[i].score, sizeof(double));
    }
    int64_t *ia = NULL;
    int64_t *ib = NULL;
    size_t na = 0;
    size_t nb = 0;
    assert_int_equal(sm_catalog_search_ids(cat, &q, &ia, &na, &err), SM_OK);
    assert_int_equal(sm_findex_search_ids(fx, cat, &q, &ib, &nb, &err), SM_OK);
    assert_int_equal(na, nb);
    if (na > 0)
        assert_memory_equal(ia, ib, na * sizeof(int64_t));
    sm_free(ia);
    sm_free(ib);
    sm_sample_list_release(&a);
    sm_sample_list_release(&b);
    sm_query_release(&q);
}

/* sm_findex_page gives the rows, scores and count of sm_findex_search, and
 * keeps per-row texts. */
static void same_page(sm_catalog *cat, const sm_findex *fx, const char *text)
{
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_query_parse(&q, text, &err), SM_OK);
    sm_sample_list a = SM_SAMPLE_LIST_INIT;
    assert_int_equal(sm_findex_search(fx, cat, &q, &a, &err), SM_OK);
    sm_findex_hit *hits = NULL;
    size_t n = 0;
    size_t total = 0;
    assert_int_equal(sm_findex_page(fx, cat, &q, &hits, &n, &total, &err), SM_OK);
    assert_int_equal(n, a.n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hits[i].id, a.v[i].id);
        assert_int_equal(isnan(hits[i].score), isnan(a.v[i].score));
        if (!isnan(a.v[i].score))
            assert_memory_equal(&hits[i].score, &a.v[i].score, sizeof(double));
        assert_true(hits[i].row < sm_findex_size(fx));
        size_t len = 0;
        const char *t = sm_findex_row_text(fx, hits[i].row, &len);
        if (!t) {
            assert_true(sm_findex_row_text_put(fx, hits[i].row, a.v[i].path, strlen(a.v[i].path)));
            assert_false(sm_findex_row_text_put(fx, hits[i].row, "again", 5));
            t = sm_findex_row_text(fx, hits[i].row, &len);
        }
        assert_non_null(t);
        assert_int_equal(len, strlen(a.v[i].path));
        assert_string_equal(t, a.v[i].path);
    }
    /* total counts every match, before offset and limit. */
    int64_t *ids = NULL;
    size_t n_ids = 0;
    assert_int_equal(sm_findex_search_ids(fx, cat, &q, &ids, &n_ids, &err), SM_OK);
    assert_int_equal(total, n_ids);
    sm_free(ids);
    sm_free(hits);
    sm_sample_list_release(&a);
    sm_query_release(&q);
}

/* The in-memory filter index returns the SQL path's rows, order and scores. */
static void test_catalog__findex_matches_sql(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    sm_error err = SM_ERROR_INIT;
    static const char *const words[] = {"Kick", "snare", "DEEP", "dark", "Punchy", "loop",
                                        "Bass", "sub", "hat", "deepkick", "x808"};
    static const char *const tags[] = {"dark", "fav", "vintage"};
    uint32_t seed = 12345;
    assert_int_equal(sm_catalog_begin(cat, &err), SM_OK);
    char path[160];
    for (int i = 0; i < 400; i++) {
        const char *w1 = words[lcg(&seed) % 11];
        const char *w2 = words[lcg(&seed) % 11];
        /* Names repeat across folders (ties of sort:name), in several cases. */
        snprintf(path, sizeof(path), "/lib/%s/%03d/%s_%s_%02u.wav", words[lcg(&seed) % 11], i,
                 w1, w2, lcg(&seed) % 7);
        sm_analysis a;
        uint32_t r = lcg(&seed);
        bool loop = r % 5 == 0;
        double bpm = r % 3 == 0 ? (double)NAN : 60.0 + (double)(lcg(&seed) % 1200) / 10.0;
        int tonic = r % 4 == 0 ? -1 : (int)(lcg(&seed) % 12);
        fake(&a, path, bpm, tonic, (int)(lcg(&seed) % 2), (int)(lcg(&seed) % SM_CAT_COUNT), loop,
             "h", 0.5f);
        a.brightness = (double)(lcg(&seed) % 101);
        a.warmth = r % 7 == 0 ? (double)NAN : (double)(lcg(&seed) % 101);
        a.duration = (double)(lcg(&seed) % 4000) / 1000.0;
        a.has_note = r % 2 == 0;
        a.note_midi = 24 + (int)(lcg(&seed) % 60);
        sm_catalog_file f = {path, "/lib", 1000, 42};
        int64_t id = 0;
        assert_int_equal(sm_catalog_put(cat, &f, &a, 0, &id, &err), SM_OK);
        sm_analysis_release(&a);
        for (int t = 0; t < 3; t++)
            if (lcg(&seed) % 4 == 0)
                assert_int_equal(sm_catalog_tag(cat, id, tags[t], true, &err), SM_OK);
        if (lcg(&seed) % 15 == 0)
            assert_int_equal(sm_catalog_set_missing(cat, id, true, &err), SM_OK);
    }
    assert_int_equal(sm_catalog_commit(cat, &err), SM_OK);
    sm_findex *fx = sm_findex_load(cat, &err);
    assert_non_null(fx);
    assert_int_equal(sm_findex_size(fx), 400);
    static const char *const queries[] = {
        "", "kick", "deep", "dark punchy", "\"deep kick\"", "kick sort:-relevance",
        "kic bpm:100..140", "bpm:120..130", "bpm:>100 sort:-bpm", "bpm:128", "key:Am",
        "key:compatible:Am", "key:8A,C", "category:kick,snare", "loop:yes", "loop:no sort:bpm",
        "note:C1..C3 sort:-note", "lufs:-14..-8 peak:<-0.5", "duration:..2 sort:-duration",
        "bright:>70 warm:<30", "warm:>=0 sort:warm", "deep:>1", "tag:dark", "tag:dark tag:fav",
        "tag:nosuch", "dark tag:vintage sort:name", "missing:yes", "missing:any sort:-path",
        "sort:name", "sort:-name", "sort:key", "sort:-key", "sort:category",
        "sort:-category limit:17 offset:5", "sort:id offset:390", "sort:-id limit:3",
        "sort:path limit:10 offset:395", "bass sort:bpm limit:5", "sub offset:3",
        "key:compatible:Am bright:>50 duration:..2", "category:kick loop:no sort:-bpm limit:50",
        /* Filters the index starts from (a category, key, range or tag lookup),
         * bounds on values that exist, empty and reversed ranges. */
        "category:kick", "category:kick,snare,hat bpm:>90", "key:Am,8A", "key:C,C,Am",
        "bpm:>120.5", "bpm:>=120.5 sort:bpm", "bpm:<90.1", "bpm:<=90.1 loop:yes",
        "bpm:100..100.5", "bpm:120..120", "duration:1..1", "bright:>100", "bright:>=100",
        "bright:<1 warm:<=50", "note:C2", "tag:fav bpm:>100", "tag:vintage category:kick",
        "missing:yes bpm:..100", "missing:any key:Am sort:-key", "lufs:..-100",
        "kick category:kick", "deep bpm:>100 sort:-bpm", "kick dark offset:2 limit:3",
        /* Words ranked in memory: prefixes over one and many terms, case, repeats,
         * tag words, digits, no match; and words FTS5 must tokenise itself. */
        "dee", "x8", "KICK", "kick kick", "vintage dark", "fav", "0", "00 kick", "1",
        "zzz", "kick zzz", "d p", "kick-deep", "deep_kick", "\xc3\xa9t\xc3\xa9",
        /* Broad matches, pages near the front: walked along a kept sort order
         * (ties, NULLs last, both directions, offsets). */
        "limit:5", "missing:any limit:7 offset:20", "sort:-path limit:3", "sort:-name limit:9",
        "sort:name offset:30 limit:4", "sort:-id limit:2", "sort:-key limit:11",
        "sort:key offset:250 limit:5", "sort:category limit:6", "sort:-warm limit:8",
        "sort:warm offset:330 limit:20", "sort:-bpm limit:4", "sort:bpm offset:260 limit:30",
        "loop:no sort:-lufs limit:5", "missing:yes sort:-note limit:3", "sort:note limit:10",
        "missing:any sort:-duration offset:395", "category:kick,snare,hat limit:4",
        "loop:yes missing:any limit:6 offset:3", "category:kick loop:no sort:name limit:2",
    };
    /* Twice: the second time the words come from the index's cache. */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
            same_results(cat, fx, queries[i]);
    same_page(cat, fx, "kick bpm:>100");
    same_page(cat, fx, "sort:-name offset:7 limit:9");
    same_page(cat, fx, "tag:nosuch");
    /* Listings: the count comes from kept counts, the page from a walk. */
    same_page(cat, fx, "limit:3");
    same_page(cat, fx, "missing:yes limit:2");
    same_page(cat, fx, "missing:any loop:yes sort:-bpm limit:4");
    same_page(cat, fx, "category:kick,snare,hat loop:no limit:3 offset:2");
    sm_findex_free(fx);
    sm_findex_free(NULL);
    /* Bad arguments. */
    assert_null(sm_findex_load(NULL, &err));
    assert_int_equal(err.code, SM_EINVAL);
    sm_sample_list l = SM_SAMPLE_LIST_INIT;
    sm_query q;
    sm_query_init(&q);
    assert_int_equal(sm_findex_search(NULL, cat, &q, &l, &err), SM_EINVAL);
    /* An empty catalog. */
    sm_catalog *empty = mem();
    fx = sm_findex_load(empty, &err);
    assert_non_null(fx);
    assert_int_equal(sm_findex_size(fx), 0);
    same_results(empty, fx, "kick bpm:>1");
    same_results(empty, fx, "sort:name");
    sm_findex_free(fx);
    sm_catalog_close(empty);
    sm_catalog_close(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog__open_rejects_bad_args),
        cmocka_unit_test(test_catalog__creates_schema_and_reopens),
        cmocka_unit_test(test_catalog__put_get_roundtrip),
        cmocka_unit_test(test_catalog__embeddings_of_another_version_are_skipped),
        cmocka_unit_test(test_catalog__data_version_sees_other_writers),
        cmocka_unit_test(test_catalog__same_path_updates_and_keeps_tags),
        cmocka_unit_test(test_catalog__replace_id_moves_row_keeping_tags),
        cmocka_unit_test(test_catalog__errors_missing_prune_known),
        cmocka_unit_test(test_catalog__search_filters_sort_limit),
        cmocka_unit_test(test_catalog__stats_and_duplicates),
        cmocka_unit_test(test_catalog__path_words),
        cmocka_unit_test(test_catalog__corrupt_or_foreign_file_left_untouched),
        cmocka_unit_test(test_catalog__damaged_catalog_is_corrupt_database),
        cmocka_unit_test(test_catalog__findex_matches_sql),
        cmocka_unit_test(test_catalog__locked_catalog_waits_then_fails),
        cmocka_unit_test(test_catalog__full_disk_rolls_back_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
