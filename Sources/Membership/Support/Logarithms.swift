#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The C math library, not Foundation: the core stays dependency-free.
// memberlist scales suspicion timeouts and retransmit limits by log10 of the
// cluster size, and Lifeguard shrinks timeouts by log(C + 1) / log(K + 1).

func log10OfCount(_ n: Int) -> Double {
    log10(Double(n))
}

func naturalLog(_ x: Double) -> Double {
    log(x)
}
