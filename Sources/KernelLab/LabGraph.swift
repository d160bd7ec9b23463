import Simulation
import Wire

/// The devices `csumlab verify` builds: exactly the simulator's own resolution of the topology
/// (`Simulation.Network`: same devices, same order, same MAC addresses, bridge ports, veth peers,
/// TAP sides and host interfaces), so the frames the simulation emits can be written into the real
/// lab unchanged. One resolution serves both; they cannot drift apart.
public typealias LabGraph = Network

extension Network {
    public typealias Ref = L3Ref
    public typealias Kind = DeviceKind

    /// The `TUNSETOFFLOAD` flags of a TAP as the model has them (explicit in the file, or what
    /// QEMU derives from the guest's negotiation for a backend with a vnet header).
    public func tunOffloads(_ d: Int) -> TunOffloads {
        guard case let .tap(ts) = devices[d].kind else { return [] }
        let f = tunFlags(d, ts)
        var o: TunOffloads = []
        if f.csum { o.insert(.csum) }
        if f.tso4 { o.insert(.tso4) }
        if f.tso6 { o.insert(.tso6) }
        return o
    }
}
