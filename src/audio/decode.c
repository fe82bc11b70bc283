#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include <samplemind/alloc.h>
#include <samplemind/audio.h>

struct sm_decoder {
    SNDFILE *sf;
    int channels;
    int64_t nonfinite;
};

static void name_format(int format, char *fmt, size_t fsize, char *codec, size_t csize)
{
    const char *f = "unknown";
    switch (format & SF_FORMAT_TYPEMASK) {
        case SF_FORMAT_WAV:
        case SF_FORMAT_WAVEX:
        case SF_FORMAT_RF64:
        case SF_FORMAT_W64:
            f = "wav";
            break;
        case SF_FORMAT_AIFF:
            f = "aiff";
            break;
        case SF_FORMAT_FLAC:
            f = "flac";
            break;
        case SF_FORMAT_OGG:
            f = "ogg";
            break;
        case SF_FORMAT_CAF:
            f = "caf";
            break;
        case SF_FORMAT_AU:
            f = "au";
            break;
        case SF_FORMAT_MPEG:
            f = "mp3";
            break;
        default:
            break;
    }
    const char *c = "unknown";
    switch (format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8:
            c = "pcm_s8";
            break;
        case SF_FORMAT_PCM_U8:
            c = "pcm_u8";
            break;
        case SF_FORMAT_PCM_16:
            c = "pcm_s16";
            break;
        case SF_FORMAT_PCM_24:
            c = "pcm_s24";
            break;
        case SF_FORMAT_PCM_32:
            c = "pcm_s32";
            break;
        case SF_FORMAT_FLOAT:
            c = "pcm_f32";
            break;
        case SF_FORMAT_DOUBLE:
            c = "pcm_f64";
            break;
        case SF_FORMAT_ULAW:
            c = "ulaw";
            break;
        case SF_FORMAT_ALAW:
            c = "alaw";
            break;
        case SF_FORMAT_IMA_ADPCM:
        case SF_FORMAT_MS_ADPCM:
            c = "adpcm";
            break;
        case SF_FORMAT_VORBIS:
            c = "vorbis";
            break;
        case SF_FORMAT_OPUS:
            c = "opus";
            break;
        case SF_FORMAT_MPEG_LAYER_III:
            c = "mp3";
            break;
        default:
            break;
    }
    if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC)
        c = "flac";
    snprintf(fmt, fsize, "%s", f);
    snprintf(codec, csize, "%s", c);
}

/* libsndfile reports open failures through a global (sf_error(NULL)), which is not
 * thread-safe. We classify the failure ourselves from the first bytes instead. */
static sm_status classify_open_failure(const char *path, sm_error *err)
{
    unsigned char head[12] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        return sm_error_set(err, SM_EIO, "cannot read: %s", strerror(errno));
    const char *kind = NULL;
    if (n >= 4 && (!memcmp(head, "RIFF", 4) || !memcmp(head, "RF64", 4)))
        kind = "WAV";
    else if (n >= 4 && !memcmp(head, "FORM", 4))
        kind = "AIFF";
    else if (n >= 4 && !memcmp(head, "fLaC", 4))
        kind = "FLAC";
    else if (n >= 4 && !memcmp(head, "OggS", 4))
        kind = "Ogg";
    else if (n >= 3 && (!memcmp(head, "ID3", 3) || (head[0] == 0xFF && (head[1] & 0xE0) == 0xE0)))
        kind = "MP3";
    if (kind)
        return sm_error_set(err, SM_ECORRUPT,
                            "%s header is truncated or corrupt (%zd bytes read at start)", kind,
                            n);
    char hex[40];
    size_t off = 0;
    for (ssize_t i = 0; i < n && i < 8; i++)
        off += (size_t)snprintf(hex + off, sizeof(hex) - off, "%02x", head[i]);
    hex[off] = '\0';
    return sm_error_set(err, SM_EFORMAT, "not a recognised audio format (starts with bytes %s)",
                        off ? hex : "<none>");
}

