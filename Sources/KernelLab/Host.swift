#if canImport(Glibc)
import Glibc
#endif
import CKernelLab

/// Facts about the running system and process that a lab run needs.
public enum Host {
    /// `uname -r`.
    public static var kernelRelease: String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    public static var isRoot: Bool { geteuid() == 0 }

    /// Whether br_netfilter is loaded (or built in): its sysctls exist then, and every bridge
    /// passes bridged IPv4/IPv6 through the IP hooks unless told otherwise. Without it no bridge
    /// does (`VerifyRunner.withoutBrNetfilter`).
    public static var brNetfilterLoaded: Bool { access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) == 0 }

    /// Whether network namespaces can be made here (root, /run/netns usable, /dev/net/tun present).
    public static var canBuildLabs: Bool {
        isRoot && access("/dev/net/tun", R_OK | W_OK) == 0 && access("/proc/self/ns/net", R_OK) == 0
    }

    /// The programs `verify` runs to build a lab, with the package that has each: iproute2 for
    /// namespaces, links and addresses, nft for NAT and the stack's own rules, iptables for the
    /// CHECKSUM target (which nft does not have).
    public static let labTools: [(program: String, package: String)] = [("ip", "iproute2"), ("nft", "nftables"), ("iptables", "iptables")]

    /// Those of `tools` that are not executable in `PATH` (nor in /usr/sbin and /sbin, where
    /// they live and which a user's PATH may lack): "nft (nftables)".
    public static func missing(_ tools: [(program: String, package: String)] = labTools) -> [String] {
        let path = (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        let dirs = path.split(separator: ":").map(String.init)
        return tools.filter { t in !dirs.contains { access($0 + "/" + t.program, X_OK) == 0 } }.map { "\($0.program) (\($0.package))" }
    }

    /// The path of this executable (to re-exec it as a namespace helper).
    public static var executablePath: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// On SIGINT/SIGTERM/SIGHUP replace this process with `executable arguments...` (a cleanup run).
    public static func execOnSignal(executable: String, arguments: [String]) {
        let argv = [executable] + arguments
        var cargs: [UnsafePointer<CChar>?] = argv.map { UnsafePointer(strdup($0)) }
        _ = ckl_exec_on_signal(executable, &cargs, Int32(argv.count))
        for p in cargs { free(UnsafeMutablePointer(mutating: p)) }
    }
}
