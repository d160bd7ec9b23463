/// A question (`y` yes, `s` the other way, `n`/Esc no).
enum ConfirmController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .confirm(q) = s.overlay else { return }
        switch a {
        case .confirmYes:
            s.overlay = nil
            switch q.purpose {
            case let .deleteNode(n): EditController.apply(.deleteNode(n), &s)
            case let .deleteFlow(n): EditController.apply(.deleteFlow(n), &s)
            case .quit: s.quitRequested = true
            case let .open(path): FileController.openConfirmed(path, &s)
            case let .saveDroppingComments(path): FileController.write(to: path, keepOriginal: true, force: false, &s)
            case let .overwriteChanged(path): FileController.write(to: path, keepOriginal: true, force: true, &s)
            case .restoreRecovery: FileController.restoreRecovery(&s)
            case let .openLesson(path): LessonController.openConfirmed(path, &s)
            }
        case .confirmAlternative:
            guard q.alternative != nil else { return }
            s.overlay = nil
            switch q.purpose {
            case .quit: FileController.save(&s, thenQuit: true)
            case .saveDroppingComments, .overwriteChanged: FileController.openSaveAs(&s)
            default: break
            }
        case .closeOverlay:
            s.overlay = nil
            if case .restoreRecovery = q.purpose { FileController.discardRecovery(&s) }
            s.message = "nothing changed"
        default: break
        }
    }
}
