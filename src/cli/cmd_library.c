/* samplemind show | tag | stats | export | errors, and the helpers every catalog
 * command shares (opening the catalog, finding a sample, printing rows). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "cli.h"

/* ---------------------------------------------------------------- helpers --- */

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

struct sm_catalog *sm_cli_open_catalog(struct sm_cli *cli, bool create)
{
    char url[PATH_MAX + 64];
    if (cli->db && *cli->db) {
        snprintf(url, sizeof(url), "%s", cli->db);
    } else {
        char dir[PATH_MAX];
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (cli->data_dir && *cli->data_dir)
            snprintf(dir, sizeof(dir), "%s", cli->data_dir);
        else if (xdg && *xdg)
            snprintf(dir, sizeof(dir), "%s/samplemind", xdg);
        else if (home && *home)
            snprintf(dir, sizeof(dir), "%s/.local/share/samplemind", home);
        else {
            sm_cli_error(cli, "no data folder: set --data-dir, SAMPLEMIND_DATA_DIR or HOME");
            return NULL;
        }
        if (create && mkdirs(dir) != 0) {
            sm_cli_error(cli, "cannot create the data folder %s: %s", dir, strerror(errno));
            return NULL;
        }
        snprintf(url, sizeof(url), "%s/catalog.db", dir);
    }
    sm_catalog_opts opts = {create ? 0u : (unsigned)SM_CATALOG_NO_CREATE, 0};
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(url, &opts, &err);
    if (!cat)
        sm_cli_error(cli, "%s", err.msg);
    return cat;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

int sm_cli_find_sample(struct sm_cli *cli, struct sm_catalog *cat, const char *arg,
                       struct sm_sample *out)
{
    sm_error err = SM_ERROR_INIT;
    if (all_digits(arg)) {
        long long id = strtoll(arg, NULL, 10);
        if (sm_catalog_get(cat, id, out, &err) == SM_OK)
            return 0;
        /* A file literally named "42" in the current folder still works. */
        struct stat sb;
        if (stat(arg, &sb) != 0) {
            sm_cli_error(cli, "%s", err.msg);
            return -1;
        }
    }
    char real[PATH_MAX];
    const char *path = realpath(arg, real) ? real : arg;
    if (sm_catalog_get_by_path(cat, path, out, &err) == SM_OK)
        return 0;
    sm_cli_error(cli, "%s (scan its folder first, or give a catalog id)", err.msg);
    return -1;
}

char *sm_cli_join(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

void sm_cli_query_error(struct sm_cli *cli, const char *text, const struct sm_query *q,
                        const struct sm_error *err)
{
    sm_cli_error(cli, "%s", err->msg);
    if (!text || strlen(text) > 200 || q->err_pos > strlen(text))
        return;
    fprintf(stderr, "  %s\n  ", text);
    for (size_t i = 0; i < q->err_pos; i++)
        fputc(text[i] == '\t' ? '\t' : ' ', stderr);
    size_t len = q->err_len ? q->err_len : 1;
    for (size_t i = 0; i < len; i++)
        fputc('^', stderr);
    fputc('\n', stderr);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static json_t *text_json(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    /* Not UTF-8 (a file name): escape the odd bytes. */
    char buf[4096];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < sizeof(buf); p++) {
        if (*p < 0x80)
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x", *p);
    }
    buf[n] = '\0';
    return json_string(buf);
}

static json_t *num_json(double v, double scale)
{
    if (!isfinite(v))
        return json_null();
    return json_real(round(v * scale) / scale);
}

static void key_text(const sm_sample *s, char *buf, size_t size)
{
    if (!s->has_key) {
        snprintf(buf, size, "-");
        return;
    }
    char cam[8];
    char name[16];
    sm_key_camelot(s->key_tonic, s->key_mode, cam, sizeof(cam));
    sm_key_name(s->key_tonic, s->key_mode, name, sizeof(name));
    char *sp = strchr(name, ' ');
    if (sp)
        *sp = '\0';
    snprintf(buf, size, "%.3s %.3s%s", cam, name, s->key_mode == SM_MODE_MINOR ? "m" : "");
}

static json_t *row_json(const sm_sample *s, const char *score_name)
{
    char key[24] = "";
    char cam[8] = "";
    char note[8] = "";
    if (s->has_key) {
        sm_key_name(s->key_tonic, s->key_mode, key, sizeof(key));
        sm_key_camelot(s->key_tonic, s->key_mode, cam, sizeof(cam));
    }
    if (s->has_note)
        sm_note_name(s->note_midi, note, sizeof(note));
    json_t *timbre = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o}", "brightness", num_json(s->timbre[0], 10),
        "warmth", num_json(s->timbre[1], 10), "hardness", num_json(s->timbre[2], 10), "depth",
        num_json(s->timbre[3], 10), "roughness", num_json(s->timbre[4], 10), "boominess",
        num_json(s->timbre[5], 10));
    json_t *tags = json_array();
    if (s->tags && *s->tags) {
        char *copy = strdup(s->tags);
        char *save = NULL;
        for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
             t = strtok_r(NULL, " ", &save))
            json_array_append_new(tags, json_string(t));
        free(copy);
    }
    json_t *o = json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:b}", "id",
        (json_int_t)s->id, "path", text_json(s->path), "duration", num_json(s->duration, 1000),
        "bpm", s->has_tempo ? num_json(s->bpm, 10) : json_null(), "key",
        s->has_key ? json_string(key) : json_null(), "camelot",
        s->has_key ? json_string(cam) : json_null(), "note",
        s->has_note ? json_string(note) : json_null(), "loop", s->loop, "category",
        sm_category_name(s->category), "lufs", num_json(s->lufs, 100), "true_peak",
        num_json(s->true_peak, 100), "timbre", timbre, "tags", tags, "missing", s->missing);
    if (o && score_name)
        json_object_set_new(o, score_name, num_json(s->score, 1e6));
    return o;
}

