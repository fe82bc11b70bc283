/** \file
 * The catalog: every analysed file of a library, its tags and per-file errors,
 * searchable with one query language; plus the in-memory vector index used for
 * "similar" and near-duplicates.
 *
 * The interface is backend-neutral. Today the backend is SQLite (one file, WAL);
 * PostgreSQL follows behind the same functions. A catalog is named by a URL:
 * "sqlite:///abs/path/catalog.db", "sqlite://relative.db", a plain path, or
 * ":memory:". SQLite URLs take options after '?': busy_timeout=MS (default 5000)
 * and max_pages=N (a size cap, for tests of a full disk).
 *
 *     sm_error err = SM_ERROR_INIT;
 *     sm_catalog *cat = sm_catalog_open("sqlite:///tmp/c.db", NULL, &err);
 *     sm_query q;
 *     sm_query_init(&q);
 *     sm_query_parse(&q, "kick bpm:120..130 key:Am", &err);
 *     sm_sample_list hits = SM_SAMPLE_LIST_INIT;
 *     sm_catalog_search(cat, &q, &hits, &err);
 *     sm_sample_list_release(&hits);
 *     sm_query_release(&q);
 *     sm_catalog_close(cat);
 *
 * Invariants: every write outside sm_catalog_begin/commit is its own transaction,
 * and a batch inside begin/commit is all-or-nothing, so a killed process leaves a
 * consistent catalog. Opening never overwrites a file that is not a catalog. A
 * catalog handle is used by one thread at a time (open one per thread); several
 * processes may share one catalog file (writers wait up to the busy timeout).
 * Undefined descriptors are NaN (has_* false), as in sm_analysis.
 */
#ifndef SAMPLEMIND_CATALOG_H
#define SAMPLEMIND_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <samplemind/analysis.h>
#include <samplemind/common.h>
#include <samplemind/error.h>

/** The schema version this library writes; older catalogs are migrated at open. */
#define SM_CATALOG_SCHEMA_VERSION 2

/* ---------------------------------------------------------------- queries --- */

/** Numeric fields a query can filter and sort on. */
#define SM_QUERY_FIELD_MAP(XX)                                                      \
    XX(BPM, "bpm")                                                                  \
    XX(LUFS, "lufs")                                                                \
    XX(DURATION, "duration")                                                        \
    XX(PEAK, "peak")                                                                \
    XX(NOTE, "note")                                                                \
    XX(BRIGHTNESS, "brightness")                                                    \
    XX(WARMTH, "warmth")                                                            \
    XX(HARDNESS, "hardness")                                                        \
    XX(DEPTH, "depth")                                                              \
    XX(ROUGHNESS, "roughness")                                                      \
    XX(BOOMINESS, "boominess")

enum sm_query_field {
#define SM__QF_ENUM(id, name) SM_QF_##id,
    SM_QUERY_FIELD_MAP(SM__QF_ENUM)
#undef SM__QF_ENUM
        SM_QF_COUNT
};

/** \return the query name of \p f ("bpm"), or "?" when out of range. */
SM_API const char *sm_query_field_name(int f);

/** An interval; a bound that is infinite is open-ended. */
typedef struct sm_query_range {
    bool set;
    double lo;
    double hi;
    bool lo_incl;
    bool hi_incl;
} sm_query_range;

/** Sort orders (sort:NAME, sort:-NAME for descending). */
enum sm_query_sort {
    SM_SORT_DEFAULT = 0, /**< relevance when there are words, else path */
    SM_SORT_RELEVANCE,
    SM_SORT_PATH,
    SM_SORT_NAME,
    SM_SORT_ID,
    SM_SORT_KEY,
    SM_SORT_CATEGORY,
    SM_SORT_FIELD, /**< by sort_field (a numeric field) */
};

#define SM_QUERY_MAX_KEYS 8

/**
 * A parsed query: the backend-neutral filter every backend and the HTTP API
 * share. Initialise with sm_query_init; sm_query_parse fills it. All filters
 * AND together; the keys, categories and words inside one filter OR/AND as
 * documented in docs/catalog.md.
 */
