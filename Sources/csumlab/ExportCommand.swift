import ArgumentParser
import KernelLab
import Simulation
import TopologyFile
import TraceReport

extension GraphExport.Format: ExpressibleByArgument {}

/// `csumlab export`: the lab as a graph for documentation (DOT, Mermaid) or as the shell script
/// that builds its kernel side on a real host.
struct ExportCommand: ParsableCommand {
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case dot, mermaid, script
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print the lab as a Graphviz DOT or Mermaid graph, or as the shell script (ip, ethtool, nft) that builds its kernel side.",
        discussion: """
        dot, mermaid: nodes shaped by kind and one edge per link; with --flow, each link that flow's first \
        packet crossed is coloured by its checksum state there.
        script: `sh lab.sh up` builds the lab in network namespaces (as root), `sh lab.sh down` removes it; \
        the names are those `csumlab verify` uses. QEMU guests and userspace forwarders appear as comments.
        """)

    @OptionGroup var options: TopologyOptions

    @Option(help: "dot, mermaid or script.")
    var format: Format

    @Option(help: "Namespace name prefix for --format script.")
    var prefix: String = LabScript.defaultPrefix

    func validate() throws {
        guard !prefix.isEmpty, prefix.count <= 32,
              prefix.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
        else { throw ValidationError("--prefix takes 1 to 32 ASCII letters, digits, '-' or '_'") }
    }

    func run() throws {
        let loaded = try options.load()
        let t = loaded.topology
        switch format {
        case .dot, .mermaid:
            var flow: FlowTrace?
            if let name = options.flow {
                do {
                    flow = try Simulator(t).run(flow: name).flows.first
                } catch {
                    throw ValidationFailure(message: "\(options.file): \(error)")
                }
            }
            try StandardOutput.write(GraphExport.render(t, format: format == .dot ? .dot : .mermaid, flow: flow))
        case .script:
            if options.flow != nil { throw ValidationFailure(message: "--flow applies to --format dot and mermaid only") }
            let trace: Trace
            do {
                trace = try Simulator(t).run()
            } catch {
                throw ValidationFailure(message: "\(options.file): \(error)")
            }
            var effective: [String: Set<Feature>] = [:]
            for d in trace.devices { effective[d.device] = Set(d.on) }
            do {
                try StandardOutput.write(LabScript.render(LabPlan(t), effective: effective, prefix: prefix))
            } catch let e as LabError {
                throw ValidationFailure(message: "\(options.file): cannot write a script for this lab: \(e)")
            }
        }
    }
}
