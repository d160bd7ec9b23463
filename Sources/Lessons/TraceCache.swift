#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Simulation
import TopologyFile

/// The last few lab files and traces, by text and by topology. Checking a lesson simulates its lab, each task's solution
/// and each attempt; lessons (and `check` runs over several of them) share labs and solutions,
/// and the simulation is pure, so a topology seen before is not simulated again.
final class TraceCache: @unchecked Sendable {
    static let shared = TraceCache()
    static let capacity = 32

    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var entries: [Topology: Trace] = [:]
    private var order: [Topology] = []
    private var labs: [String: LoadedTopology] = [:]
    private var labOrder: [String] = []

    private init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// The lab file at `path`, loaded (as `TopologyFile.load`); the file is read every time, and
    /// parsed again only when its text changed.
    func lab(_ path: String) throws(TopologyFileError) -> LoadedTopology {
        let text: String
        do {
            text = try FileText.read(path, maxBytes: TopologyFile.maxFileBytes)
        } catch {
            return try TopologyFile.load(path: path)   // the same error, worded as load words it
        }
        let key = path + "\u{0}" + text
        pthread_mutex_lock(lock)
        let hit = labs[key]
        pthread_mutex_unlock(lock)
        if let hit { return hit }
        let loaded = try TopologyFile.parse(text, file: path)
        pthread_mutex_lock(lock)
        if labs.updateValue(loaded, forKey: key) == nil {
            labOrder.append(key)
            if labOrder.count > Self.capacity { labs[labOrder.removeFirst()] = nil }
        }
        pthread_mutex_unlock(lock)
        return loaded
    }

    /// The trace of every flow of `topology` (as `Simulator(topology).run()`).
    func trace(_ topology: Topology) throws(SimulationError) -> Trace {
        pthread_mutex_lock(lock)
        let hit = entries[topology]
        pthread_mutex_unlock(lock)
        if let hit { return hit }
        let trace = try Simulator(topology).run()
        pthread_mutex_lock(lock)
        if entries.updateValue(trace, forKey: topology) == nil {
            order.append(topology)
            if order.count > Self.capacity { entries[order.removeFirst()] = nil }
        }
        pthread_mutex_unlock(lock)
        return trace
    }
}