typedef struct sm_query {
    char **words;          /**< free words and "quoted phrases", all must match */
    size_t n_words;
    char **tags;           /**< tag:X, all must be present */
    size_t n_tags;
    sm_query_range range[SM_QF_COUNT];
    int n_keys;            /**< key:..., any of these (tonic, mode) pairs; 0 = any */
    int key_tonic[SM_QUERY_MAX_KEYS];
    int key_mode[SM_QUERY_MAX_KEYS];
    uint32_t categories;   /**< bit (1 << category) per wanted category; 0 = any */
    int loop;              /**< -1 any, 0 one-shots, 1 loops */
    int missing;           /**< 0 present files only (default), 1 missing only, -1 both */
    int sort;              /**< enum sm_query_sort */
    int sort_field;        /**< enum sm_query_field when sort is SM_SORT_FIELD */
    bool sort_desc;
    size_t limit;          /**< 0 = no limit given (the caller picks a default) */
    size_t offset;
    size_t err_pos;        /**< after a failed parse: byte offset of the bad token */
    size_t err_len;        /**< ... and its length */
} sm_query;

/** Empty query (matches every present file). Cannot fail. */
SM_API void sm_query_init(sm_query *q);
/** Free the contents; \p q is empty again (as after init). NULL is fine. */
SM_API void sm_query_release(sm_query *q);

/**
 * Parse \p text into \p q (released first). Grammar, by example:
 * `kick "deep sub" bpm:120..130 bpm:>100 key:Am key:8A key:compatible:Am
 *  category:kick,snare loop:yes note:F#1 lufs:-14..-8 duration:..2 bright:>70
 *  tag:dark sort:-bpm limit:20`.
 * \return SM_OK, or SM_EINVAL with \p err naming the bad token and its position;
 * q->err_pos / q->err_len then locate it in \p text.
 */
SM_API sm_status sm_query_parse(sm_query *q, const char *text, sm_error *err);

/** \return true when \p q has any filter besides free words, sort and limit. */
SM_API bool sm_query_has_filters(const sm_query *q);

/* ---------------------------------------------------------------- samples --- */

enum sm_timbre_id {
    SM_TIMBRE_BRIGHTNESS = 0,
    SM_TIMBRE_WARMTH,
    SM_TIMBRE_HARDNESS,
    SM_TIMBRE_DEPTH,
    SM_TIMBRE_ROUGHNESS,
    SM_TIMBRE_BOOMINESS,
    SM_TIMBRE_COUNT
};

/** One catalog row: the filterable descriptors of a file. */
typedef struct sm_sample {
    int64_t id;
    char *path;            /**< new; bytes as on disk (may not be UTF-8) */
    char *root;            /**< new; the library root it was found under */
    char *tags;            /**< new; space-separated, sorted ("" when none) */
    char hash[80];
    int64_t size;
    int64_t mtime_ns;
    int analyzer_version;
    bool missing;
    double duration;
    int sample_rate;
    int channels;
    char format[16];
    bool has_tempo;
    double bpm;
    bool has_key;
    int key_tonic;
    int key_mode;
    bool has_note;
    int note_midi;
    bool loop;
    int category;
    double lufs;           /**< integrated, else the momentary maximum for short files */
    double true_peak;
    double timbre[SM_TIMBRE_COUNT];
    double score;          /**< search: relevance (lower is better); similar: distance */
} sm_sample;

/** Empty row (NaN numbers, NULL strings). Cannot fail. */
SM_API void sm_sample_init(sm_sample *s);
/** Free the strings; \p s is empty afterwards. NULL is fine. */
SM_API void sm_sample_release(sm_sample *s);

typedef struct sm_sample_list {
    sm_sample *v;
    size_t n;
    size_t cap;
} sm_sample_list;

#define SM_SAMPLE_LIST_INIT {NULL, 0, 0}

/** Free every row and the array; the list is empty and reusable afterwards. */
SM_API void sm_sample_list_release(sm_sample_list *list);

/* ---------------------------------------------------------------- catalog --- */

typedef struct sm_catalog sm_catalog;

enum sm_catalog_flags {
    SM_CATALOG_READONLY = 1 << 0,  /**< never write (fails if the file is missing) */
    SM_CATALOG_NO_CREATE = 1 << 1, /**< fail with SM_ENOENT instead of creating */
};

typedef struct sm_catalog_opts {
    unsigned flags;      /**< enum sm_catalog_flags */
    int busy_timeout_ms; /**< wait this long for a lock; 0 = the URL's value or 5000 */
} sm_catalog_opts;

