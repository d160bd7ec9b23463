/// A typed writer of pcapng (PCAP Next Generation) blocks, byte for byte as the specification
/// lays them out: draft-ietf-opsawg-pcapng (the IETF OPSAWG working group's draft, the successor
/// of draft-tuexen-opsawg-pcapng in the pcapng/pcapng repository). Section numbers below are the
/// draft's: §3.1 General Block Structure, §3.5 Options, §3.6 Data format (endianness, alignment,
/// strings), §4.1 Section Header Block, §4.2 Interface Description Block, §4.3 Enhanced Packet
/// Block, §4.3.1 Enhanced Packet Block Flags Word.
///
/// Every number is written little-endian; the Section Header Block's byte-order magic tells a
/// reader so (§3.6.1: a section is in the writer's byte order, which the magic identifies).
/// Pure: builds bytes, writes no file.
public enum Pcapng {
    /// Block type codes (§4.1, §4.2, §4.3; registry in §10.1).
    public static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    public static let interfaceDescriptionType: UInt32 = 0x0000_0001
    public static let enhancedPacketType: UInt32 = 0x0000_0006
    /// §4.1: "Byte-Order Magic (32 bits): … 0x1A2B3C4D".
    public static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    /// LINKTYPE_ETHERNET (the IDB's LinkType, §4.2; the link-type registry).
    public static let linkTypeEthernet: UInt16 = 1

    /// An option (§3.5): Type (16 bits), Length (16 bits, the value's length without padding),
    /// Value padded to 32 bits. The codes are the draft's tables: common options (§3.5), SHB
    /// options (§4.1), IDB options (§4.2), EPB options (§4.3).
    public enum Option: Sendable, Equatable {
        /// opt_comment (1): UTF-8, not zero-terminated; may repeat.
        case comment(String)
        /// shb_userappl (4).
        case userApplication(String)
        /// if_name (2).
        case interfaceName(String)
        /// if_description (3).
        case interfaceDescription(String)
        /// if_tsresol (9): one octet; MSB 0 → the rest is a negative power of 10 (6 = µs).
        case timestampResolution(UInt8)
        /// epb_flags (2): a 32-bit flags word (§4.3.1).
        case flags(UInt32)
        /// epb_packetid (5): a 64-bit id shared by the EPBs of one packet seen on several
        /// interfaces ("a router that captures packets on all its interfaces").
        case packetID(UInt64)

        /// The option's type code; the same number means different options in different
        /// blocks, so the code alone does not tell the option (§3.5).
        public var code: UInt16 {
            switch self {
            case .comment: return 1
            case .userApplication: return 4
            case .interfaceName: return 2
            case .interfaceDescription: return 3
            case .timestampResolution: return 9
            case .flags: return 2
            case .packetID: return 5
            }
        }

        /// The value's octets, before padding.
        public var value: [UInt8] {
            switch self {
            case let .comment(s), let .userApplication(s), let .interfaceName(s), let .interfaceDescription(s):
                // §3.6.3: writers "MUST write only valid UTF-8"; a Swift String's utf8 is.
                return Array(s.utf8)
            case let .timestampResolution(r): return [r]
            case let .flags(f): return Pcapng.le32(f)
            case let .packetID(id): return Pcapng.le64(id)
            }
        }
    }

    /// Bits of the EPB flags word (§4.3.1; bit 0 is the least significant).
    public enum Flag {
        /// Bits 0-1: 01 inbound, 10 outbound (00: not available).
        public static let inbound: UInt32 = 0b01
        public static let outbound: UInt32 = 0b10
        /// Bit 9: "Checksum not ready, as a consequence of checksum offloading".
        public static let checksumNotReady: UInt32 = 1 << 9
        /// Bit 10: "Checksum valid, the checksum has already been checked on the receive path".
        public static let checksumValid: UInt32 = 1 << 10
        /// Bit 11: "TCP segmentation offloaded" (a super-frame that will be several on the link).
        public static let tcpSegmentationOffloaded: UInt32 = 1 << 11
    }

