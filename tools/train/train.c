/* sm-train: fit the category model and the embedding scales, and write them
 * as C (src/analysis/category_model.c).
 *
 *     sm-train [-o FILE] [--val DIR] [--eval DIR] [--hidden N|auto]
 *              [--epochs N] [--threads N] [--data TEXT] TRAIN_DIR...
 *
 * Each DIR is a labelled set (DIR/labels.tsv, from `sm-gen labelled DIR --seed
 * S`). Every file is analysed with sm_analyzer_run; the features are
 * sm__category_features (the very function inference uses) and the labels the
 * category column. The model is a softmax classifier over standardised
 * features with one tanh hidden layer (or none: --hidden 0), trained by full-
 * batch Adam on class-balanced cross-entropy with L2 decay.
 *
 * --val DIR chooses the hidden size (--hidden auto, the default, tries 0, 16,
 * 32 and 64) on a set not used for fitting; the chosen size is then refitted on
 * the training and validation sets together. --eval DIR reports accuracy and
 * a confusion matrix on a held-out set that takes no part in any choice.
 * --data TEXT goes into the generated file's header comment (the recipe, for
 * example "sm-gen labelled --seed 1..4"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/analysis.h>

#include "../accuracy/labels.h"
#include "analysis/classify.h"

#define NF SM__CAT_NFEAT
#define NC SM_CAT_COUNT
#define MAX_HIDDEN 128

struct data {
    float *x;  /* n x NF raw features */
    float *e;  /* n x SM__EMB_DIM raw embedding statistics */
    int *y;    /* category */
    size_t n;
};

struct model {
    int nh;
    float mean[NF];
    float scale[NF];
    float *w1; /* nh x NF */
    float *b1;
    float *w2; /* NC x nin */
    float b2[NC];
};

/* Analyze the sets and append the labelled, analysed files to d. */
static int collect(const char **dirs, int ndirs, int threads, struct data *d)
{
    for (int k = 0; k < ndirs; k++) {
        struct lab_set set = {NULL, 0};
        if (lab_load(dirs[k], &set)) {
            lab_free(&set);
            return -1;
        }
        fprintf(stderr, "sm-train: analyzing %zu files of %s\n", set.n, dirs[k]);
        size_t failed = lab_analyze(&set, threads, 1);
        if (failed)
            fprintf(stderr, "sm-train: %zu files failed to analyze\n", failed);
        for (size_t i = 0; i < set.n; i++) {
            struct lab_item *it = &set.items[i];
            if (!it->ok || it->category < 0)
                continue;
            d->x = realloc(d->x, (d->n + 1) * NF * sizeof(float));
            d->e = realloc(d->e, (d->n + 1) * SM__EMB_DIM * sizeof(float));
            d->y = realloc(d->y, (d->n + 1) * sizeof(int));
            if (!d->x || !d->e || !d->y) {
                lab_free(&set);
                return -1;
            }
            sm__category_features(&it->a, d->x + d->n * NF);
            sm__embedding_raw(&it->a, d->e + d->n * SM__EMB_DIM);
            d->y[d->n] = it->category;
            d->n++;
        }
        lab_free(&set);
    }
    return 0;
}

static void data_free(struct data *d)
{
    free(d->x);
    free(d->e);
    free(d->y);
    memset(d, 0, sizeof(*d));
}

/* Mean and standard deviation of column j of x (n x dim), NaN ignored. */
static void column_stats(const float *x, size_t n, size_t dim, size_t j, float *mean,
                         float *scale)
{
    double s = 0.0;
    double s2 = 0.0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double v = (double)x[i * dim + j];
        if (isnan(v) || isinf(v))
            continue;
        s += v;
        s2 += v * v;
        m++;
    }
    double mu = m ? s / (double)m : 0.0;
    double var = m ? s2 / (double)m - mu * mu : 1.0;
    double sd = sqrt(fmax(var, 0.0));
    *mean = (float)mu;
    *scale = (float)(sd > 1e-6 ? sd : 1.0);
}

