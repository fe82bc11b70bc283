/* Output through libsndfile: whole buffers or a stream, in WAV 16/24-bit,
 * 32-bit float WAV, FLAC, AIFF or Ogg Vorbis; and mkdir -p. */
#include "gen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <sndfile.h>

static const char *const fmt_names[GEN_NFMT] = {"wav16", "wav24", "f32", "flac", "aiff", "ogg"};
static const char *const fmt_exts[GEN_NFMT] = {"wav", "wav", "wav", "flac", "aiff", "ogg"};
static const int fmt_sf[GEN_NFMT] = {
    SF_FORMAT_WAV | SF_FORMAT_PCM_16,  SF_FORMAT_WAV | SF_FORMAT_PCM_24,
    SF_FORMAT_WAV | SF_FORMAT_FLOAT,   SF_FORMAT_FLAC | SF_FORMAT_PCM_16,
    SF_FORMAT_AIFF | SF_FORMAT_PCM_16, SF_FORMAT_OGG | SF_FORMAT_VORBIS};

int sm__gen_fmt_parse(const char *s)
{
    int k;
    for (k = 0; k < GEN_NFMT; k++) {
        if (strcmp(s, fmt_names[k]) == 0) {
            return k;
        }
    }
    return -1;
}

const char *sm__gen_fmt_ext(int fmt)
{
    if (fmt < 0 || fmt >= GEN_NFMT) {
        return "wav";
    }
    return fmt_exts[fmt];
}

int sm__gen_writer_open(struct gen_writer *w, const char *path, int rate, int channels, int fmt)
{
    SF_INFO info;
    SNDFILE *sf;
    memset(&info, 0, sizeof(info));
    info.samplerate = rate;
    info.channels = channels;
    info.format = fmt_sf[fmt >= 0 && fmt < GEN_NFMT ? fmt : GEN_WAV16];
    w->sf = NULL;
    w->channels = channels;
    if (!sf_format_check(&info)) {
        fprintf(stderr, "sm-gen: %s: unsupported format (%d Hz, %d channels)\n", path, rate,
                channels);
        return -1;
    }
    sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        fprintf(stderr, "sm-gen: cannot write %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    /* Clip rather than wrap if a sample ever reaches full scale. */
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (fmt == GEN_OGG) {
        double q = 0.6;
        sf_command(sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof(q));
    }
    w->sf = sf;
    return 0;
}

int sm__gen_writer_write(struct gen_writer *w, const float *x, size_t frames)
{
    sf_count_t n = (sf_count_t)frames;
    if (sf_writef_float((SNDFILE *)w->sf, x, n) != n) {
        fprintf(stderr, "sm-gen: write failed: %s\n", sf_strerror((SNDFILE *)w->sf));
        return -1;
    }
    return 0;
}

int sm__gen_writer_close(struct gen_writer *w)
{
    int rc = 0;
    if (w->sf) {
        if (sf_close((SNDFILE *)w->sf) != 0) {
            fprintf(stderr, "sm-gen: close failed\n");
            rc = -1;
        }
        w->sf = NULL;
    }
    return rc;
}

#define GEN_CHUNK 4096

int sm__gen_write(const char *path, const struct gen_audio *a, int fmt)
{
    struct gen_writer w;
    float buf[GEN_CHUNK * 2];
    size_t i = 0;
    if (sm__gen_writer_open(&w, path, a->rate, a->channels, fmt)) {
        return -1;
    }
    while (i < a->frames) {
        size_t m = a->frames - i < GEN_CHUNK ? a->frames - i : GEN_CHUNK;
        const float *src = a->ch[0] + i;
        size_t j;
        if (a->channels == 2) {
            for (j = 0; j < m; j++) {
                buf[2 * j] = a->ch[0][i + j];
                buf[2 * j + 1] = a->ch[1][i + j];
            }
            src = buf;
        }
        if (sm__gen_writer_write(&w, src, m)) {
            sm__gen_writer_close(&w);
            remove(path);
            return -1;
        }
        i += m;
    }
    if (sm__gen_writer_close(&w)) {
        fprintf(stderr, "sm-gen: cannot finish %s\n", path);
        return -1;
    }
    return 0;
}

int sm__gen_mkdirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    size_t i;
    if (len == 0 || len >= sizeof(tmp)) {
        fprintf(stderr, "sm-gen: bad directory path\n");
        return -1;
    }
    memcpy(tmp, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char saved = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "sm-gen: cannot create %s: %s\n", tmp, strerror(errno));
                return -1;
            }
            tmp[i] = saved;
        }
    }
    return 0;
}