    /// One block, typed.
    public enum Block: Sendable, Equatable {
        /// §4.1. Section Length is written as -1 ("not specified").
        case sectionHeader(options: [Option])
        /// §4.2.
        case interfaceDescription(linkType: UInt16, snapLength: UInt32, options: [Option])
        /// §4.3. `timestamp` in the interface's units (if_tsresol; default 10^-6 s).
        case enhancedPacket(interface: UInt32, timestamp: UInt64, data: [UInt8], originalLength: UInt32, options: [Option])

        public var type: UInt32 {
            switch self {
            case .sectionHeader: return Pcapng.sectionHeaderType
            case .interfaceDescription: return Pcapng.interfaceDescriptionType
            case .enhancedPacket: return Pcapng.enhancedPacketType
            }
        }

        /// The block body (§3.1): the fixed fields, then the options.
        var body: [UInt8] {
            switch self {
            case let .sectionHeader(options):
                // Magic, Major Version 1, Minor Version 0, Section Length -1 (§4.1).
                return Pcapng.le32(Pcapng.byteOrderMagic) + Pcapng.le16(1) + Pcapng.le16(0)
                    + Pcapng.le64(UInt64.max) + Pcapng.options(options)
            case let .interfaceDescription(linkType, snapLength, options):
                // LinkType, Reserved (MUST be 0), SnapLen (§4.2).
                return Pcapng.le16(linkType) + Pcapng.le16(0) + Pcapng.le32(snapLength) + Pcapng.options(options)
            case let .enhancedPacket(interface, timestamp, data, originalLength, options):
                // Interface ID, Timestamp (High), Timestamp (Low), Captured Packet Length,
                // Original Packet Length, Packet Data padded to 32 bits (§4.3).
                return Pcapng.le32(interface) + Pcapng.le32(UInt32(truncatingIfNeeded: timestamp >> 32))
                    + Pcapng.le32(UInt32(truncatingIfNeeded: timestamp)) + Pcapng.le32(UInt32(data.count))
                    + Pcapng.le32(originalLength) + Pcapng.padded(data) + Pcapng.options(options)
            }
        }

        /// The whole block: Block Type, Block Total Length, Body, Block Total Length again
        /// ("duplicated to permit backward file navigation", §3.1). The total is a multiple of 4.
        public var bytes: [UInt8] {
            let b = body
            let total = UInt32(12 + b.count)
            return Pcapng.le32(type) + Pcapng.le32(total) + b + Pcapng.le32(total)
        }
    }

    /// An option list (§3.5): each option, then opt_endofopt ("Code that writes pcapng files
    /// MUST put an opt_endofopt option at the end of an option list"). No options: no list.
    static func options(_ list: [Option]) -> [UInt8] {
        guard !list.isEmpty else { return [] }
        var out: [UInt8] = []
        for o in list {
            var v = o.value
            // Option Length is 16 bits: a longer string is cut at a character boundary.
            if v.count > Int(UInt16.max) - 3 { v = truncatedUTF8(v, to: Int(UInt16.max) - 3) }
            out += le16(o.code) + le16(UInt16(v.count)) + padded(v)
        }
        return out + le16(0) + le16(0)
    }

    /// `bytes` followed by zeros up to a multiple of 4 (§3.6.2: padding "MUST be filled with zeroes").
    static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// The longest prefix of the UTF-8 `bytes` no longer than `limit` that ends between characters.
    static func truncatedUTF8(_ bytes: [UInt8], to limit: Int) -> [UInt8] {
        var n = min(limit, bytes.count)
        // A continuation byte (10xxxxxx) cannot start a character: back off to one that does.
        while n > 0, n < bytes.count, bytes[n] & 0xC0 == 0x80 { n -= 1 }
        return Array(bytes[..<n])
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A whole file: the blocks in order (the first must be a Section Header Block).
    public static func file(_ blocks: [Block]) -> [UInt8] {
        blocks.flatMap(\.bytes)
    }
}