sm_decoder *sm_decoder_open(const char *path, sm_audio_info *info, sm_error *err)
{
    if (!path || !info) {
        sm_error_set(err, SM_EINVAL, "decoder: path and info are required");
        return NULL;
    }
    memset(info, 0, sizeof(*info));
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        sm_status code = e == ENOENT || e == ENOTDIR ? SM_ENOENT
                         : e == EACCES             ? SM_EACCES
                                                   : SM_EIO;
        sm_error_set(err, code, "cannot open: %s", strerror(e));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        sm_error_set(err, SM_EISDIR, "is a directory, not an audio file");
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        sm_error_set(err, SM_EFORMAT, "not a regular file");
        return NULL;
    }
    info->size = (int64_t)st.st_size;
    if (st.st_size == 0) {
        sm_error_set(err, SM_EEMPTY, "file is empty (0 bytes)");
        return NULL;
    }
    if (access(path, R_OK) != 0) {
        sm_error_set(err, SM_EACCES, "cannot open: %s", strerror(errno));
        return NULL;
    }

    SF_INFO sfi;
    memset(&sfi, 0, sizeof(sfi));
    SNDFILE *sf = sf_open(path, SFM_READ, &sfi);
    if (!sf) {
        classify_open_failure(path, err);
        return NULL;
    }
    if (sfi.channels < 1 || sfi.channels > SM_MAX_CHANNELS) {
        sf_close(sf);
        sm_error_set(err, SM_EFORMAT, "%d channels (at most %d supported)", sfi.channels,
                     SM_MAX_CHANNELS);
        return NULL;
    }
    if (sfi.samplerate < 1000 || sfi.samplerate > 768000) {
        sf_close(sf);
        sm_error_set(err, SM_EFORMAT, "sample rate %d Hz is out of range (1 kHz..768 kHz)",
                     sfi.samplerate);
        return NULL;
    }
    if (sfi.frames <= 0) {
        sf_close(sf);
        sm_error_set(err, SM_EEMPTY, "no audio frames (the header declares 0)");
        return NULL;
    }
    sm_decoder *d = sm_calloc(1, sizeof(*d));
    if (!d) {
        sf_close(sf);
        sm_error_set(err, SM_ENOMEM, "decoder: out of memory");
        return NULL;
    }
    d->sf = sf;
    d->channels = sfi.channels;
    info->sample_rate = sfi.samplerate;
    info->channels = sfi.channels;
    info->frames = sfi.frames == SF_COUNT_MAX ? -1 : (int64_t)sfi.frames;
    name_format(sfi.format, info->format, sizeof(info->format), info->codec,
                sizeof(info->codec));
    return d;
}

/* Any NaN or Inf? A branch-free pass the compiler vectorises; the fix-up loop
 * runs only on the rare block that needs it. */
static bool has_nonfinite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof(u));
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    return bad != 0;
}

int64_t sm_decoder_read(sm_decoder *d, float *buf, size_t frames, sm_error *err)
{
    if (!d || !buf) {
        sm_error_set(err, SM_EINVAL, "decoder: NULL argument");
        return -1;
    }
    sf_count_t n = sf_readf_float(d->sf, buf, (sf_count_t)frames);
    if (n < 0) {
        sm_error_set(err, SM_ECORRUPT, "decode failed: %s", sf_strerror(d->sf));
        return -1;
    }
    if (n == 0 && sf_error(d->sf) != SF_ERR_NO_ERROR) {
        sm_error_set(err, SM_ECORRUPT, "decode failed: %s", sf_strerror(d->sf));
        return -1;
    }
    size_t count = (size_t)n * (size_t)d->channels;
    if (has_nonfinite(buf, count)) {
        for (size_t i = 0; i < count; i++) {
            if (!isfinite(buf[i])) {
                buf[i] = 0.0f;
                d->nonfinite++;
            }
        }
    }
    return (int64_t)n;
}

int64_t sm_decoder_nonfinite(const sm_decoder *d)
{
    return d ? d->nonfinite : 0;
}

void sm_decoder_close(sm_decoder *d)
{
    if (!d)
        return;
    if (d->sf)
        sf_close(d->sf);
    sm_free(d);
}
