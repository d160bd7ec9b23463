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
