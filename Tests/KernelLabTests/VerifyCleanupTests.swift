#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import KernelLab

/// A `csumlab verify` run killed with SIGKILL in the middle of building its lab (no handler can
/// run) leaves namespaces behind; `csumlab verify --cleanup` must remove every one of them and no
/// link with the run's prefix may remain anywhere. Needs root, netns and the built csumlab.
@Suite(.serialized) struct VerifyCleanupTests {
    static var csumlab: String {
        var parts = Host.executablePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast()
        return parts.joined(separator: "/") + "/csumlab"
    }

    /// `csumlab verify FILE`, run to its end: exit status, standard output, and the child's pid
    /// (its run prefix names the namespaces it must have removed).
    static func runVerify(_ file: String) throws -> (status: Int32, report: String, pid: pid_t) {
        let child = try Spawn.start([csumlab, "verify", file])
        close(child.stdin)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(child.stdout, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        close(child.stdout)
        return (Spawn.wait(child.pid), String(decoding: out, as: UTF8.self), child.pid)
    }

    static var enabled: Bool { Host.canBuildLabs && access(csumlab, X_OK) == 0 && toolsReady }

    /// The programs a lab is built with (`ip`, `nft`, `iptables`). Outside CI a machine without
    /// them skips these tests and says which is missing; in CI (`CI=true`) they run and fail, so
    /// `.ci/run` keeps requiring them.
    static var toolsReady: Bool { Host.missing().isEmpty || getenv("CI").map { String(cString: $0) } == "true" }

    @Test func missingProgramsAreNamedWithTheirPackage() {
        #expect(Host.missing([("csumlab-no-such-program", "nosuchpkg")]) == ["csumlab-no-such-program (nosuchpkg)"])
        #expect(Host.missing([("sh", "dash")]).isEmpty)
        #expect(Self.requirement("needs root").rawValue.hasPrefix("needs root"))
    }

    /// Why a root test is skipped, naming the missing programs.
    static func requirement(_ base: String) -> Comment {
        let missing = Host.missing()
        return Comment(rawValue: base + (missing.isEmpty ? "" : "; not found: " + missing.joined(separator: ", ")))
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func sigkillDuringSetupThenCleanupLeavesNothing() throws {
        let child = try Spawn.start([Self.csumlab, "verify", Shipped.root + "/topologies/seed-routed-netns.yaml"])
        let prefix = RunPrefix(pid: child.pid)
        // Wait until the lab itself is being built (its hub namespace exists), then kill at once.
        let start = Self.nowMs()
        var seen: [String] = []
        while Self.nowMs() - start < 20_000 {
            seen = Namespaces.list(prefix: prefix)
            if seen.contains(prefix.namespace("hub")) { break }
            usleep(2_000)
        }
        kill(child.pid, SIGKILL)
        close(child.stdin)
        close(child.stdout)
        #expect(Spawn.wait(child.pid) == 128 + SIGKILL)
        #expect(seen.contains(prefix.namespace("hub")), "the run never reached its lab: \(seen)")
        #expect(!Namespaces.list(prefix: prefix).isEmpty, "a SIGKILLed run cannot clean up after itself")

        let cleanup = try Spawn.run([Self.csumlab, "verify", "--cleanup"])
        #expect(cleanup.status == 0, "\(cleanup.stderr)")

        let netns = try Spawn.check(["ip", "netns", "list"])
        #expect(!netns.contains(prefix.value), "ip netns list still shows: \(netns)")
        let lsns = try Spawn.check(["lsns", "-t", "net", "-o", "NS,PID,NSFS,COMMAND"])
        #expect(!lsns.contains(prefix.value), "lsns -t net still shows: \(lsns)")
        let links = try Spawn.check(["ip", "-o", "link", "show"])
        #expect(!links.contains(prefix.value), "ip link still shows: \(links)")
    }

    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func cleanupLeavesRunningLabsAlone() throws {
        // A lab of a live process (pid 1 never dies); not this process's prefix, which other
        // suites running in parallel use for their own labs.
        let live = RunPrefix(pid: 1).namespace("alive")
        try Namespaces.create(live)
        defer { Namespaces.destroy(live) }
        let r = try Spawn.run([Self.csumlab, "verify", "--cleanup"])
        #expect(r.status == 0)
        #expect(Namespaces.list().contains(live), "--cleanup must not touch a live run's lab")
    }

    @Test(.enabled(if: VerifyCleanupTests.enabled && access("/usr/bin/setpriv", X_OK) == 0, VerifyCleanupTests.requirement("needs root (to drop it) and setpriv")))
    func withoutRootItIsSkippedWith77() throws {
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Self.csumlab, "verify"]
        let r = try Spawn.run(asNobody + [Shipped.root + "/topologies/seed-bridged.yaml"])
        #expect(r.status == 77)
        #expect(r.stderr.contains("skipped"))
        #expect(try Spawn.run(asNobody + ["--cleanup"]).status == 77)
    }

    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func aFileWhereTheModelAgreesPassesEndToEnd() throws {
        let r = try Spawn.run([Self.csumlab, "verify", Shipped.root + "/topologies/mininet-userspace-switch.yaml"])
        #expect(r.status == 0, "\(r.stdout.suffix(2000))")
        #expect(r.stdout.contains("probe: tun reports CHECKSUM_UNNECESSARY as DATA_VALID"))
        #expect(r.stdout.contains("mismatched 0  → pass"))
        #expect(Namespaces.list().allSatisfy { !$0.hasPrefix("csl") || RunPrefix.pid(ofLabName: $0).map { kill($0, 0) == 0 } == true },
                "the run left namespaces behind")
    }

