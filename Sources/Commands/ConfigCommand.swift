import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate wrangler.toml, the environment and cluster/<env>.toml; print the resolved configuration with secrets masked.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            print(config.describe())
        }
    }
}
