#define _GNU_SOURCE 1
#include "CursesShim.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static volatile sig_atomic_t pending_signal = 0;
static volatile sig_atomic_t handlers_installed = 0;
static struct termios saved_termios;
static volatile sig_atomic_t have_termios = 0;

/* Faults (and abort, which the Swift runtime's traps and fatalError end in): the program cannot
   go on, so the handler itself restores the terminal and re-raises. SIGSYS comes from a
   forbidden system call (seccomp), synchronously, like a fault. */
static const int crash_signals[] = {SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSYS};

/* Every other catchable signal whose default action ends the process: the handler only records
   it; the main loop sees the flag, leaves curses with endwin, and dies of the signal. SIGQUIT is
   among them so that the Swift runtime's crash reporter (which claims SIGQUIT at start-up and
   would print over the screen and wait for a key) does not see it while curses owns the
   terminal. Real-time signals (SIGRTMIN..SIGRTMAX) also end the process by default; they are
   added at install time because SIGRTMIN is not a constant. */
static const int quit_signals[] = {
    SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
#ifdef SIGIO
    SIGIO, /* SIGPOLL on Linux */
#endif
#ifdef SIGPWR
    SIGPWR,
#endif
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
#ifdef SIGEMT
    SIGEMT,
#endif
};

#ifndef NSIG
#define NSIG 65
#endif
/* What each signal did before we took it (the Swift runtime's backtracer for SIGQUIT and the
   faults, an inherited SIG_IGN…), put back when the terminal is released. */
static struct sigaction previous[NSIG];
static unsigned char taken[NSIG];

/* Leave the terminal as a shell expects it: mouse reporting off (every mode ncurses or xterm may
   have turned on), keypad (application cursor keys) off, attributes reset, cursor shown,
   alternate screen left. The terminfo strings of the actual terminal replace these at
   `csl_terminal_ready` when it has them. */
static const char fallback_reset[] =
    "\033[?1000l\033[?1002l\033[?1003l\033[?1005l\033[?1006l\033[?1015l"
    "\033[?1l\033>"
    "\033[0m\033[?25h\033[?1049l\r\n";
static char reset_buffer[1024];
static volatile sig_atomic_t reset_length = 0;

/* Standard error while curses owns the screen: fd 2 points at an anonymous file so that a
   message (the Swift runtime's "Fatal error: …", a warning) is not drawn over, and lost with,
   the alternate screen; it is copied to the real standard error once the terminal is back. */
static volatile sig_atomic_t saved_stderr = -1;
static volatile sig_atomic_t captured_stderr = -1;

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