/* Standardised features, exactly as category.c's model_probs does it. */
static void standardise(const struct model *m, const float *raw, double *x)
{
    for (size_t i = 0; i < NF; i++) {
        double v = ((double)raw[i] - (double)m->mean[i]) / (double)m->scale[i];
        if (isnan(v))
            v = 0.0;
        x[i] = fmin(fmax(v, -8.0), 8.0);
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd_normal(void)
{
    double u[2];
    for (int k = 0; k < 2; k++) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        u[k] = ((double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

/* Forward pass: hidden activations h (nh) and probabilities p (NC). */
static void forward(const struct model *m, const double *x, double *h, double *p)
{
    const double *in = x;
    size_t nin = NF;
    if (m->nh > 0) {
        for (int j = 0; j < m->nh; j++) {
            double acc = (double)m->b1[j];
            const float *w = m->w1 + (size_t)j * NF;
            for (size_t i = 0; i < NF; i++)
                acc += (double)w[i] * x[i];
            h[j] = tanh(acc);
        }
        in = h;
        nin = (size_t)m->nh;
    }
    double mx = -INFINITY;
    for (int c = 0; c < NC; c++) {
        double acc = (double)m->b2[c];
        const float *w = m->w2 + (size_t)c * nin;
        for (size_t i = 0; i < nin; i++)
            acc += (double)w[i] * in[i];
        p[c] = acc;
        mx = fmax(mx, acc);
    }
    double sum = 0.0;
    for (int c = 0; c < NC; c++) {
        p[c] = exp(p[c] - mx);
        sum += p[c];
    }
    for (int c = 0; c < NC; c++)
        p[c] /= sum;
}

/* Fit m (nh set) on d: standardisation from d, then Adam. */
static void fit(struct model *m, const struct data *d, int epochs, double l2)
{
    for (size_t j = 0; j < NF; j++)
        column_stats(d->x, d->n, NF, j, &m->mean[j], &m->scale[j]);
    size_t nh = (size_t)m->nh;
    size_t nin = nh ? nh : NF;
    size_t n_w1 = nh * NF;
    size_t n_p = n_w1 + nh + NC * nin + NC;
    double *theta = calloc(n_p, sizeof(double));
    double *grad = calloc(n_p, sizeof(double));
    double *mom = calloc(n_p, sizeof(double));
    double *vel = calloc(n_p, sizeof(double));
    double *xs = malloc(d->n * NF * sizeof(double));
    m->w1 = nh ? calloc(n_w1, sizeof(float)) : NULL;
    m->b1 = nh ? calloc(nh, sizeof(float)) : NULL;
    m->w2 = calloc(NC * nin, sizeof(float));
    if (!theta || !grad || !mom || !vel || !xs || !m->w2) {
        fprintf(stderr, "sm-train: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < d->n; i++)
        standardise(m, d->x + i * NF, xs + i * NF);
    double *tw1 = theta;
    double *tb1 = theta + n_w1;
    double *tw2 = tb1 + nh;
    double *tb2 = tw2 + NC * nin;
    for (size_t i = 0; i < n_w1; i++)
        tw1[i] = rnd_normal() / sqrt((double)NF);
    for (size_t i = 0; i < NC * nin; i++)
        tw2[i] = rnd_normal() * 0.1 / sqrt((double)nin);

    /* Class-balanced weights: every class present weighs the same in total. */
    double count[NC] = {0};
    for (size_t i = 0; i < d->n; i++)
        count[d->y[i]] += 1.0;
    double cw[NC];
    int present = 0;
    for (int c = 0; c < NC; c++)
        present += count[c] > 0.0;
    for (int c = 0; c < NC; c++)
        cw[c] = count[c] > 0.0 ? (double)d->n / ((double)present * count[c]) : 0.0;

    double h[MAX_HIDDEN];
    double p[NC];
    double dz[NC];
    double dh[MAX_HIDDEN];
    const double lr = 0.01;
    const double b1m = 0.9;
    const double b2m = 0.999;
    for (int ep = 1; ep <= epochs; ep++) {
        memset(grad, 0, n_p * sizeof(double));
        /* The float copy the forward pass reads. */
        for (size_t i = 0; i < n_w1; i++)
            m->w1[i] = (float)tw1[i];
        for (size_t i = 0; i < nh; i++)
            m->b1[i] = (float)tb1[i];
        for (size_t i = 0; i < NC * nin; i++)
            m->w2[i] = (float)tw2[i];
        for (int c = 0; c < NC; c++)
            m->b2[c] = (float)tb2[c];
        double loss = 0.0;
        for (size_t s = 0; s < d->n; s++) {
            const double *x = xs + s * NF;
            forward(m, x, h, p);
            int y = d->y[s];
            double w = cw[y] / (double)d->n;
            loss -= w * log(fmax(p[y], 1e-12));
            for (int c = 0; c < NC; c++)
                dz[c] = w * (p[c] - (c == y ? 1.0 : 0.0));
            const double *in = nh ? h : x;
            for (int c = 0; c < NC; c++) {
                double *g = grad + n_w1 + nh + (size_t)c * nin;
                for (size_t i = 0; i < nin; i++)
                    g[i] += dz[c] * in[i];
                grad[n_w1 + nh + NC * nin + (size_t)c] += dz[c];
            }
            if (nh) {
                for (size_t j = 0; j < nh; j++) {
                    double acc = 0.0;
                    for (int c = 0; c < NC; c++)
                        acc += dz[c] * tw2[(size_t)c * nin + j];
                    dh[j] = acc * (1.0 - h[j] * h[j]);
                }
                for (size_t j = 0; j < nh; j++) {
                    double *g = grad + j * NF;
                    for (size_t i = 0; i < NF; i++)
                        g[i] += dh[j] * x[i];
                    grad[n_w1 + j] += dh[j];
                }
            }
        }
        /* L2 decay on the weights, not the biases. */
        for (size_t i = 0; i < n_w1; i++)
            grad[i] += l2 * tw1[i];
        for (size_t i = 0; i < NC * nin; i++)
            grad[n_w1 + nh + i] += l2 * tw2[i];
        double c1 = 1.0 - pow(b1m, ep);
        double c2 = 1.0 - pow(b2m, ep);
        for (size_t i = 0; i < n_p; i++) {
            mom[i] = b1m * mom[i] + (1.0 - b1m) * grad[i];
            vel[i] = b2m * vel[i] + (1.0 - b2m) * grad[i] * grad[i];
            theta[i] -= lr * (mom[i] / c1) / (sqrt(vel[i] / c2) + 1e-8);
        }
        if (ep % 500 == 0)
            fprintf(stderr, "  hidden %d epoch %d loss %.4f\n", m->nh, ep, loss);
    }
    for (size_t i = 0; i < n_w1; i++)
        m->w1[i] = (float)tw1[i];
    for (size_t i = 0; i < nh; i++)
        m->b1[i] = (float)tb1[i];
    for (size_t i = 0; i < NC * nin; i++)
        m->w2[i] = (float)tw2[i];
    for (int c = 0; c < NC; c++)
        m->b2[c] = (float)tb2[c];
    free(theta);
    free(grad);
    free(mom);
    free(vel);
    free(xs);
}

static void model_free(struct model *m)
{
    free(m->w1);
    free(m->b1);
    free(m->w2);
    m->w1 = NULL;
    m->b1 = NULL;
    m->w2 = NULL;
}

static double evaluate(const struct model *m, const struct data *d, size_t conf[NC][NC])
{
    double x[NF];
    double h[MAX_HIDDEN];
    double p[NC];
    size_t ok = 0;
    if (conf)
        memset(conf, 0, sizeof(size_t) * NC * NC);
    for (size_t s = 0; s < d->n; s++) {
        standardise(m, d->x + s * NF, x);
        forward(m, x, h, p);
        int best = 0;
        for (int c = 1; c < NC; c++) {
            if (p[c] > p[best])
                best = c;
        }
        ok += best == d->y[s];
        if (conf)
            conf[d->y[s]][best]++;
    }
    return d->n ? 100.0 * (double)ok / (double)d->n : (double)NAN;
}

static void print_confusion(FILE *f, size_t conf[NC][NC], const char *prefix)
{
    int used[NC];
    for (int c = 0; c < NC; c++) {
        used[c] = 0;
        for (int k = 0; k < NC; k++)
            used[c] |= conf[c][k] || conf[k][c];
    }
    fprintf(f, "%s%-13s", prefix, "");
    for (int k = 0; k < NC; k++) {
        if (used[k])
            fprintf(f, " %5.5s", sm_category_name(k));
    }
    fprintf(f, "\n");
    for (int c = 0; c < NC; c++) {
        if (!used[c])
            continue;
        fprintf(f, "%s%-13s", prefix, sm_category_name(c));
        for (int k = 0; k < NC; k++) {
            if (used[k])
                fprintf(f, " %5zu", conf[c][k]);
        }
        fprintf(f, "\n");
    }
}

static void write_array(FILE *f, const char *name, const float *v, size_t n)
{
    fprintf(f, "static const float %s[%zu] = {\n", name, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s%.9gf,%s", i % 6 == 0 ? "    " : " ", (double)v[i],
                i % 6 == 5 || i + 1 == n ? "\n" : "");
    }
    fprintf(f, "};\n\n");
}

static int write_model(const char *out, const struct model *m, const struct data *d,
                       const char *cmdline, const char *data_desc, double val_acc,
                       double eval_acc)
{
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "sm-train: cannot write %s\n", out);
        return -1;
    }
    size_t count[NC] = {0};
    for (size_t i = 0; i < d->n; i++)
        count[d->y[i]]++;
    fprintf(f, "/* GENERATED by tools/train (sm-train); do not edit.\n *\n");
    fprintf(f, " * Command: %s\n", cmdline);
    fprintf(f, " * Data: %s\n", data_desc ? data_desc : "(see the command's directories)");
    fprintf(f, " * %zu labelled files; per class:", d->n);
    for (int c = 0; c < NC; c++) {
        if (count[c])
            fprintf(f, " %s %zu", sm_category_name(c), count[c]);
    }
    fprintf(f, ".\n * Model: %d standardised features (version %d), ", NF,
            SM__CAT_FEAT_VERSION);
    if (m->nh)
        fprintf(f, "one tanh hidden layer of %d, softmax over %d classes.\n", m->nh, NC);
    else
        fprintf(f, "linear softmax over %d classes.\n", NC);
    if (!isnan(val_acc))
        fprintf(f, " * Validation accuracy (when choosing the size): %.1f %%.\n", val_acc);
    if (!isnan(eval_acc))
        fprintf(f, " * Held-out accuracy (--eval set, never fitted): %.1f %%.\n", eval_acc);
    fprintf(f, " * Embedding: means and scales of the %d raw statistics over the same "
               "files. */\n", SM__EMB_DIM);
    fprintf(f, "#include <stddef.h>\n\n#include \"analysis/classify.h\"\n\n");
    write_array(f, "feat_mean", m->mean, NF);
    write_array(f, "feat_scale", m->scale, NF);
    size_t nin = m->nh ? (size_t)m->nh : NF;
    if (m->nh) {
        write_array(f, "w1", m->w1, (size_t)m->nh * NF);
        write_array(f, "b1", m->b1, (size_t)m->nh);
    }
    write_array(f, "w2", m->w2, NC * nin);
    write_array(f, "b2", m->b2, NC);
    float em[SM__EMB_DIM];
    float es[SM__EMB_DIM];
    for (size_t j = 0; j < SM__EMB_DIM; j++)
        column_stats(d->e, d->n, SM__EMB_DIM, j, &em[j], &es[j]);
    write_array(f, "emb_mean", em, SM__EMB_DIM);
    write_array(f, "emb_scale", es, SM__EMB_DIM);
    fprintf(f, "const struct sm__category_model sm__category_model = {\n");
    fprintf(f, "    1, %d, %d, %d,\n", SM__CAT_FEAT_VERSION, NF, m->nh);
    fprintf(f, "    feat_mean, feat_scale, %s, %s, w2, b2,\n", m->nh ? "w1" : "NULL",
            m->nh ? "b1" : "NULL");
    fprintf(f, "    %d, emb_mean, emb_scale,\n};\n", SM__EMB_VERSION);
    fclose(f);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: sm-train [-o FILE] [--val DIR] [--eval DIR] [--hidden N|auto]\n"
                    "                [--epochs N] [--threads N] [--data TEXT] TRAIN_DIR...\n");
}

int main(int argc, char **argv)
{
    const char *out = "category_model.c";
    const char *val_dir = NULL;
    const char *eval_dir = NULL;
    const char *data_desc = NULL;
    int hidden = -1;
    int epochs = 1500;
    int threads = 2;
    const char *dirs[64];
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(o, "--val") && i + 1 < argc)
            val_dir = argv[++i];
        else if (!strcmp(o, "--eval") && i + 1 < argc)
            eval_dir = argv[++i];
        else if (!strcmp(o, "--data") && i + 1 < argc)
            data_desc = argv[++i];
        else if (!strcmp(o, "--hidden") && i + 1 < argc) {
            i++;
            hidden = strcmp(argv[i], "auto") ? atoi(argv[i]) : -1;
        } else if (!strcmp(o, "--epochs") && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (!strcmp(o, "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (o[0] == '-' || ndirs >= 64) {
            usage();
            return 2;
        } else
            dirs[ndirs++] = argv[i];
    }
    if (!ndirs || hidden > MAX_HIDDEN || epochs < 1) {
        usage();
        return 2;
    }
    char cmdline[2048] = "";
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        /* Keep the comment free of "* /" and of the build directory. */
        if (i == 0)
            arg = "sm-train";
        int quote = strchr(arg, ' ') != NULL;
        if (quote)
            strncat(cmdline, "\"", sizeof(cmdline) - strlen(cmdline) - 1);
        strncat(cmdline, arg, sizeof(cmdline) - strlen(cmdline) - 3);
        if (quote)
            strncat(cmdline, "\"", sizeof(cmdline) - strlen(cmdline) - 1);
        if (i + 1 < argc)
            strncat(cmdline, " ", sizeof(cmdline) - strlen(cmdline) - 1);
    }

    struct data train = {NULL, NULL, NULL, 0};
    struct data val = {NULL, NULL, NULL, 0};
    struct data eval = {NULL, NULL, NULL, 0};
    if (collect(dirs, ndirs, threads, &train))
        return 1;
    if (val_dir && collect(&val_dir, 1, threads, &val))
        return 1;
    if (eval_dir && collect(&eval_dir, 1, threads, &eval))
        return 1;
    if (!train.n) {
        fprintf(stderr, "sm-train: no labelled files\n");
        return 1;
    }

    double val_acc = (double)NAN;
    if (hidden < 0) {
        static const int sizes[4] = {0, 16, 32, 64};
        double best = -1.0;
        hidden = 32;
        for (int k = 0; k < 4; k++) {
            struct model m;
            memset(&m, 0, sizeof(m));
            m.nh = sizes[k];
            fit(&m, &train, epochs, 1e-4);
            double acc_t = evaluate(&m, &train, NULL);
            double acc_v = val.n ? evaluate(&m, &val, NULL) : acc_t;
            fprintf(stderr, "sm-train: hidden %2d: train %.1f %%, validation %.1f %%\n",
                    sizes[k], acc_t, acc_v);
            if (acc_v > best + 0.25) {
                best = acc_v;
                hidden = sizes[k];
            }
            model_free(&m);
        }
        val_acc = best;
        fprintf(stderr, "sm-train: chose hidden %d\n", hidden);
    }
    /* The final fit uses every file that is not held out. */
    if (val.n) {
        train.x = realloc(train.x, (train.n + val.n) * NF * sizeof(float));
        train.e = realloc(train.e, (train.n + val.n) * SM__EMB_DIM * sizeof(float));
        train.y = realloc(train.y, (train.n + val.n) * sizeof(int));
        if (!train.x || !train.e || !train.y)
            return 1;
        memcpy(train.x + train.n * NF, val.x, val.n * NF * sizeof(float));
        memcpy(train.e + train.n * SM__EMB_DIM, val.e, val.n * SM__EMB_DIM * sizeof(float));
        memcpy(train.y + train.n, val.y, val.n * sizeof(int));
        train.n += val.n;
    }
    struct model m;
    memset(&m, 0, sizeof(m));
    m.nh = hidden;
    fit(&m, &train, epochs, 1e-4);
    printf("sm-train: %zu training files, hidden %d, training accuracy %.1f %%\n", train.n,
           m.nh, evaluate(&m, &train, NULL));
    double eval_acc = (double)NAN;
    if (eval.n) {
        size_t conf[NC][NC];
        eval_acc = evaluate(&m, &eval, conf);
        printf("sm-train: held-out %s: %zu files, accuracy %.1f %%\n", eval_dir, eval.n,
               eval_acc);
        print_confusion(stdout, conf, "  ");
    }
    int rc = write_model(out, &m, &train, cmdline, data_desc, val_acc, eval_acc);
    model_free(&m);
    data_free(&train);
    data_free(&val);
    data_free(&eval);
    return rc ? 1 : 0;
}
