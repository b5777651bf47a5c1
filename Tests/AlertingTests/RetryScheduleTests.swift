import Alerting
import Testing

@Suite("RetrySchedule: capped exponential backoff for the webhook sender")
struct RetryScheduleTests {
    @Test(
        "delay after each failed attempt; nil once the attempts are spent",
        arguments: [
            (1, Int64?.some(1_000)), (2, 2_000), (3, 4_000), (4, 8_000), (5, 16_000),
            (6, 30_000), (7, 30_000), (8, nil), (9, nil), (1_000, nil),
        ]
    )
    func defaults(_ attempt: Int, _ expected: Int64?) {
        #expect(RetrySchedule().delay(afterAttempt: attempt) == expected)
    }

    @Test("the whole schedule and its total")
    func schedule() {
        let schedule = RetrySchedule()
        #expect(schedule.delays == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
        #expect(schedule.totalDelay == 91_000)
        #expect(RetrySchedule(maxAttempts: 1).delays.isEmpty)
        #expect(RetrySchedule(firstDelay: 500, multiplier: 3, maxDelay: 10_000, maxAttempts: 5).delays == [500, 1_500, 4_500, 10_000])
        #expect(RetrySchedule(firstDelay: 250, multiplier: 1, maxDelay: 250, maxAttempts: 4).delays == [250, 250, 250])
    }

    @Test("huge attempt counts and multipliers stay at the cap instead of overflowing")
    func noOverflow() {
        let schedule = RetrySchedule(firstDelay: 1_000, multiplier: Int64.max / 2, maxDelay: 60_000, maxAttempts: Int.max)
        #expect(schedule.delay(afterAttempt: 2) == 60_000)
        #expect(schedule.delay(afterAttempt: 10_000) == 60_000)
    }

    @Test(
        "schedules that cannot work are refused, naming the field",
        arguments: [
            (RetrySchedule(firstDelay: -1), "firstDelay"),
            (RetrySchedule(multiplier: 0), "multiplier"),
            (RetrySchedule(firstDelay: 5_000, maxDelay: 1_000), "maxDelay"),
            (RetrySchedule(maxAttempts: 0), "maxAttempts"),
        ]
    )
    func validation(_ schedule: RetrySchedule, _ field: String) {
        #expect {
            try schedule.validate()
        } throws: { error in
            (error as? AlertingError)?.code == .invalidRetrySchedule && "\(error)".contains("retry \(field)")
        }
        #expect(throws: Never.self) { try RetrySchedule().validate() }
    }
}
