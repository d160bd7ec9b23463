import Simulation
import TopologyFile
import Wire

/// Structural edits of the lab: add, delete, link, rename, addresses, flows, the lab itself.
/// Every edit is a `LabEdit` (Simulation) applied to the structure of a new revision; toggles
/// that name a renamed node or interface follow it, toggles of a deleted one go. The revision
/// is committed only if the file validator accepts the lab it gives, so nothing is ever
/// half-applied; a refusal says the validator's reason.
enum EditController {
    /// Apply edits in order as one change (one undo step). Returns the refusal, or nil when the
    /// lab changed.
    @discardableResult
    static func apply(_ edits: [LabEdit], described: String? = nil, _ s: inout ExplorerState) -> String? {
        guard !edits.isEmpty else { return nil }
        var r = s.document.current
        var labels: [String] = []
        for e in edits {
            labels.append(e.summary(in: r.structure))
            do {
                r = try r.applying(e)
            } catch {
                s.message = "\(labels.last ?? "edit"): \(error.message)"
                return error.message
            }
        }
        return s.change(to: r, described: described ?? labels.joined(separator: ", "))
    }

    @discardableResult
    static func apply(_ edit: LabEdit, _ s: inout ExplorerState) -> String? { apply([edit], &s) }

    // MARK: Add, delete, link

    static func add(_ template: NodeTemplate, _ s: inout ExplorerState) {
        let n = s.document.current.structure.newNode(template)
        if apply(.addNode(n), &s) == nil {
            s.select(node: n.name)
            s.message = (s.message ?? "") + " — e renames it, x links it"
        }
    }

    static func confirmDelete(_ s: inout ExplorerState) {
        let name = s.selectedNode
        guard s.document.current.structure.node(named: name) != nil else { s.message = "no node selected to delete"; return }
        let removals = s.document.current.structure.removals(of: .deleteNode(name))
        let toggles = s.document.toggles.filter { LabEdit.deleteNode(name).carry(assignment: $0) == nil }
        var lines = removals.lines
        lines += toggles.map { "toggle \($0)" }
        if lines.isEmpty { lines = ["Nothing else goes with it."] } else { lines.insert("With it go:", at: 0) }
        lines.append("u undoes the delete.")
        s.overlay = .confirm(Confirmation(purpose: .deleteNode(name), title: "Delete \(name)?", lines: lines, yes: "delete it"))
    }

    static func openLinks(_ s: inout ExplorerState) {
        guard s.document.current.structure.node(named: s.selectedNode) != nil else { s.message = "no node selected: press a to add one"; return }
        s.linkChoices = linkChoices(for: s.selectedNode, in: s.document)
        if s.linkChoices.isEmpty {
            s.message = "\(s.selectedNode): no link to make or undo (its ends are taken, or no free endpoint fits it)"
            return
        }
        s.overlay = .link(selected: 0)
    }

    /// The links `node` can make or undo, each unlink with the validator's refusal when removing
    /// it would make an invalid lab (a flow needs it). Links offered are valid by construction
    /// (`Topology.linkCandidates`: a pair the format allows, between free endpoints).
    static func linkChoices(for node: String, in d: LabDocument) -> [LinkChoice] {
        LinkChoice.choices(for: node, in: d.current.structure).map { c in
            guard case .unlink = c.edit else { return c }
            var c = c
            do throws(EditError) { c.refusal = d.refusal(of: try d.current.applying(c.edit)) } catch { c.refusal = error.message }
            return c
        }
    }

    // MARK: Forms

    static let defaultKernel = "as the lab"

