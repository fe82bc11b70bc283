/* Catalog internals: the backend vtable catalog.c dispatches through.
 *
 * A backend implements every operation of include/samplemind/catalog.h on its
 * own handle (impl); catalog.c validates arguments at the public boundary and
 * keeps the backend-neutral pieces (URL parsing, sample rows, the JSON record).
 * All SQL lives in the backend files (sqlite.c now, postgres.c later). */
#ifndef SM_CATALOG_INT_H
#define SM_CATALOG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <samplemind/catalog.h>

/* A parsed catalog URL. */
struct sm__catalog_url {
    char scheme[16];       /* "sqlite" */
    char *location;        /* file path or ":memory:" (new) */
    int busy_timeout_ms;   /* -1 when not given */
    long long max_pages;   /* 0 when not given */
};

/* The stored record of a row, for sm_catalog_sample_json (all new). */
struct sm__catalog_record {
    char *analysis_json;
    float *peaks;          /* 2 * n_peaks floats */
    size_t n_peaks;
    float *embedding;
    size_t embedding_dim;
};

/* One row of the in-memory filter index (sm_findex), borrowed during the callback. */
struct sm__fx_row {
    int64_t id;
    bool missing;
    double field[SM_QF_COUNT];  /* NaN when NULL */
    int key_tonic;              /* -1 when NULL */
    int key_mode;
    int key_sort;               /* CAST(camelot AS INTEGER) * 4 + letter rank; -1 when NULL */
    bool loop;
    int category;
};

typedef int (*sm__fx_row_fn)(const struct sm__fx_row *r, void *ud);
typedef int (*sm__fx_tag_fn)(const char *tag, int64_t id, void *ud);
/* An order of the rows: tie true when the row sorts equal to the one before. */
typedef int (*sm__fx_order_fn)(int64_t id, bool tie, void *ud);
/* One (term, row) of the full-text index: the term's instances in the row (all
 * columns); or, with term NULL, one row and its token count (all columns). */
typedef int (*sm__fx_term_fn)(const char *term, size_t len, int64_t id, int count, void *ud);

/* The position of id in the ascending v[0..n), or (size_t)-1 (binary search). */
static inline size_t sm__id_find(const int64_t *v, size_t n, int64_t id)
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == id ? lo : (size_t)-1;
}

