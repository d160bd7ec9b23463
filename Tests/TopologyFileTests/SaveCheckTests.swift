import Testing
import Yams
@testable import TopologyFile

/// `SaveCheck`: the comments a canonical rewrite would drop, found as libyaml finds them. The
/// oracle is Yams itself: cutting a line at a `#` that starts (or sits inside) a comment leaves
/// the composed tree unchanged; cutting at a `#` that is text (in a quoted, plain or block
/// scalar) changes a value or breaks the text.
@Suite struct SaveCheckTests {
    /// A hand-written lab with `#` in every position that matters.
    static let handWritten = """
        # A lab of my own (full-line comment at the top)
        csumlab: 1
        name: "hash-in-quotes"   # trailing, after a double-quoted scalar
        description: >-
          A folded block with a # in its text,
          # and a line that starts with one: text too.
        kernel: linux-6.x  # trailing, after a plain scalar
        nodes:
          # indented full-line comment
          vm1:
            kind: vm
            interfaces:
              eth0: {address: ["10.0.0.1/24"]}   # after a flow mapping, "quotes" inside
          vm2: {kind: vm, interfaces: {eth0: {address: '10.0.0.2/24'}}}
          tap1: {kind: tap}
          tap2: {kind: tap}
          br0: {kind: bridge}#no space before: libyaml still takes it as a comment
        links:
          - endpoints: ["vm1:eth0", "tap1"]
          - endpoints: ["tap1", "br0"]
          - endpoints: ["br0", "tap2"]
          - endpoints: ["tap2", "vm2:eth0"]
        flows:
          ssh:
            type: tcp
            from: vm1
            to: vm2
            port: 22
            payload: 200
            expect: completes
        """

    @Test func commentsAreFoundWhereLibyamlFindsThem() throws {
        let found = SaveCheck.comments(in: Self.handWritten)
        let lines = Self.handWritten.split(separator: "\n", omittingEmptySubsequences: false)
        func lineNumber(of fragment: String) -> Int {
            (lines.firstIndex { $0.contains(fragment) } ?? -2) + 1
        }
        #expect(found.map(\.line) == [
            lineNumber(of: "# A lab of my own"), lineNumber(of: "# trailing, after a double"),
            lineNumber(of: "# trailing, after a plain"), lineNumber(of: "# indented full-line"),
            lineNumber(of: "# after a flow mapping"), lineNumber(of: "#no space before"),
        ])
        #expect(found[0].text == "# A lab of my own (full-line comment at the top)")
        #expect(found[0].column == 1 && !found[0].trailing)
        #expect(found[1].text == "# trailing, after a double-quoted scalar" && found[1].trailing)
        #expect(found[3].column == 3 && !found[3].trailing)
        #expect(found[4].text == "# after a flow mapping, \"quotes\" inside")
        try expectAgreesWithYams(Self.handWritten)
    }

    @Test func literalBlocksAndMultiLineScalarsHoldNoComments() throws {
        let text = """
            literal: |
              line one # text
              # text, indented as the block
             # less indented: the block has ended, a comment
            keep: |+2
                # text: the block's indentation is given (2)

            quoted: "one # two
              # three"
            single: 'it''s # text'
            plain: a#b
            plain2: first line
              # a comment line ends a multi-line plain scalar
            list: [a, "b # c", d] # comment
            """
        let found = SaveCheck.comments(in: text)
        #expect(found.map(\.text) == ["# less indented: the block has ended, a comment",
                                      "# a comment line ends a multi-line plain scalar", "# comment"])
        try expectAgreesWithYams(text)
    }

    @Test func everyShippedLabReportsExactlyItsCommentLines() throws {
        #expect(FuzzTests.shipped.count > 20)
        for (name, text) in FuzzTests.shipped {
            try expectAgreesWithYams(text, name)
            // The shipped labs hold full-line comments only: every line whose first non-blank is `#`
            // and that is not inside a block scalar is one.
            let found = SaveCheck.comments(in: text)
            #expect(found.allSatisfy { !$0.trailing }, "\(name)")
            let rewritten = TopologyWriter.yaml(try TopologyFile.parse(text, file: name).topology,
                                                expectations: try TopologyFile.parse(text, file: name).expectations)
            let losses = SaveCheck.rewriteLosses(original: text, rewritten: rewritten)
            #expect(losses.droppedComments == found, "\(name): a canonical rewrite keeps no comment")
            #expect(losses.isLossless == (found.isEmpty && !losses.layoutChanges))
        }
        // The one shipped lab with comments: its three-line note on the ping flow.
        let conntrack = try #require(FuzzTests.shipped.first { $0.name == "conntrack-invalid.yaml" }?.text)
        let lines = conntrack.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0.contains("# The corrupted echo request") }) + 1
        #expect(SaveCheck.comments(in: conntrack).map(\.line) == [first, first + 1, first + 2])
        #expect(SaveCheck.comments(in: conntrack).allSatisfy { $0.column == 5 })
    }

    @Test func rewriteLossesListsDroppedCommentsAndLayoutChanges() throws {
        let loaded = try TopologyFile.parse(Self.handWritten, file: "mine.yaml")
        let rewritten = TopologyWriter.yaml(loaded.topology, expectations: loaded.expectations)
        let losses = SaveCheck.rewriteLosses(original: Self.handWritten, rewritten: rewritten)
        #expect(losses.droppedComments == SaveCheck.comments(in: Self.handWritten))
        #expect(losses.layoutChanges, "vm2's flow mapping and the quotes are rewritten")
        #expect(!losses.identical && !losses.isLossless)

        // The same text: nothing lost.
        let same = SaveCheck.rewriteLosses(original: Self.handWritten, rewritten: Self.handWritten)
        #expect(same.isLossless && same.identical && same.droppedComments.isEmpty)

        // Only comments differ: the layout is kept, the missing comments are listed.
        let commented = "# top\ncsumlab: 1   # version\nnodes: {}\n  # end\n"
        let plain = "csumlab: 1\nnodes: {}\n"
        let onlyComments = SaveCheck.rewriteLosses(original: commented, rewritten: plain)
        #expect(!onlyComments.layoutChanges && !onlyComments.identical)
        #expect(onlyComments.droppedComments.map(\.text) == ["# top", "# version", "# end"])
        #expect(onlyComments.droppedComments.map(\.line) == [1, 2, 4])

        // A rewrite that keeps a comment (spliced) does not list it.
        let kept = SaveCheck.rewriteLosses(original: commented, rewritten: "# top\ncsumlab: 1\nnodes: {}\n")
        #expect(kept.droppedComments.map(\.text) == ["# version", "# end"])
        // CR LF lines count as one line each.
        let crlf = SaveCheck.rewriteLosses(original: "a: 1\r\n# two\r\nb: 2\r\n", rewritten: "a: 1\r\nb: 2\r\n")
        #expect(crlf.droppedComments.map(\.line) == [2] && !crlf.layoutChanges)
    }

    /// For each `#` in `text`: it lies inside a found comment exactly when cutting its line there
    /// leaves Yams' tree as it was.
    private func expectAgreesWithYams(_ text: String, _ name: String = "hand-written", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = Array(text.utf8)
        let tree = try Yams.compose(yaml: text)
        let comments = YAMLGate.comments(in: text)
        for i in bytes.indices where bytes[i] == UInt8(ascii: "#") {
            var end = i
            while end < bytes.count && bytes[end] != 0x0A && bytes[end] != 0x0D { end += 1 }
            let cut = String(decoding: bytes[..<i] + bytes[end...], as: UTF8.self)
            let unchanged = (try? Yams.compose(yaml: cut)).map { $0 == tree } ?? false
            let inComment = comments.contains { $0.start <= i && i < $0.end }
            #expect(inComment == unchanged, "\(name): the # at byte \(i) (\(String(decoding: bytes[i..<end], as: UTF8.self)))",
                    sourceLocation: sourceLocation)
        }
    }
}