    /// Without root `ip netns del` fails: `--cleanup --prefix` must say so and fail, not report
    /// the namespace as removed. The prefix is that of a live `sleep` of this test's own, so no
    /// other test's lab or leftover cleanup is involved.
    @Test(.enabled(if: VerifyCleanupTests.enabled && access("/usr/bin/setpriv", X_OK) == 0, VerifyCleanupTests.requirement("needs root (to drop it) and setpriv")))
    func aNamespaceThatCannotBeRemovedIsReportedAsAFailure() throws {
        let holder = try Spawn.start(["sleep", "600"])
        defer {
            kill(holder.pid, SIGKILL)
            close(holder.stdin)
            close(holder.stdout)
            Spawn.wait(holder.pid)
        }
        let prefix = RunPrefix(pid: holder.pid)
        let ns = prefix.namespace("stuck")
        try Namespaces.create(ns)
        defer { Namespaces.destroy(ns) }
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Self.csumlab]
        let r = try Spawn.run(asNobody + ["verify", "--cleanup", "--prefix", prefix.value])
        #expect(r.status == 1)
        #expect(r.stderr.contains("could not remove namespace \(ns): `ip netns del` exited"), "\(r.stderr)")
        #expect(!r.stdout.contains("removed"), "\(r.stdout)")
        #expect(Namespaces.list(prefix: prefix) == [ns])
        // As root the same cleanup removes it and says so.
        let root = try Spawn.run([Self.csumlab, "verify", "--cleanup", "--prefix", prefix.value])
        #expect(root.status == 0 && root.stdout == "removed: \(ns)\n", "\(root.stdout) \(root.stderr)")
        #expect(Namespaces.list(prefix: prefix).isEmpty)
    }

    /// verify ignores SIGPIPE for its helpers' pipes; a reader of its report that went away must
    /// still end it by SIGPIPE (141), after its lab is gone. The pipe's reader has exited before
    /// verify starts, so the first line it writes meets a closed pipe.
    @Test(.enabled(if: VerifyCleanupTests.enabled && access("/bin/bash", X_OK) == 0, VerifyCleanupTests.requirement("needs root, network namespaces, bash and a built csumlab")))
    func aClosedPipeEndsVerifyBySIGPIPEWithItsLabRemoved() throws {
        let script = #"exec 4> >(exit 0); wait $!; "$0" verify "$1" 2>&1 >&4 & echo "pid=$!"; wait $!; echo "status=$?""#
        let r = try Spawn.run(["/bin/bash", "-c", script, Self.csumlab, Shipped.root + "/topologies/seed-bridged.yaml"])
        let pid = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("pid=") }.flatMap { Int32($0.dropFirst(4)) })
        #expect(r.stdout.hasSuffix("status=141\n"), "\(r.stdout)")
        #expect(!r.stdout.contains("csumlab"), "quietly: \(r.stdout)")
        #expect(Namespaces.list(prefix: RunPrefix(pid: pid)).isEmpty, "the run left its lab behind")
    }

    @Test(.enabled(if: access(VerifyCleanupTests.csumlab, X_OK) == 0, "needs a built csumlab"))
    func argumentsMustNameOneFileOrADirectory() throws {
        #expect(try Spawn.run([Self.csumlab, "verify"]).status == 64)
        let both = try Spawn.run([Self.csumlab, "verify", "--all", "topologies", "--flow", "ssh"])
        #expect(both.status == 64 && both.stderr.contains("--flow needs a single FILE"))
    }
}