    static func openNodeForm(_ s: inout ExplorerState) {
        guard let n = s.document.current.structure.node(named: s.selectedNode) else { s.message = "no node selected: press a to add one"; return }
        var fields = [Form.Field(key: "name", label: "name", text: n.name, help: NameRule.summary)]
        switch n.kind {
        case .vm, .router:
            fields.append(Form.Field(key: "kernel", label: "kernel", text: n.kernel?.rawValue ?? defaultKernel,
                                     choices: [defaultKernel] + KernelProfile.allCases.map(\.rawValue), help: "the guest kernel profile (Space or ← → to change)"))
        case .netns, .tap, .bridge, .veth, .hostNIC, .vxlan: break
        }
        let l3: Bool
        switch n.kind {
        case .vm, .netns, .router: l3 = true
        case .veth: l3 = false
        case .tap, .bridge, .hostNIC, .vxlan: l3 = false
        }
        if case .veth = n.kind {
            for i in n.interfaces { fields.append(Form.Field(key: "if.\(i.name).name", label: "end \(i.name)", text: i.name, help: "the name of this end of the pair")) }
        }
        if l3 {
            for i in n.interfaces {
                fields.append(Form.Field(key: "if.\(i.name).name", label: "\(i.name) name", text: i.name, help: "the interface's name"))
                fields.append(Form.Field(key: "if.\(i.name).address", label: "\(i.name) address", text: i.addresses.map(\.description).joined(separator: ", "),
                                         help: "addresses with prefix, comma-separated: 10.0.1.2/24, fd00::2/64"))
                fields.append(Form.Field(key: "if.\(i.name).gateway", label: "\(i.name) gateway", text: i.gateway?.description ?? "", help: "IPv4 default gateway (empty: none)"))
                fields.append(Form.Field(key: "if.\(i.name).gateway6", label: "\(i.name) gateway6", text: i.gateway6?.description ?? "", help: "IPv6 default gateway (empty: none)"))
            }
        }
        if case let .hostNIC(h) = n.kind {
            fields.append(Form.Field(key: "remote", label: "remote address", text: h.remoteAddress?.description ?? "", help: "the remote host beyond the wire (IPv4)"))
            fields.append(Form.Field(key: "remote6", label: "remote address6", text: h.remoteAddress6?.description ?? "", help: "the remote host (IPv6)"))
            fields.append(Form.Field(key: "remote-gateway", label: "remote gateway", text: h.remoteGateway?.description ?? "", help: "the remote host's route back into the lab (IPv4)"))
            fields.append(Form.Field(key: "remote-gateway6", label: "remote gateway6", text: h.remoteGateway6?.description ?? "", help: "the route back (IPv6)"))
        }
        s.overlay = .form(Form(purpose: .editNode(n.name), title: "Edit \(n.name) (\(n.kind.name))", fields: fields))
    }

    /// `I` (adding) or `D`: a form for a new interface of the selected vm, netns or router, or
    /// the choice of the interface to delete (with what goes with it).
    static func openInterfaceForm(adding: Bool, _ s: inout ExplorerState) {
        guard let n = s.document.current.structure.node(named: s.selectedNode) else { s.message = "no node selected: press a to add one"; return }
        do { try LabEdit.checkInterfaceList(n) } catch {
            s.message = "\(n.name): \(error.message)"
            return
        }
        if adding {
            var i = n.interfaces.count
            while n.interface(named: "eth\(i)") != nil { i += 1 }
            s.overlay = .form(Form(purpose: .addInterface(node: n.name), title: "Add an interface to \(n.name)", fields: [
                Form.Field(key: "name", label: "name", text: "eth\(i)", help: NameRule.summary),
                Form.Field(key: "address", label: "address", text: "", help: "addresses with prefix, comma-separated: 10.0.1.2/24, fd00::2/64 (empty: none)"),
                Form.Field(key: "gateway", label: "gateway", text: "", help: "IPv4 default gateway (empty: none)"),
                Form.Field(key: "gateway6", label: "gateway6", text: "", help: "IPv6 default gateway (empty: none)"),
            ]))
            return
        }
        guard let first = n.interfaces.first else { s.message = "\(n.name) has no interface to delete"; return }
        s.overlay = .form(Form(purpose: .deleteInterface(node: n.name), title: "Delete an interface of \(n.name)", fields: [
            Form.Field(key: "interface", label: "interface", text: first.name, choices: n.interfaces.map(\.name),
                       help: "← → to choose; Enter deletes it with its links (u undoes; the validator refuses what a flow needs)"),
        ]))
    }

