@testable import ExplorerUI
import Lessons
import Testing

/// Lesson text marks commands and kernel names with backticks; the pane draws them in the code
/// style without the backticks, across a wrapped line too.
@Suite struct LessonCodeSpanTests {
    @Test func spansAreCutAtBackticks() {
        let a = LessonView.codeSpans("run `ethtool -K eth0 tx off` now", startingInCode: false)
        #expect(a.segments.map(\.0) == ["run ", "ethtool -K eth0 tx off", " now"])
        #expect(a.segments.map(\.1) == [false, true, false] && !a.endsInCode)
        let b = LessonView.codeSpans("the `skb_checksum", startingInCode: false)
        #expect(b.endsInCode)
        let c = LessonView.codeSpans("_help` call", startingInCode: true)
        #expect(c.segments.map(\.0) == ["_help", " call"] && c.segments.map(\.1) == [true, false])
    }

    @Test func thePaneDrawsCodeWithoutBackticks() throws {
        let text = LessonPaneTests.text.replacingOccurrences(of: "say: VM1 sends a SYN with tx-checksumming on.",
            with: "say: VM1 sends a SYN with tx-checksumming on; `ethtool -k eth0` in the guest shows it, and the host finishes nothing until `skb_checksum_help` runs somewhere along the path.")
        let lesson = try LessonFile.parse(text, file: LessonPaneTests.lessonPath)
        let storage = LessonPaneTests.MemoryStorage(kept: LessonPaneTests.Kept(), lessonPath: LessonPaneTests.lessonPath)
        let s = try ExplorerState(lesson: lesson, storage: storage)
        let canvas = Screen.render(s, width: 80, height: 24).canvas
        let rows = canvas.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(!rows.contains { $0.contains("`") }, "\(canvas.text)")
        let y = try #require(rows.firstIndex { $0.contains("ethtool -k eth0") }, "\(canvas.text)")
        let x = try #require(rows[y].range(of: "ethtool -k eth0")).lowerBound.utf16Offset(in: rows[y])
        #expect(canvas[x, y].style == Theme.code)
        #expect(canvas[x + 14, y].style == Theme.code)
        #expect(canvas[x - 1, y].style != Theme.code && canvas[x + 15, y].style != Theme.code)
    }
}
