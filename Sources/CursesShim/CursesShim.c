#include "CursesShim.h"

#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t pending_signal = 0;
static struct termios saved_termios;
static volatile sig_atomic_t have_termios = 0;

static const int crash_signals[] = {SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE};
static const int quit_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Leave the alternate screen, stop mouse reporting, reset attributes, show the cursor. */
static const char reset_sequence[] = "\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";

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

static void on_quit_signal(int sig) { pending_signal = sig; }

static void on_crash_signal(int sig) {
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    ssize_t r = write(STDOUT_FILENO, reset_sequence, sizeof reset_sequence - 1);
    (void)r;
    signal(sig, SIG_DFL);
    raise(sig);
}

void csl_install_signal_handlers(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_termios = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal;
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns so the loop sees the flag */
    for (size_t i = 0; i < sizeof quit_signals / sizeof quit_signals[0]; i++) sigaction(quit_signals[i], &sa, NULL);
    sa.sa_handler = on_crash_signal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) sigaction(crash_signals[i], &sa, NULL);
}

int csl_take_signal(void) {
    int s = pending_signal;
    pending_signal = 0;
    return s;
}

void csl_restore_termios(void) {
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

void csl_uninstall_signal_handlers(void) {
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) signal(crash_signals[i], SIG_DFL);
    for (size_t i = 0; i < sizeof quit_signals / sizeof quit_signals[0]; i++) signal(quit_signals[i], SIG_DFL);
}
