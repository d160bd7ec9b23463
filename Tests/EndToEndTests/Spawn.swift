#if canImport(Glibc)
import Glibc
#endif

import TopologyFile

func readText(_ path: String) -> String? {
    try? FileText.read(path)
}

func sleepMilliseconds(_ ms: Int) {
    usleep(useconds_t(ms * 1000))
}

func monotonicMilliseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}
