import ExplorerUI
import Simulation
import Testing
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// A bridge with three ports and two flows through it.
let threePortBridge = """
csumlab: 1
name: three-port-bridge
kernel: linux-6.x
nodes:
  vm1: {kind: vm, interfaces: {eth0: {address: 10.0.0.1/24}}}
  vm2: {kind: vm, interfaces: {eth0: {address: 10.0.0.2/24}}}
  vm3: {kind: vm, interfaces: {eth0: {address: 10.0.0.3/24}}}
  tap1: {kind: tap}
  tap2: {kind: tap}
  tap3: {kind: tap}
  br0: {kind: bridge}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "br0"]
  - endpoints: ["br0", "tap2"]
  - endpoints: ["br0", "tap3"]
  - endpoints: ["tap2", "vm2:eth0"]
  - endpoints: ["tap3", "vm3:eth0"]
flows:
  ssh: {type: tcp, from: vm1, to: vm2}
  dns: {type: udp, from: vm1, to: vm3}

"""

@Suite struct GraphLayoutTests {
    func overlaps(_ a: Rect, _ b: Rect) -> Bool {
        a.x < b.maxX && b.x < a.maxX && a.y < b.maxY && b.y < a.maxY
    }

    func checkNoOverlaps(_ g: GraphLayout) {
        for (i, a) in g.boxes.enumerated() {
            for b in g.boxes.dropFirst(i + 1) { #expect(!overlaps(a.rect, b.rect), "\(a.node) overlaps \(b.node)") }
        }
        for r in g.routes {
            for (p, q) in zip(r.points, r.points.dropFirst()) {
                let seg = Rect(x: min(p.0, q.0), y: min(p.1, q.1), width: abs(p.0 - q.0) + 1, height: abs(p.1 - q.1) + 1)
                for b in g.boxes { #expect(!overlaps(seg, b.rect), "link \(r.a)–\(r.b) crosses \(b.node)") }
            }
        }
    }

    @Test func seedLabIsOneRowLeftToRight() throws {
        let s = try defaultState()
        let g = GraphLayout.make(s.topology, root: "vm1")
        let order = g.boxes.sorted { $0.rect.x < $1.rect.x }.map(\.node)
        #expect(order == ["vm1", "tap1", "br1", "vethA", "router", "vethB", "br2", "tap2", "vm2"])
        #expect(Set(g.boxes.map(\.rect.y)) == [0])
        checkNoOverlaps(g)
    }

    @Test func threePortBridgeFansOutWithoutOverlaps() throws {
        let t = try TopologyFile.parse(threePortBridge, file: "three.yaml").topology
        let g = GraphLayout.make(t, root: "vm1")
        checkNoOverlaps(g)
        #expect(g.box("tap2")?.column == g.box("tap3")?.column)
        #expect(g.box("tap2")?.rect.y != g.box("tap3")?.rect.y)
        var s = try ExplorerState(topology: t, fileLabel: "three.yaml")
        assertSnapshot(s, width: 80, height: 24, "three-port-bridge-80x24")
        s.perform(.openFlows)
        s.perform(.menuDown)
        s.perform(.menuActivate)
        s.perform(.nextStep)
        s.perform(.nextStep)
        s.perform(.nextStep)
        assertSnapshot(s, width: 120, height: 40, "three-port-bridge-dns-120x40")
    }

    @Test func everyShippedTopologyLaysOutWithoutOverlaps() throws {
        for file in ["seed-bridged.yaml", "seed-routed-vm-router.yaml", "nat-masquerade.yaml", "mininet-userspace-switch.yaml",
                     "dhcp-raw-client.yaml", "ipv6-routed-netns.yaml", "forwarder-taps-with-tun-csum.yaml"] {
            let s = try state(file: file)
            checkNoOverlaps(GraphLayout.make(s.topology, root: s.flow?.from))
            _ = Screen.render(s, width: 80, height: 24)
        }
    }

    /// A link between two boxes of one column runs straight beside them when nothing else uses
    /// that cell column there, else through a channel whose two legs stand apart: never a U
    /// folded onto one column (it drew a line ending in its marker, a dangling stub, under the
    /// far tunnel node of the VXLAN labs). Checked on every shipped lab.
    @Test func sameColumnLinksNeverFoldOntoOneColumn() throws {
        var straight = 0
        for file in shippedFiles() {
            let s = try state(file: file)
            let g = GraphLayout.make(s.topology, root: s.flow?.from)
            checkNoOverlaps(g)
            for r in g.routes {
                guard let ba = g.box(r.a), let bb = g.box(r.b), ba.column == bb.column else { continue }
                // Vertical segments of one route: no two share a column over a common row.
                let verticals = zip(r.points, r.points.dropFirst()).filter { $0.0.0 == $0.1.0 && $0.0.1 != $0.1.1 }
                for (i, v) in verticals.enumerated() {
                    for w in verticals.dropFirst(i + 1) where v.0.0 == w.0.0 {
                        let a = min(v.0.1, v.1.1)...max(v.0.1, v.1.1), b = min(w.0.1, w.1.1)...max(w.0.1, w.1.1)
                        #expect(!a.overlaps(b), "\(file): \(r.a)–\(r.b) folds onto column \(v.0.0)")
                    }
                }
                if r.points.count == 4 { straight += 1 }
                // The marker sits on the route.
                if let m = r.marker {
                    let on = zip(r.points, r.points.dropFirst()).contains { p, q in
                        (min(p.0, q.0)...max(p.0, q.0)).contains(m.0) && (min(p.1, q.1)...max(p.1, q.1)).contains(m.1)
                    }
                    #expect(on, "\(file): marker of \(r.a)–\(r.b) off its line")
                }
                #expect(r.points.allSatisfy { $0.0 < g.width }, "\(file): \(r.a)–\(r.b) runs past the layout's width")
            }
        }
        // The VXLAN labs' far tunnel end and its host share a column with nothing between.
        #expect(straight >= 10)
    }

    @Test func largeTopologyRendersAndPans() throws {
        var s = try longChain(300)
        let g = GraphLayout.make(s.topology, root: "vmA")
        #expect(g.boxes.count == 300)
        checkNoOverlaps(g)
        s.perform(.previousNode)
        let text = Screen.render(s, width: 80, height: 24).canvas.text
        #expect(text.contains("vmB"))
        #expect(!text.contains("vmA"))
    }

    /// `[` and `]` pan the graph by hand; moving on follows the packet again.
    @Test func manualPanMovesTheViewAndResetsOnStep() throws {
        var s = try longChain(300)
        let start = Screen.render(s, width: 80, height: 24).canvas.text
        #expect(start.contains("vmA"))
        for _ in 0..<3 { s.perform(.panRight) }
        let panned = Screen.render(s, width: 80, height: 24).canvas.text
        #expect(!panned.contains("vmA"))
        #expect(panned != start)
        s.perform(.panLeft)
        s.perform(.panLeft)
        s.perform(.panLeft)
        #expect(Screen.render(s, width: 80, height: 24).canvas.text == start)
        s.perform(.panRight)
        s.perform(.firstStep)
        #expect(s.graphPan.x == 0)
    }
}

/// The shipped labs' file names.
func shippedFiles() -> [String] {
    guard let d = opendir(packageRoot + "/topologies") else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) { p in
            p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name.hasSuffix(".yaml") { out.append(name) }
    }
    return out.sorted()
}

/// A chain of `n` nodes: a vm, taps and bridges alternating, a vm (no flow).
func longChain(_ n: Int) throws -> ExplorerState {
    try ExplorerState(topology: SampleTopology.tapBridgeChain(n), fileLabel: "long.yaml")
}
