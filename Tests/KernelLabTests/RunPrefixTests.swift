import Testing
@testable import KernelLab

@Suite struct RunPrefixTests {
    @Test func prefixCarriesPid() {
        let p = RunPrefix(pid: 4711)
        #expect(p.value == "csl4711-")
        #expect(p.namespace("host") == "csl4711-host")
    }

    @Test func labNamesNeedStemDigitsAndDash() {
        #expect(RunPrefix.isLabName("csl1-host"))
        #expect(RunPrefix.isLabName("csl4711-router"))
        #expect(!RunPrefix.isLabName("csl-host"))
        #expect(!RunPrefix.isLabName("cslx1-host"))
        #expect(!RunPrefix.isLabName("csl12host"))
        #expect(!RunPrefix.isLabName("docker0"))
        #expect(!RunPrefix.isLabName("xcsl1-host"))
    }

    @Test func parseNetnsListWithAndWithoutIds() {
        let out = "csl42-router (id: 1)\ncsl42-host (id: 0)\nblue\ncsl7-host\n"
        #expect(RunPrefix.namespaceNames(fromNetnsList: out) == ["csl42-router", "csl42-host", "blue", "csl7-host"])
        #expect(RunPrefix.labNamespaces(fromNetnsList: out) == ["csl42-router", "csl42-host", "csl7-host"])
        #expect(RunPrefix.labNamespaces(fromNetnsList: out, prefix: RunPrefix(pid: 42)) == ["csl42-router", "csl42-host"])
        #expect(RunPrefix.labNamespaces(fromNetnsList: "", prefix: nil).isEmpty)
    }

    @Test func prefixFromText() {
        #expect(RunPrefix("csl99-") == RunPrefix(pid: 99))
        #expect(RunPrefix("csl99") == nil)
        #expect(RunPrefix("csl99-host") == nil)
        #expect(RunPrefix("abc1-") == nil)
    }

    /// A prefix on a different run must never match this run's namespaces (csl4- vs csl42-).
    @Test func prefixDoesNotMatchLongerPid() {
        let out = "csl42-host\ncsl4-host\n"
        #expect(RunPrefix.labNamespaces(fromNetnsList: out, prefix: RunPrefix(pid: 4)) == ["csl4-host"])
    }

    @Test func stepsHideTheRunPrefix() {
        #expect("ip -n csl5-host link add br0".replacingAll("csl5-", with: "<run>") == "ip -n <run>host link add br0")
        #expect("a csl5-x csl5-y".replacingAll("csl5-", with: "") == "a x y")
    }
}

@Suite struct MACTests {
    @Test func roundTrip() {
        let m: [UInt8] = [0x52, 0x54, 0x00, 0x0a, 0xff, 0x01]
        #expect(MAC.format(m) == "52:54:00:0a:ff:01")
        #expect(MAC.parse("52:54:00:0a:ff:01") == m)
    }

    @Test func rejectsMalformed() {
        #expect(MAC.parse("52:54:00:0a:ff") == nil)
        #expect(MAC.parse("52:54:00:0a:ff:1") == nil)
        #expect(MAC.parse("52:54:00:0a:ff:zz") == nil)
    }
}
