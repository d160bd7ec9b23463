/// A form: fields to type into or cycle; Enter applies it through the lab's validator, which may
/// refuse it (the reason shows in the form, which stays open), Esc drops it.
enum FormController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case var .form(f) = s.overlay else { return }
        switch a {
        case .formType(let c): f.type(c)
        case .formBackspace: f.backspace()
        case .formNext: f.move(1)
        case .formPrevious: f.move(-1)
        case .formRight: f.cycle(1)
        case .formLeft: f.cycle(-1)
        case .closeOverlay:
            s.overlay = nil
            s.message = "\(f.title): cancelled, nothing changed"
            return
        case .formSubmit:
            s.overlay = nil
            let refusal: String?
            switch f.purpose {
            case .editNode, .addInterface, .deleteInterface, .addFlow, .editFlow, .editLab: refusal = EditController.submit(f, &s)
            case .saveAs, .open: refusal = FileController.submit(f, &s)
            }
            if let refusal {
                f.error = refusal
                s.overlay = .form(f)
            }
            return
        default: return
        }
        s.overlay = .form(f)
    }
}
