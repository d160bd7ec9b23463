import Checksum

/// `--threshold`: ns/call from 16 to 512 bytes of the scalar short path that
/// `InternetChecksum.sum` inlines, the whole portable path, and `ChecksumEngine.current`,
/// interleaved, medians of 15 rounds; prints the first size from which `current` beats the
/// short path at every larger measured size (how `ChecksumEngine.inlineThreshold` was chosen).
func runThresholdScan(buffer: UnsafeRawPointer, sink: inout UInt64) {
    let sizes = Array(stride(from: 16, through: 512, by: 16))
    let current = ChecksumEngine.current
    let portable = ChecksumEngine(path: .portable)
    var short: [Int: [Double]] = [:], port: [Int: [Double]] = [:], cur: [Int: [Double]] = [:]
    func time(_ n: Int, _ f: (UnsafeRawPointer, Int) -> UInt64) -> Double {
        let it = 200_000
        let t0 = nowNanoseconds()
        sink &+= repeatCalls(buffer, n, it, f)
        return Double(nowNanoseconds() - t0) / Double(it)
    }
    for _ in 0..<15 {
        for n in sizes {
            short[n, default: []].append(time(n) { UInt64(ChecksumEngine.shortPathSum(UnsafeRawBufferPointer(start: $0, count: $1))) })
            port[n, default: []].append(time(n) { UInt64(portable.sum(UnsafeRawBufferPointer(start: $0, count: $1), initial: 0)) })
            cur[n, default: []].append(time(n) { UInt64(current.sum(UnsafeRawBufferPointer(start: $0, count: $1), initial: 0)) })
        }
    }
    var crossover: Int?
    print("bytes  short path ns  portable ns  \(current.path.rawValue) ns")
    for n in sizes {
        let a = median(short[n]!), p = median(port[n]!), b = median(cur[n]!)
        print(pad(String(n), 5) + pad(fmt(a), 15) + pad(fmt(p), 13) + pad(fmt(b), 10))
        if b < a { if crossover == nil { crossover = n } } else { crossover = nil }
    }
    print("\(current.path.rawValue) faster than the short path from \(crossover.map { "\($0) B" } ?? "never (up to 512 B)")")
}
