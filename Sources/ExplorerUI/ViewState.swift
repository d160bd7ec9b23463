/// Where the user is looking: the flow, the step, the selected node, the focused pane, playback
/// and scrolling. Undo and redo never touch it (they change the lab, not the view); a change of
/// the lab only moves it to keep it on the same hop.
public struct ViewState: Sendable {
    public var flowIndex = 0
    /// Index into the current flow's steps.
    public var position = 0
    public var selectedNode: String
    public var focus: Pane = .graph
    public var playing = false
    public var speedIndex = 2
    /// Follow the current hop or the selected node when the graph is wider than its pane.
    public var graphFollowsSelection = false
    public var detailScroll = 0
    /// Manual pan of the graph (columns, rows) on top of following the current hop; reset when
    /// the position or the selection moves.
    public var graphPan = (x: 0, y: 0)
    public var hexScroll: Int?
    public var lastSearch = ""
    /// The detail pane shows the lab's description instead of the step (`i`).
    public var showsDescription = false
    /// The lesson pane takes the detail pane's place (`t` switches; only with a lesson open).
    public var showsLesson = false

    public init(selectedNode: String) {
        self.selectedNode = selectedNode
    }
}
