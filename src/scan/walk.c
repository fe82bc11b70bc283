/* The folder walker: an explicit stack (no recursion limit), readdir plus one
 * fstatat per audio file, symlinks followed with a visited set of (device, inode)
 * so a link loop is entered once, hidden entries skipped. */
/* d_type (DT_DIR...) is a BSD/GNU extension of struct dirent. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <samplemind/alloc.h>

#include "scan/scan_int.h"

bool sm__scan_audio_ext(const char *name)
{
    static const char *const exts[] = {"wav", "wave", "aif", "aiff", "aifc", "flac",
                                       "ogg", "oga",  "opus", "mp3"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || strlen(dot + 1) > 4)
        return false;
    char e[8];
    size_t n = 0;
    for (const char *c = dot + 1; *c && n < sizeof(e) - 1; c++)
        e[n++] = (char)tolower((unsigned char)*c);
    e[n] = '\0';
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (!strcmp(e, exts[i]))
            return true;
    return false;
}

int sm__scan_audio_magic(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    unsigned char b[12];
    ssize_t n = read(fd, b, sizeof(b));
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    if (n >= 12 && (!memcmp(b, "RIFF", 4) || !memcmp(b, "RF64", 4) || !memcmp(b, "BW64", 4)) &&
        !memcmp(b + 8, "WAVE", 4))
        return 1;
    if (n >= 12 && !memcmp(b, "FORM", 4) && (!memcmp(b + 8, "AIFF", 4) || !memcmp(b + 8, "AIFC", 4)))
        return 1;
    if (n >= 4 && (!memcmp(b, "fLaC", 4) || !memcmp(b, "OggS", 4)))
        return 1;
    if (n >= 3 && !memcmp(b, "ID3", 3))
        return 1;
    /* MPEG audio frame sync: 11 set bits, a valid layer and bitrate index. */
    if (n >= 3 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x06) != 0 &&
        (b[2] & 0xF0) != 0xF0)
        return 1;
    return 0;
}

struct dirid {
    dev_t dev;
    ino_t ino;
};

/* Open-addressing set of visited folders. */
struct visited {
    struct dirid *v;
    bool *used;
    size_t cap;
    size_t n;
};

static size_t dir_hash(struct dirid d)
{
    uint64_t h = (uint64_t)d.ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)d.dev;
    return (size_t)(h ^ (h >> 29));
}

/* Returns 1 when added, 0 when already there, -1 when out of memory. */
static int visited_add(struct visited *s, struct dirid d)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct dirid *v = sm_calloc(cap, sizeof(*v));
        bool *used = sm_calloc(cap, sizeof(*used));
        if (!v || !used) {
            sm_free(v);
            sm_free(used);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->used[i])
                continue;
            size_t j = dir_hash(s->v[i]) & (cap - 1);
            while (used[j])
                j = (j + 1) & (cap - 1);
            used[j] = true;
            v[j] = s->v[i];
        }
        sm_free(s->v);
        sm_free(s->used);
        s->v = v;
        s->used = used;
        s->cap = cap;
    }
    size_t j = dir_hash(d) & (s->cap - 1);
    while (s->used[j]) {
        if (s->v[j].dev == d.dev && s->v[j].ino == d.ino)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->used[j] = true;
    s->v[j] = d;
    s->n++;
    return 1;
}

static int push_str(char ***v, size_t *n, size_t *cap, char *s)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        char **nv = sm_realloc(*v, c * sizeof(char *));
        if (!nv)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = s;
    return 0;
}

static int add_bad(struct sm__walk_result *r, const char *path, int e)
{
    char *p = sm_strdup(path);
    if (!p)
        return -1;
    char **v = sm_realloc(r->bad_dirs, (r->n_bad + 1) * sizeof(char *));
    int *ev = v ? sm_realloc(r->bad_errno, (r->n_bad + 1) * sizeof(int)) : NULL;
    if (v)
        r->bad_dirs = v;
    if (!v || !ev) {
        sm_free(p);
        return -1;
    }
    r->bad_errno = ev;
    r->bad_dirs[r->n_bad] = p;
    r->bad_errno[r->n_bad] = e;
    r->n_bad++;
    return 0;
}