/**
 * Open (creating when allowed) the catalog named by \p url, and apply pending
 * schema migrations. A file that is not a SampleMind catalog, a corrupt one, or
 * one from a newer SampleMind gives SM_EBADDB with a message naming it and is
 * never written to. A catalog locked by another process is waited for up to the
 * busy timeout, then SM_EBUSY (any call that writes or reads can return it). A
 * write that finds the disk full (or the size cap reached) gives SM_ENOSPC and
 * rolls the batch back.
 * \return new handle (sm_catalog_close), or NULL with \p err filled.
 */
SM_API sm_catalog *sm_catalog_open(const char *url, const sm_catalog_opts *opts,
                                   sm_error *err);
/** Close; rolls back an open transaction and releases the scan lock. NULL is fine. */
SM_API void sm_catalog_close(sm_catalog *cat);
/** \return the file path or URL the catalog lives at (borrowed). */
SM_API const char *sm_catalog_location(const sm_catalog *cat);
/** \return the schema version of the open catalog. */
SM_API int sm_catalog_schema_version(const sm_catalog *cat);

/** Start a batch: the writes up to commit are one transaction. */
SM_API sm_status sm_catalog_begin(sm_catalog *cat, sm_error *err);
/** Commit the batch. On failure (disk full...) the batch is rolled back. */
SM_API sm_status sm_catalog_commit(sm_catalog *cat, sm_error *err);
/** Roll the open batch back (no-op when none). */
SM_API void sm_catalog_rollback(sm_catalog *cat);

/**
 * Take the catalog's scan lock (one scan writes at a time). With \p wait false a
 * second scan gets SM_EBUSY "another scan is running" at once; with true it waits.
 * Released by sm_catalog_close or when the process dies.
 */
SM_API sm_status sm_catalog_lock_scan(sm_catalog *cat, bool wait, sm_error *err);

/** Where a file was found: its facts on disk. */
typedef struct sm_catalog_file {
    const char *path;
    const char *root;
    int64_t size;
    int64_t mtime_ns;
} sm_catalog_file;

/**
 * Store the analysis of a file. With \p replace_id 0 the row with the same path
 * is updated (keeping its id and tags) or a new one is added; with a row id, that
 * row takes the new path (a moved file keeps its id, tags and AI answers). Clears
 * the file's error record and its missing flag.
 * \param[out] id_out the row id (may be NULL).
 */
SM_API sm_status sm_catalog_put(sm_catalog *cat, const sm_catalog_file *f,
                                const sm_analysis *a, int64_t replace_id, int64_t *id_out,
                                sm_error *err);
/** Record that \p f failed to analyze with \p file_err (replacing an older record). */
SM_API sm_status sm_catalog_put_error(sm_catalog *cat, const sm_catalog_file *f,
                                      const sm_error *file_err, sm_error *err);
/** Forget the error record of \p path (the file vanished or now analyzes). */
SM_API sm_status sm_catalog_forget_error(sm_catalog *cat, const char *path, sm_error *err);
/** Set or clear the missing flag of row \p id. */
SM_API sm_status sm_catalog_set_missing(sm_catalog *cat, int64_t id, bool missing,
                                        sm_error *err);
/** Delete missing rows (under \p root, or all when NULL). \param[out] n removed rows. */
SM_API sm_status sm_catalog_prune(sm_catalog *cat, const char *root, int64_t *n,
                                  sm_error *err);
/** Remember \p root as a library root (idempotent). */
SM_API sm_status sm_catalog_add_root(sm_catalog *cat, const char *root, sm_error *err);

/** A file the catalog knows, for incremental scans (borrowed during the callback). */
typedef struct sm_catalog_known {
    int64_t id;            /**< sample id; 0 for a file known only by its error */
    const char *path;
    size_t path_len;
    int64_t size;
    int64_t mtime_ns;
    int analyzer_version;
    bool missing;
    bool is_error;
} sm_catalog_known;

/** Return non-zero to stop the iteration. */
typedef int (*sm_catalog_known_fn)(const sm_catalog_known *k, void *userdata);

/** Call \p fn for every sample row and error record (paths under \p root, or all). */
SM_API sm_status sm_catalog_each_known(sm_catalog *cat, const char *root,
                                       sm_catalog_known_fn fn, void *userdata, sm_error *err);

/** Rows with content hash \p hash, present and missing alike (into \p out, appended). */
SM_API sm_status sm_catalog_find_hash(sm_catalog *cat, const char *hash, sm_sample_list *out,
                                      sm_error *err);

