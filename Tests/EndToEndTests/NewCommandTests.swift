import ProcessSpawn
import Simulation
import Testing
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab new`: a starting lab that checks, never written over an existing file.
@Suite struct NewCommandTests {
    @Test func startingLabs() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let dir = "/tmp/csumlab-new-\(getpid())"
        mkdir(dir, 0o755)
        defer { for f in ["seed", "empty", "copy"] { unlink("\(dir)/\(f).yaml") }; rmdir(dir) }
        #expect(Spawn.run([bin, "new", "\(dir)/seed.yaml"], capture: true).status == 0)
        // The seed's routed lab, as the explorer opens it: SSH dies behind the userspace router.
        let seed = try TopologyFile.load(path: "\(dir)/seed.yaml")
        #expect(seed.topology == (try TopologyFile.parse(DefaultLab.text, file: "x.yaml")).topology)
        #expect(try Simulator(seed.topology).run(flow: "ssh").flows[0].verdict.completes == false)
        // Not over an existing file, unless --force.
        #expect(Spawn.run([bin, "new", "\(dir)/seed.yaml", "--empty"], capture: true).status == 73)
        #expect(try TopologyFile.load(path: "\(dir)/seed.yaml").topology.nodes.count == 9, "the file is untouched")
        #expect(Spawn.run([bin, "new", "\(dir)/seed.yaml", "--empty", "--force"], capture: true).status == 0)
        #expect(try TopologyFile.load(path: "\(dir)/seed.yaml").topology.nodes.isEmpty)
        // An empty lab and a copy both pass check.
        #expect(Spawn.run([bin, "new", "\(dir)/empty.yaml", "--empty"], capture: true).status == 0)
        #expect(Spawn.run([bin, "new", "\(dir)/copy.yaml", "--from", packageRoot + "/topologies/seed-bridged.yaml"], capture: true).status == 0)
        #expect(Spawn.run([bin, "check", "\(dir)/empty.yaml", "\(dir)/copy.yaml"], capture: true).status == 0)
        #expect(Spawn.run([bin, "new", "\(dir)/x.yaml", "--from", "/nonexistent.yaml"], capture: true).status == 66)
    }
}