    static func submitAddInterface(_ node: String, _ f: Form, _ s: inout ExplorerState) throws(EditError) -> String? {
        let name = f["name"].trimmed
        var i = Interface(name: name)
        for part in f["address"].split(separator: ",") {
            let p = String(part).trimmed
            guard !p.isEmpty else { continue }
            guard let net = IPNetwork(p) else { throw EditError("address: '\(p)' is not an address with a prefix (10.0.1.2/24)") }
            i.addresses.append(net)
        }
        i.gateway = try address(f["gateway"], "gateway")
        i.gateway6 = try address(f["gateway6"], "gateway6")
        if let refusal = apply(.addInterface(node: node, i), &s) { return refusal }
        s.message = (s.message ?? "") + " — x links it"
        return nil
    }

    static func submitDeleteInterface(_ node: String, _ f: Form, _ s: inout ExplorerState) throws(EditError) -> String? {
        apply(.deleteInterface(node: node, name: f["interface"]), &s)
    }

    static func openLabForm(_ s: inout ExplorerState) {
        let t = s.document.current.structure
        s.overlay = .form(Form(purpose: .editLab, title: "Edit the lab", fields: [
            Form.Field(key: "name", label: "name", text: t.name, help: "the lab's name"),
            Form.Field(key: "description", label: "description", text: t.description, help: "what this lab shows, in a sentence or two"),
            Form.Field(key: "kernel", label: "kernel", text: t.kernel?.rawValue ?? "default",
                       choices: ["default"] + KernelProfile.allCases.map(\.rawValue), help: "the host kernel profile, and the default for guests"),
        ]))
    }

    static let expectChoices = ["none", "completes", "fails", "corrupted"]

    static func openFlowForm(_ name: String?, _ s: inout ExplorerState) {
        let r = s.document.current
        let hosts = r.structure.nodes.filter(\.isHost).map(\.name)
        guard !hosts.isEmpty else { s.message = "a flow runs between hosts: add a vm, netns, router or host-nic first (a)"; return }
        let existing = name.flatMap { n in r.structure.flows.first { $0.name == n } }
        let f = existing ?? Flow(name: freeFlowName(r.structure), kind: .tcp, from: hosts[0], to: hosts.count > 1 ? hosts[1] : hosts[0])
        let e = name.flatMap { r.expectations[$0] }
        let portDefault = existing == nil
        s.overlay = .form(Form(purpose: name.map { .editFlow($0) } ?? .addFlow, title: name.map { "Edit flow \($0)" } ?? "Add a flow", fields: [
            Form.Field(key: "name", label: "name", text: f.name, help: NameRule.summary),
            Form.Field(key: "type", label: "type", text: f.kind.rawValue, choices: Self.flowTypeChoices(f.kind), help: f.kind == .frame ? "frame: one frame written into a TAP (its TAP, header and frame are set in the file)" : "tcp (SSH), udp (DNS), dhcp, icmp (ping)"),
            Form.Field(key: "from", label: "from", text: f.from, choices: hosts, help: "the client host"),
            Form.Field(key: "to", label: "to", text: f.to, choices: hosts, help: "the server host"),
            Form.Field(key: "ip", label: "ip", text: f.ipVersion == .v6 ? "6" : "4", choices: ["4", "6"], help: "IP version"),
            Form.Field(key: "port", label: "port", text: portDefault ? "" : String(f.port), help: "server port (empty: the type's default: 22, 53, 67)"),
            Form.Field(key: "payload", label: "payload", text: f.payloadGiven ? String(f.payload) : "", help: "bytes of data per packet (empty: the default)"),
            Form.Field(key: "sender", label: "sender", text: f.sender.rawValue, choices: Flow.SenderMode.allCases.map(\.rawValue), help: "offloaded: as the stack decides; software: a full checksum at the socket"),
            Form.Field(key: "expect", label: "expect", text: e?.verdict.rawValue ?? "none", choices: expectChoices, help: "what csumlab check should expect of this flow"),
            Form.Field(key: "leg", label: "failing leg", text: e?.leg ?? "", help: "with expect fails: the first leg that fails (SYN, SYN-ACK, data…)"),
        ]))
    }

