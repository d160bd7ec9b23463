/// RFC 1071 internet checksum arithmetic: the one place in csumlab where one's-complement sums are
/// computed. Everything else (Wire, Simulation, UI) calls these functions.
///
/// Conventions (the same as Linux's `__wsum` / `__sum16`, but in *network* word order so that a
/// value reads the way a capture prints it):
/// - A *partial sum* is a `UInt32` accumulator of big-endian 16-bit words with end-around carry,
///   not yet folded (Linux `csum_partial()` result).
/// - `fold` reduces it to 16 bits, *not* complemented (`~csum_fold()` in Linux terms).
/// - `finish` complements the folded value: that is what goes into a header field.
public enum InternetChecksum {
    /// One's-complement sum of `bytes`, added to `initial`. Bytes are taken as big-endian 16-bit
    /// words; an odd trailing byte is padded with zero on the right (RFC 1071).
    ///
    /// Short inputs (headers) run the inlined portable path; longer ones the fastest path this
    /// CPU has (`ChecksumEngine.current`). The result is a partial sum: its `fold` is the same on
    /// every path; the unfolded 32-bit value is not promised to be.
    @inlinable
    public static func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        if bytes.count < ChecksumEngine.inlineThreshold {
            return ChecksumEngine.shortSum(bytes, initial: initial)
        }
        return ChecksumEngine.currentSum(bytes, initial: initial)
    }

    /// Convenience over a byte array.
    @inlinable
    public static func sum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { sum($0, initial: initial) }
    }

    /// Convenience over a byte array slice (sum starts at the slice's first byte).
    @inlinable
    public static func sum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { sum($0, initial: initial) }
    }

    /// Sum of `bytes[range]`.
    @inlinable
    public static func sum(_ bytes: [UInt8], range: Range<Int>, initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { raw in
            sum(UnsafeRawBufferPointer(rebasing: raw[range]), initial: initial)
        }
    }

    /// `csum_add()`: one's-complement addition of two partial sums.
    @inlinable
    public static func add(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (s, o) = a.addingReportingOverflow(b)
        return s &+ (o ? 1 : 0)
    }

    /// `csum_sub()`: one's-complement subtraction (add the complement).
    @inlinable
    public static func subtract(_ a: UInt32, _ b: UInt32) -> UInt32 {
        add(a, ~b)
    }

    /// `csum_block_add()`: combine the sum of a block that starts at byte `offset` of the whole.
    /// A block starting at an odd offset has its bytes in the other half of each word, so its
    /// sum is byte-rotated before it is added (RFC 1071 §2(B)).
    @inlinable
    public static func blockAdd(_ total: UInt32, _ block: UInt32, offset: Int) -> UInt32 {
        let b = offset & 1 == 1 ? rotateBytes(block) : block
        return add(total, b)
    }

    /// Swap the byte halves of every 16-bit lane of a sum (rotating a 32-bit sum by 8 bits keeps
    /// its folded value byte-swapped, which is what an odd offset needs).
    @inlinable
    public static func rotateBytes(_ s: UInt32) -> UInt32 {
        (s << 8) | (s >> 24)
    }

    /// Fold a partial sum to 16 bits without complementing it.
    @inlinable
    public static func fold(_ s: UInt32) -> UInt16 {
        var x = (s & 0xFFFF) &+ (s >> 16)
        x = (x & 0xFFFF) &+ (x >> 16)
        return UInt16(truncatingIfNeeded: x)
    }

    /// Fold and complement: the value a checksum field holds when complete.
    @inlinable
    public static func finish(_ s: UInt32) -> UInt16 {
        ~fold(s)
    }

    /// The full checksum of `bytes` (sum, fold, complement).
    @inlinable
    public static func checksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        finish(sum(bytes, initial: initial))
    }

    /// IPv4 header checksum of a header whose checksum field may hold anything: the field (bytes
    /// 10–11) is taken as zero.
    public static func ipv4HeaderChecksum(_ header: [UInt8]) -> UInt16 {
        precondition(header.count >= 20, "an IPv4 header is at least 20 bytes")
        var s = sum(header, range: 0..<10)
        s = add(s, sum(header, range: 12..<header.count))
        return finish(s)
    }

    /// The TCP/UDP pseudo-header sum for IPv4 (RFC 793 / 768): source, destination, zero,
    /// protocol, L4 length. Unfolded, not complemented.
    public static func pseudoHeaderIPv4(source: UInt32, destination: UInt32, protocol proto: UInt8, length: UInt32) -> UInt32 {
        var s: UInt32 = 0
        s = add(s, source >> 16)
        s = add(s, source & 0xFFFF)
        s = add(s, destination >> 16)
        s = add(s, destination & 0xFFFF)
        s = add(s, UInt32(proto))
        s = add(s, length >> 16)
        s = add(s, length & 0xFFFF)
        return s
    }

    /// The TCP/UDP/ICMPv6 pseudo-header sum for IPv6 (RFC 8200 §8.1). Addresses are 16 bytes.
    public static func pseudoHeaderIPv6(source: [UInt8], destination: [UInt8], nextHeader: UInt8, length: UInt32) -> UInt32 {
        precondition(source.count == 16 && destination.count == 16, "IPv6 addresses are 16 bytes")
        var s = sum(source)
        s = add(s, sum(destination))
        s = add(s, length >> 16)
        s = add(s, length & 0xFFFF)
        s = add(s, UInt32(nextHeader))
        return s
    }

    // MARK: RFC 1624 incremental update

    /// RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`, for one 16-bit field changing from `old` to
    /// `new` (Linux `csum_replace2()`).
    public static func replace16(checksum hc: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        var s = UInt32(~hc)
        s = add(s, UInt32(~old))
        s = add(s, UInt32(new))
        return ~fold(s)
    }

    /// The same for a 32-bit field (Linux `csum_replace4()`).
    public static func replace32(checksum hc: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        var s = UInt32(~hc)
        s = add(s, ~old >> 16)
        s = add(s, ~old & 0xFFFF)
        s = add(s, new >> 16)
        s = add(s, new & 0xFFFF)
        return ~fold(s)
    }

    /// Incremental update of a field that holds an *unfinished* pseudo-header sum (a
    /// `CHECKSUM_PARTIAL` skb): `~csum_fold(csum_add(csum_sub(csum_unfold(*sum), from), to))` in
    /// `inet_proto_csum_replace4()`. The field is the folded sum, not its complement.
    public static func replacePseudo32(partialField field: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        var s = UInt32(field)
        s = add(s, ~old >> 16)
        s = add(s, ~old & 0xFFFF)
        s = add(s, new >> 16)
        s = add(s, new & 0xFFFF)
        return fold(s)
    }

    /// UDP over IPv4 sends a computed checksum of 0 as 0xFFFF, because 0 means "no checksum"
    /// (RFC 768). Linux: `CSUM_MANGLED_0`.
    @inlinable
    public static func udpMangleZero(_ c: UInt16) -> UInt16 {
        c == 0 ? 0xFFFF : c
    }

    /// `ip_decrease_ttl()`'s update of the IPv4 header checksum for TTL − 1:
    /// `check += htons(0x0100)` with the end-around carry `check += (check >= 0xFFFF)`, the
    /// kernel's shortcut for RFC 1624 when only the TTL byte changes.
    @inlinable
    public static func decrementTTL(checksum: UInt16) -> UInt16 {
        var check = UInt32(checksum) + 0x0100
        check = (check & 0xFFFF) + (check >= 0xFFFF ? 1 : 0)
        return UInt16(truncatingIfNeeded: check)
    }
}
