extension ChecksumEngine {
    /// Portable path. Runs on any CPU: the bulk uses the standard library's `SIMD16<UInt32>`,
    /// which the compiler lowers to the baseline vector unit (SSE2 on x86-64, NEON on arm64) or
    /// to scalar code, never to an optional ISA. Each 32-bit lane `v = lo + 2^16·hi` is added
    /// whole into one accumulator (wrapping) and as `v >> 16` into another; because the second
    /// one is exact, the wrapped first one still gives the exact sum of the low halves
    /// (`all − (hi << 16)` mod 2^32), and `lo + hi` is the lane's one's-complement sum
    /// (2^16 ≡ 1 mod 0xFFFF): three vector operations per 16 bytes and no carries. A fifth of
    /// the bytes go through the integer ALUs at the same time, as 64-bit adds whose carries are
    /// counted (`add` + `adc $0`; Swift cannot express the `adc` chains Linux uses). Measured (a
    /// throwaway Swift harness; the shipped result is in assets/benchmarks.md) on
    /// AMD Zen 4 against the vector loop alone: ~5 % faster at 1500 B; 64-bit lanes with a
    /// high-half accumulator were ~8 % slower, a scalar carry-counting loop ~25 %, and a Swift
    /// "carry diamond" that LLVM could fold into `adc` was not folded (2× slower). Inputs below
    /// 96 bytes take only the scalar loop (`shortSum`, faster there:
    /// `csumlab-bench --threshold`), which is also what `InternetChecksum.sum` inlines for headers.
    @inlinable @inline(__always)
    public static func portableSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        if bytes.count >= 96 { return portableLongSum(bytes, initial: initial) }
        return shortSum(bytes, initial: initial)
    }

    /// Iterations of 160 bytes per chunk of `portableLongSum`: each of the 16 lanes takes at most
    /// 2 · 1020 + 4 vectors of 32-bit words, so `lo + hi` stays below 2 · 65535 · 2044 per lane
    /// and the sum of the 16 lanes below 2^32: lanes are reduced with 32-bit adds.
    @usableFromInline static var portableChunkIterations: Int { 1020 }

    /// The bulk loop of `portableSum`. Not inlinable into other modules (not worth it there);
    /// inside this one it is inlined into `portableKernel`, so that a portable sum above the
    /// inline threshold is one call, not two.
    @usableFromInline @inline(__always)
    static func portableLongSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        guard var p = bytes.baseAddress else { return initial }
        var n = bytes.count
        var total: UInt64 = 0
        // The scalar share: two 64-bit accumulators and a count of their carries (each carry is
        // worth 2^64 ≡ 1).
        var s0: UInt64 = 0, s1: UInt64 = 0, carries: UInt64 = 0
        // Safety: every load lies in p..<p+n and n bytes remain from p.
        while n >= 16 {
            var all = SIMD16<UInt32>(), hi = SIMD16<UInt32>()
            var budget = portableChunkIterations
            // 160 bytes per iteration: 128 through the vector unit and 32 through the integer
            // ALUs, which would otherwise idle (the vector loop alone is bound by its vector
            // operations; ~5 % faster at 1500 B than 128-byte vector iterations, throwaway harness).
            while n >= 160 && budget > 0 {
                let v0 = p.loadUnaligned(fromByteOffset: 0, as: SIMD16<UInt32>.self)
                let v1 = p.loadUnaligned(fromByteOffset: 64, as: SIMD16<UInt32>.self)
                all &+= v0 &+ v1
                hi &+= (v0 &>> 16) &+ (v1 &>> 16)
                var o: Bool
                (s0, o) = s0.addingReportingOverflow(p.loadUnaligned(fromByteOffset: 128, as: UInt64.self))
                carries &+= bit(o)
                (s1, o) = s1.addingReportingOverflow(p.loadUnaligned(fromByteOffset: 136, as: UInt64.self))
                carries &+= bit(o)
                (s0, o) = s0.addingReportingOverflow(p.loadUnaligned(fromByteOffset: 144, as: UInt64.self))
                carries &+= bit(o)
                (s1, o) = s1.addingReportingOverflow(p.loadUnaligned(fromByteOffset: 152, as: UInt64.self))
                carries &+= bit(o)
                p += 160
                n &-= 160
                budget &-= 1
            }
            // Then up to 159 bytes: 64 at most twice, 32 and 16 at most once (a bounded count,
            // so the lane bound holds when the budget, not the input, ended the loop).
            for _ in 0..<2 where n >= 64 {
                let v = p.loadUnaligned(as: SIMD16<UInt32>.self)
                all &+= v
                hi &+= v &>> 16
                p += 64
                n &-= 64
            }
            if n >= 32 {
                let v = p.loadUnaligned(as: SIMD8<UInt32>.self)
                all.lowHalf &+= v
                hi.lowHalf &+= v &>> 16
                p += 32
                n &-= 32
            }
            if n >= 16 {
                let v = p.loadUnaligned(as: SIMD4<UInt32>.self)
                all.highHalf.lowHalf &+= v
                hi.highHalf.lowHalf &+= v &>> 16
                p += 16
                n &-= 16
            }
            // Lanes reduced by halves (the standard library's `wrappedSum` is an out-of-line
            // call), `all` and `hi` separately down to four lanes first: the low halves of four
            // lanes still sum to less than 2^32, so `all − (hi << 16)` stays exact there.
            let a8 = all.lowHalf &+ all.highHalf, h8 = hi.lowHalf &+ hi.highHalf
            let a4 = a8.lowHalf &+ a8.highHalf, h4 = h8.lowHalf &+ h8.highHalf
            let l4 = (a4 &- (h4 &<< 16)) &+ h4
            total &+= UInt64((l4[0] &+ l4[1]) &+ (l4[2] &+ l4[3]))
        }
        total = addEAC(addEAC(total, addEAC(s0, s1)), carries)
        let tail = shortSumLE(UnsafeRawBufferPointer(start: p, count: n))
        return networkOrder32(addEAC(total, tail), initial)
    }

    /// The short path by itself, for `csumlab-bench --threshold`.
    public static func shortPathSum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        shortSum(bytes, initial: 0)
    }

    /// `portableSum` for short inputs: scalar, carry-free (see `shortSumLE`).
    @inlinable @inline(__always)
    static func shortSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        networkOrder32(shortSumLE(bytes), initial)
    }

    /// Unfolded one's-complement sum of little-endian words, as a plain 64-bit integer: 32-bit
    /// little-endian loads added into four 64-bit accumulators. A dword `lo + 2^16·hi` is
    /// congruent to `lo + hi` modulo 0xFFFF, and four 64-bit accumulators cannot overflow below
    /// 2^34 bytes, so there are no carries to track at all — fewer operations per byte than
    /// 64-bit add-with-carry, which Swift cannot express as an `adc` chain (measured at 20–64 B:
    /// 3.3–4.8 ns against 5.0–5.2 ns for four 64-bit accumulators with carry counters).
    @inlinable @inline(__always)
    static func shortSumLE(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard var p = bytes.baseAddress else { return 0 }
        var n = bytes.count
        var a0: UInt64 = 0, a1: UInt64 = 0, a2: UInt64 = 0, a3: UInt64 = 0
        // Safety: every load below lies in p..<p+n, and n bytes remain from p.
        while n >= 16 {
            a0 &+= UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            a1 &+= UInt64(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            a2 &+= UInt64(p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            a3 &+= UInt64(p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            p += 16
            n &-= 16
        }
        if n & 8 != 0 {
            a0 &+= UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            a1 &+= UInt64(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            p += 8
        }
        // The last 0–7 bytes start at an even offset: a trailing odd byte is the low byte of
        // its little-endian word, zero-padded above.
        if n & 4 != 0 { a2 &+= UInt64(p.loadUnaligned(as: UInt32.self)); p += 4 }
        if n & 2 != 0 { a3 &+= UInt64(p.loadUnaligned(as: UInt16.self)); p += 2 }
        if n & 1 != 0 { a0 &+= UInt64(p.load(as: UInt8.self)) }
        return (a0 &+ a1) &+ (a2 &+ a3)
    }

    /// A little-endian 64-bit sum as a network-order 32-bit partial sum added to `initial`
    /// (Linux `csum_add`): fold to 32 bits with an end-around carry, then swap all four bytes.
    /// Swapping the bytes of a 16-bit word multiplies it by 256 modulo 0xFFFF, so swapping both
    /// halves of a 32-bit sum gives a value congruent to the swapped folded sum: no 16-bit fold
    /// is needed here (every consumer folds), which saves a dependent chain on every call.
    /// Nonzero stays nonzero.
    @inlinable @inline(__always)
    static func networkOrder32(_ x: UInt64, _ initial: UInt32) -> UInt32 {
        let (t, o) = UInt32(truncatingIfNeeded: x).addingReportingOverflow(UInt32(truncatingIfNeeded: x &>> 32))
        let (r, o2) = (t &+ UInt32(unsafeBitCast(o, to: UInt8.self))).byteSwapped.addingReportingOverflow(initial)
        return r &+ UInt32(unsafeBitCast(o2, to: UInt8.self))
    }

    /// 0 or 1 from a `Bool` without a branch.
    @inlinable @inline(__always)
    static func bit(_ b: Bool) -> UInt64 {
        UInt64(unsafeBitCast(b, to: UInt8.self))
    }

    /// 64-bit one's-complement (end-around carry) addition.
    @inlinable @inline(__always)
    static func addEAC(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, o) = a.addingReportingOverflow(b)
        return s &+ bit(o)
    }
}
