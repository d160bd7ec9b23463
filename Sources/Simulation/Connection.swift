/// The kernel's TCP timers that decide how often a connection's packets are sent when one is
/// lost: `tcp_syn_retries`, `tcp_synack_retries`, the initial and minimum RTO, `tcp_retries2`.
///
/// Every profile has the same defaults: `tcp_syn_retries` became 6 in 3.7 (the 3.x profile is
/// 3.13), `TCP_TIMEOUT_INIT` 1 s in 3.1, and `tcp_synack_retries` (5), `TCP_RTO_MIN` (200 ms),
/// `TCP_RTO_MAX` (120 s) and `tcp_retries2` (15) are older still (include/net/tcp.h,
/// net/ipv4/tcp_timer.c).
public struct TCPTimers: Sendable, Hashable {
    /// `net.ipv4.tcp_syn_retries`: SYN retransmissions before `connect()` fails.
    public var synRetries = 6
    /// `net.ipv4.tcp_synack_retries`: SYN-ACK retransmissions by the request's timer.
    public var synackRetries = 5
    /// `TCP_TIMEOUT_INIT`: the first RTO of a SYN and of a SYN-ACK, seconds.
    public var initialRTO = 1.0
    /// The RTO of an established connection on a LAN: `TCP_RTO_MIN` (the RTT itself is far
    /// smaller), seconds.
    public var dataRTO = 0.2
    /// `TCP_RTO_MAX`, seconds.
    public var maxRTO = 120.0
    /// `net.ipv4.tcp_retries2`: data retransmissions before the connection is dropped.
    public var retries2 = 15
    /// `net.ipv4.tcp_invalid_ratelimit`: a retransmitted SYN is answered at most this often.
    public var invalidRateLimit = 0.5

    public init() {}

    public static func defaults(_ profile: KernelProfile) -> TCPTimers {
        switch profile {
        case .linux3, .linux44, .linux6: return TCPTimers()
        }
    }

    /// When a sender with retries `retries` and backoff from `rto` (doubling, capped) sends:
    /// the first transmission at 0, then each retransmission; and when it gives up.
    func schedule(retries: Int, rto: Double) -> (sends: [Double], givesUpAt: Double) {
        var t = 0.0
        var r = rto
        var sends: [Double] = [0]
        for _ in 0..<retries {
            t += r
            sends.append(t)
            r = min(r * 2, maxRTO)
        }
        return (sends, t + r)
    }
}

/// The window of time a flow's counts cover.
public struct ObservationWindow: Sendable, Hashable {
    /// Seconds from the first packet.
    public var seconds: Double
    /// One sentence: what the window holds (e.g. when the client gives up).
    public var summary: String
    /// Something is sent more than once in it: the counts depend on the window's length.
    public var retransmits: Bool

    public init(seconds: Double, summary: String, retransmits: Bool = false) {
        self.seconds = seconds
        self.summary = summary
        self.retransmits = retransmits
    }

    public static let defaultSeconds = 60.0
}

/// Which legs of a flow are sent, and how often, in a window: a leg is sent only if the leg it
/// answers arrived; a lost TCP packet is sent again on the kernel's timers (UDP, ping and DHCP
/// are not: the models send each once). The walk itself does not change: every leg is walked,
/// and one that is never sent stays in the trace as a would-be leg for the student and for
/// `verify`, outside verdicts and counters.
enum Connection {
    static func arrived(_ l: LegTrace) -> Bool { l.outcome == .accepted || l.outcome == .acceptedCorrupted }

