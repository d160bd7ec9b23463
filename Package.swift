// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "csumlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "csumlab", targets: ["csumlab"]),
        .executable(name: "csumlab-bench", targets: ["csumlab-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // RFC 1071 internet checksum: the one place checksum arithmetic lives.
        .target(name: "Checksum", dependencies: ["CChecksum"]),
        // SIMD checksum kernels: per-function target attributes, CPUID/XGETBV dispatch.
        .target(name: "CChecksum"),
        // Bench-only peers (Linux-like adc, AVX2, AVX-512, memory-read floor), written
        // independently of CChecksum. Only csumlab-bench may depend on this.
        .target(name: "CChecksumPeers"),
        // Typed views over frame bytes (Ethernet, IPv4/6, TCP, UDP, ICMP, virtio_net_hdr).
        .target(name: "Wire", dependencies: ["Checksum"]),
        // Model, engine, trace: pure value types, no terminal, no files, no clock.
        .target(name: "Simulation", dependencies: ["Wire", "Checksum"]),
        // YAML topology files with file:line:column errors.
        .target(name: "TopologyFile", dependencies: ["Simulation", .product(name: "Yams", package: "Yams")]),
        .executableTarget(name: "csumlab", dependencies: [
            "Simulation", "TopologyFile", "Wire", "Checksum",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks that print ratios against peers measured in the same run.
        .executableTarget(name: "csumlab-bench", dependencies: ["Checksum", "CChecksumPeers"]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Checksum"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Wire", "Checksum", "TopologyFile"]),
        .testTarget(name: "TopologyFileTests", dependencies: ["TopologyFile", "Simulation"]),
    ],
    swiftLanguageModes: [.v6]
)