static int add_file(struct sm__walk_result *r, char *path, const struct stat *sb)
{
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 1024;
        struct sm__walk_file *f = sm_realloc(r->files, c * sizeof(*f));
        if (!f)
            return -1;
        r->files = f;
        r->cap = c;
    }
    struct sm__walk_file *f = &r->files[r->n++];
    f->path = path;
    f->size = (int64_t)sb->st_size;
    f->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + (int64_t)sb->st_mtim.tv_nsec;
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir);
    size_t b = strlen(name);
    char *p = sm_malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (a == 0 || dir[a - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}

sm_status sm__scan_walk(const char *root, struct sm__walk_result *out, const volatile int *stop,
                        sm_error *err)
{
    struct visited seen = {NULL, NULL, 0, 0};
    /* Real folders first, symlinked ones after, so a folder reached both ways is
     * catalogued under its real path. */
    char **stack = NULL;
    size_t n_stack = 0;
    size_t cap_stack = 0;
    char **links = NULL;
    size_t n_links = 0;
    size_t cap_links = 0;
    sm_status rc = SM_OK;
    struct stat sb;
    if (stat(root, &sb) != 0) {
        return sm_error_set(err, errno == EACCES ? SM_EACCES : SM_ENOENT, "scan: %s: %s", root,
                            strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return sm_error_set(err, SM_EINVAL, "scan: %s is not a folder", root);
    char *r0 = sm_strdup(root);
    if (!r0 || push_str(&stack, &n_stack, &cap_stack, r0) != 0) {
        sm_free(r0);
        return sm_error_set(err, SM_ENOMEM, "scan: out of memory");
    }
    bool first = true;
    while ((n_stack > 0 || n_links > 0) && rc == SM_OK) {
        if (stop && *stop)
            break;
        char *dir = n_stack > 0 ? stack[--n_stack] : links[--n_links];
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int open_errno = dfd < 0 ? errno : 0;
        DIR *d = NULL;
        if (dfd >= 0 && fstat(dfd, &sb) == 0) {
            struct dirid id = {sb.st_dev, sb.st_ino};
            int added = visited_add(&seen, id);
            if (added < 0) {
                rc = sm_error_set(err, SM_ENOMEM, "scan: out of memory");
            } else if (added == 0) {
                out->loops++;
            } else {
                d = fdopendir(dfd);
                if (d)
                    dfd = -1; /* owned by d now */
                else
                    open_errno = errno;
            }
        }
        if (open_errno != 0 && rc == SM_OK) {
            if (first) {
                rc = sm_error_set(err, open_errno == EACCES ? SM_EACCES : SM_EIO,
                                  "scan: cannot read %s: %s", dir, strerror(open_errno));
            } else if (add_bad(out, dir, open_errno) != 0) {
                rc = sm_error_set(err, SM_ENOMEM, "scan: out of memory");
            }
        }
        if (dfd >= 0)
            close(dfd);
        first = false;
        if (!d) {
            sm_free(dir);
            continue;
        }
        int fd = dirfd(d);
        struct dirent *e;
        errno = 0;
        while (rc == SM_OK && (e = readdir(d)) != NULL) {
            const char *name = e->d_name;
            if (name[0] == '.')
                continue; /* ".", ".." and hidden files and folders */
            unsigned char type = e->d_type;
            bool maybe_dir = type == DT_DIR || type == DT_LNK || type == DT_UNKNOWN;
            bool audio = sm__scan_audio_ext(name);
            if (!maybe_dir && !(audio && type == DT_REG))
                continue;
            if (fstatat(fd, name, &sb, 0) != 0)
                continue; /* vanished, or a dangling link */
            if (S_ISDIR(sb.st_mode)) {
                char *p = join(dir, name);
                int pushed = !p                ? -1
                             : type == DT_LNK ? push_str(&links, &n_links, &cap_links, p)
                                              : push_str(&stack, &n_stack, &cap_stack, p);
                if (pushed != 0) {
                    sm_free(p);
                    rc = sm_error_set(err, SM_ENOMEM, "scan: out of memory");
                }
            } else if (S_ISREG(sb.st_mode) && audio) {
                char *p = join(dir, name);
                if (!p || add_file(out, p, &sb) != 0) {
                    sm_free(p);
                    rc = sm_error_set(err, SM_ENOMEM, "scan: out of memory");
                }
            }
            errno = 0;
        }
        closedir(d);
        sm_free(dir);
    }
    while (n_stack > 0)
        sm_free(stack[--n_stack]);
    sm_free(stack);
    while (n_links > 0)
        sm_free(links[--n_links]);
    sm_free(links);
    sm_free(seen.v);
    sm_free(seen.used);
    return rc;
}

void sm__walk_result_release(struct sm__walk_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        sm_free(r->files[i].path);
    sm_free(r->files);
    for (size_t i = 0; i < r->n_bad; i++)
        sm_free(r->bad_dirs[i]);
    sm_free(r->bad_dirs);
    sm_free(r->bad_errno);
    memset(r, 0, sizeof(*r));
}