    static func freeFlowName(_ t: Topology) -> String {
        var i = 1
        while t.flows.contains(where: { $0.name == "flow\(i)" }) { i += 1 }
        return "flow\(i)"
    }

    /// Apply a form; the refusal, or nil when the lab changed (the form closes).
    static func submit(_ f: Form, _ s: inout ExplorerState) -> String? {
        do {
            switch f.purpose {
            case let .editNode(name): return try submitNode(name, f, &s)
            case .addFlow: return try submitFlow(nil, f, &s)
            case let .editFlow(name): return try submitFlow(name, f, &s)
            case .editLab: return try submitLab(f, &s)
            case let .addInterface(node): return try submitAddInterface(node, f, &s)
            case let .deleteInterface(node): return try submitDeleteInterface(node, f, &s)
            case .saveAs, .open: return nil
            }
        } catch {
            return error.message
        }
    }

    static func address(_ text: String, _ what: String) throws(EditError) -> IPAddress? {
        let t = text.trimmed
        if t.isEmpty { return nil }
        guard let a = IPAddress(t) else { throw EditError("\(what): '\(t)' is not an IP address") }
        return a
    }

    static func submitNode(_ name: String, _ f: Form, _ s: inout ExplorerState) throws(EditError) -> String? {
        guard let n = s.document.current.structure.node(named: name) else { throw EditError("\(name) no longer exists") }
        var edits: [LabEdit] = []
        for i in n.interfaces {
            let key = "if.\(i.name)."
            if f.fields.contains(where: { $0.key == key + "address" }) {
                var nets: [IPNetwork] = []
                for part in f[key + "address"].split(separator: ",") {
                    let p = String(part).trimmed
                    guard !p.isEmpty else { continue }
                    guard let net = IPNetwork(p) else { throw EditError("\(i.name) address: '\(p)' is not an address with a prefix (10.0.1.2/24)") }
                    nets.append(net)
                }
                if nets != i.addresses { edits.append(.setAddresses(node: name, interface: i.name, nets)) }
                let g4 = try address(f[key + "gateway"], "\(i.name) gateway")
                if g4 != i.gateway { edits.append(.setGateway(node: name, interface: i.name, .v4, g4)) }
                let g6 = try address(f[key + "gateway6"], "\(i.name) gateway6")
                if g6 != i.gateway6 { edits.append(.setGateway(node: name, interface: i.name, .v6, g6)) }
            }
        }
        for i in n.interfaces {
            let key = "if.\(i.name).name"
            guard f.fields.contains(where: { $0.key == key }) else { continue }
            let new = f[key].trimmed
            if new != i.name { edits.append(.renameInterface(node: name, from: i.name, to: new)) }
        }
        if f.fields.contains(where: { $0.key == "kernel" }) {
            let k = f["kernel"] == defaultKernel ? nil : KernelProfile(rawValue: f["kernel"])
            if k != n.kernel { edits.append(.setNodeKernel(node: name, k)) }
        }
        var remotes: [String] = []
        if case .hostNIC = n.kind {
            for key in ["remote", "remote6", "remote-gateway", "remote-gateway6"] {
                let v = f[key].trimmed
                if v.isEmpty { continue }
                remotes.append("\(name).\(key)=\(v)")
            }
        }
        let newName = f["name"].trimmed
        if newName != name { edits.append(.renameNode(from: name, to: newName)) }
        if edits.isEmpty && remotes.isEmpty { s.message = "\(name): nothing changed"; return nil }
        if remotes.isEmpty { return apply(edits, &s) }
        // Remote addresses are settings of the structure (as the file writes them).
        var r = s.document.current
        for e in edits { r = try r.applying(e) }
        for a in remotes {
            let renamed = newName != name ? newName + a.dropFirst(name.count) : Substring(a)
            do { try r.structure.apply(assignment: String(renamed)) } catch { throw EditError(error.message) }
        }
        return s.change(to: r, described: "edit \(newName)")
    }

