import Checksum

/// `--threshold`: ns/call of the inlined portable path and of `ChecksumEngine.current` from 16
/// to 512 bytes, interleaved, medians of 15 rounds; prints the first size from which the
/// current engine is faster at every larger measured size.
func runThresholdScan(buffer: UnsafeRawPointer, sink: inout UInt64) {
    let sizes = Array(stride(from: 16, through: 512, by: 16))
    let current = ChecksumEngine.current
    var inl: [Int: [Double]] = [:], cur: [Int: [Double]] = [:]
    for _ in 0..<15 {
        for n in sizes {
            let it = 200_000
            var t0 = nowNanoseconds()
            sink &+= repeatCalls(buffer, n, it) { UInt64(ChecksumEngine.portableSum(UnsafeRawBufferPointer(start: $0, count: $1), initial: 0)) }
            var t1 = nowNanoseconds()
            inl[n, default: []].append(Double(t1 - t0) / Double(it))
            t0 = nowNanoseconds()
            sink &+= repeatCalls(buffer, n, it) { UInt64(current.sum(UnsafeRawBufferPointer(start: $0, count: $1), initial: 0)) }
            t1 = nowNanoseconds()
            cur[n, default: []].append(Double(t1 - t0) / Double(it))
        }
    }
    var crossover: Int?
    print("bytes  inlined portable ns  \(current.path.rawValue) ns")
    for n in sizes {
        let a = median(inl[n]!), b = median(cur[n]!)
        print(pad(String(n), 5) + pad(fmt(a), 21) + pad(fmt(b), 10))
        if b < a { if crossover == nil { crossover = n } } else { crossover = nil }
    }
    print("current path faster from \(crossover.map { "\($0) B" } ?? "never (up to 512 B)")")
}
