#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing
@testable import KernelLab

/// The checked-in kernel fixtures (Tests/SimulationTests/Fixtures/kernel).
enum Fixtures {
    static let directory: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(2)  // KernelLabTests/FixtureTests.swift
        return parts.joined(separator: "/") + "/SimulationTests/Fixtures/kernel"
    }()

    static func load(_ name: String) throws -> KernelFixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + ".json"))
        return try JSONDecoder().decode(KernelFixture.self, from: data)
    }
}

@Suite struct FixtureTests {
    @Test func jsonRoundTripKeepsEverything() throws {
        let f = try Fixtures.load("bridged-tcp-syn")
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let again = try JSONDecoder().decode(KernelFixture.self, from: try enc.encode(f))
        #expect(again == f)
    }

    @Test func jsonShapeHasTheDocumentedKeys() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.directory + "/routed-netns-tcp-syn.json"))
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"format\"", "\"version\"", "\"kernelRelease\"", "\"topology\"", "\"steps\"", "\"injected\"", "\"observed\"",
                    "\"vnetHeader\"", "\"csumStart\"", "\"csumOffset\"", "\"frameHex\"", "\"l4Field\"", "\"l4Valid\"", "\"ttl\"", "\"intermediate\""] {
            #expect(text.contains(key), "missing \(key)")
        }
    }

    /// Every scenario has a fixture, and every fixture is what its own bytes say: a hand edit of a
    /// derived field (flags, field, validity, TTL) makes this fail.
    @Test(arguments: ProbeScenario.all.map(\.name))
    func fixtureMatchesItsBytes(name: String) throws {
        let f = try Fixtures.load(name)
        #expect(f.format == KernelFixture.formatName)
        #expect(f.version == KernelFixture.currentVersion)
        #expect(f.name == name)
        let s = try #require(ProbeScenario.all.first { $0.name == name })
        #expect(f.description == s.description)
        for r in [f.injected.frame] + f.observed + f.intermediate.map(\.frame) {
            let bytes = try #require(bytesFromHex((r.vnetHeader?.hex ?? "") + r.frameHex))
            #expect(FrameReport(bytes: bytes, vnetHeaderSize: r.vnetHeader == nil ? 0 : 10) == r)
        }
        #expect(!f.topology.steps.isEmpty)
        let words = f.topology.steps.flatMap { $0.split(whereSeparator: { " ;[]'".contains($0) }) }
        #expect(!words.contains { RunPrefix.isLabName(String($0)) }, "steps must not carry a run's pid")
    }

    /// The seed facts the simulator is built on, as measured.
    @Test func seedRowsAsMeasured() throws {
        let bridged = try Fixtures.load("bridged-tcp-syn")
        #expect(bridged.observed.count == 1)
        #expect(bridged.observed[0].vnetHeader?.flagNames == ["NEEDS_CSUM"])
        #expect(bridged.observed[0].l4HoldsPseudoHeaderSum == true)
        let routed = try Fixtures.load("routed-netns-tcp-syn")
        #expect(routed.observed.first?.vnetHeader?.flagNames == ["NEEDS_CSUM"])
        #expect(routed.observed.first?.ttl == 63)
        let user = try Fixtures.load("routed-userspace-tcp-syn")
        #expect(user.observed.first?.vnetHeader?.flags == 0)
        #expect(user.observed.first?.l4Valid == false)
    }
}

import Wire

/// Runs real labs; needs root, netns and the built csumlab-kprobe (the namespace helper).
@Suite(.serialized) struct KernelLabRootTests {
    static var probe: String {
        var parts = Host.executablePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast()
        return parts.joined(separator: "/") + "/csumlab-kprobe"
    }

    static var enabled: Bool { Host.canBuildLabs && access(probe, X_OK) == 0 && VerifyCleanupTests.toolsReady }

    @Test(.enabled(if: KernelLabRootTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab-kprobe")),
          arguments: ["bridged-tcp-syn", "routed-netns-tcp-syn", "routed-userspace-tcp-syn"])
    func measuredAgainAgreesWithFixture(name: String) throws {
        let prefix = RunPrefix(pid: getpid())
        let runner = ProbeRunner(prefix: prefix, executable: Self.probe, kernelRelease: Host.kernelRelease)
        let s = try #require(ProbeScenario.all.first { $0.name == name })
        let fresh = try runner.run(s)
        #expect(Namespaces.list(prefix: prefix).isEmpty, "the lab must be gone after a run")
        #expect(fresh.observed.count == 1)
        let stored = try Fixtures.load(name)
        if stored.kernelRelease == fresh.kernelRelease {
            #expect(fresh.observed == stored.observed)
            #expect(fresh.injected == stored.injected)
            // Fixtures recorded before the lab wrote `name`/`dev` before device names.
            let legacy = fresh.topology.steps.map {
                $0.replacingOccurrences(of: " link add name ", with: " link add ").replacingOccurrences(of: " link set dev ", with: " link set ")
            }
            #expect(legacy == stored.topology.steps.map {
                $0.replacingOccurrences(of: " link add name ", with: " link add ").replacingOccurrences(of: " link set dev ", with: " link set ")
            })
        }
    }

    @Test(.enabled(if: KernelLabRootTests.enabled, VerifyCleanupTests.requirement("needs root and network namespaces")))
    func cleanupRemovesOnlyThisRunsNamespaces() throws {
        let prefix = RunPrefix(pid: getpid())
        try Namespaces.create(prefix.namespace("leftover"))
        #expect(Namespaces.list(prefix: prefix) == [prefix.namespace("leftover")])
        #expect(Namespaces.cleanup(prefix: prefix) == Namespaces.Removal(removed: [prefix.namespace("leftover")]))
        #expect(Namespaces.list(prefix: prefix).isEmpty)
    }
}
