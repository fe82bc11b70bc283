/* The SQLite backend's internals shared by its files: sqlite.c (the handle,
 * transactions, samples, search) and answers.c (AI answers).
 *
 * The handle (impl) is the backend's struct db, opaque outside sqlite.c; these
 * functions give the other files what they need of it. */
#ifndef SM_CATALOG_SQLITE_INT_H
#define SM_CATALOG_SQLITE_INT_H

#include <stdbool.h>

#include <sqlite3.h>

#include "catalog/catalog_int.h"

/* The connection of impl (borrowed). */
sqlite3 *sm__sqlite_handle(void *impl);
/* Fill err from the connection's last error (busy, full disk, corrupt...) while
 * doing `what`; returns the status. */
sm_status sm__sqlite_fail(void *impl, sm_error *err, const char *what);
/* Start a write: joins an open batch, else begins one (*own true). */
sm_status sm__sqlite_write_begin(void *impl, bool *own, sm_error *err);
/* End a write started with sm__sqlite_write_begin: commits when own and rc is SM_OK,
 * rolls back when own and rc is not; returns the outcome. */
sm_status sm__sqlite_write_end(void *impl, bool own, sm_status rc, sm_error *err);

/* answers.c: the put_answer and each_answer operations of the backend. */
sm_status sm__sqlite_put_answer(void *impl, int64_t id, const sm_catalog_ai_answer *a,
                                const char *text, char *const *tags, size_t n_tags,
                                sm_error *err);
sm_status sm__sqlite_each_answer(void *impl, int64_t id, sm_catalog_ai_answer_fn fn, void *ud,
                                 sm_error *err);

#endif