struct sm__catalog_backend {
    const char *name;
    void *(*open)(const struct sm__catalog_url *url, const sm_catalog_opts *opts,
                  sm_error *err);
    void (*close)(void *impl);
    int (*schema_version)(void *impl);
    sm_status (*begin)(void *impl, sm_error *err);
    sm_status (*commit)(void *impl, sm_error *err);
    void (*rollback)(void *impl);
    sm_status (*lock_scan)(void *impl, bool wait, sm_error *err);
    sm_status (*put)(void *impl, const sm_catalog_file *f, const sm_analysis *a,
                     int64_t replace_id, int64_t *id_out, sm_error *err);
    sm_status (*put_error)(void *impl, const sm_catalog_file *f, const sm_error *file_err,
                           sm_error *err);
    sm_status (*forget_error)(void *impl, const char *path, sm_error *err);
    sm_status (*set_missing)(void *impl, int64_t id, bool missing, sm_error *err);
    sm_status (*prune)(void *impl, const char *root, int64_t *n, sm_error *err);
    sm_status (*add_root)(void *impl, const char *root, sm_error *err);
    sm_status (*each_known)(void *impl, const char *root, sm_catalog_known_fn fn, void *ud,
                            sm_error *err);
    sm_status (*find_hash)(void *impl, const char *hash, sm_sample_list *out, sm_error *err);
    sm_status (*get)(void *impl, int64_t id, const char *path, sm_sample *out, sm_error *err);
    sm_status (*get_record)(void *impl, int64_t id, struct sm__catalog_record *rec,
                            sm_error *err);
    sm_status (*search)(void *impl, const sm_query *q, sm_sample_list *out, sm_error *err);
    sm_status (*search_ids)(void *impl, const sm_query *q, int64_t **ids, size_t *n,
                            sm_error *err);
    sm_status (*tag)(void *impl, int64_t id, const char *tag, bool add, sm_error *err);
    sm_status (*each_error)(void *impl, sm_catalog_error_fn fn, void *ud, sm_error *err);
    sm_status (*stats)(void *impl, sm_catalog_stats *out, sm_error *err);
    sm_status (*each_duplicate)(void *impl, sm_catalog_dup_fn fn, void *ud, sm_error *err);
    sm_status (*each_embedding)(void *impl, sm_catalog_vec_fn fn, void *ud, sm_error *err);
    sm_status (*get_embedding)(void *impl, int64_t id, float *out, size_t cap, size_t *dim,
                               sm_error *err);
    /* A read snapshot over several reads (no-op inside a write batch). */
    sm_status (*read_begin)(void *impl, sm_error *err);
    void (*read_end)(void *impl);
    /* The filter index: every row in id order, every (tag, id) in tag then id order. */
    sm_status (*fx_rows)(void *impl, sm__fx_row_fn fn, void *ud, sm_error *err);
    sm_status (*fx_tags)(void *impl, sm__fx_tag_fn fn, void *ud, sm_error *err);
    /* Every row in the path order (by_name false) or the name order of search(). */
    sm_status (*fx_order)(void *impl, bool by_name, sm__fx_order_fn fn, void *ud,
                          sm_error *err);
    /* Backend state for ranking words quickly (a snapshot; NULL with err on failure). */
    void *(*fx_text_load)(void *impl, sm_error *err);
    void (*fx_text_free)(void *state);
    /* Ids (ascending) of the rows whose text matches q's words. With scores
     * non-NULL, also the relevance search() reports as the score (new arrays,
     * sm_free); want (a bitmap by id over ids 0..want_n-1, or NULL for all) limits
     * the rows that are ranked and returned. */
    sm_status (*fx_words)(void *impl, const void *state, const sm_query *q,
                          const uint8_t *want, int64_t want_n, int64_t **ids, double **scores,
                          size_t *n, sm_error *err);
    /* AI answers (arguments checked by catalog.c): store a with row id, with text
     * (may be NULL) as its searchable text and tags[0..n_tags) (normalised) added
     * to the row, all in one transaction; SM_ENOENT when there is no row id. */
    sm_status (*put_answer)(void *impl, int64_t id, const sm_catalog_ai_answer *a,
                            const char *text, char *const *tags, size_t n_tags,
                            sm_error *err);
    /* Every answer of row id by task; SM_ENOENT when there is no row id. */
    sm_status (*each_answer)(void *impl, int64_t id, sm_catalog_ai_answer_fn fn, void *ud,
                             sm_error *err);
    /* The full-text index as stored, for ranking words in memory (NULL when the
     * backend cannot): fn(term, len, id, count) for every (term, row) in term
     * (bytes) then id order, then fn(NULL, 0, id, tokens) for every row in id
     * order; *n_row and *n_token are the totals the relevance uses. */
    sm_status (*fx_terms)(void *impl, sm__fx_term_fn fn, void *ud, int64_t *n_row,
                          int64_t *n_token, sm_error *err);
    /* sm_catalog_data_version. */
    sm_status (*data_version)(void *impl, uint64_t *version, sm_error *err);
};

extern const struct sm__catalog_backend sm__catalog_sqlite;

/* The backend of cat and its handle (NULL when cat is NULL). */
const struct sm__catalog_backend *sm__catalog_backend_of(sm_catalog *cat, void **impl);

/* Append an empty row to list. Returns the row, or NULL when out of memory. */
sm_sample *sm__sample_list_push(sm_sample_list *list);

/* Words for full-text search from a path: the file name and its folder names
 * (below the root), split at separators, digit runs and camelCase, lowercased,
 * valid UTF-8. Returns new text (sm_free) or NULL when out of memory. */
char *sm__catalog_path_words(const char *path, const char *root);

/* Normalise a tag in place: trims, lowercases ASCII. Returns 0, or -1 with err
 * filled when the tag is empty, too long, not UTF-8 or has spaces or commas. */
int sm__catalog_tag_normalize(char *tag, sm_error *err);

#endif
