import CChecksumPeers
import Checksum

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic nanoseconds.
func nowNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Calls `f` `iterations` times on `len` bytes, stepping the start through eight 64-byte-apart
/// addresses so that a call whose body is inlined cannot be hoisted out of the loop.
@inline(__always)
func repeatCalls(_ base: UnsafeRawPointer, _ len: Int, _ iterations: Int,
                 _ f: (UnsafeRawPointer, Int) -> UInt64) -> UInt64 {
    var acc: UInt64 = 0
    for i in 0..<iterations {
        acc &+= f(base + ((i & 7) &<< 6), len)
    }
    return acc
}

/// A plain 16-bit-word loop as a programmer would inline it for a header: the yardstick for
/// the call overhead of `InternetChecksum.sum` at 20 B.
@inline(__always)
func plainWordLoop(_ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
    var acc: UInt32 = 0
    var i = 0
    while i + 1 < n {
        acc &+= UInt32(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
        i += 2
    }
    if i < n { acc &+= UInt32(p.load(fromByteOffset: i, as: UInt8.self)) << 8 }
    return acc
}

/// Who wrote a timed kernel.
enum Origin: String { case csumlab, peer, floor, yardstick }

/// One timed kernel. `run(base, len, iterations)` returns a value derived from every result.
struct Kernel {
    var name: String
    var origin: Origin
    /// Sizes it is timed at (nil: all).
    var onlySizes: Set<Int>?
    /// The folded network-order sum it computes for a buffer, to check it before timing (nil
    /// for the read floor).
    var verify: ((UnsafeRawBufferPointer) -> UInt16)?
    var run: (UnsafeRawPointer, Int, Int) -> UInt64
}

/// A timed size. `offset` 1 puts the buffer at an odd address.
struct Size: Hashable {
    var label: String
    var bytes: Int
    var offset: Int
}

let benchSizes: [Size] = [
    Size(label: "20 B", bytes: 20, offset: 0),
    Size(label: "64 B", bytes: 64, offset: 0),
    Size(label: "1500 B", bytes: 1500, offset: 0),
    Size(label: "1500 B odd", bytes: 1500, offset: 1),
    Size(label: "9000 B", bytes: 9000, offset: 0),
    Size(label: "64 KiB", bytes: 65536, offset: 0),
    Size(label: "1 MiB", bytes: 1 << 20, offset: 0),
    Size(label: "64 MiB", bytes: 64 << 20, offset: 0),
]

/// Every kernel this CPU can run: csumlab's paths (each forced through `ChecksumEngine(path:)`,
/// plus `auto`, which is `InternetChecksum.sum` exactly as the project calls it), the peers,
/// the read floor and the plain-loop yardstick.
func allKernels() -> [Kernel] {
    let swapped: (UInt32) -> UInt16 = { InternetChecksum.fold($0).byteSwapped }
    var ks: [Kernel] = []
    ks.append(Kernel(name: "csumlab auto", origin: .csumlab, onlySizes: nil,
                     verify: { InternetChecksum.fold(InternetChecksum.sum($0)) }) { b, n, it in
        repeatCalls(b, n, it) { UInt64(InternetChecksum.sum(UnsafeRawBufferPointer(start: $0, count: $1))) }
    })
    for path in ChecksumEngine.availablePaths {
        let e = ChecksumEngine(path: path)
        ks.append(Kernel(name: "csumlab \(path.rawValue)", origin: .csumlab,
                         onlySizes: nil, verify: { InternetChecksum.fold(e.sum($0, initial: 0)) }) { b, n, it in
            repeatCalls(b, n, it) { UInt64(e.sum(UnsafeRawBufferPointer(start: $0, count: $1), initial: 0)) }
        })
    }
    ks.append(Kernel(name: "peer linux-like", origin: .peer, onlySizes: nil,
                     verify: { swapped(csumpeer_linux_like($0.baseAddress, $0.count)) }) { b, n, it in
        repeatCalls(b, n, it) { UInt64(csumpeer_linux_like($0, $1)) }
    })
    let f = csumpeer_cpu_features()
    if f & 1 != 0 {
        ks.append(Kernel(name: "peer avx2", origin: .peer, onlySizes: nil,
                         verify: { swapped(csumpeer_avx2($0.baseAddress, $0.count)) }) { b, n, it in
            repeatCalls(b, n, it) { UInt64(csumpeer_avx2($0, $1)) }
        })
    }
    if f & 2 != 0 {
        ks.append(Kernel(name: f & 4 != 0 ? "peer avx512 (vnni)" : "peer avx512", origin: .peer,
                         onlySizes: nil, verify: { swapped(csumpeer_avx512($0.baseAddress, $0.count)) }) { b, n, it in
            repeatCalls(b, n, it) { UInt64(csumpeer_avx512($0, $1)) }
        })
    }
    // The read floor: every load width this CPU has; the table's "read floor" row is the
    // fastest of them at each size. Below 256 B each is the inlined scalar loop, as csumlab's
    // own short path is inlined.
    if f & 2 != 0 {
        ks.append(Kernel(name: "read floor 512-bit", origin: .floor, onlySizes: nil, verify: nil) { b, n, it in
            repeatCalls(b, n, it) { $1 < 256 ? csumpeer_read_floor_small($0, $1) : csumpeer_read_floor512($0, $1) }
        })
    }
    if f & 1 != 0 {
        ks.append(Kernel(name: "read floor 256-bit", origin: .floor, onlySizes: nil, verify: nil) { b, n, it in
            repeatCalls(b, n, it) { $1 < 256 ? csumpeer_read_floor_small($0, $1) : csumpeer_read_floor256($0, $1) }
        })
    }
    ks.append(Kernel(name: "read floor 64-bit", origin: .floor, onlySizes: nil, verify: nil) { b, n, it in
        repeatCalls(b, n, it) { $1 < 256 ? csumpeer_read_floor_small($0, $1) : csumpeer_read_floor64($0, $1) }
    })
    ks.append(Kernel(name: "plain inlined loop", origin: .yardstick, onlySizes: [20, 64],
                     verify: { InternetChecksum.fold(plainWordLoop($0.baseAddress!, $0.count)) }) { b, n, it in
        repeatCalls(b, n, it) { UInt64(plainWordLoop($0, $1)) }
    })
    return ks
}

/// Median of a non-empty list.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One measured cell of the table.
struct Cell {
    var kernel: String
    var origin: Origin
    var size: Size
    var nsPerCall: Double
    var gbps: Double
}

/// Runs every kernel at every size, round by round: each round visits every cell once, in a
/// freshly shuffled order, and each timed sample is preceded by one untimed call so that every
/// kernel starts with the same cache state for its size. Returns the median of each cell.
func measureKernels(_ kernels: [Kernel], sizes: [Size], rounds: Int, buffer: UnsafeRawPointer,
                    sink: inout UInt64) -> [Cell] {
    var samples: [String: [Double]] = [:]
    var cells: [(Kernel, Size, Int)] = []
    for s in sizes {
        // About 96 MiB of input per sample (two calls at 64 MiB), at most three million calls:
        // about a millisecond per sample, long enough to average out short interruptions.
        let iterations = max(2, min(3_000_000, (96 << 20) / s.bytes))
        for k in kernels where k.onlySizes?.contains(s.bytes) ?? true {
            cells.append((k, s, iterations))
        }
    }
    var order = Array(cells.indices)
    var rng = SplitMix(seed: 0x0C5B_E4C4)
    for round in 0...rounds { // round 0 warms up and is discarded
        order.shuffle(using: &rng)
        for j in order {
            let (k, s, it) = cells[j]
            sink &+= k.run(buffer + s.offset, s.bytes, 1)
            let t0 = nowNanoseconds()
            sink &+= k.run(buffer + s.offset, s.bytes, it)
            let t1 = nowNanoseconds()
            if round > 0 { samples["\(k.name)|\(s.label)", default: []].append(Double(t1 - t0) / Double(it)) }
        }
    }
    var out = cells.map { k, s, _ in
        let ns = median(samples["\(k.name)|\(s.label)"]!)
        return Cell(kernel: k.name, origin: k.origin, size: s, nsPerCall: ns, gbps: Double(s.bytes) / ns)
    }
    // "read floor": the fastest read loop at each size.
    for s in sizes {
        if let best = out.filter({ $0.size == s && $0.kernel.hasPrefix("read floor ") }).min(by: { $0.nsPerCall < $1.nsPerCall }) {
            out.append(Cell(kernel: "read floor", origin: .floor, size: s, nsPerCall: best.nsPerCall, gbps: best.gbps))
        }
    }
    return out
}

/// A small deterministic generator for the round order.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
