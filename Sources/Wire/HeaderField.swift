/// Where the fields csumlab reads and writes sit in each header, relative to the header's start:
/// the one place a header's layout is spelled out (smoltcp's `mod field`). Accessors on `Frame`
/// use these; nothing outside `Wire` indexes header bytes.
enum IPv4Field {
    static let totalLength = 2
    static let identification = 4
    /// Flags (DF, MF) and fragment offset.
    static let flagsFragment = 6
    static let ttl = 8
    static let checksum = 10
    static let source = 12
    static let destination = 16
    /// The Don't Fragment bit in the first byte of `flagsFragment`.
    static let dontFragment: UInt8 = 0x40
}

enum IPv6Field {
    static let payloadLength = 4
    static let nextHeader = 6
    static let hopLimit = 7
    static let source = 8
    static let destination = 24
}

enum TCPField {
    static let sequence = 4
    static let flags = 13
    static let checksum = 16
}

enum ICMPField {
    static let type = 0
}
