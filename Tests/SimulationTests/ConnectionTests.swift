import Testing
@testable import Simulation
import TopologyFile

/// A flow's legs are sent only when the leg they answer arrived, and lost TCP packets are sent
/// again on the kernel's timers. The expected counts are worked out by hand from the timer rules
/// (tcp_syn_retries=6 and tcp_synack_retries=5 from 1 s, doubling) and match what real QEMU guests
/// (Debian 6.1, virtio-net) counted behind an AF_PACKET router in about a minute: VM2 6 when the
/// SYN is dropped, VM1 11 when only the SYN-ACK is.
@Suite struct ConnectionTests {
    func flow(_ lab: String, _ name: String, sets: [String] = [], window: Double = 60) throws -> FlowTrace {
        let t = try with(try loadShipped(lab).topology, sets)
        return try #require(try Simulator(t, window: window).run(flow: name).flows.first)
    }

    @Test func droppedSYNIsRetransmittedAndNeverAnswered() throws {
        let f = try flow("seed-routed-userspace", "ssh")
        #expect(f.legs[0].name == "SYN" && f.legs[0].sent && f.legs[0].transmissions == 6)
        #expect(f.legs[1...].allSatisfy { !$0.sent && $0.transmissions == 0 })
        #expect(f.counters == ["vm2": ["Tcp: InCsumErrors": 6]], "VM1 counts nothing: no SYN-ACK is ever sent")
        #expect(f.verdict.failedLeg == "SYN")
        #expect(f.window.retransmits && f.window.summary.contains("127 s"))
        // Would-be legs are still walked, for the student and for verify.
        #expect(f.legs.allSatisfy { !$0.steps.isEmpty })
    }

    @Test func droppedSYNACKIsAnsweredByTimerAndRetransmittedSYNs() throws {
        let f = try flow("nofix-tx-off-vm1-only", "ssh")
        #expect(f.legs[0].outcome == .accepted && f.legs[0].transmissions == 6)
        #expect(f.legs[1].transmissions == 11)
        #expect(!f.legs[2].sent && !f.legs[3].sent)
        #expect(f.counters == ["vm1": ["Tcp: InCsumErrors": 11]])
    }

    @Test func aLongerWindowCountsMore() throws {
        // The client's seventh SYN leaves at 63 s; it gives up at 127 s.
        let f = try flow("seed-routed-userspace", "ssh", window: 130)
        #expect(f.legs[0].transmissions == 7)
        #expect(f.counters["vm2"]?["Tcp: InCsumErrors"] == 7)
    }

    /// The server's SYN-ACK times, by hand: the request's timer fires at 1, 3, 7, 15, 31 s
    /// (1 s doubling, five retransmissions), each retransmitted SYN (1, 3, 7, 15, 31 s) is answered
    /// at once, and at 63 s the request expires (num_timeout = 5) before the seventh SYN makes a
    /// new one, whose timer fires at 64, 66, 70, 78, 94 s.
    @Test func synackSchedule() {
        let syns: [Double] = [0, 1, 3, 7, 15, 31, 63]
        #expect(Connection.synackTimes(synArrivals: syns, timers: TCPTimers(), window: 60)
                == [0, 1, 1, 3, 3, 7, 7, 15, 15, 31, 31])
        #expect(Connection.synackTimes(synArrivals: syns, timers: TCPTimers(), window: 127)
                == [0, 1, 1, 3, 3, 7, 7, 15, 15, 31, 31, 63, 64, 66, 70, 78, 94])
        // Retransmitted SYNs closer together than tcp_invalid_ratelimit get no answer.
        #expect(Connection.synackTimes(synArrivals: [0, 0.1, 0.2], timers: TCPTimers(), window: 0.9) == [0, 0.1])
    }

    @Test func droppedDataIsRetransmittedOnTheRTO() throws {
        // Timer: 0.2 s doubling; sends at 0, 0.2, 0.6, 1.4, 3, 6.2, 12.6, 25.4, 51 s in a minute.
        let f = try flow("seed-routed-userspace", "ssh", sets: ["vm1.eth0.tx=off", "vm2.eth0.tx=off", "vm1.eth0.gso=off"])
        #expect(f.verdict.completes)
        #expect(f.legs.allSatisfy { $0.sent && $0.transmissions == 1 })
        #expect(!f.window.retransmits)
        let times = TCPTimers().schedule(retries: 15, rto: 0.2)
        #expect(times.sends.filter { $0 < 60 }.count == 9)
        #expect(abs(times.givesUpAt - 924.6) < 0.01, "tcp_retries2=15: about 15 minutes")
    }

    @Test func udpAndPingAreNotRetransmitted() throws {
        let f = try flow("udp-fragments-userspace-router", "udp-1000")
        #expect(f.legs[0].outcome != .accepted && f.legs[0].transmissions == 1)
        #expect(!f.legs[1].sent, "no response without a query")
        #expect(!f.window.retransmits)
        let p = try flow("seed-routed-userspace", "ping")
        #expect(p.legs.allSatisfy { $0.sent && $0.transmissions == 1 })
    }
}
