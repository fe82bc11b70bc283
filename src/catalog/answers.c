/* The SQLite backend's AI answers: table ai_answers (one row per sample and task,
 * deleted with the sample by its foreign key), the tags a "tags" answer adds, and
 * the searchable text that fills the `description` column of samples_fts.
 *
 * samples_fts is rebuilt from the tables whenever it is written (here, by tag
 * changes and by put in sqlite.c), so the text of an answer survives rescans and
 * re-analysis. docs/catalog.md has the schema. */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <samplemind/catalog.h>

#include "catalog/catalog_int.h"
#include "catalog/sqlite_int.h"

static const char sql_upsert[] =
    "INSERT INTO ai_answers(sample_id, task, provider, model, answer, text, latency_ms,"
    " tokens_in, tokens_out, tokens_estimated, cost_usd, cached, created_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT(sample_id, task) DO UPDATE SET provider = excluded.provider,"
    " model = excluded.model, answer = excluded.answer, text = excluded.text,"
    " latency_ms = excluded.latency_ms, tokens_in = excluded.tokens_in,"
    " tokens_out = excluded.tokens_out, tokens_estimated = excluded.tokens_estimated,"
    " cost_usd = excluded.cost_usd, cached = excluded.cached, created_at = excluded.created_at"
    " WHERE excluded.created_at >= ai_answers.created_at";

static const char sql_tag[] = "INSERT OR IGNORE INTO tags(sample_id, tag) VALUES(?1, ?2)";

/* The row's searchable columns from the tables (as the put of sqlite.c writes them). */
static const char sql_fts[] =
    "UPDATE samples_fts SET"
    " tags = (SELECT coalesce(group_concat(tag, ' '), '') FROM tags WHERE sample_id = ?1),"
    " description = (SELECT coalesce(group_concat(text, ' '), '') FROM ai_answers"
    " WHERE sample_id = ?1 AND text IS NOT NULL)"
    " WHERE rowid = ?1";

static const char sql_list[] =
    "SELECT a.task, a.provider, a.model, a.answer, a.latency_ms, a.tokens_in, a.tokens_out,"
    " a.tokens_estimated, a.cost_usd, a.cached, a.created_at"
    " FROM samples s LEFT JOIN ai_answers a ON a.sample_id = s.id WHERE s.id = ?1"
    " ORDER BY a.task";

static sm_status no_sample(int64_t id, sm_error *err)
{
    return sm_error_set(err, SM_ENOENT, "catalog: no sample with id %lld", (long long)id);
}

/* Prepare sql, bind ?1 to id; NULL with err filled on failure. */
static sqlite3_stmt *prep_id(void *impl, const char *sql, int64_t id, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sm__sqlite_handle(impl), sql, -1, &st, NULL) != SQLITE_OK) {
        sm__sqlite_fail(impl, err, "preparing a statement");
        sqlite3_finalize(st);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    return st;
}

/* Run st to the end and finalize it. */
static sm_status run(void *impl, sqlite3_stmt *st, const char *what, sm_error *err)
{
    sm_status rc = SM_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sm__sqlite_fail(impl, err, what);
    sqlite3_finalize(st);
    return rc;
}

static sm_status put_body(void *impl, int64_t id, const sm_catalog_ai_answer *a,
                          const char *text, char *const *tags, size_t n_tags, sm_error *err)
{
    sqlite3_stmt *st = prep_id(impl, "SELECT 1 FROM samples WHERE id = ?1", id, err);
    if (!st)
        return err ? err->code : SM_EIO;
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r == SQLITE_DONE)
        return no_sample(id, err);
    if (r != SQLITE_ROW)
        return sm__sqlite_fail(impl, err, "looking up a sample");

    st = prep_id(impl, sql_upsert, id, err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_text(st, 2, a->task, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->answer, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_double(st, 7, a->latency_ms);
    sqlite3_bind_int64(st, 8, a->tokens_in);
    sqlite3_bind_int64(st, 9, a->tokens_out);
    sqlite3_bind_int(st, 10, a->tokens_estimated ? 1 : 0);
    sqlite3_bind_double(st, 11, a->cost_usd);
    sqlite3_bind_int(st, 12, a->cached ? 1 : 0);
    sqlite3_bind_int64(st, 13, a->created_at);
    sm_status rc = run(impl, st, "storing an AI answer", err);

    for (size_t i = 0; i < n_tags && rc == SM_OK; i++) {
        st = prep_id(impl, sql_tag, id, err);
        if (!st)
            return err ? err->code : SM_EIO;
        sqlite3_bind_text(st, 2, tags[i], -1, SQLITE_STATIC);
        rc = run(impl, st, "adding a tag from an AI answer", err);
    }
    if (rc != SM_OK)
        return rc;
    st = prep_id(impl, sql_fts, id, err);
    if (!st)
        return err ? err->code : SM_EIO;
    return run(impl, st, "updating the search index", err);
}

sm_status sm__sqlite_put_answer(void *impl, int64_t id, const sm_catalog_ai_answer *a,
                                const char *text, char *const *tags, size_t n_tags,
                                sm_error *err)
{
    bool own;
    sm_status rc = sm__sqlite_write_begin(impl, &own, err);
    if (rc != SM_OK)
        return rc;
    rc = put_body(impl, id, a, text, tags, n_tags, err);
    return sm__sqlite_write_end(impl, own, rc, err);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

sm_status sm__sqlite_each_answer(void *impl, int64_t id, sm_catalog_ai_answer_fn fn, void *ud,
                                 sm_error *err)
{
    sqlite3_stmt *st = prep_id(impl, sql_list, id, err);
    if (!st)
        return err ? err->code : SM_EIO;
    sm_status rc = SM_OK;
    bool any = false;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        any = true;
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue; /* the sample has no answers */
        sm_catalog_ai_answer a;
        sm_catalog_ai_answer_init(&a);
        a.task = col_text(st, 0);
        a.provider = col_text(st, 1);
        a.model = col_text(st, 2);
        a.answer = col_text(st, 3);
        a.latency_ms = sqlite3_column_double(st, 4);
        a.tokens_in = sqlite3_column_int64(st, 5);
        a.tokens_out = sqlite3_column_int64(st, 6);
        a.tokens_estimated = sqlite3_column_int(st, 7) != 0;
        a.cost_usd = sqlite3_column_double(st, 8);
        a.cached = sqlite3_column_int(st, 9) != 0;
        a.created_at = sqlite3_column_int64(st, 10);
        if (fn(&a, ud) != 0)
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = sm__sqlite_fail(impl, err, "reading AI answers");
    else if (!any)
        rc = no_sample(id, err);
    sqlite3_finalize(st);
    return rc;
}
