@testable import csumlab
import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab check` on lessons and `csumlab lesson`, as a user runs them.
@Suite struct LessonCommandTests {
    static let lessons = packageRoot + "/assets/lessons"

    @Test func checkAcceptsLessonsAndTopologies() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let r = Spawn.run([bin, "check", Self.lessons + "/02-seed-routed.yaml", packageRoot + "/topologies/seed-bridged.yaml"], capture: true)
        #expect(r.status == 0)
        #expect(r.output.contains("02-seed-routed.yaml: ok (lesson, 7 pages, lab \(packageRoot)/topologies/seed-routed-userspace.yaml)"), "\(r.output)")
        #expect(r.output.contains("seed-bridged.yaml: ok (5 nodes"))
    }

    @Test func checkReportsALessonsErrorsAtTheirLines() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let path = Self.lessons + "/.check-test-\(getpid()).yaml"
        defer { unlink(path) }
        let text = "lesson: 1\nlab: ../../topologies/seed-bridged.yaml\npages:\n  - say: x\n    show: {leg: SYN, node: nowhere}\n"
        let f = try #require(fopen(path, "wb"))
        fputs(text, f)
        fclose(f)
        let r = Spawn.run(["/bin/sh", "-c", "exec \(bin) check \(path) 2>&1"], capture: true)
        #expect(r.status == 1)
        #expect(r.output.contains("\(path):5:28: error: unknown node 'nowhere'"), "\(r.output)")
    }

    @Test func lessonListsTheShippedLessonsWithProgress() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let state = "/tmp/csumlab-lesson-state-\(getpid())"
        defer {
            unlink(state + "/csumlab/lessons/02-seed-routed.json")
            rmdir(state + "/csumlab/lessons"); rmdir(state + "/csumlab"); rmdir(state)
        }
        mkdir(state, 0o700); mkdir(state + "/csumlab", 0o700); mkdir(state + "/csumlab/lessons", 0o700)
        let f = try #require(fopen(state + "/csumlab/lessons/02-seed-routed.json", "wb"))
        fputs("{\"answers\": {}, \"done\": [0, 1, 2], \"page\": 3, \"solved\": [5], \"version\": 1}\n", f)
        fclose(f)
        // From another directory: the shipped lessons are found from the executable.
        let list = Spawn.run(["/bin/sh", "-c", "cd / && XDG_STATE_HOME=\(state) exec \(bin) lesson"], capture: true)
        #expect(list.status == 0)
        // One line a lesson: the name (padded to the longest), the title, pages, progress.
        func line(_ output: String, _ name: String) -> String? {
            output.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count)).trimmingLeadingSpaces }
        }
        #expect(line(list.output, "01-what-offload-is") == "What checksum offload is — 8 pages, not started", "\(list.output)")
        #expect(line(list.output, "02-seed-routed") == "Where the promise is lost — 7 pages, 3/7 pages, 1/1 tasks", "\(list.output)")
        let reset = Spawn.run(["/bin/sh", "-c", "cd / && XDG_STATE_HOME=\(state) exec \(bin) lesson --reset 02-seed-routed"], capture: true)
        #expect(reset.status == 0 && access(state + "/csumlab/lessons/02-seed-routed.json", F_OK) != 0)
        let after = Spawn.run(["/bin/sh", "-c", "cd / && XDG_STATE_HOME=\(state) exec \(bin) lesson"], capture: true)
        #expect(line(after.output, "02-seed-routed") == "Where the promise is lost — 7 pages, not started", "\(after.output)")
        let unknown = Spawn.run(["/bin/sh", "-c", "exec \(bin) lesson no-such-lesson 2>&1"], capture: true)
        #expect(unknown.status != 0 && unknown.output.contains("no lesson named no-such-lesson (there are: 01-what-offload-is, 02-seed-routed,"), "\(unknown.output)")
    }
}

extension String {
    var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
}
