// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "csumlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "csumlab", targets: ["csumlab"]),
        .executable(name: "csumlab-kprobe", targets: ["csumlab-kprobe"]),
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
        // Text from files made safe and measurable for a terminal: control characters escaped,
        // display width in columns. No dependencies, so every front end can use it.
        .target(name: "TerminalText"),
        // Typed views over frame bytes (Ethernet, IPv4/6, TCP, UDP, ICMP, virtio_net_hdr).
        .target(name: "Wire", dependencies: ["Checksum"]),
        // Model, engine, trace: pure value types, no terminal, no files, no clock.
        .target(name: "Simulation", dependencies: ["Wire", "Checksum"]),
        // YAML topology files with file:line:column errors.
        .target(name: "TopologyFile", dependencies: ["Simulation", "TerminalText", .product(name: "Yams", package: "Yams")]),
        // Lesson files: pages, questions and tasks checked against a lab's trace; progress per user.
        .target(name: "Lessons", dependencies: ["Simulation", "TopologyFile", "TerminalText", "TraceReport", .product(name: "Yams", package: "Yams")]),
        // Trace rendering shared by the CLI and tests: text table and versioned JSON.
        .target(name: "TraceReport", dependencies: ["Simulation", "Wire", "TerminalText"]),
        // The explorer without a terminal: state, actions, key bindings, graph layout, views that
        // render into a Canvas cell buffer. Imports no ncurses; tested with screen snapshots.
        .target(name: "ExplorerUI", dependencies: ["Simulation", "TopologyFile", "Wire", "TerminalText", "Lessons"]),
        // ncursesw as a system library (wide-character build), linked by name.
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        // static inline wrappers for what Swift cannot see (macros, globals) and the
        // async-signal-safe terminal restore for crash signals.
        .target(name: "CursesShim", dependencies: ["CNcursesw"], linkerSettings: [.linkedLibrary("ncursesw")]),
        // The ncurses backend: newterm, blit a Canvas diff, keys/mouse/resize, restore on every exit.
        .target(name: "Terminal", dependencies: ["CNcursesw", "CursesShim", "ExplorerUI"]),
        .executableTarget(name: "csumlab", dependencies: [
            "Simulation", "TopologyFile", "TraceReport", "Wire", "Checksum", "ExplorerUI", "Terminal", "KernelLab", "TerminalText", "Lessons",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // ioctl/setns/AF_PACKET calls Swift cannot express directly (Linux only).
        .target(name: "CKernelLab"),
        // Builds labs on the real kernel (namespaces, bridges, veth, TAPs), injects and captures frames.
        .target(name: "KernelLab", dependencies: ["CKernelLab", "Simulation", "Wire", "Checksum", "TerminalText"]),
        // Measures the seed labs on the running kernel and writes fixtures (to be folded into `csumlab verify`).
        .executableTarget(name: "csumlab-kprobe", dependencies: ["KernelLab", "Wire", "Checksum"]),
        .testTarget(name: "KernelLabTests", dependencies: ["KernelLab", "Simulation", "TopologyFile", "Wire", "Checksum", "TerminalText"]),
        // Benchmarks that print ratios against peers measured in the same run, plus the
        // simulation (traces per second) and the explorer (frame times, first frame in tmux).
        // posix_spawn with a cleared signal mask (Foundation's Process hangs with tmux here).
        .target(name: "ProcessSpawn"),
        .executableTarget(name: "csumlab-bench", dependencies: [
            "ProcessSpawn",
            "Checksum", "CChecksumPeers", "Simulation", "TopologyFile", "ExplorerUI",
        ]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "TerminalTextTests", dependencies: ["TerminalText"]),
        // Independent reference computations shared by tests (deliberately not using Checksum).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Checksum", "TestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Wire", "Checksum", "TopologyFile", "TraceReport", "TestSupport", "TerminalText"],
                    exclude: ["Golden", "Fixtures"]),
        // Yams here only as an oracle: the fuzz test checks YAMLGate's anchors against Yams' own.
        .testTarget(name: "TopologyFileTests", dependencies: ["TopologyFile", "Simulation", "TestSupport",
                                                              .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "Simulation", "TopologyFile", "TestSupport"]),
        .testTarget(name: "ExplorerUITests", dependencies: ["ExplorerUI", "Simulation", "TopologyFile", "TestSupport", "Lessons"],
                    exclude: ["Snapshots"]),
        // Drives the built csumlab binary in tmux (private socket); skipped when tmux is absent.
        .testTarget(name: "EndToEndTests", dependencies: ["csumlab", "ProcessSpawn", "TopologyFile"]),
    ],
    swiftLanguageModes: [.v6]
)
