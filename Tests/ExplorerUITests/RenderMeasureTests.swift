import ExplorerUI
import Simulation
import Testing

#if canImport(Glibc)
import Glibc
#endif

func nanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Prints how long the pure part of a frame takes (no assertions: timing does not belong in
/// unit tests). Goals from the issue: keypress → frame ≤ 5 ms, a 300-node render ≤ 16 ms.
@Suite struct RenderMeasureTests {
    @Test func keypressToFrameAndLargeRender() throws {
        var s = try defaultState()
        let layout = GraphLayout.make(s.topology, root: s.flow?.from)
        let n = 50
        var t0 = nanoseconds()
        for _ in 0..<n {
            s.handle(.key(.char("l")))
            _ = Screen.render(s, width: 120, height: 40, layout: layout)
        }
        let step = Double(nanoseconds() - t0) / Double(n) / 1e6
        t0 = nanoseconds()
        for _ in 0..<10 {
            s.perform(.selectNode("vm1"))
            s.perform(.openOptions)
            s.perform(.menuActivate)
            s.perform(.closeOverlay)
            _ = Screen.render(s, width: 120, height: 40, layout: layout)
        }
        let toggle = Double(nanoseconds() - t0) / 10 / 1e6
        let big = try longChain(300)
        t0 = nanoseconds()
        let bigLayout = GraphLayout.make(big.topology, root: "vmA")
        let layoutMs = Double(nanoseconds() - t0) / 1e6
        t0 = nanoseconds()
        for _ in 0..<10 { _ = Screen.render(big, width: 120, height: 40, layout: bigLayout) }
        let bigMs = Double(nanoseconds() - t0) / 10 / 1e6
        print("explorer render (debug build): step key → frame \(ms(step)) ms; toggle (re-simulate) → frame \(ms(toggle)) ms; 300-node layout \(ms(layoutMs)) ms, render \(ms(bigMs)) ms")
    }

    func ms(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return "\(r)"
    }
}
