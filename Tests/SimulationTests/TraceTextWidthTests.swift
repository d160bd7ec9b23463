#if canImport(Glibc)
import Glibc
#endif
import Simulation
import TerminalText
import Testing
import TopologyFile
import TraceReport

/// `csumlab trace` lines its step table up in terminal columns, so CJK node names (two columns
/// a character) do not push the later columns out of line.
@Suite struct TraceTextWidthTests {
    @Test func stepColumnsAlignWithWideNames() throws {
        let text = """
            csumlab: 1
            nodes:
              虚拟机一:
                kind: vm
                interfaces:
                  eth0: {address: [10.0.0.1/24]}
              虚拟机二:
                kind: vm
                interfaces:
                  eth0: {address: [10.0.0.2/24]}
              タップ1: {kind: tap}
              br0: {kind: bridge}
              タップ2: {kind: tap}
            links:
              - endpoints: ["虚拟机一:eth0", "タップ1"]
              - endpoints: ["タップ1", "br0"]
              - endpoints: ["br0", "タップ2"]
              - endpoints: ["タップ2", "虚拟机二:eth0"]
            flows:
              ssh: {type: tcp, from: 虚拟机一, to: 虚拟机二, port: 22}
            """
        let loaded = try TopologyFile.parse(text, file: "cjk.yaml")
        let trace = try Simulator(loaded.topology).run()
        let out = TraceText.render(trace, topology: loaded.topology)
        let lines = out.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.contains("element") && $0.contains("dir") })
        let dirColumn = try #require(header.range(of: "dir")).lowerBound
        let expected = DisplayWidth.of(header[..<dirColumn])
        let directions = ["send", "transmit", "receive", "forward", "deliver", "userspace"]
        var rows = 0
        for l in lines {
            let words = l.split(separator: " ")
            guard words.count > 2, Int(words[0]) != nil, let d = words.dropFirst(2).first, directions.contains(String(d)) else { continue }
            let at = try #require(l.range(of: " \(d) "))
            #expect(DisplayWidth.of(l[..<at.lowerBound]) + 1 == expected, "\(l)")
            rows += 1
        }
        #expect(rows > 10)
    }
}

/// `csumlab trace` in a terminal fits its width (#14): at 80 columns every line of every
/// shipped lab's trace fits, steps keep all their columns (stacked), words are never split, and
/// without a width (a pipe, `--wide`) the table keeps one line a step.
@Suite struct TraceTextFitTests {
    static let labs: [String] = {
        var out: [String] = []
        guard let d = opendir(repoRoot + "/topologies") else { return out }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".yaml") { out.append(name) }
        }
        return out.sorted()
    }()

    func rendered(_ lab: String, width: Int?, verbose: Bool = true) throws -> (String, Trace, Topology) {
        let loaded = try TopologyFile.load(path: repoRoot + "/topologies/" + lab)
        let trace = try Simulator(loaded.topology).run()
        return (TraceText.render(trace, topology: loaded.topology, verbose: verbose, width: width), trace, loaded.topology)
    }

    @Test(arguments: labs)
    func everyLineFitsEightyColumns(_ lab: String) throws {
        let (text, trace, _) = try rendered(lab, width: 80)
        for line in text.split(separator: "\n") {
            #expect(line.displayWidth <= 80, "\(lab): \(line.displayWidth) columns: \(line)")
        }
        // Nothing is lost: every step's kernel function and state are still there, whole.
        for f in trace.flows {
            for leg in f.legs {
                for s in leg.steps {
                    for word in s.function.split(separator: " ") where word.count > 1 {
                        #expect(text.contains(word), "\(lab): \(word) missing")
                    }
                }
            }
        }
    }

    @Test func wordsOfTheDescriptionAreNotSplit() throws {
        let (text, _, topology) = try rendered("seed-routed-userspace.yaml", width: 80)
        let printed = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        for word in topology.description.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            #expect(printed.contains(String(word)), "'\(word)' was split")
        }
    }

    @Test func withoutAWidthTheTableKeepsOneLineAStep() throws {
        let (text, trace, _) = try rendered("seed-bridged.yaml", width: nil, verbose: false)
        let stepLines = text.split(separator: "\n").filter { $0.contains("0x") }
        #expect(stepLines.count == trace.flows.flatMap(\.legs).map(\.steps.count).reduce(0, +))
        let (wide, _, _) = try rendered("seed-bridged.yaml", width: 1000, verbose: false)
        #expect(wide == text, "a wide terminal gets the full table")
    }

    @Test func ipv6StepsSayHopLimit() throws {
        let (text, _, _) = try rendered("ipv6-routed-netns.yaml", width: nil)
        let headers = text.split(separator: "\n").filter { $0.hasPrefix("  #") }
        #expect(!headers.isEmpty && headers.allSatisfy { $0.hasSuffix("hop limit") })
        let (v4, _, _) = try rendered("seed-bridged.yaml", width: nil)
        #expect(v4.split(separator: "\n").filter { $0.hasPrefix("  #") }.allSatisfy { $0.hasSuffix("TTL") })
    }

    /// A leg named after its endpoints ("data vm1→vm2") is not followed by them again, in the
    /// leg's header or in the verdict; "SYN" still gets them.
    @Test(arguments: labs)
    func legHeadersSayTheEndpointsOnce(_ lab: String) throws {
        let (text, trace, _) = try rendered(lab, width: nil, verbose: false)
        for leg in trace.flows.flatMap(\.legs) {
            #expect(!text.contains("\(leg.name): \(leg.from) → \(leg.to)") || !leg.name.contains("→"), "\(lab): \(leg.name)")
            #expect(!text.contains("\(leg.name) (\(leg.from) → \(leg.to))") || !leg.name.contains("→"), "\(lab): \(leg.name)")
            if !leg.name.contains("→") { #expect(text.contains("  \(leg.name): \(leg.from) → \(leg.to)")) }
        }
    }
}