/** Row \p id into \p out (released first). SM_ENOENT when there is none. */
SM_API sm_status sm_catalog_get(sm_catalog *cat, int64_t id, sm_sample *out, sm_error *err);
/** Row of \p path into \p out. SM_ENOENT when there is none. */
SM_API sm_status sm_catalog_get_by_path(sm_catalog *cat, const char *path, sm_sample *out,
                                        sm_error *err);

/** Flags of sm_catalog_sample_json beyond enum sm_json_flags (which use bits 0-7). */
enum sm_catalog_json_flags {
    SM_CATALOG_JSON_AI = 1 << 8, /**< add "ai": the stored AI answers by task */
};

/**
 * The full record of row \p id as JSON: the analysis object of DESIGN.md plus
 * "id", "root", "tags", "missing", "mtime"; \p flags are enum sm_json_flags and
 * enum sm_catalog_json_flags. With SM_CATALOG_JSON_AI, "ai" maps each task with a
 * stored answer to {"provider", "model", "answer", "cached", "latency_ms",
 * "tokens_in", "tokens_out", "tokens_estimated", "cost_usd", "created_at"}
 * ({} when there are none).
 * \return new text (sm_free), or NULL with \p err filled (SM_ENOENT: no row).
 */
SM_API char *sm_catalog_sample_json(sm_catalog *cat, int64_t id, unsigned flags,
                                    sm_error *err);

/** Rows matching \p q, sorted and limited as it says (appended to \p out). */
SM_API sm_status sm_catalog_search(sm_catalog *cat, const sm_query *q, sm_sample_list *out,
                                   sm_error *err);
/**
 * Ids of every row matching \p q's filters and words, ignoring sort and limit.
 * \param[out] ids new array (sm_free), ascending. \param[out] n its length.
 */
SM_API sm_status sm_catalog_search_ids(sm_catalog *cat, const sm_query *q, int64_t **ids,
                                       size_t *n, sm_error *err);

/** Add (\p add true) or remove tag \p tag on row \p id. Tags are lowercased. */
SM_API sm_status sm_catalog_tag(sm_catalog *cat, int64_t id, const char *tag, bool add,
                                sm_error *err);

/* ------------------------------------------------------------- AI answers --- */

/**
 * One AI answer stored with a sample. A sample keeps one answer per task: a newer
 * answer for the same task replaces the stored one (an answer older than the
 * stored one, by created_at, is ignored). Answers stay with a row when its file
 * moves and are deleted with it (prune, or a row giving way to another at its
 * path). In sm_catalog_put_ai_answer every string is borrowed; in the
 * sm_catalog_each_ai_answer callback every string is borrowed for the call.
 */
typedef struct sm_catalog_ai_answer {
    const char *task;      /**< "genre", "tags", "description"...: 1-31 bytes of a-z 0-9 - _ */
    const char *provider;  /**< who answered ("builtin", "openai"...); 1-63 bytes */
    const char *model;     /**< the model (may be ""); up to 127 bytes */
    const char *answer;    /**< the answer: a JSON object, as text */
    double latency_ms;     /**< >= 0 */
    int64_t tokens_in;     /**< >= 0; from the provider's usage, else estimated */
    int64_t tokens_out;    /**< >= 0 */
    bool tokens_estimated; /**< the token counts are estimates */
    double cost_usd;       /**< >= 0: estimated dollars the answer costs upstream */
    bool cached;           /**< it came from the answer cache */
    int64_t created_at;    /**< unix seconds; 0 in put means now */
} sm_catalog_ai_answer;

/** Zero answer (NULL strings, 0 numbers). Cannot fail. */
SM_API void sm_catalog_ai_answer_init(sm_catalog_ai_answer *a);

/**
 * Store answer \p a with row \p id, replacing the row's answer for the same task.
 * Two tasks have a meaning for the catalog, in the same transaction: the strings
 * of a "tags" answer's "tags" array become tags of the row (lowercased, spaces
 * turned into '-', ones that are still not valid tags skipped; tags are only
 * added, never removed by a later answer), and the "description" string of a
 * "description" answer becomes searchable text (the `description` column of the
 * full-text index: free words of a search match it, and it survives rescans and
 * re-analysis of the file).
 * \return SM_OK; SM_ENOENT "no sample with id N" for an unknown row; SM_EINVAL
 * naming the field for a bad task, provider, model, negative or NaN number, or an
 * answer that is not a JSON object; or the catalog's write errors (SM_EBUSY...).
 */
