import Simulation

/// How checksum states look: a letter that survives `NO_COLOR` and ASCII terminals, and a colour.
extension ChecksumCondition {
    public var glyph: Character {
        switch self {
        case .completeValid: return "C"
        case .partialPending: return "P"
        case .badUnflagged: return "X"
        case .verifiedUnnecessary: return "U"
        case .flaggedButBad: return "!"
        }
    }

    public var color: Color {
        switch self {
        case .completeValid: return .green
        case .partialPending: return .yellow
        case .badUnflagged: return .red
        case .verifiedUnnecessary: return .cyan
        case .flaggedButBad: return .magenta
        }
    }

    /// The word in the legend.
    public var legendWord: String {
        switch self {
        case .completeValid: return "complete"
        case .partialPending: return "PARTIAL"
        case .badUnflagged: return "bad"
        case .verifiedUnnecessary: return "verified"
        case .flaggedButBad: return "flagged-bad"
        }
    }

    var style: Style { Style(fg: color, bold: true) }
}

extension Carrier {
    /// The `ip_summed`-like word of the steps list.
    var short: String {
        switch self {
        case let .skb(s): return s.ipSummed.short
        case let .vnet(h): return h.needsChecksum ? "NEEDS_CSUM" : h.isDataValid ? "DATA_VALID" : "vnet:0"
        case .raw: return "bytes"
        case .wire: return "wire"
        case .socket: return "socket"
        }
    }
}

enum Theme {
    static let focusTitle = Style(bold: true, reverse: true)
    static let title = Style(bold: true)
    /// A `code span` in lesson text: a command or a kernel name, set off without its backticks.
    static let code = Style(fg: .cyan)
    static let rule = Style(dim: true)
    static let statusBar = Style(reverse: true)
    static let ok = Style(fg: .green, bold: true)
    static let bad = Style(fg: .red, bold: true)
    static let selected = Style(reverse: true)
    static let currentHop = Style(fg: .yellow, bold: true, reverse: true)
    static let selectedBox = Style(fg: .cyan, bold: true)
    static let disabled = Style(dim: true)
    static let changed = Style(fg: .magenta, bold: true)
    static let checksumField = Style(fg: .yellow, bold: true, reverse: true)
    static let csumRange = Style(fg: .cyan, underline: true)
    /// A tunnelled frame's outer UDP checksum range where it does not overlap the inner one
    /// (from the outer UDP header to the inner L4 header; from there both run to the end).
    static let outerCsumRange = Style(fg: .blue, underline: true)
}
