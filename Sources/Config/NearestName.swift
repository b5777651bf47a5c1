/// The name a user probably meant: for an unknown config key and for a
/// misspelled CLI verb alike.
public enum NearestName {
    /// The known name within a few edits of `name` (a typo), or the only one
    /// `name` is a prefix of (`latency_p95` for `latency_p95_ms`); else nil.
    public static func nearest(to name: String, in known: [String]) -> String? {
        let scored = known.map { (name: $0, distance: editDistance(name, $0)) }
        if let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= max(2, best.name.count / 3) {
            return best.name
        }
        let extensions = known.filter { $0.hasPrefix(name) }
        return extensions.count == 1 ? extensions[0] : nil
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