SM_API sm_status sm_catalog_put_ai_answer(sm_catalog *cat, int64_t id,
                                          const sm_catalog_ai_answer *a, sm_error *err);

/** Called per stored answer (borrowed during the call); non-zero stops. */
typedef int (*sm_catalog_ai_answer_fn)(const sm_catalog_ai_answer *a, void *userdata);

/**
 * Call \p fn for every answer stored with row \p id, by task name.
 * \return SM_OK (also when there are none); SM_ENOENT when there is no row \p id.
 */
SM_API sm_status sm_catalog_each_ai_answer(sm_catalog *cat, int64_t id,
                                           sm_catalog_ai_answer_fn fn, void *userdata,
                                           sm_error *err);

/**
 * A number that changes whenever another connection commits to the catalog
 * (another process's scan, another handle of this process); this handle's own
 * writes leave it alone. Cheap enough to ask before every read: SQLite compares
 * the WAL-index header of the "-shm" file, mapped read-only, and asks
 * `PRAGMA data_version` only when it moved (and once a second). Not safe to call
 * on one handle from two threads at once, like every call on a handle.
 * \return SM_OK with \p version set; the catalog's errors.
 */
SM_API sm_status sm_catalog_data_version(sm_catalog *cat, uint64_t *version, sm_error *err);

/** A stored per-file failure (borrowed during the callback). */
typedef struct sm_catalog_error_rec {
    const char *path;
    const char *root;
    const char *code;     /**< sm_status_name of the failure */
    const char *message;
    int64_t at;           /**< unix seconds */
} sm_catalog_error_rec;

typedef int (*sm_catalog_error_fn)(const sm_catalog_error_rec *e, void *userdata);
SM_API sm_status sm_catalog_each_error(sm_catalog *cat, sm_catalog_error_fn fn, void *userdata,
                                       sm_error *err);

#define SM_STATS_TEMPO_BINS 16 /**< 10-BPM bins from 50 to 210 */

typedef struct sm_catalog_stats {
    int64_t samples;       /**< present rows */
    int64_t missing;
    int64_t errors;
    int64_t loops;
    int64_t tagged;
    int64_t roots;
    double total_duration; /**< seconds, present rows */
    int64_t by_category[SM_CAT_COUNT];
    int64_t by_key[24];    /**< index tonic + 12 * mode */
    int64_t no_key;
    int64_t tempo[SM_STATS_TEMPO_BINS];
    int64_t tempo_below;   /**< bpm < 50 */
    int64_t tempo_above;   /**< bpm >= 210 */
    int64_t no_tempo;
} sm_catalog_stats;

SM_API sm_status sm_catalog_stats_get(sm_catalog *cat, sm_catalog_stats *out, sm_error *err);

/** Called per group of exact duplicates: \p ids (borrowed) share content \p hash. */
typedef int (*sm_catalog_dup_fn)(const char *hash, const int64_t *ids, size_t n,
                                 void *userdata);
/** Every group of present rows with the same content hash, largest groups first. */
SM_API sm_status sm_catalog_each_duplicate(sm_catalog *cat, sm_catalog_dup_fn fn,
                                           void *userdata, sm_error *err);

/** Called per stored embedding (borrowed during the call). */
typedef int (*sm_catalog_vec_fn)(int64_t id, const float *v, size_t dim, void *userdata);
/** Every embedding of a present row, in id order: only those of
 * SM_EMBEDDING_VERSION (older ones are not comparable; a scan recomputes them,
 * as SM_ANALYZER_VERSION changes with the embedding). */
SM_API sm_status sm_catalog_each_embedding(sm_catalog *cat, sm_catalog_vec_fn fn,
                                           void *userdata, sm_error *err);
/** The embedding of row \p id into \p out (capacity \p cap). SM_ENOENT without
 * one of SM_EMBEDDING_VERSION. */
SM_API sm_status sm_catalog_get_embedding(sm_catalog *cat, int64_t id, float *out, size_t cap,
                                          size_t *dim, sm_error *err);

/* ----------------------------------------------------------- filter index --- */

