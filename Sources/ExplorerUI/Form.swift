/// A small form over the main screen: a few text or choice fields, Enter to apply, Esc to cancel.
/// The form only holds text; its controller turns it into a change of the lab, which the
/// validator may refuse (the reason is shown in the form, which stays open to fix the value).
public struct Form: Sendable, Hashable {
    /// What the form changes.
    public enum Purpose: Sendable, Hashable {
        /// A node's name, its own kernel profile and its interfaces (names, addresses, gateways).
        case editNode(String)
        /// A new interface of a vm, netns or router: its name, address and gateways.
        case addInterface(node: String)
        /// Which interface of a vm, netns or router to delete.
        case deleteInterface(node: String)
        case addFlow
        case editFlow(String)
        /// The lab's name, description and kernel profile.
        case editLab
        /// Save the lab under a new path.
        case saveAs
        /// Open a lab file by path.
        case open
    }

    public struct Field: Sendable, Hashable {
        /// A stable key the controller reads the value by (`name`, `eth0.address`…).
        public var key: String
        public var label: String
        public var text: String
        /// A choice field cycles through these (Space, ← →); nil for free text.
        public var choices: [String]?
        /// One line under the form while the field has the focus.
        public var help: String

        public init(key: String, label: String, text: String, choices: [String]? = nil, help: String = "") {
            self.key = key
            self.label = label
            self.text = text
            self.choices = choices
            self.help = help
        }
    }

    public var purpose: Purpose
    public var title: String
    public var fields: [Field]
    public var focused = 0
    /// Why the last Enter was refused.
    public var error: String?

    public init(purpose: Purpose, title: String, fields: [Field]) {
        self.purpose = purpose
        self.title = title
        self.fields = fields
    }

    public subscript(key: String) -> String {
        fields.first { $0.key == key }?.text ?? ""
    }

    mutating func type(_ c: Character) {
        guard fields.indices.contains(focused) else { return }
        if let choices = fields[focused].choices {
            if c == " " { cycle(1); return }
            // Typing on a choice field jumps to the next choice that starts with the letter.
            let lower = String(c).lowercased()
            let all = choices
            let i = all.firstIndex(of: fields[focused].text) ?? -1
            for k in 1...max(all.count, 1) where !all.isEmpty {
                let cand = all[(i + k + all.count) % all.count]
                if cand.lowercased().hasPrefix(lower) { fields[focused].text = cand; return }
            }
            return
        }
        fields[focused].text.append(c)
        error = nil
    }

    mutating func backspace() {
        guard fields.indices.contains(focused), fields[focused].choices == nil else { return }
        fields[focused].text = String(fields[focused].text.dropLast())
        error = nil
    }

    mutating func cycle(_ d: Int) {
        guard fields.indices.contains(focused), let choices = fields[focused].choices, !choices.isEmpty else { return }
        let i = choices.firstIndex(of: fields[focused].text) ?? 0
        fields[focused].text = choices[(i + d + choices.count) % choices.count]
        error = nil
    }

    mutating func move(_ d: Int) {
        guard !fields.isEmpty else { return }
        focused = (focused + d + fields.count) % fields.count
    }
}