    static func apply(_ kind: Flow.Kind, legs: inout [LegTrace], client: TCPTimers, server: TCPTimers, window: Double) -> ObservationWindow {
        func notSent(_ i: Int, because why: String) {
            legs[i].sent = false
            legs[i].transmissions = 0
            legs[i].schedule = "not sent: \(why) — walked to show what it would meet"
        }
        // Worded only when a leg did not arrive: a connection that completes (most runs, and
        // every run of a working lab) formats no number.
        var w: String { Self.seconds(window) }
        switch kind {
        case .tcp:
            guard legs.count == 4 else { return ObservationWindow(seconds: window, summary: "one exchange") }
            let syn = client.schedule(retries: client.synRetries, rto: client.initialRTO)
            let synTimes = syn.sends.filter { $0 < window }
            var giveUp: String { "\(legs[0].from) gives up after \(Self.seconds(syn.givesUpAt)) s (tcp_syn_retries=\(client.synRetries))" }
            if !arrived(legs[0]) {
                legs[0].transmissions = synTimes.count
                legs[0].schedule = "sent \(Self.times(synTimes.count)) in the first \(w) s, at \(Self.list(synTimes)) s: never answered, so \(legs[0].from) retransmits it; \(giveUp)"
                notSent(1, because: "the SYN never arrived, so \(legs[1].from) has nothing to answer")
                notSent(2, because: "the connection is never established")
                notSent(3, because: "the connection is never established")
                return ObservationWindow(seconds: window, summary: "the first \(w) s; \(giveUp)", retransmits: true)
            }
            if !arrived(legs[1]) {
                // Every SYN arrives; no SYN-ACK does, so the client keeps retransmitting its SYN
                // and the server answers each one besides its own timer.
                let synacks = synackTimes(synArrivals: synTimes, timers: server, window: window)
                legs[0].transmissions = synTimes.count
                legs[0].schedule = "sent \(Self.times(synTimes.count)) in the first \(w) s, at \(Self.list(synTimes)) s: its SYN-ACK never arrives, so \(legs[0].from) retransmits it; \(giveUp)"
                legs[1].transmissions = synacks.count
                legs[1].schedule = "sent \(Self.times(synacks.count)) in the first \(w) s, at \(Self.list(synacks)) s: by the request's timer (tcp_synack_retries=\(server.synackRetries)) and in answer to each retransmitted SYN (tcp_check_req → inet_rtx_syn_ack)"
                notSent(2, because: "the handshake never completes")
                notSent(3, because: "the handshake never completes")
                return ObservationWindow(seconds: window, summary: "the first \(w) s; \(giveUp)", retransmits: true)
            }
            var lost = false
            for i in 2...3 where !arrived(legs[i]) {
                lost = true
                let timers = i == 2 ? client : server
                let s = timers.schedule(retries: timers.retries2, rto: timers.dataRTO)
                let sends = s.sends.filter { $0 < window }
                legs[i].transmissions = sends.count
                legs[i].schedule = "sent \(Self.times(sends.count)) in the first \(w) s, at \(Self.list(sends)) s: never acknowledged, so \(legs[i].from) retransmits it (RTO from \(Self.seconds(timers.dataRTO)) s, doubling); it drops the connection after \(Self.seconds(s.givesUpAt)) s (tcp_retries2=\(timers.retries2))"
            }
            return ObservationWindow(seconds: window, summary: lost ? "the first \(w) s" : "one exchange", retransmits: lost)
        case .udp, .icmp, .dhcp, .frame:
            for i in legs.indices.dropFirst() where !arrived(legs[i - 1]) || !legs[i - 1].sent {
                notSent(i, because: "the \(legs[i - 1].name) never arrived, so \(legs[i].from) has nothing to answer")
            }
            return ObservationWindow(seconds: window, summary: "one exchange (\(kind == .icmp ? "one ping" : "no retransmission modelled"))")
        }
    }

    /// The times the server sends SYN-ACKs when every SYN arrives and no SYN-ACK does:
    /// `reqsk_timer_handler` retransmits after 1, 2, 4… s up to `tcp_synack_retries` times and
    /// then drops the request; a retransmitted SYN that finds the request is answered at once
    /// (rate-limited by `tcp_invalid_ratelimit`) and re-arms the timer
    /// (`tcp_check_req`: `mod_timer_pending(…, jiffies + reqsk_timeout(req))`); one that finds
    /// none makes a new request. At equal times the timer runs first.
    static func synackTimes(synArrivals: [Double], timers: TCPTimers, window: Double) -> [Double] {
        var sends: [Double] = []
        var live = false
        var numTimeout = 0
        var timer = 0.0
        var lastAnswer: Double?
        func timeout() -> Double { min(timers.initialRTO * Double(1 << min(numTimeout, 30)), timers.maxRTO) }
        var arrivals = synArrivals[...]
        while true {
            let nextSYN = arrivals.first
            let nextTimer = live ? timer : nil
            guard let t = [nextSYN, nextTimer].compactMap({ $0 }).min(), t < window else { break }
            if let nt = nextTimer, nt == t {
                if numTimeout >= timers.synackRetries {
                    live = false
                } else {
                    sends.append(t)
                    numTimeout += 1
                    timer = t + timeout()
                }
                continue
            }
            arrivals = arrivals.dropFirst()
            if !live {
                live = true
                numTimeout = 0
                lastAnswer = nil
                sends.append(t)
                timer = t + timeout()
            } else if lastAnswer.map({ t - $0 >= timers.invalidRateLimit }) ?? true {
                lastAnswer = t
                sends.append(t)
                timer = t + timeout()
            }
        }
        return sends
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String((s * 100).rounded() / 100)
    }

    static func list(_ ts: [Double]) -> String { ts.map(seconds).joined(separator: ", ") }

    static func times(_ n: Int) -> String { n == 1 ? "once" : "\(n) times" }
}