/**
 * In-memory filter index: a snapshot of every row's filterable descriptors in
 * contiguous arrays (plus category, key, loop, missing, tags, and the path and
 * name orders), for searches in well under a millisecond at 100k rows.
 * Filtering, sorting and paging run in C; plain words are matched and ranked
 * from a copy of the full-text index read on the first search with words (other
 * words go through the catalog's full-text index), with the same relevance; only
 * the page's rows are read from the catalog (sm_findex_page: none).
 * sm_findex_search returns the same rows in the same order as sm_catalog_search
 * on the catalog state the index was loaded from; after the catalog changes
 * (scan, tag, upload) load a new index, as for sm_vindex. Searches may run
 * concurrently (one catalog handle per thread).
 *
 *     sm_findex *fx = sm_findex_load(cat, &err);     (once; ~0.5-1 s per 1M rows)
 *     sm_findex_search(fx, cat, &q, &hits, &err);   (per query)
 */
typedef struct sm_findex sm_findex;

/** Load the index from \p cat (one read snapshot). \return new index, or NULL with \p err. */
SM_API sm_findex *sm_findex_load(sm_catalog *cat, sm_error *err);
SM_API void sm_findex_free(sm_findex *fx);
/** \return the number of rows (present and missing) in the index. */
SM_API size_t sm_findex_size(const sm_findex *fx);
/** As sm_catalog_search (rows appended to \p out), filtered and sorted in memory. */
SM_API sm_status sm_findex_search(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                                  sm_sample_list *out, sm_error *err);
/** One row of a page from sm_findex_page. */
typedef struct sm_findex_hit {
    int64_t id;
    double score;   /**< the relevance sm_sample.score reports; NaN without words */
    uint32_t row;   /**< the row's slot in the index (for sm_findex_row_text) */
} sm_findex_hit;

/**
 * The page \p q asks for (its offset and limit) without reading the catalog's
 * rows: the same rows in the same order as sm_findex_search, as ids, slots and
 * scores in \p hits (new, sm_free; \p n of them), and in \p total (may be NULL)
 * the number of matches before the page was cut. The full-text matches of the
 * last words searched are kept with the index, so the next pages of the same
 * words skip the full-text pass. \return SM_OK; SM_EINTERNAL when the catalog
 * cannot rank words this way (search with sm_catalog_search instead).
 */
SM_API sm_status sm_findex_page(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                                sm_findex_hit **hits, size_t *n, size_t *total, sm_error *err);

/** Bytes of text sm_findex_row_text_put keeps at most per index. */
#define SM_FINDEX_TEXT_BUDGET ((size_t)32 << 20)
/**
 * A text the caller keeps per row with the index, dropped with it (the server
 * keeps each row's JSON there, so a page is assembled without reading the
 * catalog). \return the text (borrowed, NUL-terminated, valid until
 * sm_findex_free) with its length in \p len, or NULL when none is kept.
 */
SM_API const char *sm_findex_row_text(const sm_findex *fx, uint32_t row, size_t *len);
/**
 * Keep a copy of \p text for \p row unless one is kept already or the kept texts
 * would pass SM_FINDEX_TEXT_BUDGET. Safe while other threads search and put.
 * \return true when this copy was kept.
 */
SM_API bool sm_findex_row_text_put(const sm_findex *fx, uint32_t row, const char *text,
                                   size_t len);
/** As sm_catalog_search_ids (ascending ids of every match; \p ids new, sm_free). */
SM_API sm_status sm_findex_search_ids(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                                      int64_t **ids, size_t *n, sm_error *err);

/* ---------------------------------------------------------------- scanning --- */

enum sm_scan_phase { SM_SCAN_WALKING = 0, SM_SCAN_ANALYZING, SM_SCAN_FINISHING, SM_SCAN_DONE };