void sm_cli_print_rows(const struct sm_sample_list *rows, enum sm_cli_rows how,
                       const char *score_name)
{
    if (how == SM_ROWS_PATHS) {
        for (size_t i = 0; i < rows->n; i++) {
            fputs(rows->v[i].path, stdout);
            fputc('\n', stdout);
        }
        return;
    }
    if (how == SM_ROWS_JSON) {
        for (size_t i = 0; i < rows->n; i++) {
            json_t *o = row_json(&rows->v[i], score_name);
            char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
            puts(s ? s : "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"JSON\"}}");
            free(s);
            json_decref(o);
        }
        return;
    }
    printf("%7s  %-34s %6s %6s %-8s %-4s %-12s %6s %s%s\n", "ID", "NAME", "SECS", "BPM", "KEY",
           "LOOP", "CATEGORY", "LUFS", score_name ? "DIST  " : "", "TAGS");
    for (size_t i = 0; i < rows->n; i++) {
        const sm_sample *s = &rows->v[i];
        char key[24];
        char bpm[16] = "-";
        char dur[16] = "-";
        char lufs[16] = "-";
        char score[16] = "";
        key_text(s, key, sizeof(key));
        if (s->has_tempo)
            snprintf(bpm, sizeof(bpm), "%.1f", s->bpm);
        if (isfinite(s->duration))
            snprintf(dur, sizeof(dur), "%.2f", s->duration);
        if (isfinite(s->lufs))
            snprintf(lufs, sizeof(lufs), "%.1f", s->lufs);
        if (score_name)
            snprintf(score, sizeof(score), "%.4f ", s->score);
        printf("%7lld  %-34.34s %6s %6s %-8s %-4s %-12s %6s %s%s%s\n", (long long)s->id,
               base_name(s->path), dur, bpm, key, s->loop ? "yes" : "no",
               sm_category_name(s->category), lufs, score, s->tags ? s->tags : "",
               s->missing ? " (missing)" : "");
    }
}

/* Parse the common --json / --table flags; returns the index of the first
 * operand, or -1 (usage printed) / -2 (help printed). */
