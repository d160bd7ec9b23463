import Testing
import Lessons
import TopologyFile
import Simulation
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProgressStoreTests {
    func scratch() -> String {
        var t = Array("/tmp/csumlab-progress-XXXXXX".utf8CString)
        let p = t.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    @Test func storeFollowsXDGStateHome() {
        #expect(LessonProgressStore(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]).directory == "/s/csumlab/lessons")
        #expect(LessonProgressStore(environment: ["XDG_STATE_HOME": "rel", "HOME": "/h"]).directory == "/h/.local/state/csumlab/lessons")
        #expect(LessonProgressStore(environment: [:]).directory == nil)
        #expect(LessonProgressStore(environment: [:]).load("x").warning != nil)
    }

    @Test func roundTripResetAndDamage() throws {
        let dir = scratch()
        let store = LessonProgressStore(environment: ["XDG_STATE_HOME": dir])
        let fresh = store.load("02-seed-routed")
        #expect(fresh.progress == LessonProgress() && fresh.warning == nil)
        var p = LessonProgress()
        p.page = 4
        p.done = [0, 1, 2, 3]
        p.solved = [5]
        p.answers = [1: "CHECKSUM_PARTIAL", 3: "0x1732", 2: "quote \" back\\slash\nnewline \u{1B} é \u{FFFE}\u{2028}\u{85} 日本 😀"]
        try store.save(p, for: "02-seed-routed")
        let path = dir + "/csumlab/lessons/02-seed-routed.json"
        #expect(access(path, F_OK) == 0)
        let back = store.load("02-seed-routed")
        #expect(back.progress == p && back.warning == nil)

        // Damaged: fresh progress and a warning naming the file.
        try FileText.writeAtomically("{\"page\": 2, \"done\": [1,", to: path)
        let damaged = store.load("02-seed-routed")
        #expect(damaged.progress == LessonProgress())
        #expect(damaged.warning?.contains(path) == true)
        try FileText.writeAtomically("{\"page\": \"two\"}", to: path)
        #expect(store.load("02-seed-routed").warning != nil)
        // A save after damage repairs it.
        try store.save(p, for: "02-seed-routed")
        #expect(store.load("02-seed-routed").progress == p)

        try store.reset("02-seed-routed")
        #expect(access(path, F_OK) != 0)
        #expect(store.load("02-seed-routed") == (LessonProgress(), nil))
        try store.reset("02-seed-routed")   // nothing to reset: fine

        // A name that cannot be a file name is never a path.
        #expect(store.file(for: "../etc/passwd") == nil)
        #expect(throws: SaveError.self) { try store.save(p, for: "../x") }
        unlink(dir + "/csumlab/lessons")
        rmdir(dir + "/csumlab/lessons")
        rmdir(dir + "/csumlab")
        rmdir(dir)
    }

    @Test func clampedDropsPagesPastTheEnd() {
        var p = LessonProgress()
        p.page = 9
        p.done = [0, 5, 9]
        p.answers = [9: "x", 1: "y"]
        let c = p.clamped(pages: 6)
        #expect(c.page == 5 && c.done == [0, 5] && c.answers == [1: "y"])
    }
}

@Suite struct LessonCatalogTests {
    @Test func shippedLessonsAreFoundFromTheExecutable() throws {
        let found = try LabCatalog.shippedDirectory(candidates: ["assets/lessons", "share/csumlab/lessons"], variable: "CSUMLAB_LESSONS",
                                                    value: nil, executable: repositoryRoot + "/.build/debug/csumlab",
                                                    what: "lessons", directory: "the lessons directory")
        #expect(found == shippedLessonDirectory)
        #expect(throws: LabCatalogError.self) {
            try LabCatalog.shippedDirectory(candidates: ["assets/lessons"], variable: "CSUMLAB_LESSONS", value: "/nonexistent-dir",
                                            executable: nil, what: "lessons", directory: "the lessons directory")
        }
    }

    @Test func entriesListTitlesPagesAndTasks() throws {
        let entries = LessonCatalog.entries(in: shippedLessonDirectory)
        let seed = try #require(entries.first { $0.name == "02-seed-routed" })
        let l = try LessonFile.load(path: seed.path)
        #expect(seed.title == l.title && seed.pages == l.pages.count && seed.tasks == l.taskPages.count && seed.error == nil)
        #expect(LessonCatalog.find(seed.path) == seed.path)
    }
}

@Suite struct GoalSummaryTests {
    /// "Not yet: …" names what is missing, with the lesson's flow written in.
    @Test func unmetConditionsAreSaidInWords() throws {
        let l = try LessonFile.load(path: shippedLessonDirectory + "/02-seed-routed.yaml")
        let task = try #require(l.pages.compactMap { p -> LessonTask? in if case let .task(t) = p.content { return t } else { return nil } }.first)
        let lab = l.lab.topology
        let trace = try Simulator(lab).run()
        let r = LessonCheck.task(task, live: lab, trace: trace, changes: 0, defaultFlow: l.defaultFlow)
        #expect(r.unmet == ["ssh completes"])
        #expect(r.feedback == "Not yet: ssh completes.")
        // The kernel router makes SSH work but is not the task: the flavour condition says so,
        // and two changes are one too many.
        var netns = lab
        try netns.apply(assignment: "router.flavour=netns")
        try netns.apply(assignment: "router.vnet-hdr=on")
        let r2 = LessonCheck.task(task, live: netns, trace: try Simulator(netns).run(), changes: 2, defaultFlow: l.defaultFlow)
        #expect(r2.unmet == ["the lab has router.flavour=userspace", "at most 1 change (you made 2)"])
    }
}
