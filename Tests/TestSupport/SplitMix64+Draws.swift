// The tests draw from the generator the membership core and the chaos
// suite use, so a seed means the same sequence everywhere.
@_exported import struct Membership.SplitMix64

extension SplitMix64 {
    /// A number in `0..<n`, from one draw (modulo bias is fine for tests).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// One of `items`, from one draw.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