int csl_setlocale_is_utf8(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

SCREEN *csl_newterm(void) {
    SCREEN *s = newterm(NULL, stdout, stdin);
    if (s == NULL) return NULL;
    const char *cup = tigetstr("cup");
    if (cup == NULL || cup == (char *)-1) {
        endwin();
        delscreen(s);
        return NULL;
    }
    return s;
}

static void append_cap(size_t *n, const char *name) {
    const char *v = tigetstr(name);
    if (v == NULL || v == (char *)-1) return;
    size_t len = strlen(v);
    /* Capabilities with parameters or delays ($<…>) are not written raw; skip them. */
    if (strchr(v, '%') != NULL || strstr(v, "$<") != NULL) return;
    if (*n + len >= sizeof reset_buffer - 64) return;
    memcpy(reset_buffer + *n, v, len);
    *n += len;
}

/* Copy what standard error received while captured to the real standard error, and point fd 2
   back at it. Async-signal-safe (dup2, lseek, read, write, close). */
static void release_stderr(void) {
    int saved = saved_stderr, captured = captured_stderr;
    if (saved < 0) return;
    saved_stderr = -1;
    captured_stderr = -1;
    dup2(saved, STDERR_FILENO);
    close(saved);
    if (captured < 0) return;
    if (lseek(captured, 0, SEEK_SET) == 0) {
        char buf[4096];
        for (;;) {
            ssize_t r = read(captured, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            write_all(STDERR_FILENO, buf, (size_t)r);
        }
    }
    close(captured);
}

static void capture_stderr(void) {
    if (saved_stderr >= 0) return;
    int fd = -1;
#if defined(__linux__)
    fd = memfd_create("csumlab-stderr", MFD_CLOEXEC);
#endif
    if (fd < 0) {
        const char *dir = getenv("TMPDIR");
        char path[512];
        snprintf(path, sizeof path, "%s/csumlab-stderr-XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(path);
        if (fd < 0) return;
        unlink(path);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    fflush(stderr);
    int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
        if (saved >= 0) close(saved);
        close(fd);
        return;
    }
    captured_stderr = fd;
    saved_stderr = saved;
}

void csl_terminal_ready(void) {
    size_t n = 0;
    const char *mouse_off = "\033[?1000l\033[?1002l\033[?1003l\033[?1005l\033[?1006l\033[?1015l";
    memcpy(reset_buffer, mouse_off, strlen(mouse_off));
    n = strlen(mouse_off);
    size_t before = n;
    append_cap(&n, "rmkx"); /* keypad off */
    if (n == before) {      /* no rmkx: the xterm sequence */
        memcpy(reset_buffer + n, "\033[?1l\033>", 7);
        n += 7;
    }
    append_cap(&n, "sgr0");
    append_cap(&n, "cnorm");
    before = n;
    append_cap(&n, "rmcup");
    if (n == before) {
        memcpy(reset_buffer + n, "\033[?1049l", 8);
        n += 8;
    }
    memcpy(reset_buffer + n, "\r\n", 2);
    n += 2;
    reset_length = (sig_atomic_t)n;
    capture_stderr();
}

/* The terminal as it was, with async-signal-safe calls only: termios, the reset sequence, then
   standard error back (with what it received meanwhile, now readable on the normal screen). */
static void restore_terminal_now(void) {
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    int n = reset_length;
    if (n > 0) write_all(STDOUT_FILENO, reset_buffer, (size_t)n);
    else write_all(STDOUT_FILENO, fallback_reset, sizeof fallback_reset - 1);
    release_stderr();
}

/* Die of `sig` with its default action, from inside its handler. */
static void die_of(int sig) {
    signal(sig, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    raise(sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    _exit(128 + sig); /* not reached unless the default action does not end the process */
}

/* The unsaved lab, staged by the explorer after each change so that a crash (or a second
   signal while the loop is busy) can still keep it: written with open/write/fsync/rename only,
   which are async-signal-safe. `staged_ready` is cleared while the buffers change. */
static char *staged_text;
static size_t staged_length;
static char staged_path[4096];
static char staged_temp[4096];
static volatile sig_atomic_t staged_ready;

void csl_stage_recovery(const char *path, const char *temp, const char *text, size_t length) {
    staged_ready = 0;
    free(staged_text);
    staged_text = NULL;
    staged_length = 0;
    if (!path || !temp || !text || strlen(path) >= sizeof staged_path || strlen(temp) >= sizeof staged_temp) return;
    char *copy = malloc(length ? length : 1);
    if (!copy) return;
    memcpy(copy, text, length);
    strcpy(staged_path, path);
    strcpy(staged_temp, temp);
    staged_text = copy;
    staged_length = length;
    staged_ready = 1;
}

void csl_clear_recovery(void) {
    staged_ready = 0;
    free(staged_text);
    staged_text = NULL;
    staged_length = 0;
}

static void write_staged_recovery(void) {
    if (!staged_ready) return;
    int fd = open(staged_temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    write_all(fd, staged_text, staged_length);
    int ok = fsync(fd) == 0;
    close(fd);
    if (ok) rename(staged_temp, staged_path);
    else unlink(staged_temp);
}

static void on_quit_signal(int sig) {
    if (pending_signal != 0) {
        /* A second signal before the loop answered the first: the loop is busy (a long
           simulation); do not wait for it. */
        write_staged_recovery();
        restore_terminal_now();
        die_of(sig);
    }
    pending_signal = sig;
}

static void on_crash_signal(int sig) {
    write_staged_recovery();
    restore_terminal_now();
    die_of(sig);
}

static void take(int sig, void (*handler)(int), int flags) {
    if (sig <= 0 || sig >= NSIG) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    if (sigaction(sig, &sa, &previous[sig]) == 0) taken[sig] = 1;
}

void csl_install_signal_handlers(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_termios = 1;
    pending_signal = 0;
    /* No SA_RESTART: a blocking read returns so the loop sees the flag. */
    for (size_t i = 0; i < sizeof quit_signals / sizeof quit_signals[0]; i++) take(quit_signals[i], on_quit_signal, 0);
#ifdef SIGRTMIN
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
        struct sigaction old;
        /* Leave a real-time signal alone if something in the process already handles it. */
        if (sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) take(s, on_quit_signal, 0);
    }
#endif
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        take(crash_signals[i], on_crash_signal, SA_RESETHAND | SA_NODEFER);
    handlers_installed = 1;
}

int csl_take_signal(void) {
    int s = pending_signal;
    pending_signal = 0;
    return s;
}

void csl_restore_termios(void) {
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

void csl_release_stderr(void) { release_stderr(); }

void csl_uninstall_signal_handlers(void) {
    if (!handlers_installed) return;
    handlers_installed = 0;
    for (int s = 1; s < NSIG; s++) {
        if (!taken[s]) continue;
        taken[s] = 0;
        sigaction(s, &previous[s], NULL);
    }
}
