/* See dbwatch.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/dbwatch.h"

#define CAREFUL_MS 1000
#define CAREFUL_EVERY_MS 10
#define PERIOD_MS 1000
#define MAP_LEN 4096

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sm__dbwatch_init(struct sm_dbwatch *w, const char *db_path)
{
    memset(w, 0, sizeof(*w));
    w->ino = -1;
    if (!db_path || !*db_path || !strcmp(db_path, ":memory:") ||
        snprintf(w->shm, sizeof(w->shm), "%s-shm", db_path) >= (int)sizeof(w->shm))
        w->shm[0] = '\0';
}

void sm__dbwatch_close(struct sm_dbwatch *w)
{
    if (w->map)
        munmap((void *)(uintptr_t)w->map, w->map_len);
    w->map = NULL;
    w->ino = -1;
}

/* (Re)maps the -shm file when it is not mapped or the path names another file. */
static void remap(struct sm_dbwatch *w)
{
    struct stat st;
    if (stat(w->shm, &st) != 0 || st.st_size < MAP_LEN) {
        sm__dbwatch_close(w);
        return;
    }
    if (w->map && (int64_t)st.st_ino == w->ino && (int64_t)st.st_dev == w->dev)
        return;
    sm__dbwatch_close(w);
    int fd = open(w->shm, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    void *p = mmap(NULL, MAP_LEN, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return;
    w->map = p;
    w->map_len = MAP_LEN;
    w->dev = (int64_t)st.st_dev;
    w->ino = (int64_t)st.st_ino;
}

bool sm__dbwatch_due(struct sm_dbwatch *w)
{
    if (!w->shm[0])
        return true;
    int64_t now = mono_ms();
    bool periodic = now >= w->next_check_ms;
    if (!w->map || periodic)
        remap(w);
    if (!w->map)
        return true; /* nothing to compare: check exactly */
    unsigned char hdr[SM_DBWATCH_HDR];
    for (size_t i = 0; i < sizeof(hdr); i++)
        hdr[i] = w->map[i];
    if (memcmp(hdr, w->seen, sizeof(hdr))) {
        memcpy(w->seen, hdr, sizeof(hdr));
        w->careful_until_ms = now + CAREFUL_MS;
        periodic = true; /* a change: check now */
    }
    if (periodic || (now < w->careful_until_ms && now >= w->careful_next_ms)) {
        w->next_check_ms = now + PERIOD_MS;
        w->careful_next_ms = now + CAREFUL_EVERY_MS;
        return true;
    }
    return false;
}
