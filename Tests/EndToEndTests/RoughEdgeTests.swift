import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Rough edges a new user met on the command line (#14): `--version`, and errors printed once in
/// the compiler's form rather than behind ArgumentParser's "Error:".
@Suite struct RoughEdgeTests {
    @Test func versionPrintsTheReleaseAndSucceeds() throws {
        let r = try OutputStatusTests.bash(#""$0" --version 2>&1; echo "status=$?""#, [])
        #expect(r.output.hasPrefix("csumlab "))
        #expect(r.output.hasSuffix("\nstatus=0\n"))
        #expect(!r.output.contains("Unknown option"))
    }

    /// A file error is one `file:line:column: error:` line on standard error, status 1 (65 for fix),
    /// from every command that loads a file.
    @Test(arguments: ["trace", "fix", "explore", "check"])
    func aFileErrorIsPrintedOnceInTheCompilersForm(command: String) throws {
        var template = Array("/tmp/csumlab-bad-XXXXXX.yaml".utf8CString)
        let fd = mkstemps(&template, 5)
        try #require(fd >= 0)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let text = "csumlab: 1\nnodes:\n  a: {kind: vm, bogus: 1}\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        let r = try OutputStatusTests.bash(#""$0" "$@" 2>&1 </dev/null; echo "status=$?""#, [command, path])
        let lines = r.output.split(separator: "\n")
        #expect(lines.count == 2, "\(r.output)")
        #expect(lines.first?.hasPrefix("\(path):3:17: error: unknown setting 'bogus'") == true, "\(r.output)")
        // `fix` documents 65 for a file error (sysexits EX_DATAERR); the others exit 1.
        #expect(lines.last == (command == "fix" ? "status=65" : "status=1"))
        #expect(!r.output.contains("Error:"))
    }

    @Test func aSentenceErrorSaysWhoSpeaks() throws {
        let r = try OutputStatusTests.bash(#""$0" trace "$@" --set nosuch.tx=off 2>&1; echo "status=$?""#, [OutputStatusTests.lab])
        #expect(r.output.hasPrefix("csumlab: error: --set no node named 'nosuch'"), "\(r.output)")
        #expect(r.output.hasSuffix("status=1\n"))
    }
}
