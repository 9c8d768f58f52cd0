/* outfile.c - output files the command line writes (the rejects file), written
 * so that no mistyped path can destroy data: the path is refused when it names
 * an input, the warehouse or one of its side files (by device and inode, so a
 * relative path, "./", a symlink or a hard link are all caught), and the file
 * is written under a temporary name in the same folder and renamed into place
 * at the end, so an interrupted run never leaves half a file over a good one.
 * cli. */
#include "core/common.h"

#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary file being written, removed if a signal ends the run. One at a
 * time per process (the CLI writes one output file). */
static char pending_tmp[PATH_MAX];
static volatile sig_atomic_t have_pending;

static void on_signal(int sig)
{
    if (have_pending) {
        (void)unlink(pending_tmp);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* "dir/name" with dir made canonical (the file itself need not exist). false
 * when the folder does not exist or the result does not fit. */
static bool canonical(const char *path, char out[PATH_MAX])
{
    char a[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];
    if (strlen(path) >= sizeof(a)) {
        return false;
    }
    strcpy(a, path);
    strcpy(b, path);
    if (realpath(dirname(a), dir) == NULL) {
        return false;
    }
    const char *base = basename(b);
    int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
                     base);
    return n > 0 && n < PATH_MAX;
}

/* Do a and b name the same file? Existing files compare by device and inode
 * (symlinks followed, hard links caught); otherwise by canonical path. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb) {
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    }
    if (ea != eb) {
        return false;
    }
    char ca[PATH_MAX], cb[PATH_MAX];
    return canonical(a, ca) && canonical(b, cb) && strcmp(ca, cb) == 0;
}

int cli_out_check(const char *cmd, const char *opt, const char *path,
                  const struct cli_protect *p)
{
    struct stat st;
    if (path[0] == '\0') {
        return cli_fail(cmd, -SL_EUSAGE, "%s: an empty path", opt);
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return cli_fail(cmd, -SL_EUSAGE, "%s %s: is a directory", opt, path);
    }
    for (size_t i = 0; i < p->n_inputs; i++) {
        if (strcmp(p->inputs[i], "-") != 0 && same_file(path, p->inputs[i])) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s is the input file %s: refusing to "
                            "overwrite it (nothing was written)",
                            opt, path, p->inputs[i]);
        }
    }
    for (size_t i = 0; i < p->n_others; i++) {
        if (p->others[i] != NULL && same_file(path, p->others[i])) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s is %s %s: refusing to overwrite it "
                            "(nothing was written)",
                            opt, path, p->what[i], p->others[i]);
        }
    }
    return 0;
}

int cli_out_open(struct cli_out *o, const char *cmd, const char *path)
{
    memset(o, 0, sizeof(*o));
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a device or a pipe (/dev/stdout, a FIFO): written in place, it has
         * no contents to protect and cannot be renamed over */
        o->fp = fopen(path, "w");
        if (o->fp == NULL) {
            return cli_fail(cmd, -SL_EENV, "cannot write %s: %s", path,
                            strerror(errno));
        }
        o->path = path;
        o->direct = true;
        return 0;
    }
    char a[PATH_MAX], b[PATH_MAX];
    if (strlen(path) >= sizeof(a) - 32) {
        return cli_fail(cmd, -SL_EUSAGE, "%s: path too long", path);
    }
    strcpy(a, path);
    strcpy(b, path);
    int n = snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.sluice-tmp-%ld",
                     dirname(a), basename(b), (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
        return cli_fail(cmd, -SL_EUSAGE, "%s: path too long", path);
    }
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || (o->fp = fdopen(fd, "w")) == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        return cli_fail(cmd, -SL_EENV, "cannot write %s: %s", path,
                        strerror(e));
    }
    o->path = path;
    memcpy(pending_tmp, o->tmp, sizeof(pending_tmp));
    have_pending = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    return 0;
}

int cli_out_commit(struct cli_out *o, const char *cmd)
{
    if (o->fp == NULL) {
        return 0;
    }
    int rc = 0;
    if (fclose(o->fp) != 0) {
        rc = cli_fail(cmd, -SL_EENV, "cannot write %s: %s", o->path,
                      strerror(errno));
    } else if (o->direct) {
        o->fp = NULL;
        return 0;
    } else if (rename(o->tmp, o->path) != 0) {
        rc = cli_fail(cmd, -SL_EENV, "cannot rename %s to %s: %s", o->tmp,
                      o->path, strerror(errno));
    }
    if (rc != 0 && !o->direct) {
        unlink(o->tmp);
    }
    have_pending = 0;
    o->fp = NULL;
    return rc;
}

void cli_out_abort(struct cli_out *o)
{
    if (o->fp != NULL) {
        fclose(o->fp);
        if (!o->direct) {
            unlink(o->tmp);
        }
        have_pending = 0;
        o->fp = NULL;
    }
}
