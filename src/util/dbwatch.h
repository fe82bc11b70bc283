/* "Has another connection committed?" for a SQLite database in WAL mode, without a
 * system call (internal).
 *
 * PRAGMA data_version answers exactly but costs a read transaction: file locks,
 * several system calls and the connection's mutex. Every commit rewrites the
 * WAL-index header at the start of the "-shm" file (its change counter, last
 * frame and salts: https://www.sqlite.org/walformat.html, section 2.2), which every
 * connection maps. We map its first page read-only too and compare the header
 * with the last one seen: when it moved, the exact check is worth making. Because
 * a header read while it is being written may look old, and as a safety net for
 * anything unforeseen, the exact check is also made every 10 ms for a second
 * after a change is seen (it was every call: under load that put a read
 * transaction on every request for a second after each login), and once a second
 * in any case. Readers that cache rows
 * keyed on the database call sm__dbwatch_due() first and consult data_version only
 * when it says so.
 *
 * The mapping is safe while the process keeps a connection to the database open
 * (SQLite truncates the -shm file only when no connection has it open); callers
 * own such a connection. Not thread-safe: call under the lock that guards the
 * caller's cached state. */
#ifndef SM_UTIL_DBWATCH_H
#define SM_UTIL_DBWATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_DBWATCH_HDR 48 /* one copy of the WAL-index header */

struct sm_dbwatch {
    char shm[PATH_MAX];
    const volatile unsigned char *map; /* the -shm file's first page; NULL: not mapped */
    size_t map_len;
    int64_t dev, ino;                  /* the mapped file */
    unsigned char seen[SM_DBWATCH_HDR];
    int64_t careful_until_ms; /* exact checks every 10 ms until then */
    int64_t careful_next_ms;  /* the next of them */
    int64_t next_check_ms;    /* the periodic exact check */
};

/* Watch the database at \p db_path (its "-shm" file). A path that cannot be
 * watched (NULL, in memory, too long) makes every call due. */
void sm__dbwatch_init(struct sm_dbwatch *w, const char *db_path);

/* True when the caller must consult PRAGMA data_version now. */
bool sm__dbwatch_due(struct sm_dbwatch *w);

/* Unmaps the file. */
void sm__dbwatch_close(struct sm_dbwatch *w);

#endif
