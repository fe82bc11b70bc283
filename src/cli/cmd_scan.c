/* samplemind scan DIR...: incremental scan of folders into the catalog, with a
 * progress bar on a terminal or JSON progress lines, and a clean stop on Ctrl-C
 * (after the current batch is committed). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <samplemind/catalog.h>

#include "cli.h"

static volatile int stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

enum progress_mode { P_AUTO, P_BAR, P_JSON, P_NONE };

struct prog {
    enum progress_mode mode;
    int bar_width;
    bool drawn;
};

static const char *phase_name(int p)
{
    static const char *const names[] = {"walking", "analyzing", "finishing", "done"};
    return p >= 0 && p <= 3 ? names[p] : "?";
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x80)
            fprintf(f, "\\u%04x", *c < 0x80 ? *c : 0xfffd);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static void on_progress(const sm_scan_progress *p, void *ud)
{
    struct prog *g = ud;
    double rate = p->elapsed > 0.0 ? (double)p->analyzed / p->elapsed : 0.0;
    size_t left = p->to_analyze > p->analyzed ? p->to_analyze - p->analyzed : 0;
    double eta = rate > 0.0 ? (double)left / rate : -1.0;
    if (g->mode == P_JSON) {
        fprintf(stderr,
                "{\"phase\":\"%s\",\"found\":%zu,\"unchanged\":%zu,\"to_analyze\":%zu,"
                "\"analyzed\":%zu,\"failed\":%zu,\"files_per_s\":%.1f,\"eta_s\":%.1f,"
                "\"elapsed_s\":%.2f,\"current\":",
                phase_name(p->phase), p->found, p->unchanged, p->to_analyze, p->analyzed,
                p->failed, rate, eta < 0.0 ? 0.0 : eta, p->elapsed);
        if (p->current)
            json_str(stderr, p->current);
        else
            fputs("null", stderr);
        fputs("}\n", stderr);
        fflush(stderr);
        return;
    }
    if (g->mode != P_BAR)
        return;
    if (p->phase == SM_SCAN_DONE) {
        if (g->drawn)
            fputs("\r\033[K", stderr);
        return;
    }
    char line[256];
    if (p->phase == SM_SCAN_WALKING) {
        snprintf(line, sizeof(line), "scanning folders...");
    } else {
        int w = g->bar_width;
        int fill = p->to_analyze ? (int)((double)w * (double)p->analyzed / (double)p->to_analyze)
                                 : w;
        char bar[64];
        for (int i = 0; i < w; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[w] = '\0';
        const char *cur = p->current ? strrchr(p->current, '/') : NULL;
        cur = cur ? cur + 1 : (p->current ? p->current : "");
        char etas[32] = "--:--";
        if (eta >= 0.0)
            snprintf(etas, sizeof(etas), "%d:%02d", (int)(eta / 60), (int)eta % 60);
        snprintf(line, sizeof(line), "[%s] %zu/%zu  %.0f files/s  ETA %s  %.30s", bar,
                 p->analyzed, p->to_analyze, rate, etas, cur);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    g->drawn = true;
}

static void scan_usage(FILE *out)
{
    fprintf(out,
            "Usage: samplemind scan [FLAGS] DIR...\n"
            "\n"
            "Find the audio files under each folder (WAV, AIFF, FLAC, OGG, Opus, MP3; by\n"
            "extension and by their first bytes), analyze new and changed ones on every\n"
            "core, and store them in the catalog. Unchanged files (same size, mtime and\n"
            "analyzer version) are skipped; moved or renamed files are recognised by\n"
            "content and keep their tags; vanished files are marked missing.\n"
            "\n"
            "  --jobs N            analysis threads (default: one per core, plus one)\n"
            "  --batch N           files per transaction (default 200)\n"
            "  --prune             delete missing files from the catalog afterwards\n"
            "  --force             re-analyze every file\n"
            "  --wait              wait for another scan of this catalog instead of failing\n"
            "  --progress MODE     bar, json (lines on stderr), none; default: bar on a\n"
            "                      terminal, none otherwise\n"
            "  --json              print the summary as JSON\n"
            "\n"
            "Ctrl-C stops after the current batch; what was stored stays, and the next\n"
            "scan continues. Failed files are listed by 'samplemind errors'. Exit status:\n"
            "0 all good, 1 some files failed or the scan stopped early, 2 usage error.\n"
            "Only one scan writes to a catalog at a time: a second one fails at once\n"
            "(exit 1) unless --wait is given.\n");
}

int sm_cmd_scan(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"jobs", required_argument, NULL, 'J'},   {"batch", required_argument, NULL, 'b'},
        {"prune", no_argument, NULL, 'P'},        {"force", no_argument, NULL, 'f'},
        {"wait", no_argument, NULL, 'w'},         {"progress", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sm_scan_opts o;
    memset(&o, 0, sizeof(o));
    struct prog g = {P_AUTO, 24, false};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
        char *end = NULL;
        long v;
        switch (opt) {
            case 'J':
            case 'b':
                v = strtol(optarg, &end, 10);
                if (!*optarg || *end || v < 1 || v > (opt == 'J' ? 256 : 100000)) {
                    sm_cli_error(cli, "scan: --%s '%s' is not a number from 1 to %d",
                                 opt == 'J' ? "jobs" : "batch", optarg,
                                 opt == 'J' ? 256 : 100000);
                    return SM_EXIT_USAGE;
                }
                if (opt == 'J')
                    o.threads = (int)v;
                else
                    o.batch = (size_t)v;
                break;
            case 'P':
                o.prune = true;
                break;
            case 'f':
                o.force = true;
                break;
            case 'w':
                o.wait_lock = true;
                break;
            case 'p':
                if (!strcmp(optarg, "bar"))
                    g.mode = P_BAR;
                else if (!strcmp(optarg, "json"))
                    g.mode = P_JSON;
                else if (!strcmp(optarg, "none"))
                    g.mode = P_NONE;
                else if (!strcmp(optarg, "auto"))
                    g.mode = P_AUTO;
                else {
                    sm_cli_error(cli, "scan: --progress '%s' is not bar, json, none or auto",
                                 optarg);
                    return SM_EXIT_USAGE;
                }
                break;
            case 'j':
                cli->output = SM_OUT_JSON;
                break;
            case 'h':
                scan_usage(stdout);
                return SM_EXIT_OK;
            default:
                sm_cli_error(cli, "scan: unknown flag or missing value '%s' (see 'samplemind "
                                  "scan --help')",
                             argv[optind - 1]);
                return SM_EXIT_USAGE;
        }
    }
    int n = argc - optind;
    char **dirs = argv + optind;
    if (n > 0 && !strcmp(dirs[0], "--")) {
        dirs++;
        n--;
    }
    if (n == 0) {
        sm_cli_error(cli, "scan: no folders given");
        scan_usage(stderr);
        return SM_EXIT_USAGE;
    }
    if (g.mode == P_AUTO)
        g.mode = isatty(STDERR_FILENO) && !cli->quiet ? P_BAR : P_NONE;
    if (g.mode != P_NONE) {
        o.progress = on_progress;
        o.userdata = &g;
        o.progress_interval = g.mode == P_JSON ? 0.5 : 0.1;
    }
    sm_catalog *cat = sm_cli_open_catalog(cli, true);
    if (!cat)
        return SM_EXIT_FAILED;
    struct sigaction sa;
    struct sigaction old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    stop_flag = 0;
    o.stop = &stop_flag;

    sm_scan_progress r;
    sm_error err = SM_ERROR_INIT;
    sm_status st = sm_scan_run(cat, (const char *const *)dirs, (size_t)n, &o, &r, &err);
    sigaction(SIGINT, &old, NULL);
    if (g.mode == P_BAR && g.drawn)
        fputs("\r\033[K", stderr);
    sm_catalog_close(cat);
    if (st != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        return st == SM_EINVAL || st == SM_ENOENT ? SM_EXIT_FAILED : SM_EXIT_FAILED;
    }
    double rate = r.elapsed > 0.0 ? (double)r.analyzed / r.elapsed : 0.0;
    double seen_rate = r.elapsed > 0.0 ? (double)r.found / r.elapsed : 0.0;
    if (sm_cli_want_json(cli)) {
        printf("{\"found\":%zu,\"unchanged\":%zu,\"analyzed\":%zu,\"added\":%zu,\"updated\":%zu,"
               "\"moved\":%zu,\"failed\":%zu,\"not_audio\":%zu,\"vanished\":%zu,"
               "\"missing\":%zu,\"reappeared\":%zu,\"pruned\":%lld,\"unreadable_dirs\":%zu,"
               "\"symlink_loops\":%zu,\"interrupted\":%s,\"seconds\":%.3f,"
               "\"analyzed_per_s\":%.1f,\"files_per_s\":%.1f,\"cpu_s\":%.3f,"
               "\"writer_cpu_s\":%.3f,\"cpu_ms_per_analyzed\":%.3f}\n",
               r.found, r.unchanged, r.analyzed, r.added, r.updated, r.moved, r.failed,
               r.not_audio, r.vanished, r.missing, r.reappeared, (long long)r.pruned,
               r.unreadable_dirs, r.loops, r.interrupted ? "true" : "false", r.elapsed, rate,
               seen_rate, r.cpu, r.writer_cpu,
               r.analyzed ? r.cpu * 1e3 / (double)r.analyzed : 0.0);
    } else {
        printf("%zu audio files: %zu new, %zu changed, %zu moved, %zu unchanged, %zu failed, "
               "%zu not audio\n",
               r.found, r.added, r.updated, r.moved, r.unchanged, r.failed, r.not_audio);
        if (r.missing || r.reappeared || r.pruned || r.vanished)
            printf("%zu newly missing, %zu back, %lld pruned, %zu vanished during the scan\n",
                   r.missing, r.reappeared, (long long)r.pruned, r.vanished);
        if (r.unreadable_dirs || r.loops)
            printf("%zu unreadable folders, %zu symlink loops skipped\n", r.unreadable_dirs,
                   r.loops);
        printf("%.2f s, %.0f files analyzed/s, %.0f files/s overall; %.2f s CPU (%.2f s in "
               "walk and store)\n",
               r.elapsed, rate, seen_rate, r.cpu, r.writer_cpu);
        if (r.failed && !cli->quiet)
            fprintf(stderr, "samplemind: %zu files failed; see 'samplemind errors'\n", r.failed);
    }
    if (r.interrupted) {
        if (!cli->quiet)
            fprintf(stderr, "samplemind: scan stopped early; %zu of %zu files were stored, run "
                            "the scan again to continue\n",
                    r.analyzed, r.to_analyze);
        return SM_EXIT_FAILED;
    }
    return r.failed || r.unreadable_dirs ? SM_EXIT_FAILED : SM_EXIT_OK;
}