    /// The flow types the form offers: a frame flow's TAP, header and frame are written in the
    /// file, so only a frame flow being edited keeps `frame` among its choices.
    static func flowTypeChoices(_ current: Flow.Kind) -> [String] {
        Flow.Kind.allCases.filter { $0 != .frame || current == .frame }.map(\.rawValue)
    }

    static func submitFlow(_ name: String?, _ f: Form, _ s: inout ExplorerState) throws(EditError) -> String? {
        let r = s.document.current
        let old = name.flatMap { n in r.structure.flows.first { $0.name == n } }
        guard let kind = Flow.Kind(rawValue: f["type"]), Self.flowTypeChoices(old?.kind ?? .tcp).contains(kind.rawValue) else {
            throw EditError("type: choose one of \(Self.flowTypeChoices(old?.kind ?? .tcp).joined(separator: ", "))")
        }
        let newName = f["name"].trimmed
        var flow: Flow
        if let name, let old = r.structure.flows.first(where: { $0.name == name }) {
            flow = old
            flow.name = newName
            if old.kind != kind {
                let fresh = Flow(name: newName, kind: kind, from: old.from, to: old.to)
                flow.kind = kind
                flow.port = fresh.port
            }
        } else {
            flow = Flow(name: newName, kind: kind, from: f["from"], to: f["to"])
        }
        flow.from = f["from"]
        flow.to = f["to"]
        flow.ipVersion = f["ip"] == "6" ? .v6 : .v4
        let port = f["port"].trimmed
        if !port.isEmpty {
            guard let p = UInt16(port), p > 0 else { throw EditError("port: '\(port)' is not a port (1–65535)") }
            flow.port = p
        } else {
            flow.port = Flow(name: newName, kind: kind, from: flow.from, to: flow.to).port
        }
        let payload = f["payload"].trimmed
        if !payload.isEmpty {
            guard let p = Int(payload), p >= 0, p <= 65_000 else { throw EditError("payload: '\(payload)' is not a byte count (0–65000)") }
            flow.payload = p
        }
        if let m = Flow.SenderMode(rawValue: f["sender"]) { flow.sender = m }
        let edit: LabEdit = name.map { .replaceFlow(name: $0, flow) } ?? .addFlow(flow)
        var expectation: Expectation?
        if let v = Expectation.Verdict(rawValue: f["expect"]) {
            let leg = f["leg"].trimmed
            expectation = Expectation(verdict: v, leg: v == .fails && !leg.isEmpty ? leg : nil)
        }
        var next = try r.applying(edit)
        next.expectations[newName] = expectation
        let label = edit.summary(in: r.structure)
        if let refusal = s.change(to: next, described: label) { return refusal }
        if let i = s.trace.flows.firstIndex(where: { $0.flow == newName }) {
            s.flowIndex = i
            s.setPosition(0)
            s.refreshMarks()
            if let fl = s.flow { s.message = "\(label): \(fl.verdict.summary)" }
        }
        return nil
    }

    static func submitLab(_ f: Form, _ s: inout ExplorerState) throws(EditError) -> String? {
        let t = s.document.current.structure
        var edits: [LabEdit] = []
        let name = f["name"].trimmed
        if name != t.name { edits.append(.setName(name)) }
        if f["description"] != t.description { edits.append(.setDescription(f["description"])) }
        let k = f["kernel"] == "default" ? nil : KernelProfile(rawValue: f["kernel"])
        if k != t.kernel { edits.append(.setLabKernel(k)) }
        if edits.isEmpty { s.message = "the lab: nothing changed"; return nil }
        return apply(edits, &s)
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
