@testable import ExplorerUI
import Simulation
import TestSupport
import Testing
import TopologyFile

/// Undo and redo reuse the topology and traces kept with each revision instead of validating
/// and simulating again, and the link list marks refused unlinks ahead of time. Both must give
/// exactly what the full path gives: random edits, toggles, undos and redos on the seed lab,
/// each state compared with a document built from scratch over the same revision.
@Suite struct HistoryCacheTests {
    /// A document computed from nothing but `r`: validation, simulation, the structure's trace.
    static func fresh(_ r: LabDocument.Revision, label: String) throws -> LabDocument {
        try LabDocument(structure: r.structure, expectations: r.expectations, toggles: r.toggles, path: nil, label: label)
    }

    static func expectSameAsFull(_ s: ExplorerState, _ what: String) throws {
        let d = s.document
        let full = try fresh(d.current, label: d.label)
        #expect(d.topology == full.topology, "\(what): topology")
        #expect(d.trace == full.trace, "\(what): trace")
        #expect(TopologyFile.validate(d.topology, file: "t").isEmpty, "\(what): a refused lab became current")
        // What a setting's own value reads (the trace of the structure without toggles).
        for n in d.topology.nodes {
            for item in SettingItem.items(for: n.name, topology: d.topology, trace: d.trace) {
                #expect(d.structureValue(of: item) == full.structureValue(of: item), "\(what): \(n.name) \(item.key)")
            }
        }
    }

    @Test func randomEditsUndosAndRedosEqualAFullRecompute() throws {
        var rng = SplitMix(state: 0x11_ed17)
        let loaded = try TopologyFile.parse(DefaultLab.text, file: DefaultLab.fileName)
        var s = ExplorerState(document: try LabDocument(structure: loaded.topology, expectations: loaded.expectations, path: nil, label: "seed"))
        var done: [String: Int] = [:]
        for step in 0..<120 {
            let nodes = s.document.current.structure.nodes.map(\.name)
            let what: String
            switch rng.next() % 7 {
            case 0:
                let t = NodeTemplate.allCases[Int(rng.next() % UInt64(NodeTemplate.allCases.count))]
                EditController.add(t, &s)
                what = "add \(t)"
            case 1 where !nodes.isEmpty:
                let n = nodes[Int(rng.next() % UInt64(nodes.count))]
                EditController.apply(.deleteNode(n), &s)
                what = "delete \(n)"
            case 2 where !nodes.isEmpty:
                let n = nodes[Int(rng.next() % UInt64(nodes.count))]
                s.perform(.selectNode(n))
                let choices = EditController.linkChoices(for: n, in: s.document)
                guard !choices.isEmpty else { continue }
                let c = choices[Int(rng.next() % UInt64(choices.count))]
                let before = s.document.version
                let refusal = EditController.apply(c.edit, &s)
                // The mark in the list is the refusal the change meets, word for word.
                #expect(refusal == c.refusal || (c.refusal == nil && refusal?.hasSuffix("nothing changes") == true), "\(c.label): \(String(describing: refusal)) vs \(String(describing: c.refusal))")
                if c.refusal != nil { #expect(s.document.version == before) }
                what = c.label
            case 3 where !nodes.isEmpty:
                let n = nodes[Int(rng.next() % UInt64(nodes.count))]
                s.perform(.selectNode(n))
                s.perform(.openOptions)
                let items = s.menuItems
                guard !items.isEmpty else { s.overlay = nil; continue }
                let i = Int(rng.next() % UInt64(items.count))
                MenuController.activate(i, &s)
                s.overlay = nil
                what = "toggle \(n) \(items[i].key)"
            case 4, 5:
                s.undo(false)
                what = "undo"
            default:
                s.undo(true)
                what = "redo"
            }
            done[what.split(separator: " ").first.map(String.init) ?? what, default: 0] += 1
            try Self.expectSameAsFull(s, "step \(step) (\(what))")
        }
        // The walk really exercised every kind of change.
        for k in ["add", "delete", "link", "unlink", "toggle", "undo", "redo"] { #expect(done[k, default: 0] > 0, "no \(k) in \(done)") }
    }

    /// A refused unlink is marked in the list with the validator's reason, shown when selected.
    @Test func theLinkListMarksUnlinksThatWouldBeRefused() throws {
        var s = try EditingTests().seed()
        s.perform(.selectNode("tap1"))
        s.handle(.key(.char("x")))
        let refused = s.linkChoices.filter { $0.refusal != nil }
        #expect(!refused.isEmpty, "\(s.linkChoices.map(\.label))")
        for c in refused { #expect(c.label.hasPrefix("unlink")) }
        let i = try #require(s.linkChoices.firstIndex { $0.refusal != nil })
        for _ in 0..<i { s.handle(.key(.down)) }
        let screen = Screen.render(s, width: 120, height: 40).canvas.text
        #expect(screen.contains("(refused)"))
        #expect(screen.contains("Refused: "))
        // The list was computed when it opened, not per frame: it is the state's, unchanged by rendering.
        let kept = s.linkChoices
        _ = Screen.render(s, width: 120, height: 40)
        #expect(s.linkChoices == kept)
    }
}
