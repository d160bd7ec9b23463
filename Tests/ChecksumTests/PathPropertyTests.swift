import Foundation
import Testing
@testable import Checksum

/// Deterministic bytes for reproducible failures (xorshift64*).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            var x = next()
            for _ in 0..<8 where i < n { out[i] = UInt8(truncatingIfNeeded: x); x >>= 8; i += 1 }
        }
        return out
    }
}

/// The ISAs this CPU advertises, read from /proc/cpuinfo — independently of the CPUID code
/// under test — so that a SIMD path missing from `availablePaths` is caught. Empty where
/// /proc/cpuinfo does not exist.
func cpuinfoFlags() -> Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
    for line in text.split(separator: "\n") where line.hasPrefix("flags") {
        return Set(line.split(separator: ":").last!.split(separator: " ").map(String.init))
    }
    return []
}

/// Every path this CPU can run, as engines chosen through the API.
let enginesUnderTest: [ChecksumEngine] = ChecksumEngine.Path.allCases.compactMap { ChecksumEngine(ifAvailable: $0) }

/// Runs `body` on the bytes of `b` placed at `align` bytes past a 64-byte boundary.
func withAligned<R>(_ b: [UInt8], align: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: b.count + 128, alignment: 64)
    defer { raw.deallocate() }
    let p = raw + align
    b.withUnsafeBytes { if let base = $0.baseAddress { p.copyMemory(from: base, byteCount: b.count) } }
    return body(UnsafeRawBufferPointer(start: p, count: b.count))
}

