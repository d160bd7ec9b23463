// What Swift cannot see in ncurses: macros (attributes, COLOR_PAIR, ACS_*, KEY_*, mouse masks)
// and global variables (stdscr, LINES, COLS, acs_map), which Swift 6 rejects as shared mutable
// state. Each is wrapped once in a static inline function. The signal handling lives here too
// because a crash handler must use only async-signal-safe calls, which is easiest to see in C.
#ifndef CSUMLAB_CURSES_SHIM_H
#define CSUMLAB_CURSES_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncurses.h>
#include <wchar.h>

static inline WINDOW *csl_stdscr(void) { return stdscr; }
static inline int csl_lines(void) { return LINES; }
static inline int csl_cols(void) { return COLS; }
static inline int csl_color_pairs(void) { return COLOR_PAIRS; }

static inline attr_t csl_a_normal(void) { return A_NORMAL; }
static inline attr_t csl_a_bold(void) { return A_BOLD; }
static inline attr_t csl_a_dim(void) { return A_DIM; }
static inline attr_t csl_a_reverse(void) { return A_REVERSE; }
static inline attr_t csl_a_underline(void) { return A_UNDERLINE; }
static inline attr_t csl_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }

/// The alternate character set glyph for a VT100 line-drawing letter ('q' = ─, 'x' = │ …).
static inline chtype csl_acs(char c) { return NCURSES_ACS((unsigned char)c); }

static inline int csl_key_up(void) { return KEY_UP; }
static inline int csl_key_down(void) { return KEY_DOWN; }
static inline int csl_key_left(void) { return KEY_LEFT; }
static inline int csl_key_right(void) { return KEY_RIGHT; }
static inline int csl_key_home(void) { return KEY_HOME; }
static inline int csl_key_end(void) { return KEY_END; }
static inline int csl_key_ppage(void) { return KEY_PPAGE; }
static inline int csl_key_npage(void) { return KEY_NPAGE; }
static inline int csl_key_btab(void) { return KEY_BTAB; }
static inline int csl_key_enter(void) { return KEY_ENTER; }
static inline int csl_key_backspace(void) { return KEY_BACKSPACE; }
static inline int csl_key_dc(void) { return KEY_DC; }
static inline int csl_key_resize(void) { return KEY_RESIZE; }
static inline int csl_key_mouse(void) { return KEY_MOUSE; }
static inline int csl_key_code_yes(void) { return KEY_CODE_YES; }
/// F1…F12 (htop users try F1 for help and F10 to quit).
static inline int csl_key_f(int n) { return KEY_F(n); }

/// Report left-button presses and clicks, and the wheel (xterm reports it as buttons 4 and 5).
static inline void csl_mouse_on(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}

/// The last mouse event and its cell: 1 a left press or click, 2 the wheel turned up, 3 down,
/// 0 anything else.
static inline int csl_getmouse(int *x, int *y) {
    MEVENT e;
    if (getmouse(&e) != OK) return 0;
    *x = e.x;
    *y = e.y;
    if (e.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (e.bstate & BUTTON4_PRESSED) return 2;
#ifdef BUTTON5_PRESSED
    if (e.bstate & BUTTON5_PRESSED) return 3;
#endif
    return 0;
}

/// How many wide characters a cchar_t holds (a spacing one and its combining marks).
static inline int csl_cchar_max(void) { return CCHARW_MAX; }

/// Draw one character cell: `wc` is a spacing character followed by combining characters (at
/// most CCHARW_MAX in all), terminated by 0. A wide character covers the next cell too.
static inline int csl_put_wch(WINDOW *w, int y, int x, const wchar_t *wc, attr_t a, short pair) {
    cchar_t cc;
    if (setcchar(&cc, wc, a, pair, NULL) != OK) return ERR;
    return mvwadd_wch(w, y, x, &cc);
}

/// Draw one narrow character or ACS glyph with attributes and a colour pair.
static inline int csl_put_ch(WINDOW *w, int y, int x, chtype ch, attr_t a, short pair) {
    return mvwaddch(w, y, x, ch | a | (chtype)COLOR_PAIR(pair));
}

/// Read a key: returns OK (wide character in *ch), KEY_CODE_YES (key code in *ch) or ERR.
static inline int csl_get_wch(WINDOW *w, int *ch) {
    wint_t c = 0;
    int r = wget_wch(w, &c);
    *ch = (int)c;
    return r;
}

/// Set the locale from the environment; 1 when its codeset is UTF-8.
int csl_setlocale_is_utf8(void);

/// newterm on the process's stdout/stdin; NULL when the terminal is unknown or cannot address
/// the cursor.
SCREEN *csl_newterm(void);

/// Save the terminal's termios and install handlers. Every catchable signal whose default action
/// ends the process is covered: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2, SIGPIPE, SIGALRM,
/// SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR, SIGSTKFLT and the real-time signals set
/// a flag the main loop reads (`csl_take_signal`; a second one before the loop answers restores
/// at once and dies); SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE and SIGSYS restore the
/// terminal in the handler (saved termios, a reset sequence, standard error back) and re-raise,
/// with async-signal-safe calls only. Call before newterm so ncurses keeps its hands off these
/// signals.
void csl_install_signal_handlers(void);

/// After newterm: build the reset sequence from the terminal's own terminfo strings (keypad
/// off, attributes, cursor, alternate screen; mouse reporting off) and start capturing standard
/// error, so that a message written while curses owns the screen is shown after it is restored.
void csl_terminal_ready(void);

/// The pending ordinary signal (and clear it), or 0.
int csl_take_signal(void);

/// Put back the termios saved at start (after endwin, belt and braces).
void csl_restore_termios(void);

/// Point standard error back at the terminal and copy what it received while captured (after
/// endwin, so the text lands on the normal screen).
void csl_release_stderr(void);

/// Put back the handlers that were there before `csl_install_signal_handlers` (the Swift
/// runtime's, or an inherited disposition), after the terminal is restored.
void csl_uninstall_signal_handlers(void);

/// Stage the unsaved lab for a crash: the handlers for crash signals (and a second quit signal
/// while the loop is busy) write `text` to `temp`, fsync it and rename it to `path` before they
/// restore the terminal. Called after each change; `csl_clear_recovery` when nothing is unsaved.
void csl_stage_recovery(const char *path, const char *temp, const char *text, size_t length);
void csl_clear_recovery(void);

#endif
