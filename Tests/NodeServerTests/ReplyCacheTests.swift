import NIOCore
@testable import NodeServer
import PeerTransport
import Synchronization
import Testing

@Suite("The owner's reply cache")
struct ReplyCacheTests {
    final class Sent: Sendable {
        let replies = Mutex<[String]>([])
        var reply: PeerReply { PeerReply { buffer in self.replies.withLock { $0.append(buffer.map { String(buffer: $0) } ?? "nil") } } }
        var all: [String] { replies.withLock { $0 } }
    }

    @Test("A batch retried with the same id after it was answered gets the first answer and is not decided again")
    func retryAfterAnswer() {
        let cache = ReplyCache()
        let key = ReplyCache.Key(sender: "n2", requestID: 7)
        let first = Sent()
        #expect(cache.begin(key, reply: first.reply))
        cache.finish(key, answer: ByteBuffer(string: "decided once"))
        let retry = Sent()
        #expect(!cache.begin(key, reply: retry.reply))
        #expect(retry.all == ["decided once"])
        #expect(cache.begin(ReplyCache.Key(sender: "n3", requestID: 7), reply: Sent().reply), "ids are per sender")
    }

    @Test("A retry that arrives while the first is still committing waits for its answer")
    func retryWhilePending() {
        let cache = ReplyCache()
        let key = ReplyCache.Key(sender: "n2", requestID: 9)
        #expect(cache.begin(key, reply: Sent().reply))
        let retry = Sent()
        #expect(!cache.begin(key, reply: retry.reply))
        #expect(retry.all.isEmpty)
        cache.finish(key, answer: ByteBuffer(string: "answer"))
        #expect(retry.all == ["answer"])
    }

    @Test("The cache forgets its oldest entries beyond its capacity")
    func bounded() {
        let cache = ReplyCache(capacity: 4)
        for id in 0..<10 as Range<UInt64> {
            let key = ReplyCache.Key(sender: "n2", requestID: id)
            #expect(cache.begin(key, reply: Sent().reply))
            cache.finish(key, answer: ByteBuffer(string: "\(id)"))
        }
        #expect(cache.count == 4)
        #expect(cache.begin(ReplyCache.Key(sender: "n2", requestID: 0), reply: Sent().reply), "forgotten, so new again")
        let recent = Sent()
        #expect(!cache.begin(ReplyCache.Key(sender: "n2", requestID: 9), reply: recent.reply))
        #expect(recent.all == ["9"])
    }
}
