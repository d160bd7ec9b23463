// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "csumlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "csumlab", targets: ["csumlab"]),
        .executable(name: "csumlab-kprobe", targets: ["csumlab-kprobe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // RFC 1071 internet checksum: the one place checksum arithmetic lives.
        .target(name: "Checksum"),
        // Typed views over frame bytes (Ethernet, IPv4/6, TCP, UDP, ICMP, virtio_net_hdr).
        .target(name: "Wire", dependencies: ["Checksum"]),
        // Model, engine, trace: pure value types, no terminal, no files, no clock.
        .target(name: "Simulation", dependencies: ["Wire", "Checksum"]),
        // YAML topology files with file:line:column errors.
        .target(name: "TopologyFile", dependencies: ["Simulation", .product(name: "Yams", package: "Yams")]),
        // Trace rendering shared by the CLI and tests: text table and versioned JSON.
        .target(name: "TraceReport", dependencies: ["Simulation", "Wire"]),
        .executableTarget(name: "csumlab", dependencies: [
            "Simulation", "TopologyFile", "TraceReport", "Wire", "Checksum", "KernelLab",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // ioctl/setns/AF_PACKET calls Swift cannot express directly (Linux only).
        .target(name: "CKernelLab"),
        // Builds labs on the real kernel (namespaces, bridges, veth, TAPs), injects and captures frames.
        .target(name: "KernelLab", dependencies: ["CKernelLab", "Simulation", "Wire", "Checksum"]),
        // Measures the seed labs on the running kernel and writes fixtures (to be folded into `csumlab verify`).
        .executableTarget(name: "csumlab-kprobe", dependencies: ["KernelLab", "Wire", "Checksum"]),
        .testTarget(name: "KernelLabTests", dependencies: ["KernelLab", "Simulation", "TopologyFile", "Wire", "Checksum"]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Checksum"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Wire", "Checksum", "TopologyFile", "TraceReport"],
                    exclude: ["Golden", "Fixtures"]),
        .testTarget(name: "TopologyFileTests", dependencies: ["TopologyFile", "Simulation"]),
    ],
    swiftLanguageModes: [.v6]
)
