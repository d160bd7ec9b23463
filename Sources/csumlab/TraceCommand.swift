import ArgumentParser
import Simulation
import TopologyFile
import TraceReport

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Walk each flow's packets through the topology and show every hop's checksum state.")

    @OptionGroup var options: TopologyOptions

    @Flag(help: "Print the trace as JSON (schema: assets/trace-schema.json).")
    var json = false

    @Flag(name: .shortAndLong, help: "Explain every step in a sentence.")
    var verbose = false

    func run() throws {
        let loaded = try options.load()
        let trace: Trace
        do {
            trace = try Simulator(loaded.topology).run(flow: options.flow)
        } catch {
            throw ValidationFailure(message: "\(options.file): \(error)")
        }
        if json {
            try StandardOutput.write(TraceJSON.render(trace, topology: loaded.topology))
        } else {
            try StandardOutput.write(TraceText.render(trace, topology: loaded.topology, verbose: verbose))
        }
    }
}