static int simple_flags(struct sm_cli *cli, int argc, char **argv, const char *usage,
                        bool *extra1, const char *extra1_name)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            return i + 1;
        } else if (!strcmp(a, "--json")) {
            cli->output = SM_OUT_JSON;
        } else if (!strcmp(a, "--table") || !strcmp(a, "--pretty")) {
            cli->output = SM_OUT_TABLE;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return -2;
        } else if (extra1_name && !strcmp(a, extra1_name)) {
            *extra1 = true;
        } else if (a[0] == '-' && a[1] == '-') {
            sm_cli_error(cli, "%s: unknown flag '%s' (see 'samplemind %s --help')", argv[0], a,
                         argv[0]);
            return -1;
        } else {
            return i;
        }
    }
    return argc;
}

/* -------------------------------------------------------------------- show --- */

static const char show_usage[] =
    "Usage: samplemind show [--embedding] [--waveform] ID|PATH...\n"
    "\n"
    "Print everything the catalog holds about samples (by catalog id or path) as\n"
    "JSON: the analysis, plus id, root, tags, missing, mtime and the stored AI\n"
    "answers (\"ai\": task -> provider, model, answer, cost...).\n";

int sm_cmd_show(struct sm_cli *cli, int argc, char **argv)
{
    unsigned flags = 0;
    int n_targets = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--embedding")) {
            flags |= SM_JSON_EMBEDDING;
        } else if (!strcmp(argv[i], "--waveform")) {
            flags |= SM_JSON_WAVEFORM;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(show_usage, stdout);
            return SM_EXIT_OK;
        } else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--table")) {
            continue;
        } else if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2]) {
            sm_cli_error(cli, "show: unknown flag '%s'", argv[i]);
            return SM_EXIT_USAGE;
        } else {
            n_targets++;
        }
    }
    if (n_targets == 0) {
        sm_cli_error(cli, "show: give a catalog id or a path");
        fputs(show_usage, stderr);
        return SM_EXIT_USAGE;
    }
    if (cli->stdout_tty && cli->output != SM_OUT_JSON)
        flags |= SM_JSON_PRETTY;
    flags |= SM_CATALOG_JSON_AI;
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat)
        return SM_EXIT_FAILED;
    int rc = SM_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2])
            continue;
        sm_sample s;
        sm_sample_init(&s);
        if (sm_cli_find_sample(cli, cat, argv[i], &s) != 0) {
            rc = SM_EXIT_FAILED;
            continue;
        }
        sm_error err = SM_ERROR_INIT;
        char *json = sm_catalog_sample_json(cat, s.id, flags, &err);
        if (json) {
            puts(json);
            sm_free(json);
        } else {
            sm_cli_error(cli, "%s", err.msg);
            rc = SM_EXIT_FAILED;
        }
        sm_sample_release(&s);
    }
    sm_catalog_close(cat);
    return rc;
}

/* --------------------------------------------------------------------- tag --- */

static const char tag_usage[] =
    "Usage: samplemind tag ID|PATH [+]TAG... [-TAG...]\n"
    "\n"
    "Add tags (+dark, or just dark) and remove them (-bright). Tags are lowercased and\n"
    "may not contain spaces or commas. Prints the sample's tags afterwards. Tags stay\n"
    "with a file when it is moved or renamed (recognised by content on the next scan).\n";

