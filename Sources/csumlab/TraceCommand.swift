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

    @Option(help: ArgumentHelp("Also write the trace as a pcapng capture (Wireshark, tshark): one interface per hop, one packet per step with its checksum state.", valueName: "file"))
    var pcapng: String?

    @Option(help: "Seconds of each connection the counters cover: lost TCP packets sent again on the kernel's timers within it count each time.")
    var window: Int = Int(ObservationWindow.defaultSeconds)

    func validate() throws {
        guard (1...3600).contains(window) else { throw ValidationError("--window takes 1 to 3600 seconds") }
    }

    func run() throws {
        let loaded = try options.load()
        let trace: Trace
        do {
            trace = try Simulator(loaded.topology, window: Double(window)).run(flow: options.flow)
        } catch {
            throw ValidationFailure(message: "\(options.file): \(error)")
        }
        if let pcapng {
            do {
                try LabSaver.save(bytes: TracePcapng.render(trace), to: pcapng)
            } catch {
                throw ValidationFailure(message: "--pcapng: \(error.message)")
            }
        }
        if json {
            try StandardOutput.write(TraceJSON.render(trace, topology: loaded.topology))
        } else {
            try StandardOutput.write(TraceText.render(trace, topology: loaded.topology, verbose: verbose))
        }
    }
}
