/* The day's spending file shared by every process of a data dir
 * (DATA_DIR/ai-spend.json: {"day":"YYYY-MM-DD","spent":dollars}).
 *
 * An addition is a read-modify-write under an exclusive flock on a lock file
 * beside it (the JSON file itself is replaced by rename, so it cannot carry the
 * lock): a server and `ai warm` spending at the same time both count. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "ai/ai_int.h"

double sm__ai_spend_read(const char *path, const char *day)
{
    json_t *o = json_load_file(path, 0, NULL);
    const char *d = json_string_value(json_object_get(o, "day"));
    double spent = d && !strcmp(d, day) ? json_number_value(json_object_get(o, "spent")) : 0.0;
    json_decref(o);
    return spent >= 0.0 ? spent : 0.0;
}

int sm__ai_spend_add(const char *path, const char *day, double floor, double dollars,
                     double *total)
{
    *total = floor + dollars;
    char lock[600];
    char tmp[600];
    if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp))
        return -1;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int r;
    do {
        r = flock(fd, LOCK_EX);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        close(fd);
        return -1;
    }
    /* The file is the total of every process; our own figure only when larger
     * (the file was removed or could not be written before). */
    double file = sm__ai_spend_read(path, day);
    *total = (file > floor ? file : floor) + dollars;
    json_t *o = json_pack("{s:s, s:f}", "day", day, "spent", *total);
    int rc = -1;
    if (o && json_dump_file(o, tmp, JSON_COMPACT) == 0) {
        if (rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
    }
    json_decref(o);
    close(fd); /* releases the lock */
    return rc;
}
