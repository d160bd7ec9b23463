/// A question before a step that loses something: deleting a node with its links, quitting or
/// opening another lab with unsaved changes, overwriting a file whose comments a save drops.
public struct Confirmation: Sendable, Hashable {
    public enum Purpose: Sendable, Hashable {
        case deleteNode(String)
        case deleteFlow(String)
        case quit
        /// Open this lab file (or the built-in default when nil) in place of the current one.
        case open(String?)
        /// The save would drop comments or change the layout of the file at this path.
        case saveDroppingComments(String)
        /// The file changed on disk since it was opened or last saved.
        case overwriteChanged(String)
        /// Restore the unsaved lab found in the recovery file.
        case restoreRecovery
        /// Open the lesson at this path in place of the current lab.
        case openLesson(String)
    }

    public var purpose: Purpose
    public var title: String
    /// What will happen, one item per line (the links a delete takes with it…).
    public var lines: [String]
    /// What `y` (or Enter) does.
    public var yes: String
    /// What `s` does, when there is a second way forward (save as a new file, save then quit).
    public var alternative: String?
    /// What `n` or Esc does.
    public var no: String

    public init(purpose: Purpose, title: String, lines: [String], yes: String, alternative: String? = nil, no: String = "do nothing") {
        self.no = no
        self.purpose = purpose
        self.title = title
        self.lines = lines
        self.yes = yes
        self.alternative = alternative
    }
}