@Suite struct PathPropertyTests {
    @Test func everyPathThisCPUHasIsTested() {
        let names = enginesUnderTest.map(\.path.rawValue)
        print("checksum paths tested on this CPU: \(names.joined(separator: ", "))")
        let flags = cpuinfoFlags()
        #expect(enginesUnderTest.first?.path == .portable)
        if flags.contains("avx2") {
            #expect(names.contains("avx2"), "CPU has AVX2 but the avx2 path did not run")
        }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) {
            #expect(names.contains("avx512"), "CPU has AVX-512 F/BW/VL but the avx512 path did not run")
        }
    }

    /// Every length 0…4096 from one random buffer, against prefix sums of the naive reference.
    @Test(arguments: enginesUnderTest.map(\.path))
    func everyLengthUpTo4096(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        var rng = TestRandom(seed: 0xC0FFEE)
        let b = rng.bytes(4096)
        var ref: UInt64 = 0 // naive sum of the whole big-endian words in b[0..<n], carries kept
        var bad = 0
        b.withUnsafeBytes { raw in
            for n in 0...4096 {
                // Sum of the first n bytes: the full words, plus a trailing odd byte padded right.
                var want = ref
                if n % 2 == 1 { want += UInt64(b[n - 1]) << 8 }
                while want > 0xFFFF { want = (want & 0xFFFF) + (want >> 16) }
                let got = InternetChecksum.fold(e.sum(UnsafeRawBufferPointer(rebasing: raw[0..<n]), initial: 0))
                if got != UInt16(want) { bad += 1; if bad < 5 { Issue.record("\(path) length \(n): \(got) != \(want)") } }
                if n % 2 == 1 { ref += UInt64(b[n - 1]) << 8 | UInt64(b[n]) } // the word now complete
            }
        }
        #expect(bad == 0)
    }

    /// Every start alignment 0…63 for a spread of lengths that cover each kernel's loop, step
    /// and tail sizes.
    @Test(arguments: enginesUnderTest.map(\.path))
    func everyAlignment(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        var rng = TestRandom(seed: 0xA11C)
        let lengths = Array(0...70) + [127, 128, 129, 255, 256, 257, 511, 512, 513, 1499, 1500, 1501, 4095]
        for align in 0..<64 {
            for n in lengths {
                let b = rng.bytes(n)
                let got = withAligned(b, align: align) { InternetChecksum.fold(e.sum($0, initial: 0)) }
                if got != naiveSum(b) { Issue.record("\(path) align \(align) length \(n)"); return }
            }
        }
    }

    /// A few random lengths up to 1 MiB (kept few: the reference is slow in debug builds).
    @Test(arguments: enginesUnderTest.map(\.path))
    func randomLongLengths(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        var rng = TestRandom(seed: 0x1_0000_0000 &+ UInt64(path.rawValue.count))
        for _ in 0..<4 {
            let n = Int.random(in: 4097...(1 << 20), using: &rng)
            let b = rng.bytes(n)
            let got = b.withUnsafeBytes { InternetChecksum.fold(e.sum($0, initial: 0)) }
            #expect(got == naiveSum(b), "\(path) length \(n)")
        }
    }

    /// Lengths around the kernels' internal limits: the portable path's chunk (1020 iterations
    /// of 160 bytes, then up to 159 more bytes), the AVX-512 chunk (64 KiB) and the size from
    /// which the AVX-512 path streams with 256-bit loads (4 MiB). Random bytes and all 0xFF
    /// (the largest lane sums).
    @Test(arguments: enginesUnderTest.map(\.path))
    func internalLimits(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        let portableChunk = 160 * ChecksumEngine.portableChunkIterations
        var lengths = [portableChunk - 1, portableChunk, portableChunk + 1, portableChunk + 159,
                       portableChunk + 160, 2 * portableChunk + 17, 65535, 131_072, 131_073]
        lengths += [(4 << 20) - 1, 4 << 20, (4 << 20) + 3]
        var rng = TestRandom(seed: 0x11_0000)
        for n in lengths {
            for b in [rng.bytes(n), [UInt8](repeating: 0xFF, count: n)] {
                let got = b.withUnsafeBytes { InternetChecksum.fold(e.sum($0, initial: 0)) }
                #expect(got == naiveSum(b), "\(path) length \(n)")
            }
        }
    }

    /// Carry-heavy inputs: all 0xFF (every add carries) and all zero (the only input whose
    /// folded sum is 0 rather than 0xFFFF), at sizes around every loop boundary.
    @Test(arguments: enginesUnderTest.map(\.path))
    func extremeBytes(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        for n in [1, 2, 7, 8, 63, 64, 65, 255, 256, 257, 1500, 9000, 65536, 65537, 300_000] {
            for byte: UInt8 in [0x00, 0xFF, 0x80] {
                let b = [UInt8](repeating: byte, count: n)
                let got = b.withUnsafeBytes { InternetChecksum.fold(e.sum($0, initial: 0)) }
                #expect(got == naiveSum(b), "\(path) \(n) × \(byte)")
            }
        }
    }

    /// Odd-offset chaining: a buffer cut at random points, each piece summed on its own (at its
    /// own, often odd, address) and combined with `blockAdd`, equals the whole.
    @Test(arguments: enginesUnderTest.map(\.path))
    func chainingRandomSplits(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        var rng = TestRandom(seed: 0x5EED)
        for _ in 0..<200 {
            let n = Int.random(in: 0...3000, using: &rng)
            let b = rng.bytes(n)
            var cuts = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Int.random(in: 0...n, using: &rng) }
            cuts = ([0] + cuts + [n]).sorted()
            var total = UInt32(Int.random(in: 0...0xFFFF, using: &rng)) // a pseudo-header, say
            let start = total
            b.withUnsafeBytes { raw in
                for (from, to) in zip(cuts, cuts.dropFirst()) {
                    let part = e.sum(UnsafeRawBufferPointer(rebasing: raw[from..<to]), initial: 0)
                    total = InternetChecksum.blockAdd(total, part, offset: from)
                }
            }
            let whole = InternetChecksum.add(start, UInt32(naiveSum(b)))
            #expect(InternetChecksum.fold(total) == InternetChecksum.fold(whole), "\(path) cuts \(cuts)")
        }
    }

    /// `initial` is added with end-around carry on every path.
    @Test(arguments: enginesUnderTest.map(\.path))
    func initialValue(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        var rng = TestRandom(seed: 0x1417)
        for n in [0, 3, 20, 200, 2000] {
            let b = rng.bytes(n)
            for initial: UInt32 in [0, 1, 0xFFFF, 0x1_2345, 0xFFFF_FFFF] {
                let got = b.withUnsafeBytes { InternetChecksum.fold(e.sum($0, initial: initial)) }
                let want = InternetChecksum.fold(InternetChecksum.add(initial, UInt32(naiveSum(b))))
                #expect(got == want, "\(path) \(n) initial \(initial)")
            }
        }
    }

    /// RFC 1071 §3's worked example on every path.
    @Test(arguments: enginesUnderTest.map(\.path))
    func rfc1071Example(path: ChecksumEngine.Path) {
        let b: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        let s = b.withUnsafeBytes { ChecksumEngine(path: path).sum($0, initial: 0) }
        #expect(InternetChecksum.fold(s) == 0xddf2)
    }

    /// The public entry point (inlined short path + `current` above the threshold) agrees
    /// around the threshold.
    @Test func entryPointAroundThreshold() {
        var rng = TestRandom(seed: 0x7E57)
        let t = ChecksumEngine.inlineThreshold
        for n in max(0, t - 40)...(t + 40) {
            let b = rng.bytes(n)
            #expect(InternetChecksum.fold(InternetChecksum.sum(b)) == naiveSum(b), "length \(n)")
        }
    }

    /// The avx512 path's variant for CPUs without VNNI, which this CPU may not select itself.
    @Test(.enabled(if: ChecksumEngine.availablePaths.contains(.avx512)))
    func avx512WithoutVNNI() {
        var rng = TestRandom(seed: 0x512)
        let b = rng.bytes(70_000)
        var bad = 0
        b.withUnsafeBytes { raw in
            for n in Array(0...1100) + [4095, 9000, 65536, 70_000] {
                for align in [0, 1, 17] where align + n <= raw.count {
                    let part = UnsafeRawBufferPointer(rebasing: raw[align..<(align + n)])
                    let got = InternetChecksum.fold(ChecksumEngine.avx512WithoutVNNISum(part, initial: 0)!)
                    if got != naiveSum(Array(part)) { bad += 1 }
                }
            }
        }
        #expect(bad == 0)
    }

    @Test func selectionSetting() {
        #expect(ChecksumEngine.path(forSetting: nil) == .success(ChecksumEngine.bestPath))
        #expect(ChecksumEngine.path(forSetting: "auto") == .success(ChecksumEngine.bestPath))
        #expect(ChecksumEngine.path(forSetting: "portable") == .success(.portable))
        #expect(ChecksumEngine.path(forSetting: "sse9") == .failure(.unknown("sse9")))
        for p in ChecksumEngine.Path.allCases {
            let r = ChecksumEngine.path(forSetting: p.rawValue)
            if ChecksumEngine.availablePaths.contains(p) {
                #expect(r == .success(p))
            } else {
                #expect(r == .failure(.unavailable(p)))
            }
        }
    }
}
