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
        if let message = Ratelimit.unknownVerbMessage(Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(64)
        }
        await Ratelimit.main()
    }
}
