import Foundation
import Rollout
import Testing

@Suite("LatencyHistogram: quantiles as Prometheus histogram_quantile computes them")
struct LatencyHistogramTests {
    /// 100 observations: 10 <= 5 ms, 40 in (5, 10], 40 in (10, 100], 5 in (100, 200], 5 in (200, 500].
    static let sample = LatencyHistogram(
        buckets: [(le: 0.005, count: 10), (le: 0.01, count: 50), (le: 0.1, count: 90), (le: 0.2, count: 95), (le: 0.5, count: 100)],
        count: 100
    )

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let histogram: LatencyHistogram
        let q: Double
        let expected: Double?
        var testDescription: String { name }
    }

    @Test(
        "quantile table",
        arguments: [
            Row(name: "p95 lands on a bucket's upper bound", histogram: sample, q: 0.95, expected: 0.2),
            Row(name: "median lands on a bucket's upper bound", histogram: sample, q: 0.5, expected: 0.01),
            Row(name: "interpolates linearly inside a bucket", histogram: sample, q: 0.25, expected: 0.005 + 0.005 * 15 / 40),
            Row(name: "the first bucket interpolates from 0", histogram: sample, q: 0.05, expected: 0.0025),
            Row(name: "p99 inside the last finite bucket", histogram: sample, q: 0.99, expected: 0.2 + 0.3 * 4 / 5),
            Row(
                name: "a rank in +Inf answers the largest finite bound",
                histogram: LatencyHistogram(buckets: [(le: 0.1, count: 50), (le: 0.2, count: 80)], count: 100),
                q: 0.95, expected: 0.2
            ),
            Row(
                name: "an explicit +Inf bucket is the count",
                histogram: LatencyHistogram(buckets: [(le: 0.1, count: 0), (le: .infinity, count: 10)], count: 0),
                q: 0.5, expected: 0.1
            ),
            Row(
                name: "counts falling with a rising bound are raised to stay monotonic",
                histogram: LatencyHistogram(buckets: [(le: 0.1, count: 60), (le: 0.2, count: 50), (le: 0.4, count: 100)], count: 100),
                q: 0.95, expected: 0.2 + 0.2 * 35 / 40
            ),
            Row(
                name: "a first bucket bound <= 0 is answered as is",
                histogram: LatencyHistogram(buckets: [(le: 0, count: 10), (le: 1, count: 20)], count: 20),
                q: 0.25, expected: 0
            ),
            Row(name: "no observations: no quantile", histogram: .empty, q: 0.95, expected: nil),
            Row(
                name: "only a +Inf bucket: no quantile",
                histogram: LatencyHistogram(buckets: [(le: .infinity, count: 5)], count: 5),
                q: 0.95, expected: nil
            ),
        ]
    )
    func quantiles(_ row: Row) throws {
        let value = row.histogram.quantile(row.q)
        guard let expected = row.expected else {
            #expect(value == nil)
            return
        }
        let actual = try #require(value)
        #expect(abs(actual - expected) < 1e-12, "got \(actual), want \(expected)")
    }

    @Test("p95 in milliseconds, and bucket order does not matter")
    func p95Milliseconds() throws {
        #expect(try #require(Self.sample.p95Milliseconds) == 200)
        let shuffled = LatencyHistogram(buckets: Self.sample.buckets.reversed(), count: 100)
        #expect(shuffled == Self.sample)
        #expect(abs(try #require(Traffic.slow(1_000).p95Milliseconds) - 297.5) < 1e-9)
        #expect(abs(try #require(Traffic.fast(1_000).p95Milliseconds) - 4.875) < 1e-9)
    }

    @Test("adding merges nodes bucket by bucket; different layouts merge with a lower estimate")
    func adding() {
        let a = LatencyHistogram(buckets: [(le: 0.1, count: 5), (le: 0.2, count: 8)], count: 10)
        let b = LatencyHistogram(buckets: [(le: 0.1, count: 1), (le: 0.2, count: 2)], count: 4)
        #expect(a.adding(b) == LatencyHistogram(buckets: [(le: 0.1, count: 6), (le: 0.2, count: 10)], count: 14))

        let other = LatencyHistogram(buckets: [(le: 0.15, count: 3)], count: 3)
        let merged = a.adding(other)
        #expect(merged.buckets.map(\.le) == [0.1, 0.15, 0.2])
        #expect(merged.buckets.map(\.count) == [5, 8, 11])
        #expect(merged.count == 13)
        #expect(LatencyHistogram.empty.adding(a) == a)
    }

    @Test("increase since an earlier reading subtracts per bucket, and a restarted series counts whole")
    func increase() {
        let earlier = LatencyHistogram(buckets: [(le: 0.1, count: 5), (le: 0.2, count: 8)], count: 10)
        let later = LatencyHistogram(buckets: [(le: 0.1, count: 9), (le: 0.2, count: 15)], count: 20)
        #expect(later.increase(since: earlier) == LatencyHistogram(buckets: [(le: 0.1, count: 4), (le: 0.2, count: 7)], count: 10))

        let restarted = LatencyHistogram(buckets: [(le: 0.1, count: 2), (le: 0.2, count: 3)], count: 3)
        #expect(restarted.increase(since: later) == restarted)
    }

    @Test("encodes without infinities, so a journal in plain JSON can hold it")
    func codable() throws {
        let withInf = LatencyHistogram(buckets: [(le: 0.1, count: 1), (le: .infinity, count: 4)], count: 4)
        let data = try JSONEncoder().encode(withInf)
        #expect(try JSONDecoder().decode(LatencyHistogram.self, from: data) == withInf)
        #expect(withInf.buckets.count == 1)
    }
}
