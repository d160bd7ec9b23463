// ncursesw with its wide-character API (cchar_t, wget_wch, mvwadd_wch). Debian ships no
// pkg-config entry usable here, so the module map links ncursesw by name.
#ifndef CSUMLAB_CNCURSESW_SHIM_H
#define CSUMLAB_CNCURSESW_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <ncurses.h>
#endif
