/// One `[[migrations]]` entry of wrangler.toml: the Durable Object classes a
/// deployment creates, renames and deletes.
///
/// As in Cloudflare's Durable Objects migrations
/// (https://developers.cloudflare.com/durable-objects/reference/durable-objects-migrations/),
/// each tag is applied once, in the order listed, and recorded; within one
/// migration new classes are created first, then renames, then deletions.
public struct ClassMigration: Sendable, Hashable {
    /// One `renamed_classes` entry.
    public struct Rename: Sendable, Hashable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public var tag: String
    public var newClasses: [String]
    public var renamedClasses: [Rename]
    public var deletedClasses: [String]

    public init(
        tag: String,
        newClasses: [String] = [],
        renamedClasses: [Rename] = [],
        deletedClasses: [String] = []
    ) {
        self.tag = tag
        self.newClasses = newClasses
        self.renamedClasses = renamedClasses
        self.deletedClasses = deletedClasses
    }
}