/// A folded description that breaks its lines elsewhere but folds to the same text is no layout
/// change; anything that changes the folded text, or a block this does not model, still is.
@Suite struct FoldedEquivalenceTests {
    static let a = "csumlab: 1\ndescription: >-\n  one two three\n  four five\nnodes: {}\n"

    @Test func rewrappedFoldedTextIsNoLayoutChange() throws {
        let b = "csumlab: 1\ndescription: >-\n  one two\n  three four five\nnodes: {}\n"
        // Both really fold to the same value (Yams as the oracle, through the file parser).
        #expect(try TopologyFile.parse(Self.a, file: "a").topology.description == TopologyFile.parse(b, file: "b").topology.description)
        let l = SaveCheck.rewriteLosses(original: Self.a, rewritten: b)
        #expect(!l.layoutChanges && !l.identical && l.isLossless)
        // Other indentation of the same block is the same text too.
        #expect(!SaveCheck.rewriteLosses(original: Self.a, rewritten: "csumlab: 1\ndescription: >-\n    one two three four\n    five\nnodes: {}\n").layoutChanges)
    }

    @Test func whatFoldsDifferentlyIsALayoutChange() {
        for other in [
            "csumlab: 1\ndescription: >-\n  one two three\n  four six\nnodes: {}\n",             // other words
            "csumlab: 1\ndescription: >\n  one two three\n  four five\nnodes: {}\n",              // other chomping
            "csumlab: 1\ndescription: >-\n  one two three\n\n  four five\nnodes: {}\n",           // a blank line: a line break
            "csumlab: 1\ndescription: >-\n  one two three\n    four five\nnodes: {}\n",           // more indented: kept as a line
            "csumlab: 1\ndescription: >-\n  one two three \n  four five\nnodes: {}\n",            // a trailing blank is content
            "csumlab: 1\ndescription: \"one two three four five\"\nnodes: {}\n",                   // another style
        ] {
            #expect(SaveCheck.rewriteLosses(original: Self.a, rewritten: other).layoutChanges, "\(other)")
        }
    }
}