int sm_cmd_tag(struct sm_cli *cli, int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(tag_usage, stdout);
        return SM_EXIT_OK;
    }
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "--"))
        first = 2;
    if (argc - first < 2) {
        sm_cli_error(cli, "tag: give a sample (id or path) and at least one +tag or -tag");
        fputs(tag_usage, stderr);
        return SM_EXIT_USAGE;
    }
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat)
        return SM_EXIT_FAILED;
    sm_sample s;
    sm_sample_init(&s);
    int rc = SM_EXIT_OK;
    if (sm_cli_find_sample(cli, cat, argv[first], &s) != 0) {
        sm_catalog_close(cat);
        return SM_EXIT_FAILED;
    }
    sm_error err = SM_ERROR_INIT;
    if (sm_catalog_begin(cat, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        rc = SM_EXIT_FAILED;
    }
    for (int i = first + 1; i < argc && rc == SM_EXIT_OK; i++) {
        const char *t = argv[i];
        bool add = true;
        if (t[0] == '+' || t[0] == '-') {
            add = t[0] == '+';
            t++;
        }
        sm_status st = sm_catalog_tag(cat, s.id, t, add, &err);
        if (st != SM_OK) {
            sm_cli_error(cli, "%s", err.msg);
            rc = st == SM_EINVAL ? SM_EXIT_USAGE : SM_EXIT_FAILED;
        }
    }
    if (rc == SM_EXIT_OK && sm_catalog_commit(cat, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        rc = SM_EXIT_FAILED;
    }
    if (rc != SM_EXIT_OK)
        sm_catalog_rollback(cat);
    if (rc == SM_EXIT_OK && sm_catalog_get(cat, s.id, &s, &err) == SM_OK) {
        if (sm_cli_want_json(cli)) {
            json_t *o = row_json(&s, NULL);
            char *j = json_dumps(json_object_get(o, "tags"), JSON_COMPACT);
            printf("{\"id\":%lld,\"tags\":%s}\n", (long long)s.id, j ? j : "[]");
            free(j);
            json_decref(o);
        } else {
            printf("%lld %s: %s\n", (long long)s.id, base_name(s.path),
                   *s.tags ? s.tags : "(no tags)");
        }
    }
    sm_sample_release(&s);
    sm_catalog_close(cat);
    return rc;
}

/* ------------------------------------------------------------------- stats --- */

static const char stats_usage[] =
    "Usage: samplemind stats [--json]\n"
    "\n"
    "Counts by category and key, a tempo histogram (10-BPM bins), total duration,\n"
    "missing files, files that failed, tagged samples.\n";

int sm_cmd_stats(struct sm_cli *cli, int argc, char **argv)
{
    int first = simple_flags(cli, argc, argv, stats_usage, NULL, NULL);
    if (first == -2)
        return SM_EXIT_OK;
    if (first < 0)
        return SM_EXIT_USAGE;
    if (first < argc) {
        sm_cli_error(cli, "stats: unexpected argument '%s'", argv[first]);
        return SM_EXIT_USAGE;
    }
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat)
        return SM_EXIT_FAILED;
    sm_catalog_stats st;
    sm_error err = SM_ERROR_INIT;
    if (sm_catalog_stats_get(cat, &st, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        sm_catalog_close(cat);
        return SM_EXIT_FAILED;
    }
    sm_catalog_close(cat);
    char name[16];
    if (sm_cli_want_json(cli)) {
        json_t *cats = json_object();
        for (int c = 0; c < SM_CAT_COUNT; c++)
            if (st.by_category[c])
                json_object_set_new(cats, sm_category_name(c),
                                    json_integer((json_int_t)st.by_category[c]));
        json_t *keys = json_object();
        for (int k = 0; k < 24; k++)
            if (st.by_key[k])
                json_object_set_new(keys, sm_key_name(k % 12, k / 12, name, sizeof(name)),
                                    json_integer((json_int_t)st.by_key[k]));
        json_t *tempo = json_array();
        for (int b = 0; b < SM_STATS_TEMPO_BINS; b++)
            json_array_append_new(tempo, json_pack("{s:i, s:i, s:I}", "from", 50 + 10 * b, "to",
                                                   60 + 10 * b, "count",
                                                   (json_int_t)st.tempo[b]));
        json_t *o = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:I, s:o, s:I, s:I, s:I}", "samples",
            (json_int_t)st.samples, "missing", (json_int_t)st.missing, "errors",
            (json_int_t)st.errors, "loops", (json_int_t)st.loops, "tagged",
            (json_int_t)st.tagged, "roots", (json_int_t)st.roots, "total_duration",
            st.total_duration, "categories", cats, "keys", keys, "no_key",
            (json_int_t)st.no_key, "tempo", tempo, "tempo_below_50",
            (json_int_t)st.tempo_below, "tempo_210_and_above", (json_int_t)st.tempo_above,
            "no_tempo", (json_int_t)st.no_tempo);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
        puts(s ? s : "{}");
        free(s);
        json_decref(o);
        return SM_EXIT_OK;
    }
    double d = st.total_duration;
    printf("samples   %lld (%lld loops, %lld one-shots), %lld missing, %lld failed, %lld tagged\n",
           (long long)st.samples, (long long)st.loops, (long long)(st.samples - st.loops),
           (long long)st.missing, (long long)st.errors, (long long)st.tagged);
    printf("duration  %dh %02dm %02ds total\n", (int)(d / 3600), (int)fmod(d / 60, 60),
           (int)fmod(d, 60));
    printf("\ncategories\n");
    for (int c = 0; c < SM_CAT_COUNT; c++)
        if (st.by_category[c])
            printf("  %-14s %8lld\n", sm_category_name(c), (long long)st.by_category[c]);
    printf("\nkeys\n");
    for (int k = 0; k < 24; k++) {
        if (!st.by_key[k])
            continue;
        char cam[8];
        printf("  %-4s %-10s %8lld\n", sm_key_camelot(k % 12, k / 12, cam, sizeof(cam)),
               sm_key_name(k % 12, k / 12, name, sizeof(name)), (long long)st.by_key[k]);
    }
    printf("  %-15s %8lld\n", "no key", (long long)st.no_key);
    printf("\ntempo (BPM)\n");
    int64_t mx = 1;
    for (int b = 0; b < SM_STATS_TEMPO_BINS; b++)
        if (st.tempo[b] > mx)
            mx = st.tempo[b];
    if (st.tempo_below)
        printf("  %7s %8lld\n", "<50", (long long)st.tempo_below);
    for (int b = 0; b < SM_STATS_TEMPO_BINS; b++) {
        if (!st.tempo[b])
            continue;
        int bar = (int)(40 * st.tempo[b] / mx);
        printf("  %3d-%-3d %8lld ", 50 + 10 * b, 60 + 10 * b, (long long)st.tempo[b]);
        for (int i = 0; i < bar; i++)
            fputc('#', stdout);
        fputc('\n', stdout);
    }
    if (st.tempo_above)
        printf("  %7s %8lld\n", ">=210", (long long)st.tempo_above);
    printf("  %7s %8lld\n", "none", (long long)st.no_tempo);
    return SM_EXIT_OK;
}

