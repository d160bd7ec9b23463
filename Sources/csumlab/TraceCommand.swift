import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
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

    @Flag(help: "The full step table on one line a step, whatever the terminal's width.")
    var wide = false

    @Option(help: ArgumentHelp("Also write the trace as a pcapng capture (Wireshark, tshark): one interface per hop, one packet per step with its checksum state.", valueName: "file"))
    var pcapng: String?

    @Option(help: "Seconds of each connection the counters cover: lost TCP packets sent again on the kernel's timers within it count each time.")
    var window: Int = Int(ObservationWindow.defaultSeconds)

    func validate() throws {
        guard (1...3600).contains(window) else { throw ValidationError("--window takes 1 to 3600 seconds") }
    }

    /// The columns to fit: the terminal's when standard output is one, else `COLUMNS` when
    /// set, else none (a pipe or a file gets the full table).
    static func terminalWidth() -> Int? {
        var ws = winsize()
        if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        if let c = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), c > 0 { return c }
        return nil
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
            try StandardOutput.write(TraceText.render(trace, topology: loaded.topology, verbose: verbose, width: wide ? nil : Self.terminalWidth()))
        }
    }
}
