import Testing
@testable import KernelLab

@Suite struct RunPrefixTests {
    @Test func prefixCarriesPid() {
        let p = RunPrefix(pid: 4711)
        #expect(p.value == "csl4711-")
        #expect(p.namespace("host") == "csl4711-host")
    }
}