/** Counters of a scan, passed to the progress callback and returned at the end. */
typedef struct sm_scan_progress {
    int phase;              /**< enum sm_scan_phase */
    size_t found;           /**< audio files found by the walk (by extension) */
    size_t to_analyze;      /**< new or changed files */
    size_t analyzed;        /**< of to_analyze, handled so far (stored, failed or skipped) */
    size_t unchanged;       /**< same size, mtime and analyzer version: skipped */
    size_t added;           /**< new rows */
    size_t updated;         /**< changed files re-analyzed */
    size_t moved;           /**< new paths recognised by content hash (rows kept) */
    size_t failed;          /**< per-file failures stored (see sm_catalog_each_error) */
    size_t not_audio;       /**< audio extension but no audio magic bytes: skipped */
    size_t vanished;        /**< files gone during the scan */
    size_t missing;         /**< rows newly marked missing */
    size_t reappeared;      /**< missing rows found again */
    size_t unreadable_dirs; /**< folders that could not be read (stored as errors) */
    size_t loops;           /**< symlinked folders skipped because already visited */
    int64_t pruned;         /**< rows removed by prune */
    double elapsed;         /**< seconds since the start */
    double cpu;             /**< CPU seconds of the process (all threads) since the start */
    double writer_cpu;      /**< CPU seconds of the calling thread: walk, compare, store */
    bool interrupted;       /**< stopped early by the stop flag */
    const char *current;    /**< borrowed: the file last handled (progress only) */
} sm_scan_progress;

typedef void (*sm_scan_progress_fn)(const sm_scan_progress *p, void *userdata);

typedef struct sm_scan_opts {
    int threads;                /**< analysis threads; 0 = one per core, plus one */
    size_t batch;               /**< files per transaction; 0 = 200 */
    bool prune;                 /**< delete missing rows under the roots afterwards */
    bool force;                 /**< re-analyze every file */
    bool wait_lock;             /**< wait for another scan instead of failing */
    const volatile int *stop;   /**< when it becomes non-zero, stop after the batch */
    sm_scan_progress_fn progress;
    void *userdata;
    double progress_interval;   /**< seconds between progress calls; 0 = 0.1 */
} sm_scan_opts;

/**
 * Scan \p roots into \p cat: walk (symlinked folders followed once, hidden and
 * non-audio files skipped), analyze new and changed files on a thread pool, store
 * them in batches, recognise moved files by content hash, mark vanished files
 * missing. Per-file failures are stored, never fatal.
 * \param[out] result final counters (may be NULL).
 * \return SM_OK (also when some files failed or the scan was stopped), or an
 * error when a root is unusable, another scan holds the lock, or the catalog
 * cannot be written (the open batch is rolled back).
 */
SM_API sm_status sm_scan_run(sm_catalog *cat, const char *const *roots, size_t n_roots,
                             const sm_scan_opts *opts, sm_scan_progress *result, sm_error *err);

/* ----------------------------------------------------------- vector index --- */

/**
 * In-memory nearest-neighbour index: contiguous float32 unit vectors, brute force
 * with a top-k heap. Distance is sm_embedding_distance (1 - cosine). Not
 * thread-safe for adds; searches may run concurrently once loading is done.
 */
typedef struct sm_vindex sm_vindex;

/** \return new empty index of \p dim-float vectors, or NULL with \p err filled. */
SM_API sm_vindex *sm_vindex_new(size_t dim, sm_error *err);
SM_API void sm_vindex_free(sm_vindex *vx);
/** Add a vector (normalised on the way in; NaN counts as 0). */
SM_API sm_status sm_vindex_add(sm_vindex *vx, int64_t id, const float *v, sm_error *err);
/** \return the number of vectors. */
SM_API size_t sm_vindex_size(const sm_vindex *vx);
SM_API size_t sm_vindex_dim(const sm_vindex *vx);
/** Load every embedding of \p cat whose length is \p dim. */
SM_API sm_status sm_vindex_load(sm_vindex *vx, sm_catalog *cat, sm_error *err);

/**
 * The \p k nearest vectors to \p q, nearest first, skipping \p exclude_id (0 for
 * none) and, when \p allow is non-NULL, every id not in the ascending array
 * allow[0..n_allow). \param[out] ids, dist at least \p k entries.
 * \return the number found (<= k).
 */
SM_API size_t sm_vindex_search(const sm_vindex *vx, const float *q, size_t k,
                               int64_t exclude_id, const int64_t *allow, size_t n_allow,
                               int64_t *ids, float *dist);

/** Called per near-duplicate group (ids borrowed, ascending). */
typedef int (*sm_vindex_group_fn)(const int64_t *ids, size_t n, void *userdata);
/**
 * Group vectors whose distance is at most \p threshold (single linkage). Groups
 * of one are not reported. O(n^2 dim): fine to some 100k vectors.
 */
SM_API sm_status sm_vindex_groups(const sm_vindex *vx, float threshold, sm_vindex_group_fn fn,
                                  void *userdata, sm_error *err);

#endif
