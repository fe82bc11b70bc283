/* Scan internals: the folder walker and the audio file checks (walk.c), used by
 * the incremental scan (scan.c). */
#ifndef SM_SCAN_INT_H
#define SM_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <samplemind/error.h>

/* A file the walk found. path is new (sm_free). */
struct sm__walk_file {
    char *path;
    int64_t size;
    int64_t mtime_ns;
};

struct sm__walk_result {
    struct sm__walk_file *files;
    size_t n;
    size_t cap;
    char **bad_dirs;        /* folders that could not be read (new strings) */
    int *bad_errno;
    size_t n_bad;
    size_t loops;           /* folders skipped because already visited (symlink loops) */
};

/* True when name ends in an audio extension (wav, wave, aif, aiff, aifc, flac,
 * ogg, oga, opus, mp3; any case). */
bool sm__scan_audio_ext(const char *name);

/* 1 when the first bytes of the file are those of an audio container (RIFF/WAVE,
 * RF64, FORM/AIFF or AIFC, fLaC, OggS, ID3 or an MPEG frame sync), 0 when they
 * are not, -1 when the file cannot be read (errno set). */
int sm__scan_audio_magic(const char *path);

/* Walk root (an absolute folder path without trailing slash) into out. Hidden
 * entries (leading '.') are skipped; symlinks are followed, each folder (by
 * device and inode) is visited once. *stop non-zero ends the walk early.
 * Returns SM_OK, or an error when root itself cannot be read or memory runs out. */
sm_status sm__scan_walk(const char *root, struct sm__walk_result *out, const volatile int *stop,
                        sm_error *err);

void sm__walk_result_release(struct sm__walk_result *r);

#endif
