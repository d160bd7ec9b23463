import Simulation

/// One entry of the link list (`x`): a link the selected node can make (only pairs the file
/// format allows, to endpoints that are free) or one it has and can undo.
public struct LinkChoice: Sendable, Hashable {
    public var edit: LabEdit
    public var label: String
    /// Why the validator would refuse this choice (an unlink that a flow needs), shown with it;
    /// nil when it can be made.
    public var refusal: String?

    /// Links of `node` to undo, then links it can make, each endpoint of the node in turn.
    public static func choices(for node: String, in t: Topology) -> [LinkChoice] {
        guard t.node(named: node) != nil else { return [] }
        var out: [LinkChoice] = []
        for l in t.links where l.a.node == node || l.b.node == node {
            out.append(LinkChoice(edit: .unlink(l), label: "unlink \(l.a) – \(l.b)"))
        }
        for e in t.endpoints where e.node == node {
            for c in t.linkCandidates(from: e) {
                out.append(LinkChoice(edit: .link(Link(e, c)), label: "link   \(e) – \(c)"))
            }
        }
        return out
    }
}
