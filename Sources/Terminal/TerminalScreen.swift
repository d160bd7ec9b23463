import CNcursesw
import CursesShim
import ExplorerUI

#if canImport(Glibc)
import Glibc
#endif

/// Why the explorer cannot run on this terminal (the caller prints the trace instead).
public struct TerminalUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// The ncurses screen: started with `newterm` (so an unknown `TERM` is an error we can report,
/// not an `exit()`), drawn by copying the cells of a `Canvas` that differ from the last frame,
/// and restored by `close()`. Crash signals restore the terminal in C (CursesShim) with
/// async-signal-safe calls; the other signals that end a process (SIGINT, SIGTERM, SIGHUP,
/// SIGQUIT, SIGUSR1, SIGPIPE, SIGALRM…) only set a flag that `pendingSignal` reads. Standard
/// error is captured while the screen is up and shown after it is restored.
final class TerminalScreen {
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private var previous: Canvas?
    private let useColour: Bool
    private let utf8: Bool
    /// The terminal accepts -1 as "its own colour" in a pair (`use_default_colors`).
    private var defaultColours = false
    private var pairs: [Int: Int16] = [:]
    private var closed = false

    init() throws(TerminalUnavailable) {
        utf8 = csl_setlocale_is_utf8() != 0
        csl_install_signal_handlers()
        guard let s = csl_newterm() else {
            csl_uninstall_signal_handlers()
            let term = getenv("TERM").map { String(cString: $0) } ?? "unset"
            throw TerminalUnavailable(description: "this terminal (TERM=\(term)) cannot address the cursor")
        }
        screen = s
        guard let w = csl_stdscr() else {
            endwin()
            delscreen(s)
            csl_uninstall_signal_handlers()
            throw TerminalUnavailable(description: "ncurses gave no screen")
        }
        window = w
        csl_terminal_ready()
        cbreak()
        noecho()
        nonl()
        keypad(w, true)
        curs_set(0)
        set_escdelay(25)
        csl_mouse_on()
        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        useColour = !noColor && has_colors()
        if useColour {
            start_color()
            defaultColours = use_default_colors() == OK
        }
    }

    deinit { close() }

    var size: (width: Int, height: Int) { (Int(csl_cols()), Int(csl_lines())) }

    /// Restore the terminal: leave curses mode, put back the saved termios, drop the handlers.
    func close() {
        guard !closed else { return }
        closed = true
        endwin()
        delscreen(screen)
        csl_restore_termios()
        csl_release_stderr()
        csl_uninstall_signal_handlers()
    }

    /// The pending ordinary signal (SIGINT, SIGTERM, SIGQUIT, SIGUSR1…), if one arrived.
    func pendingSignal() -> Int32? {
        let s = csl_take_signal()
        return s == 0 ? nil : s
    }

    /// Redraw everything on the next frame (after a resize).
    func invalidate() {
        previous = nil
    }

    func draw(_ c: Canvas) {
        let full = previous.map { $0.width != c.width || $0.height != c.height } ?? true
        if full { werase(window) }
        for y in 0..<c.height {
            for x in 0..<c.width {
                let cell = c[x, y]
                if !full, let p = previous, p[x, y] == cell { continue }
                put(cell, x: x, y: y)
            }
        }
        wnoutrefresh(window)
        doupdate()
        previous = c
    }

    private func put(_ cell: Cell, x: Int, y: Int) {
        // The right half of a wide character: drawing the character covered it. Without UTF-8
        // the character became one `?`, so the half gets one too and the columns stay put.
        if cell.isContinuation && utf8 { return }
        var a = csl_a_normal()
        if cell.style.bold { a |= csl_a_bold() }
        if cell.style.dim { a |= csl_a_dim() }
        if cell.style.reverse { a |= csl_a_reverse() }
        if cell.style.underline { a |= csl_a_underline() }
        let pair = useColour ? pairFor(cell.style.fg, cell.style.bg) : 0
        let scalar = cell.isContinuation ? "?" : cell.char.unicodeScalars.first ?? " "
        if scalar.isASCII && cell.char.unicodeScalars.count == 1 {
            _ = csl_put_ch(window, Int32(y), Int32(x), chtype(scalar.value), a, pair)
        } else if utf8 {
            // The spacing character and its combining marks (the canvas keeps one spacing
            // character per cell), as many as a cchar_t holds.
            var wide = cell.char.unicodeScalars.prefix(Int(csl_cchar_max())).map { wchar_t(bitPattern: $0.value) }
            wide.append(0)
            _ = csl_put_wch(window, Int32(y), Int32(x), wide, a, pair)
        } else if let acs = Self.acsLetter[scalar] {
            _ = csl_put_ch(window, Int32(y), Int32(x), csl_acs(acs), a, pair)
        } else {
            let ascii = cell.isWide ? "?" : scalar.isASCII ? scalar : Self.asciiFallback[scalar] ?? "?"
            _ = csl_put_ch(window, Int32(y), Int32(x), chtype(ascii.value), a, pair)
        }
    }

