import CChecksum

/// The implementation behind `InternetChecksum.sum`.
///
/// A portable Swift path always exists. On x86-64, SIMD paths written in C (`CChecksum`, one
/// `__attribute__((target(...)))` per kernel) are offered when CPUID and XGETBV say the CPU and
/// OS can run them, so the binary never executes an instruction the machine lacks.
///
/// `InternetChecksum.sum` runs the inlined scalar short path of the portable code for inputs
/// shorter than `inlineThreshold` (headers: no dispatch cost) and `current` above it. `current` is the fastest
/// available path unless `CSUMLAB_CHECKSUM=portable|avx2|avx512|auto` asks for another one. Tests
/// and benchmarks pick a path with `ChecksumEngine(path:)`, which uses it for every length.
public struct ChecksumEngine: Sendable, Equatable {
    /// The implementations csumlab knows of, slowest first.
    public enum Path: String, Sendable, CaseIterable {
        /// Swift only (standard-library `SIMD16<UInt32>` lanes and 64-bit scalar adds); runs anywhere.
        case portable
        /// C, 256-bit vectors (x86-64 with AVX2).
        case avx2
        /// C, 512-bit vectors (x86-64 with AVX-512 F/BW/VL).
        case avx512
    }

    public let path: Path

    /// This path's kernel (for `.avx512`, the VNNI variant when the CPU has it), chosen once so
    /// that `sum` is one indirect call with no switch in front of it.
    @usableFromInline let kernel: csumlab_sum_fn

    public static func == (a: ChecksumEngine, b: ChecksumEngine) -> Bool { a.path == b.path }

    /// An engine for `path`. The path must be in `availablePaths` (a SIMD path on a CPU without
    /// its ISA would trap); use `init?(ifAvailable:)` when that is not known.
    public init(path: Path) {
        precondition(Self.availablePaths.contains(path), "checksum path \(path) is not available on this CPU")
        self.path = path
        self.kernel = Self.kernel(for: path)
    }

    /// An engine for `path`, or nil if this CPU cannot run it.
    public init?(ifAvailable path: Path) {
        guard Self.availablePaths.contains(path) else { return nil }
        self.path = path
        self.kernel = Self.kernel(for: path)
    }

    /// Paths this CPU can run, slowest first; `portable` is always there.
    public static let availablePaths: [Path] = {
        let f = csumlab_cpu_features()
        var paths: [Path] = [.portable]
        if f & CSUMLAB_CPU_AVX2 != 0 { paths.append(.avx2) }
        if f & CSUMLAB_CPU_AVX512 != 0 { paths.append(.avx512) }
        return paths
    }()

    /// The fastest path this CPU can run.
    public static var bestPath: Path { availablePaths[availablePaths.count - 1] }

    /// What a `CSUMLAB_CHECKSUM` value selects: `auto` (or nothing) is `bestPath`; a path this
    /// CPU lacks, or an unknown word, is an error with a message that says why.
    public static func path(forSetting value: String?) -> Result<Path, SelectionError> {
        guard let value, !value.isEmpty, value != "auto" else { return .success(bestPath) }
        guard let p = Path(rawValue: value) else { return .failure(.unknown(value)) }
        guard availablePaths.contains(p) else { return .failure(.unavailable(p)) }
        return .success(p)
    }

    /// Why a `CSUMLAB_CHECKSUM` value was not used.
    public enum SelectionError: Error, Sendable, Equatable, CustomStringConvertible {
        case unknown(String)
        case unavailable(Path)

        public var description: String {
            switch self {
            case .unknown(let v):
                "CSUMLAB_CHECKSUM=\(v) is not one of portable, avx2, avx512, auto"
            case .unavailable(let p):
                "CSUMLAB_CHECKSUM=\(p.rawValue): this CPU cannot run that path"
            }
        }
    }

    /// The result of reading `CSUMLAB_CHECKSUM` for this process; `current` falls back to
    /// `bestPath` on an error, and a command-line front end may report the error.
    public static let environmentSelection: Result<Path, SelectionError> = {
        let raw = csumlab_checksum_env().map { String(cString: $0) }
        return path(forSetting: raw)
    }()

    /// The engine used above `inlineThreshold` in this process.
    public static let current: ChecksumEngine = {
        switch environmentSelection {
        case .success(let p): ChecksumEngine(path: p)
        case .failure: ChecksumEngine(path: bestPath)
        }
    }()

    /// Below this many bytes `InternetChecksum.sum` runs the inlined scalar short path without
    /// looking at `current`. Measured with `csumlab-bench --threshold` on AMD Zen 4 (AVX-512):
    /// the short path is faster than a call into the AVX-512 kernel below about 48 B (32 B:
    /// 3.8 vs 4.0 ns; 48 B: 4.5 vs 4.1 ns; 64 B: 5.0 vs 4.0 ns), which keeps IPv4 and TCP/UDP
    /// headers and pseudo-header-sized inputs inline.
    @inlinable public static var inlineThreshold: Int { 48 }

    /// One's-complement sum of big-endian 16-bit words, added to `initial` (not folded to 16 bits
    /// in general; `InternetChecksum.fold` of it is the same on every path). Always runs this
    /// engine's path, whatever the length.
    @inlinable
    public func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        // The portable path is Swift: a direct call, not the C function pointer's thunk.
        if path == .portable { return Self.portableSum(bytes, initial: initial) }
        // Safety: every kernel reads exactly `count` bytes from `baseAddress` (none when 0).
        return kernel(bytes.baseAddress, bytes.count, initial)
    }

    /// The `current` engine's sum. After the first call this is one relaxed load of a C function
    /// pointer (`csumlab_current_sum`) and one indirect call, inlined at the call site: the
    /// kernel is entered directly, with no Swift frame or jump table in between.
    @inlinable
    static func currentSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        // Safety: every kernel reads exactly `count` bytes from `baseAddress` (none when 0).
        if let kernel = csumlab_current_sum() {
            return kernel(bytes.baseAddress, bytes.count, initial)
        }
        return firstCurrentSum(bytes, initial: initial)
    }

    /// The portable path as a C function pointer (for `kernel` and `csumlab_current_sum`).
    static let portableKernel: csumlab_sum_fn = { base, count, initial in
        portableSum(UnsafeRawBufferPointer(start: base, count: count), initial: initial)
    }

    /// The kernel of `path`, as a C function pointer.
    static func kernel(for path: Path) -> csumlab_sum_fn {
        switch path {
        case .portable: portableKernel
        case .avx2: csumlab_sum_avx2
        case .avx512:
            csumlab_cpu_features() & CSUMLAB_CPU_AVX512VNNI != 0 ? csumlab_sum_avx512_vnni : csumlab_sum_avx512
        }
    }

    /// The first call: settle `current` and cache its kernel for `currentSum`.
    @usableFromInline @inline(never)
    static func firstCurrentSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        let k = current.kernel
        csumlab_set_current_sum(k)
        return k(bytes.baseAddress, bytes.count, initial)
    }

    /// Test seam: the AVX-512 kernel's non-VNNI variant (which the avx512 path runs only on a
    /// CPU without VNNI), or nil when the CPU has no AVX-512.
    static func avx512WithoutVNNISum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32? {
        guard availablePaths.contains(.avx512) else { return nil }
        return csumlab_sum_avx512_madd(bytes.baseAddress, bytes.count, initial)
    }
}
