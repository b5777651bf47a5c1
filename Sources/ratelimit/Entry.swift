import ArgumentParser
import Commands
import Foundation
import Logging

@main
struct Entry {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            let level = ProcessInfo.processInfo.environment["RATELIMIT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            handler.logLevel = level ?? .info
            return handler
        }
        await Ratelimit.main()
    }
}