/* ------------------------------------------------------------------ export --- */

static const char export_usage[] =
    "Usage: samplemind export [--format csv|json|jsonl] [QUERY...]\n"
    "\n"
    "Write the catalog (or the samples matching QUERY, see 'samplemind search --help')\n"
    "to stdout. csv: one row per sample with the filterable descriptors; json: one\n"
    "array of full records (as 'show' prints them); jsonl: one full record a line.\n";

static void csv_field(const char *s)
{
    bool quote = strpbrk(s, ",\"\n\r") != NULL;
    if (!quote) {
        fputs(s, stdout);
        return;
    }
    fputc('"', stdout);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', stdout);
        fputc(*s, stdout);
    }
    fputc('"', stdout);
}

static void csv_num(double v, int decimals)
{
    fputc(',', stdout);
    if (isfinite(v))
        printf("%.*f", decimals, v);
}

int sm_cmd_export(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "csv";
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
        if (opt == 'f') {
            format = optarg;
        } else if (opt == 'h') {
            fputs(export_usage, stdout);
            return SM_EXIT_OK;
        } else {
            sm_cli_error(cli, "export: unknown flag or missing value '%s'", argv[optind - 1]);
            return SM_EXIT_USAGE;
        }
    }
    int fmt = !strcmp(format, "csv") ? 0 : !strcmp(format, "json") ? 1
                                       : !strcmp(format, "jsonl") ? 2 : -1;
    if (fmt < 0) {
        sm_cli_error(cli, "export: --format '%s' is not csv, json or jsonl", format);
        return SM_EXIT_USAGE;
    }
    char *text = sm_cli_join(argc - optind, argv + optind);
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    if (!text || sm_query_parse(&q, text, &err) != SM_OK) {
        if (text)
            sm_cli_query_error(cli, text, &q, &err);
        free(text);
        return SM_EXIT_USAGE;
    }
    if (q.sort == SM_SORT_DEFAULT)
        q.sort = SM_SORT_ID;
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat) {
        free(text);
        sm_query_release(&q);
        return SM_EXIT_FAILED;
    }
    sm_sample_list rows = SM_SAMPLE_LIST_INIT;
    int rc = SM_EXIT_OK;
    if (sm_catalog_search(cat, &q, &rows, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        rc = SM_EXIT_FAILED;
    }
    if (rc == SM_EXIT_OK && fmt == 0) {
        puts("id,path,size,hash,duration,sample_rate,channels,format,bpm,key,camelot,note,loop,"
             "category,lufs,true_peak,brightness,warmth,hardness,depth,roughness,boominess,tags,"
             "missing");
        for (size_t i = 0; i < rows.n; i++) {
            const sm_sample *s = &rows.v[i];
            char key[24] = "";
            char cam[8] = "";
            char note[8] = "";
            if (s->has_key) {
                sm_key_name(s->key_tonic, s->key_mode, key, sizeof(key));
                sm_key_camelot(s->key_tonic, s->key_mode, cam, sizeof(cam));
            }
            if (s->has_note)
                sm_note_name(s->note_midi, note, sizeof(note));
            printf("%lld,", (long long)s->id);
            csv_field(s->path);
            printf(",%lld,%s", (long long)s->size, s->hash);
            csv_num(s->duration, 4);
            printf(",%d,%d,%s", s->sample_rate, s->channels, s->format);
            csv_num(s->has_tempo ? s->bpm : (double)NAN, 2);
            printf(",%s,%s,%s,%s,%s", key, cam, note, s->loop ? "true" : "false",
                   sm_category_name(s->category));
            csv_num(s->lufs, 2);
            csv_num(s->true_peak, 2);
            for (int t = 0; t < SM_TIMBRE_COUNT; t++)
                csv_num(s->timbre[t], 1);
            fputc(',', stdout);
            csv_field(s->tags ? s->tags : "");
            printf(",%s\n", s->missing ? "true" : "false");
        }
    } else if (rc == SM_EXIT_OK) {
        if (fmt == 1)
            fputs("[\n", stdout);
        for (size_t i = 0; i < rows.n; i++) {
            char *json = sm_catalog_sample_json(cat, rows.v[i].id, 0, &err);
            if (!json) {
                sm_cli_error(cli, "%s", err.msg);
                rc = SM_EXIT_FAILED;
                break;
            }
            fputs(json, stdout);
            fputs(fmt == 1 && i + 1 < rows.n ? ",\n" : "\n", stdout);
            sm_free(json);
        }
        if (fmt == 1)
            fputs("]\n", stdout);
    }
    sm_sample_list_release(&rows);
    sm_catalog_close(cat);
    sm_query_release(&q);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ errors --- */

static const char errors_usage[] =
    "Usage: samplemind errors [--json]\n"
    "\n"
    "Files (and folders) that failed in scans, with the reason. A failed file is\n"
    "retried when it changes, or after an analyzer upgrade.\n";

struct err_ctx {
    bool json;
    size_t n;
};

static int print_error(const sm_catalog_error_rec *e, void *ud)
{
    struct err_ctx *c = ud;
    c->n++;
    if (c->json) {
        json_t *o = json_pack("{s:o, s:{s:s, s:s}}", "path", text_json(e->path), "error", "code",
                              e->code ? e->code : "", "message", e->message ? e->message : "");
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s\n    %s: %s\n", e->path, e->code, e->message);
    }
    return 0;
}

int sm_cmd_errors(struct sm_cli *cli, int argc, char **argv)
{
    int first = simple_flags(cli, argc, argv, errors_usage, NULL, NULL);
    if (first == -2)
        return SM_EXIT_OK;
    if (first < 0)
        return SM_EXIT_USAGE;
    if (first < argc) {
        sm_cli_error(cli, "errors: unexpected argument '%s'", argv[first]);
        return SM_EXIT_USAGE;
    }
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat)
        return SM_EXIT_FAILED;
    struct err_ctx c = {sm_cli_want_json(cli), 0};
    sm_error err = SM_ERROR_INIT;
    int rc = SM_EXIT_OK;
    if (sm_catalog_each_error(cat, print_error, &c, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        rc = SM_EXIT_FAILED;
    }
    if (rc == SM_EXIT_OK && !c.json && !cli->quiet)
        fprintf(stderr, "%zu failed file%s\n", c.n, c.n == 1 ? "" : "s");
    sm_catalog_close(cat);
    return rc;
}
