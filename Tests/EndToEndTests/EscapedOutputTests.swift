import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Control characters from a file or the command line never reach the terminal raw, whether
/// `check` and `trace` accept the file or report an error quoting it.
@Suite struct EscapedOutputTests {
    /// A lab whose VM is named `name` (spliced in as YAML source text), `extra` a top-level line.
    static func lab(name: String, extra: String = "") -> String {
        """
        csumlab: 1
        name: escapes
        \(extra)
        description: "a description\\e]0;PWNED\\a with a newline\\nand a\\ttab"
        nodes:
          \(name): {kind: vm, interfaces: {eth0: {address: 10.0.0.1/24}}}
          vm2: {kind: vm, interfaces: {eth0: {address: 10.0.0.2/24}}}
          tap1: {kind: tap}
          tap2: {kind: tap}
          br0: {kind: bridge}
        links:
          - endpoints: ["\(name):eth0", "tap1"]
          - endpoints: ["tap1", "br0"]
          - endpoints: ["br0", "tap2"]
          - endpoints: ["tap2", "vm2:eth0"]
        flows:
          ssh: {type: tcp, from: \(name), to: vm2}

        """
    }

    /// Files: a name written with YAML escapes (valid YAML: ESC and BEL in the name), raw
    /// ESC/BEL bytes in the stream (a YAML reader error echoing the line), and an unknown key
    /// holding them (a diagnostic quoting it).
    static let cases: [(String, String)] = [
        ("yaml-escapes", lab(name: #""a\e]0;PWNED\a\e[2J""#)),
        ("raw-bytes", lab(name: "\"a\u{1B}]0;PWNED\u{07}\u{1B}[2J\"")),
        ("unknown-key", lab(name: "vm1", extra: #""x\e[2J\a": 1"#)),
    ]

    @Test(arguments: ["check", "trace", "trace -v", "trace --flow ssh\u{1B}[2J", "explore"])
    func noRawControlCharacterReachesTheTerminal(command: String) throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        var dirTemplate = Array("/tmp/csumlab-escape-XXXXXX".utf8CString)
        let dir = try #require(mkdtemp(&dirTemplate).map { String(cString: $0) })
        defer { rmdir(dir) }
        for (name, text) in Self.cases {
            let file = dir + "/" + name + "\u{1B}[2J.yaml"
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try #require(fd >= 0)
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
            defer { unlink(file) }
            let words = command.split(separator: " ").map(String.init)
            let r = Spawn.run(["/bin/sh", "-c", #""$0" "$@" 2>&1 </dev/null"#, bin] + words.prefix(1) + [file] + words.dropFirst(), capture: true)
            let raw = r.output.unicodeScalars.filter { $0 != "\n" && $0 != "\t" && ($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) }
            #expect(raw.isEmpty, "\(command) on \(name): raw controls \(raw.map(\.value)) in \(r.output.prefix(300).debugDescription)")
            #expect(!r.output.isEmpty, "\(command) on \(name) printed nothing")
        }
    }
}