    private func pairFor(_ fg: Color, _ bg: Color) -> Int16 {
        if fg == .standard && bg == .standard { return 0 }
        let key = Int(fg.rawValue) * 16 + Int(bg.rawValue)
        if let p = pairs[key] { return p }
        let n = Int16(pairs.count + 1)
        guard Int32(n) < csl_color_pairs() else { return 0 }
        let f = fg == .standard && !defaultColours ? Int16(COLOR_WHITE) : Self.curses(fg)
        let b = bg == .standard && !defaultColours ? Int16(COLOR_BLACK) : Self.curses(bg)
        init_pair(n, f, b)
        pairs[key] = n
        return n
    }

    private static func curses(_ c: Color) -> Int16 {
        switch c {
        case .standard: return -1
        case .black: return Int16(COLOR_BLACK)
        case .red: return Int16(COLOR_RED)
        case .green: return Int16(COLOR_GREEN)
        case .yellow: return Int16(COLOR_YELLOW)
        case .blue: return Int16(COLOR_BLUE)
        case .magenta: return Int16(COLOR_MAGENTA)
        case .cyan: return Int16(COLOR_CYAN)
        case .white: return Int16(COLOR_WHITE)
        }
    }

    /// Box drawing as VT100 line-drawing letters (ACS), for terminals whose locale is not UTF-8.
    static let acsLetter: [Unicode.Scalar: CChar] = [
        "─": CChar(UInt8(ascii: "q")), "│": CChar(UInt8(ascii: "x")), "┌": CChar(UInt8(ascii: "l")), "┐": CChar(UInt8(ascii: "k")),
        "└": CChar(UInt8(ascii: "m")), "┘": CChar(UInt8(ascii: "j")), "├": CChar(UInt8(ascii: "t")), "┤": CChar(UInt8(ascii: "u")),
        "┬": CChar(UInt8(ascii: "w")), "┴": CChar(UInt8(ascii: "v")), "┼": CChar(UInt8(ascii: "n")), "▒": CChar(UInt8(ascii: "a")),
        "·": CChar(UInt8(ascii: "~")),
    ]

    /// Everything else non-ASCII the views use, in ASCII.
    static let asciiFallback: [Unicode.Scalar: Unicode.Scalar] = [
        "→": ">", "←": "<", "↑": "^", "↓": "v", "▶": ">", "◀": "<", "✓": "+", "✗": "x", "…": "~",
        "⇒": ">", "█": "#", "×": "x", "−": "-", "•": "*",
    ]

    /// Read one event, waiting at most `timeout` ms (-1: forever). Nil on timeout or signal.
    func read(timeout: Int32) -> TerminalEvent? {
        wtimeout(window, timeout)
        var ch: Int32 = 0
        let r = csl_get_wch(window, &ch)
        if r == csl_key_code_yes() {
            switch ch {
            case csl_key_resize(): return .resize
            case csl_key_mouse():
                var x: Int32 = 0, y: Int32 = 0
                switch csl_getmouse(&x, &y) {
                case 1: return .input(.click(x: Int(x), y: Int(y)))
                case 2: return .input(.wheel(x: Int(x), y: Int(y), down: false))
                case 3: return .input(.wheel(x: Int(x), y: Int(y), down: true))
                default: return nil
                }
            case csl_key_up(): return .input(.key(.up))
            case csl_key_down(): return .input(.key(.down))
            case csl_key_left(): return .input(.key(.left))
            case csl_key_right(): return .input(.key(.right))
            case csl_key_home(): return .input(.key(.home))
            case csl_key_end(): return .input(.key(.end))
            case csl_key_ppage(): return .input(.key(.pageUp))
            case csl_key_npage(): return .input(.key(.pageDown))
            case csl_key_btab(): return .input(.key(.backTab))
            case csl_key_enter(): return .input(.key(.enter))
            case csl_key_backspace(): return .input(.key(.backspace))
            case csl_key_dc(): return .input(.key(.delete))
            case csl_key_f(1)...csl_key_f(12): return .input(.key(.function(Int(ch - csl_key_f(0)))))
            default: return .input(.key(.unknown))
            }
        }
        guard r == OK else { return nil }
        switch ch {
        case 9: return .input(.key(.tab))
        case 10, 13: return .input(.key(.enter))
        case 27: return .input(.key(.escape))
        case 8, 127: return .input(.key(.backspace))
        case 3: return .interrupt
        case 1...26: return .input(.key(.ctrl(Character(Unicode.Scalar(UInt8(96 + ch))))))
        default:
            guard ch >= 32, let u = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .input(.key(.char(Character(u))))
        }
    }
}

enum TerminalEvent {
    case input(InputEvent)
    case resize
    case interrupt
}
